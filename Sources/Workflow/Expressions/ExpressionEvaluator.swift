/// Evaluates expressions with GitHub Actions' semantics: missing properties are null, `&&` and `||` return
/// an operand, strings compare case-insensitively, mixed types compare as numbers.
public struct ExpressionEvaluator: Sendable {
    /// The root contexts by name: `message`, `rule`, `steps`, `vars`, `secrets`, `env`, `trigger`, `workflow`.
    public var contexts: [String: Value]

    public init(contexts: [String: Value]) {
        self.contexts = contexts
    }

    public struct Failure: Error, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { message }
    }

    public func evaluate(_ expression: Expression) throws(Failure) -> Value {
        switch expression.node {
        case .literal(let value): return value
        case .context(let name): return contexts[name] ?? .null
        case .member(let base, let name): return Self.property(try evaluate(base), name)
        case .index(let base, let index):
            let container = try evaluate(base)
            switch (container, try evaluate(index)) {
            case (.array(let items), .number(let number)):
                guard number >= 0, number < Double(items.count), number == number.rounded() else { return .null }
                return items[Int(number)]
            case (_, .string(let key)): return Self.property(container, key)
            default: return .null
            }
        case .not(let operand): return .bool(!(try evaluate(operand)).isTruthy)
        case .binary(let op, let leftExpression, let rightExpression):
            let left = try evaluate(leftExpression)
            switch op {
            case .and: return left.isTruthy ? try evaluate(rightExpression) : left
            case .or: return left.isTruthy ? left : try evaluate(rightExpression)
            default: break
            }
            let right = try evaluate(rightExpression)
            switch op {
            case .equal: return .bool(Self.looselyEqual(left, right))
            case .notEqual: return .bool(!Self.looselyEqual(left, right))
            case .less: return .bool(Self.compare(left, right).map { $0 < 0 } ?? false)
            case .lessOrEqual: return .bool(Self.compare(left, right).map { $0 <= 0 } ?? false)
            case .greater: return .bool(Self.compare(left, right).map { $0 > 0 } ?? false)
            case .greaterOrEqual: return .bool(Self.compare(left, right).map { $0 >= 0 } ?? false)
            case .and, .or: fatalError("handled above")
            }
        case .call(let name, let argumentExpressions):
            guard let function = Function(rawValue: name), function.parameters.count == argumentExpressions.count else {
                throw Failure(
                    offset: expression.offset, message: "unknown function \(name)/\(argumentExpressions.count)")
            }
            var arguments: [Value] = []
            for argument in argumentExpressions { arguments.append(try evaluate(argument)) }
            do {
                return try function.call(arguments)
            } catch {
                throw Failure(offset: expression.offset, message: error.message)
            }
        }
    }

    /// Renders a template: text with every `${{ }}` replaced by its value.
    public func render(_ template: Template) throws(Failure) -> String {
        var output = ""
        for part in template.parts {
            switch part {
            case .text(let text): output += text
            case .expression(let expression, _): output += try evaluate(expression).interpolated
            }
        }
        return output
    }

    /// A template that is one expression keeps its type (`${{ steps.ack.timed-out }}` is a boolean).
    public func value(of template: Template) throws(Failure) -> Value {
        if let expression = template.singleExpression { return try evaluate(expression) }
        return .string(try render(template))
    }

    static func property(_ value: Value, _ name: String) -> Value {
        guard case .object(let members) = value else { return .null }
        if let exact = members[name] { return exact }
        // Property names are case-insensitive, as in GitHub Actions.
        return members.first { $0.key.lowercased() == name.lowercased() }?.value ?? .null
    }

    static func number(_ value: Value) -> Double {
        switch value {
        case .null: 0
        case .bool(let flag): flag ? 1 : 0
        case .number(let number): number
        case .string(let text):
            text.trimmingSpaces.isEmpty ? 0 : Double(text.trimmingSpaces) ?? .nan
        case .array, .object: .nan
        }
    }

    static func looselyEqual(_ left: Value, _ right: Value) -> Bool {
        switch (left, right) {
        case (.string(let a), .string(let b)): return a.lowercased() == b.lowercased()
        case (.array, .array), (.object, .object): return left == right
        case (.array, _), (_, .array), (.object, _), (_, .object): return false
        default:
            let (a, b) = (number(left), number(right))
            return a == b
        }
    }

    /// Negative, zero or positive; nil when the two cannot be ordered (NaN, containers).
    static func compare(_ left: Value, _ right: Value) -> Int? {
        if case .string(let a) = left, case .string(let b) = right {
            let (x, y) = (a.lowercased(), b.lowercased())
            return x < y ? -1 : x == y ? 0 : 1
        }
        let (a, b) = (number(left), number(right))
        guard !a.isNaN, !b.isNaN else { return nil }
        return a < b ? -1 : a == b ? 0 : 1
    }
}

extension String {
    var trimmingSpaces: Substring {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex { !$0.properties.isWhitespace }!
        return Substring(scalars[first...last])
    }
}
