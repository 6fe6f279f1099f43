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
    /// Step ids and `set` names with where they first appear, known up front: a reference to a later step is
    /// reported as such, and each step's scope costs nothing to build.
    private var stepPositions: [String: Int] = [:]
    private var variablePositions: [String: Int] = [:]

    init(handler: String, items: [YAMLNode]) {
        self.handler = handler
        self.items = items
        for (index, item) in items.enumerated() {
            guard case .mapping(let pairs) = item.kind else { continue }
            for pair in pairs {
                switch pair.key.scalar?.text {
                case "id":
                    if let id = pair.value.scalar?.text, stepPositions[id] == nil { stepPositions[id] = index }
                case "set":
                    guard case .mapping(let assignments) = pair.value.kind else { continue }
                    for assignment in assignments {
                        if let name = assignment.key.scalar?.text, variablePositions[name] == nil {
                            variablePositions[name] = index
                        }
                    }
                default: break
                }
            }
        }
    }

    mutating func decode(with reader: inout NodeReader) -> [Step] {
        var steps: [Step] = []
        var seen: [String: SourceLocation] = [:]
        for (index, item) in items.enumerated() {
            let scope = ExpressionChecker.Scope(
                stepPositions: stepPositions, variablePositions: variablePositions, position: index)
            guard let step = decodeStep(item, index: index, scope: scope, reader: &reader) else { continue }
            if let id = step.id {
                if let first = seen[id.value] {
                    reader.error(
                        .duplicateStepID, at: id.location,
                        "step id '\(id.value)' is already used in handler '\(handler)' at \(first.line):\(first.column)"
                    )
                } else {
                    seen[id.value] = id.location
                }
            }
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
            let argv = reader.argv(node, what)
            guard !argv.isEmpty else { return nil }
            checkForbidden(argv, reader: &reader)
            // Each argument from its own node, so expression findings point into the file exactly.
            let nodes: [YAMLNode]
            if case .sequence(let items) = node.kind { nodes = items } else { nodes = [node] }
            let templates = nodes.compactMap { reader.template($0, "run argument", scope: scope) }
            guard templates.count == nodes.count else { return nil }
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
    /// The CLI's command families (masumi.md §6); without one the CLI opens its interactive TUI.
    static let masumiFamilies: Set<String> = ["thread", "channel", "agent", "account", "discover", "doctor", "inbox"]

    /// masumi.md and seed 000 list commands that need a human; a workflow may not run them.
    private func checkForbidden(_ argv: [Located<String>], reader: inout NodeReader) {
        guard let program = argv.first, program.value.split(separator: "/").last == "masumi-agent-messenger" else {
            return
        }
        let arguments = argv.dropFirst().map(\.value)
        // Option values (`--profile release`) are words too; matching the command anywhere among the words
        // cannot be shifted by them.
        let words = arguments.filter { !$0.hasPrefix("-") }
        if !words.contains(where: Self.masumiFamilies.contains),
            !arguments.contains(where: { ["--help", "-h", "-v", "--version", "-V"].contains($0) })
        {
            reader.error(
                .forbiddenCommand, at: program.location,
                "masumi-agent-messenger without a command opens its interactive TUI",
                hint: "name a command: \(Self.masumiFamilies.sorted().joined(separator: ", "))")
            return
        }
        for forbidden in Self.forbiddenMasumiCommands {
            let matches =
                forbidden.count == 1
                ? arguments.contains(forbidden[0])
                : words.indices.contains { words[$0...].starts(with: forbidden) }
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
