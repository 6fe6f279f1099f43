/// A parsed `${{ … }}` expression: literals, context properties, `! == != < <= > >= && ||` and function calls.
/// No assignment, no loops, no user-defined functions: evaluating one cannot run code.
public struct Expression: Sendable, CustomStringConvertible {
    public indirect enum Node: Sendable {
        case literal(Value)
        /// A root context: `message`, `rule`, `steps`, `vars`, `secrets`, `env`, `trigger`, `workflow`.
        case context(String)
        /// `base.name`
        case member(Expression, String)
        /// `base[index]`
        case index(Expression, Expression)
        case not(Expression)
        case binary(BinaryOperator, Expression, Expression)
        case call(String, [Expression])
    }

    public enum BinaryOperator: String, Sendable, CaseIterable {
        case or = "||"
        case and = "&&"
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="

        /// Higher binds tighter.
        var precedence: Int {
            switch self {
            case .or: 1
            case .and: 2
            case .equal, .notEqual: 3
            case .less, .lessOrEqual, .greater, .greaterOrEqual: 4
            }
        }
    }

    public var node: Node
    /// Where this node starts, in Unicode scalars from the start of the expression's source.
    public var offset: Int

    public init(_ node: Node, offset: Int = 0) {
        self.node = node
        self.offset = offset
    }

    public var description: String { ExpressionPrinter.print(self) }
}

extension Expression: Equatable {
    /// Structural equality; where each node was written does not count.
    public static func == (lhs: Expression, rhs: Expression) -> Bool {
        switch (lhs.node, rhs.node) {
        case (.literal(let a), .literal(let b)): a == b
        case (.context(let a), .context(let b)): a == b
        case (.member(let a, let x), .member(let b, let y)): a == b && x == y
        case (.index(let a, let x), .index(let b, let y)): a == b && x == y
        case (.not(let a), .not(let b)): a == b
        case (.binary(let op1, let a, let x), .binary(let op2, let b, let y)): op1 == op2 && a == b && x == y
        case (.call(let f, let a), .call(let g, let b)): f == g && a == b
        default: false
        }
    }
}

/// A value that expressions compute with; the JSON data model.
public enum Value: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([Value])
    case object([String: Value])

    /// GitHub Actions' truthiness: null, false, 0, NaN and '' are false.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let value): value
        case .number(let value): value != 0 && !value.isNaN
        case .string(let value): !value.isEmpty
        case .array, .object: true
        }
    }

    /// How a value reads when interpolated into text: strings as they are, containers as JSON.
    public var interpolated: String {
        switch self {
        case .null: ""
        case .string(let value): value
        default: JSONText.encode(self)
        }
    }

    public var description: String { JSONText.encode(self) }
}

extension Expression {
    /// The secrets the expression reads (`secrets.NAME`, `secrets['NAME']`), with the offset of each.
    public var secretReferences: [(name: String, offset: Int)] {
        switch node {
        case .member(let base, let name):
            if case .context("secrets") = base.node { return [(name, offset)] }
            return base.secretReferences
        case .index(let base, let index):
            if case .context("secrets") = base.node, case .literal(.string(let name)) = index.node {
                return [(name, index.offset)]
            }
            return base.secretReferences + index.secretReferences
        case .not(let operand): return operand.secretReferences
        case .binary(_, let left, let right): return left.secretReferences + right.secretReferences
        case .call(_, let arguments): return arguments.flatMap(\.secretReferences)
        case .literal, .context: return []
        }
    }
}
