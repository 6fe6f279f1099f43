/// Decodes one handler's steps in order, so each expression is checked against the steps before it.
struct StepDecoder {
    static let commonKeys = ["id", "if", "timeout"]
    static let forbiddenMasumiCommands: [[String]] = [
        ["thread", "delete"], ["account", "login"], ["account", "recover"], ["account", "create"],
        ["account", "delete"],
        ["agent", "create"], ["agent", "delete"], ["agent", "key", "rotate"], ["--compose"], ["--watch"],
    ]

    let handler: String
    let items: [YAMLNode]
    private var earlier: [String] = []
    private var variables: [String] = []
    private var ids: [(id: String, index: Int)] = []

    init(handler: String, items: [YAMLNode]) {
        self.handler = handler
        self.items = items
        // Ids are known up front so a reference to a later step is reported as such, not as unknown.
        for (index, item) in items.enumerated() {
            if case .mapping(let pairs) = item.kind,
                let id = pairs.first(where: { $0.key.scalar?.text == "id" })?.value.scalar?.text
            {
                ids.append((id, index))
            }
        }
    }

    mutating func decode(with reader: inout NodeReader) -> [Step] {
        var steps: [Step] = []
        var seen: [String: SourceLocation] = [:]
        for (index, item) in items.enumerated() {
            let scope = ExpressionChecker.Scope(
                earlierSteps: earlier, laterSteps: ids.filter { $0.index >= index }.map(\.id), variables: variables)
            guard let step = decodeStep(item, index: index, scope: scope, reader: &reader) else { continue }
            if let id = step.id {
                if let first = seen[id.value] {
                    reader.error(
                        .duplicateStepID, at: id.location,
                        "step id '\(id.value)' is already used in handler '\(handler)' at \(first.line):\(first.column)"
                    )
                } else {
                    seen[id.value] = id.location
                    earlier.append(id.value)
                }
            }
            if case .set(let assignments) = step.action { variables += assignments.map(\.name.value) }
            steps.append(step)
        }
        return steps
    }

    private func decodeStep(
        _ node: YAMLNode, index: Int, scope: ExpressionChecker.Scope, reader: inout NodeReader
    )
        -> Step?
    {
        let what = "step \(index + 1) of handler '\(handler)'"
        guard let fields = reader.fields(node, what, keys: Self.commonKeys + Step.actionKeys) else { return nil }
        let actions = fields.entries.filter { Step.actionKeys.contains($0.key.value) }
        guard actions.count == 1 else {
            if actions.isEmpty {
                reader.error(
                    .missingKey, at: node.location, "\(what) does nothing",
                    hint: "a step has one of: \(Step.actionKeys.joined(separator: ", "))")
            } else {
                reader.error(
                    .conflictingKeys, at: actions[1].key.location,
                    "\(what) has both '\(actions[0].key.value)' and '\(actions[1].key.value)'",
                    hint: "split them into two steps")
            }
            return nil
        }
        var id: Located<String>?
        if let idNode = fields["id"], let value = reader.string(idNode, "id") {
            if Target.isName(value.value) {
                id = value
            } else {
                reader.error(
                    .invalidValue, at: value.location, "step id '\(value.value)' must use letters, digits, '-' and '_'")
            }
        }
        let condition = fields["if"].flatMap { reader.template($0, "if", scope: scope, bare: true) }
        let timeout = fields["timeout"].flatMap { reader.interval($0, "timeout") }
        let (key, value) = (actions[0].key.value, actions[0].value)
        guard let action = decodeAction(key, value, what: "\(key) (\(what))", scope: scope, reader: &reader) else {
            return nil
        }
        return Step(location: node.location, id: id, condition: condition, timeout: timeout, action: action)
    }

    private func decodeAction(
        _ key: String, _ node: YAMLNode, what: String, scope: ExpressionChecker.Scope, reader: inout NodeReader
    ) -> Step.Action? {
        func text(_ node: YAMLNode, _ name: String) -> Located<Template>? {
            reader.template(node, name, scope: scope)
        }
        switch key {
        case "run":
            let argv = reader.strings(node, what)
            guard !argv.isEmpty else { return nil }
            checkForbidden(argv, reader: &reader)
            if argv.count == 1, node.scalar != nil, argv[0].value.contains(" ") {
                reader.warning(
                    .invalidValue, at: node.location,
                    "'\(argv[0].value)' is one program name with spaces in it; commands run without a shell",
                    hint:
                        "write the arguments as a list: [\(argv[0].value.split(separator: " ").joined(separator: ", "))]"
                )
            }
            let templates = argv.compactMap { argument -> Located<Template>? in
                let argumentNode = YAMLNode(
                    kind: .scalar(.init(text: argument.value, isPlain: false, quoted: false, isMultiline: false)),
                    location: argument.location)
                return reader.template(argumentNode, "run argument", scope: scope)
            }
            return .run(argv: templates)
        case "reply":
            return text(node, "reply").map { .reply($0) }
        case "send":
            guard let fields = reader.fields(node, what, keys: ["to", "text", "json"], required: ["to"]),
                let to = fields["to"].flatMap({ reader.string($0, "to") })
            else { return nil }
            let body = fields["text"].flatMap { text($0, "text") }
            let json = fields["json"].map { Located(templateValue($0, scope: scope, reader: &reader), at: $0.location) }
            if body == nil, json == nil {
                reader.error(.missingKey, at: node.location, "\(what) needs 'text' or 'json'")
            }
            return .send(to: to, text: body, json: json)
        case "forward":
            if node.scalar != nil { return reader.string(node, what).map { .forward(to: $0, note: nil) } }
            guard let fields = reader.fields(node, what, keys: ["to", "note"], required: ["to"]),
                let to = fields["to"].flatMap({ reader.string($0, "to") })
            else { return nil }
            return .forward(to: to, note: fields["note"].flatMap { text($0, "note") })
        case "notify":
            if node.scalar != nil { return reader.string(node, what).map { .notify(channel: $0, text: nil) } }
            guard let fields = reader.fields(node, what, keys: ["channel", "text"], required: ["channel"]),
                let channel = fields["channel"].flatMap({ reader.string($0, "channel") })
            else { return nil }
            return .notify(channel: channel, text: fields["text"].flatMap { text($0, "text") })
        case "escalate":
            if node.scalar != nil { return text(node, "escalate").map { .escalate(to: nil, text: $0) } }
            guard let fields = reader.fields(node, what, keys: ["to", "text"], required: ["text"]),
                let body = fields["text"].flatMap({ text($0, "text") })
            else { return nil }
            return .escalate(to: fields["to"].flatMap { reader.string($0, "to") }, text: body)
        case "wait":
            guard
                let fields = reader.fields(
                    node, what, keys: ["reply-from", "match", "timeout"], required: ["timeout"]),
                let timeout = fields["timeout"].flatMap({ reader.interval($0, "timeout") })
            else { return nil }
            let replyFrom = fields["reply-from"].flatMap { reader.string($0, "reply-from") }
            let match = fields["match"].flatMap { reader.template($0, "match", scope: scope, bare: true) }
            return .wait(replyFrom: replyFrom, match: match, timeout: timeout)
        case "set":
            guard let fields = reader.fields(node, what, keys: nil) else { return nil }
            var assignments: [(name: Located<String>, value: Located<Template>)] = []
            for (name, value) in fields.entries {
                guard Target.isName(name.value) else {
                    reader.error(.invalidValue, at: name.location, "'\(name.value)' is not a variable name")
                    continue
                }
                if let template = text(value, "set \(name.value)") { assignments.append((name, template)) }
            }
            return .set(assignments)
        case "stop":
            if node.isNull { return .stop(reason: nil) }
            if let scalar = node.scalar, scalar.isPlain, scalar.text == "true" { return .stop(reason: nil) }
            return .stop(reason: text(node, "stop"))
        default:
            return nil
        }
    }

    private func templateValue(
        _ node: YAMLNode, scope: ExpressionChecker.Scope, reader: inout NodeReader
    ) -> TemplateValue {
        switch node.kind {
        case .scalar(let scalar):
            if node.isNull { return .literal(.null) }
            if scalar.isPlain {
                if scalar.text == "true" || scalar.text == "false" { return .literal(.bool(scalar.text == "true")) }
                if let number = Double(scalar.text), scalar.text.first.map({ $0.isNumber || $0 == "-" }) ?? false {
                    return .literal(.number(number))
                }
            }
            return reader.template(node, "json", scope: scope).map { .template($0.value) } ?? .literal(.null)
        case .sequence(let items): return .array(items.map { templateValue($0, scope: scope, reader: &reader) })
        case .mapping(let pairs):
            var object: [String: TemplateValue] = [:]
            for pair in pairs {
                guard let key = pair.key.scalar?.text else { continue }
                object[key] = templateValue(pair.value, scope: scope, reader: &reader)
            }
            return .object(object)
        }
    }

    /// masumi.md and seed 000 list commands that need a human; a workflow may not run them.
    private func checkForbidden(_ argv: [Located<String>], reader: inout NodeReader) {
        guard let program = argv.first, program.value.split(separator: "/").last == "masumi-agent-messenger" else {
            return
        }
        let words = argv.dropFirst().map(\.value)
        if words.filter({ !$0.hasPrefix("-") }).isEmpty {
            reader.error(
                .forbiddenCommand, at: program.location,
                "masumi-agent-messenger without a command opens its interactive TUI")
            return
        }
        for forbidden in Self.forbiddenMasumiCommands {
            let matches =
                forbidden.count == 1
                ? words.contains(forbidden[0])
                : words.filter { !$0.hasPrefix("-") }.starts(with: forbidden)
            if matches {
                reader.error(
                    .forbiddenCommand, at: program.location,
                    "'masumi-agent-messenger \(forbidden.joined(separator: " "))' needs a human; a workflow must not run it",
                    hint: "see the forbidden commands in masumi's skill reference")
                return
            }
        }
    }
}
