/// Checks an expression before it ever runs: known contexts and properties, known functions with the right
/// number of arguments, literal arguments of the right type, and `steps.<id>` naming a step that ran before.
public struct ExpressionChecker: Sendable {
    /// What the expression can see where it is written.
    public struct Scope: Sendable {
        /// Each step id of the handler with the position of the (first) step that has it.
        public var stepPositions: [String: Int] = [:]
        /// Each name `set` steps assign with the position of the first step that assigns it.
        public var variablePositions: [String: Int] = [:]
        /// The position of the step the expression belongs to: it sees what comes before.
        public var position = 0
        /// Outside handlers (a channel's webhook URL, say) only `secrets` and `env` are known.
        public var handlerContexts = true

        public init(
            stepPositions: [String: Int], variablePositions: [String: Int], position: Int, handlerContexts: Bool = true
        ) {
            self.stepPositions = stepPositions
            self.variablePositions = variablePositions
            self.position = position
            self.handlerContexts = handlerContexts
        }

        /// A scope from lists: the earlier steps and variables are visible, the later steps are not yet.
        public init(
            earlierSteps: [String] = [], laterSteps: [String] = [], variables: [String] = [],
            handlerContexts: Bool = true
        ) {
            position = earlierSteps.count
            for (index, id) in earlierSteps.enumerated() where stepPositions[id] == nil { stepPositions[id] = index }
            for id in laterSteps where stepPositions[id] == nil { stepPositions[id] = position }
            for name in variables { variablePositions[name] = -1 }
            self.handlerContexts = handlerContexts
        }

        var earlierSteps: [String] {
            stepPositions.filter { $0.value < position }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map(\.key)
        }

        func isEarlier(step: String) -> Bool { (stepPositions[step] ?? .max) < position }
        func isLater(step: String) -> Bool { (stepPositions[step] ?? -1) >= position }
        var visibleVariables: [String] { variablePositions.filter { $0.value < position }.map(\.key).sorted() }
        func isAssigned(variable: String) -> Bool { (variablePositions[variable] ?? .max) < position }
    }

    public struct Issue: Sendable, Equatable {
        public var offset: Int
        public var code: Diagnostic.Code
        public var message: String
        public var hint: String?
    }

    /// The properties each context offers; `open` objects take any property name.
    indirect enum Shape: Sendable {
        case value(ValueType)
        case object([String: Shape])
        case open(Shape)
    }

    static let message: Shape = .object([
        "id": .value(.string), "text": .value(.string), "json": .value(.any), "sender": .value(.string),
        "conversation": .value(.string), "account": .value(.string), "network": .value(.string),
        "target": .value(.string), "received-at": .value(.string), "cursor": .value(.string),
        "thread": .value(.string), "verified": .value(.bool), "headers": .open(.value(.string)),
    ])

    static let stepResult: Shape = .object([
        "status": .value(.string), "outputs": .open(.value(.any)), "output": .value(.any), "stdout": .value(.string),
        "stderr": .value(.string), "exit-code": .value(.number), "timed-out": .value(.bool), "message": message,
        "reply": .value(.string), "error": .object(["code": .value(.string), "message": .value(.string)]),
    ])

    static let contexts: [String: Shape] = [
        "message": message,
        "rule": .object([
            "name": .value(.string), "purpose": .value(.string), "instructions": .value(.string),
            "session": .value(.string), "auto-reply": .value(.bool), "strikes": .value(.number),
            "notify": .value(.any), "forward-to": .value(.any), "escalate-to": .value(.string),
        ]),
        "trigger": .object(["kind": .value(.string), "schedule": .value(.string), "at": .value(.string)]),
        "workflow": .object(["name": .value(.string), "file": .value(.string)]),
        "secrets": .open(.value(.string)),
        "env": .open(.value(.string)),
        // `steps` and `vars` depend on the scope; see `type(of:)`.
        "steps": .open(stepResult),
        "vars": .open(.value(.any)),
    ]

    static let handlerOnlyContexts: Set<String> = ["message", "rule", "trigger", "steps", "vars"]

    public let scope: Scope

    public init(scope: Scope) {
        self.scope = scope
    }

    public func check(_ expression: Expression) -> [Issue] {
        var issues: [Issue] = []
        _ = infer(expression, &issues)
        return issues
    }

    /// The expression's type as far as it is known, and its shape when it is a context object.
    private func infer(_ expression: Expression, _ issues: inout [Issue]) -> (type: ValueType, shape: Shape?) {
        switch expression.node {
        case .literal(let value): return (ValueType(of: value), nil)
        case .context(let name):
            guard let shape = Self.contexts[name], scope.handlerContexts || !Self.handlerOnlyContexts.contains(name)
            else {
                let known = Self.contexts.keys.filter {
                    scope.handlerContexts || !Self.handlerOnlyContexts.contains($0)
                }.sorted()
                issues.append(
                    Issue(
                        offset: expression.offset, code: .unknownContext, message: "unknown context '\(name)'",
                        hint: Suggestion.hint(for: name, in: known)
                            ?? "available here: \(known.joined(separator: ", "))"))
                return (.any, nil)
            }
            return (.object, shape)
        case .member(let base, let name): return member(base, name, at: expression.offset, &issues)
        case .index(let base, let index):
            if case .literal(.string(let name)) = index.node { return member(base, name, at: index.offset, &issues) }
            _ = infer(base, &issues)
            _ = infer(index, &issues)
            return (.any, nil)
        case .not(let operand):
            _ = infer(operand, &issues)
            return (.bool, nil)
        case .binary(let op, let left, let right):
            let leftType = infer(left, &issues).type
            let rightType = infer(right, &issues).type
            switch op {
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                for (side, type) in [(left, leftType), (right, rightType)]
                where [.bool, .null, .array, .object].contains(type) {
                    issues.append(
                        Issue(
                            offset: side.offset, code: .expressionType,
                            message: "'\(op.rawValue)' orders numbers and strings, not \(type.rawValue)"))
                }
                return (.bool, nil)
            case .equal, .notEqual: return (.bool, nil)
            case .and, .or: return (leftType == rightType ? leftType : .any, nil)
            }
        case .call(let name, let arguments):
            let argumentTypes = arguments.map { infer($0, &issues).type }
            guard let function = Function(rawValue: name) else {
                issues.append(
                    Issue(
                        offset: expression.offset, code: .unknownFunction, message: "unknown function '\(name)'",
                        hint: Suggestion.hint(for: name, in: Function.allCases.map(\.rawValue))
                            ?? "functions: \(Function.allCases.map(\.rawValue).joined(separator: ", "))"))
                return (.any, nil)
            }
            guard arguments.count == function.parameters.count else {
                let count = function.parameters.count
                issues.append(
                    Issue(
                        offset: expression.offset, code: .wrongArity,
                        message: "'\(name)' takes \(count) argument\(count == 1 ? "" : "s"), not \(arguments.count)",
                        hint: "usage: \(function.signature)"))
                return (function.result, nil)
            }
            for (index, argument) in arguments.enumerated() {
                let expected = function.parameters[index]
                let actual = argumentTypes[index]
                if case .literal = argument.node, expected != .any, actual != expected,
                    !(expected == .string && actual == .number)
                {
                    issues.append(
                        Issue(
                            offset: argument.offset, code: .expressionType,
                            message:
                                "argument \(index + 1) of '\(name)' must be a \(expected.rawValue), not \(actual.rawValue)",
                            hint: "usage: \(function.signature)"))
                }
            }
            if function == .matches, case .literal(.string(let pattern)) = arguments[1].node {
                do {
                    _ = try Function.regex(pattern)
                } catch {
                    issues.append(Issue(offset: arguments[1].offset, code: .invalidValue, message: error.message))
                }
            }
            return (function.result, nil)
        }
    }

    private func member(
        _ base: Expression, _ name: String, at offset: Int, _ issues: inout [Issue]
    ) -> (
        type: ValueType, shape: Shape?
    ) {
        // steps.<id> and vars.<name> are checked against the handler.
        if case .context("steps") = base.node {
            if !scope.isEarlier(step: name) {
                if scope.isLater(step: name) {
                    issues.append(
                        Issue(
                            offset: offset, code: .stepRunsLater,
                            message: "step '\(name)' has not run yet where this expression is evaluated",
                            hint: "an expression can read only the steps before its own"))
                } else {
                    let earlier = scope.earlierSteps
                    issues.append(
                        Issue(
                            offset: offset, code: .unknownStep, message: "no step with id '\(name)' in this handler",
                            hint: Suggestion.hint(for: name, in: earlier)
                                ?? (earlier.isEmpty
                                    ? "give the step an 'id:' to read its results"
                                    : "steps before this one: \(earlier.joined(separator: ", "))")))
                }
            }
            return (.object, Self.stepResult)
        }
        if case .context("vars") = base.node, !scope.isAssigned(variable: name) {
            issues.append(
                Issue(
                    offset: offset, code: .unknownProperty, message: "no 'set' step before this one assigns '\(name)'",
                    hint: Suggestion.hint(for: name, in: scope.visibleVariables)))
            return (.any, nil)
        }
        let (_, shape) = infer(base, &issues)
        switch shape {
        case .object(let properties)?:
            guard let property = properties[name] else {
                issues.append(
                    Issue(
                        offset: offset, code: .unknownProperty, message: "unknown property '\(name)'",
                        hint: Suggestion.hint(for: name, in: properties.keys)
                            ?? "known: \(properties.keys.sorted().joined(separator: ", "))"))
                return (.any, nil)
            }
            return describe(property)
        case .open(let element)?: return describe(element)
        case .value?, nil: return (.any, nil)
        }
    }

    private func describe(_ shape: Shape) -> (type: ValueType, shape: Shape?) {
        switch shape {
        case .value(let type): (type, nil)
        case .object, .open: (.object, shape)
        }
    }
}
