/// Reads typed values out of ``YAMLNode``s, recording a finding for every problem instead of stopping at the
/// first, so `validate` can report them all at once.
struct NodeReader {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []
    /// Every `secrets.NAME` the expressions read, where it is written.
    var secretReferences: [Located<String>] = []

    init(file: String) {
        self.file = file
    }

    mutating func add(
        _ severity: Diagnostic.Severity, _ code: Diagnostic.Code, at location: SourceLocation, _ message: String,
        hint: String? = nil
    ) {
        diagnostics.append(Diagnostic(severity, code, at: location, message, hint: hint))
    }

    mutating func error(_ code: Diagnostic.Code, at location: SourceLocation, _ message: String, hint: String? = nil) {
        add(.error, code, at: location, message, hint: hint)
    }

    mutating func warning(_ code: Diagnostic.Code, at location: SourceLocation, _ message: String, hint: String? = nil)
    {
        add(.warning, code, at: location, message, hint: hint)
    }

    /// A mapping's entries by key, with where each key was written.
    struct Fields {
        var location: SourceLocation
        var entries: [(key: Located<String>, value: YAMLNode)] = []

        subscript(key: String) -> YAMLNode? {
            entries.first { $0.key.value == key }?.value
        }

        func keyLocation(_ key: String) -> SourceLocation? {
            entries.first { $0.key.value == key }?.key.location
        }

        func has(_ key: String) -> Bool { self[key] != nil }
    }

    /// A mapping whose keys must come from `keys`; unknown keys and missing `required` ones are findings.
    /// With `extensions`, keys starting with `x-` are allowed and skipped: a place for anchors (`x-defaults: &d`).
    mutating func fields(
        _ node: YAMLNode, _ what: String, keys: [String]?, required: [String] = [], extensions: Bool = false
    ) -> Fields? {
        guard case .mapping(let pairs) = node.kind else {
            typeMismatch(node, expected: "a mapping", what)
            return nil
        }
        var fields = Fields(location: node.location)
        for pair in pairs {
            guard let key = pair.key.scalar, !pair.key.isNull || !key.text.isEmpty else {
                error(
                    .typeMismatch, at: pair.key.location,
                    "keys in \(what) must be plain text, not \(pair.key.kindDescription)")
                continue
            }
            if extensions, key.text.hasPrefix("x-") { continue }
            if let keys, !keys.contains(key.text) {
                error(
                    .unknownKey, at: pair.key.location, "unknown key '\(key.text)' in \(what)",
                    hint: Suggestion.hint(for: key.text, in: keys) ?? "expected one of: \(keys.joined(separator: ", "))"
                )
                continue
            }
            fields.entries.append((Located(key.text, at: pair.key.location), pair.value))
        }
        for key in required where !fields.has(key) {
            error(.missingKey, at: node.location, "\(what) needs '\(key)'")
        }
        return fields
    }

    mutating func typeMismatch(_ node: YAMLNode, expected: String, _ what: String, hint: String? = nil) {
        error(.typeMismatch, at: node.location, "\(what) must be \(expected), not \(node.kindDescription)", hint: hint)
    }

    /// Text; numbers and booleans are taken as written. Null, lists and mappings are findings.
    mutating func string(_ node: YAMLNode, _ what: String, allowEmpty: Bool = false) -> Located<String>? {
        guard let scalar = node.scalar, !node.isNull || (allowEmpty && !scalar.isPlain) else {
            typeMismatch(node, expected: "text", what)
            return nil
        }
        if !allowEmpty, scalar.text.trimmingSpaces.isEmpty {
            error(.invalidValue, at: node.location, "\(what) is empty")
            return nil
        }
        return Located(scalar.text, at: node.location)
    }

    /// A name of an account, handler, channel or schedule.
    mutating func name(_ key: Located<String>, _ what: String) -> Bool {
        guard Target.isName(key.value) else {
            error(
                .invalidValue, at: key.location, "'\(key.value)' is not a valid \(what) name",
                hint: "use letters, digits, '-' and '_' (at most 64)")
            return false
        }
        return true
    }

    mutating func bool(_ node: YAMLNode, _ what: String) -> Located<Bool>? {
        guard let scalar = node.scalar, scalar.isPlain else {
            typeMismatch(node, expected: "true or false", what)
            return nil
        }
        switch scalar.text {
        case "true", "True", "TRUE": return Located(true, at: node.location)
        case "false", "False", "FALSE": return Located(false, at: node.location)
        default:
            let hint =
                ["yes", "no", "on", "off", "y", "n"].contains(scalar.text.lowercased()) ? "write true or false" : nil
            typeMismatch(node, expected: "true or false", what, hint: hint)
            return nil
        }
    }

    mutating func int(_ node: YAMLNode, _ what: String, in range: ClosedRange<Int>) -> Located<Int>? {
        guard let scalar = node.scalar, scalar.isPlain, let value = Int(scalar.text) else {
            typeMismatch(node, expected: "a whole number", what)
            return nil
        }
        guard range.contains(value) else {
            error(
                .invalidValue, at: node.location,
                "\(what) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
            return nil
        }
        return Located(value, at: node.location)
    }

    mutating func interval(_ node: YAMLNode, _ what: String, minimum: Int = 1) -> Located<Interval>? {
        guard let scalar = node.scalar, !node.isNull else {
            typeMismatch(node, expected: "a duration like 90s, 3m or 1h30m", what)
            return nil
        }
        guard let interval = Interval(parsing: scalar.text) else {
            let hint =
                Int(scalar.text).map { "add a unit: \($0)s or \($0)m" }
                ?? "units are d, h, m and s, largest first: 1h30m"
            error(.invalidDuration, at: node.location, "'\(scalar.text)' is not a duration", hint: hint)
            return nil
        }
        guard interval.seconds >= minimum else {
            error(.invalidDuration, at: node.location, "\(what) must be at least \(Interval(seconds: minimum))")
            return nil
        }
        return Located(interval, at: node.location)
    }

    /// One of an enumeration's raw values.
    mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ node: YAMLNode, _ what: String, as type: Choice.Type
    )
        -> Choice? where Choice.RawValue == String
    {
        guard let text = string(node, what) else { return nil }
        if let choice = Choice(rawValue: text.value) { return choice }
        let names = Choice.allCases.map(\.rawValue)
        error(
            .invalidValue, at: node.location,
            "\(what) must be one of \(names.joined(separator: ", ")), not '\(text.value)'",
            hint: Suggestion.hint(for: text.value, in: names))
        return nil
    }

    /// A list of text, where a single text stands for a list of one.
    mutating func strings(_ node: YAMLNode, _ what: String) -> [Located<String>] {
        switch node.kind {
        case .sequence(let items): return items.compactMap { string($0, "each of \(what)") }
        case .scalar: return string(node, what).map { [$0] } ?? []
        case .mapping:
            typeMismatch(node, expected: "text or a list of text", what)
            return []
        }
    }

    /// A command: an argv list, or one string that is the program's name. There is no shell, so a string
    /// with spaces is almost always a mistake and gets a warning showing the list to write instead.
    mutating func argv(_ node: YAMLNode, _ what: String) -> [Located<String>] {
        let argv = strings(node, what)
        if argv.count == 1, node.scalar != nil, argv[0].value.contains(" ") {
            warning(
                .invalidValue, at: node.location,
                "'\(argv[0].value)' is one program name with spaces in it; commands run without a shell",
                hint: "write the arguments as a list: [\(argv[0].value.split(separator: " ").joined(separator: ", "))]")
        }
        return argv
    }

    mutating func sequence(_ node: YAMLNode, _ what: String) -> [YAMLNode] {
        guard case .sequence(let items) = node.kind else {
            if !node.isNull { typeMismatch(node, expected: "a list", what) }
            return []
        }
        return items
    }

    /// Text with `${{ }}` expressions, parsed and checked against what is visible where it is written.
    mutating func template(
        _ node: YAMLNode, _ what: String, scope: ExpressionChecker.Scope, bare: Bool = false
    )
        -> Located<Template>?
    {
        guard let text = string(node, what, allowEmpty: true) else { return nil }
        var source = text.value
        // `if:` and `match:` take a bare expression, as GitHub's `if:` does.
        if bare, !source.contains("${{") { source = "${{ \(source) }}" }
        let shift = bare && !text.value.contains("${{") ? -4 : 0
        let template: Template
        do {
            template = try Template.parse(source)
        } catch let failure {
            error(
                .expressionSyntax, at: node.location(ofScalarOffset: max(0, failure.offset + shift)),
                "\(what): \(failure.message)")
            return nil
        }
        let checker = ExpressionChecker(scope: scope)
        for (expression, offset) in template.expressions {
            for reference in expression.secretReferences {
                secretReferences.append(
                    Located(
                        reference.name, at: node.location(ofScalarOffset: max(0, offset + reference.offset + shift))))
            }
            for issue in checker.check(expression) {
                error(
                    issue.code, at: node.location(ofScalarOffset: max(0, offset + issue.offset + shift)),
                    "\(what): \(issue.message)", hint: issue.hint)
            }
        }
        return Located(template, at: node.location)
    }
}
