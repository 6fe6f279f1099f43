import Foundation

/// Prints an expression in canonical form; parsing the output gives back the same expression.
enum ExpressionPrinter {
    static func print(_ expression: Expression) -> String {
        print(expression, parentPrecedence: 0)
    }

    private static func print(_ expression: Expression, parentPrecedence: Int) -> String {
        switch expression.node {
        case .literal(let value): return literal(value)
        case .context(let name): return name
        case .member(let base, let name):
            return print(base, parentPrecedence: 10) + (isIdentifier(name) ? ".\(name)" : "[\(literal(.string(name)))]")
        case .index(let base, let index): return print(base, parentPrecedence: 10) + "[\(print(index))]"
        case .not(let operand): return "!" + print(operand, parentPrecedence: 9)
        case .binary(let op, let left, let right):
            // Left-associative: the right operand needs parentheses at equal precedence.
            let text =
                "\(print(left, parentPrecedence: op.precedence)) \(op.rawValue) \(print(right, parentPrecedence: op.precedence + 1))"
            return op.precedence < parentPrecedence ? "(\(text))" : text
        case .call(let name, let arguments): return "\(name)(\(arguments.map { print($0) }.joined(separator: ", ")))"
        }
    }

    static func literal(_ value: Value) -> String {
        switch value {
        case .string(let text): "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
        case .number(let number): JSONText.format(number)
        default: JSONText.encode(value)
        }
    }

    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || first == "_" else {
            return false
        }
        if ["null", "true", "false"].contains(name) { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || $0 == "_" || $0 == "-" || ("0"..."9").contains($0))
        }
    }
}
