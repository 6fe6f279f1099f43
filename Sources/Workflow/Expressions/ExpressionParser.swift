/// Parses the text between `${{` and `}}`.
public enum ExpressionParser {
    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        /// In Unicode scalars from the start of the expression's source.
        public var offset: Int
        public var message: String
        public var description: String { message }
    }

    /// Expressions deeper than this are rejected rather than risking the stack.
    static let maximumDepth = 100
    /// Chains (`a || a || …`, `a.b.c…`) nest without recursion in the parser but with it everywhere else;
    /// capping the tokens caps every tree's depth.
    static let maximumTokens = 1000

    public static func parse(_ source: String) throws(SyntaxError) -> Expression {
        let tokens = try Lexer.tokens(of: source)
        guard tokens.count <= maximumTokens else {
            throw SyntaxError(
                offset: tokens[maximumTokens].offset, message: "expression is too long (over \(maximumTokens) tokens)")
        }
        var parser = Parser(tokens: tokens, end: source.unicodeScalars.count)
        let expression = try parser.expression(depth: 0)
        guard parser.peek.kind == .end else {
            throw SyntaxError(offset: parser.peek.offset, message: "unexpected \(parser.peek.kind.shown)")
        }
        return expression
    }

    // MARK: - Tokens

    struct Token {
        enum Kind: Equatable {
            case number(Double)
            case string(String)
            case identifier(String)
            case symbol(String)
            case end

            var shown: String {
                switch self {
                case .number(let value): "number \(JSONText.format(value))"
                case .string(let value): "string '\(value)'"
                case .identifier(let name): "'\(name)'"
                case .symbol(let symbol): "'\(symbol)'"
                case .end: "end of expression"
                }
            }
        }

        var kind: Kind
        var offset: Int
    }

    enum Lexer {
        static let symbols = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ",", "."]

        static func tokens(of source: String) throws(SyntaxError) -> [Token] {
            let scalars = Array(source.unicodeScalars)
            var tokens: [Token] = []
            var index = 0
            func isIdentifierStart(_ scalar: Unicode.Scalar) -> Bool {
                scalar.isASCII && (scalar.properties.isAlphabetic || scalar == "_")
            }
            func isIdentifierPart(_ scalar: Unicode.Scalar) -> Bool {
                isIdentifierStart(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
            }
            while index < scalars.count {
                let scalar = scalars[index]
                if scalar.properties.isWhitespace {
                    index += 1
                    continue
                }
                let start = index
                if scalar == "'" {
                    var text = String.UnicodeScalarView()
                    index += 1
                    var closed = false
                    while index < scalars.count {
                        if scalars[index] == "'" {
                            if index + 1 < scalars.count, scalars[index + 1] == "'" {
                                text.append("'")
                                index += 2
                                continue
                            }
                            closed = true
                            index += 1
                            break
                        }
                        text.append(scalars[index])
                        index += 1
                    }
                    guard closed else { throw SyntaxError(offset: start, message: "unterminated string literal") }
                    tokens.append(Token(kind: .string(String(text)), offset: start))
                } else if scalar == "\"" {
                    throw SyntaxError(offset: start, message: "strings use single quotes: 'text'")
                } else if ("0"..."9").contains(scalar)
                    || (scalar == "-" && index + 1 < scalars.count && ("0"..."9").contains(scalars[index + 1]))
                {
                    index += 1
                    while index < scalars.count,
                        "0123456789.eE".unicodeScalars.contains(scalars[index])
                            || ((scalars[index] == "-" || scalars[index] == "+")
                                && "eE".unicodeScalars.contains(scalars[index - 1]))
                    {
                        index += 1
                    }
                    let text = String(String.UnicodeScalarView(scalars[start..<index]))
                    guard let number = Double(text) else {
                        throw SyntaxError(offset: start, message: "invalid number '\(text)'")
                    }
                    tokens.append(Token(kind: .number(number), offset: start))
                } else if isIdentifierStart(scalar) {
                    while index < scalars.count, isIdentifierPart(scalars[index]) { index += 1 }
                    let name = String(String.UnicodeScalarView(scalars[start..<index]))
                    tokens.append(Token(kind: .identifier(name), offset: start))
                } else if let symbol = symbols.first(where: { matches($0, scalars, at: index) }) {
                    index += symbol.unicodeScalars.count
                    tokens.append(Token(kind: .symbol(symbol), offset: start))
                } else {
                    let hint =
                        scalar == "="
                        ? " (compare with '==')" : scalar == "&" || scalar == "|" ? " (use '&&' or '||')" : ""
                    throw SyntaxError(offset: start, message: "unexpected character '\(scalar)'\(hint)")
                }
            }
            tokens.append(Token(kind: .end, offset: scalars.count))
            return tokens
        }

        private static func matches(_ symbol: String, _ scalars: [Unicode.Scalar], at index: Int) -> Bool {
            let wanted = Array(symbol.unicodeScalars)
            guard index + wanted.count <= scalars.count else { return false }
            return Array(scalars[index..<index + wanted.count]) == wanted
        }
    }

    // MARK: - Grammar

    /// Precedence climbing over `||`, `&&`, equality and comparison; `!` and postfix access bind tightest.
    struct Parser {
        let tokens: [Token]
        let end: Int
        var position = 0

        var peek: Token { tokens[position] }

        mutating func advance() -> Token {
            defer { position += 1 }
            return tokens[position]
        }

        func fail(_ message: String, at token: Token? = nil) -> SyntaxError {
            SyntaxError(offset: (token ?? peek).offset, message: message)
        }

        mutating func expect(_ symbol: String) throws(SyntaxError) {
            guard peek.kind == .symbol(symbol) else {
                throw fail("expected '\(symbol)' but found \(peek.kind.shown)")
            }
            position += 1
        }

        mutating func expression(depth: Int, minimumPrecedence: Int = 1) throws(SyntaxError) -> Expression {
            guard depth < ExpressionParser.maximumDepth else { throw fail("expression nested too deeply") }
            var left = try unary(depth: depth + 1)
            while case .symbol(let symbol) = peek.kind, let op = Expression.BinaryOperator(rawValue: symbol),
                op.precedence >= minimumPrecedence
            {
                position += 1
                let right = try expression(depth: depth + 1, minimumPrecedence: op.precedence + 1)
                left = Expression(.binary(op, left, right), offset: left.offset)
            }
            return left
        }

        mutating func unary(depth: Int) throws(SyntaxError) -> Expression {
            guard depth < ExpressionParser.maximumDepth else { throw fail("expression nested too deeply") }
            if peek.kind == .symbol("!") {
                let bang = advance()
                return Expression(.not(try unary(depth: depth + 1)), offset: bang.offset)
            }
            return try postfix(primary(depth: depth), depth: depth)
        }

        mutating func primary(depth: Int) throws(SyntaxError) -> Expression {
            let token = advance()
            switch token.kind {
            case .number(let value): return Expression(.literal(.number(value)), offset: token.offset)
            case .string(let value): return Expression(.literal(.string(value)), offset: token.offset)
            case .identifier(let name):
                switch name {
                case "null": return Expression(.literal(.null), offset: token.offset)
                case "true": return Expression(.literal(.bool(true)), offset: token.offset)
                case "false": return Expression(.literal(.bool(false)), offset: token.offset)
                default: break
                }
                if peek.kind == .symbol("(") {
                    position += 1
                    var arguments: [Expression] = []
                    if peek.kind != .symbol(")") {
                        repeat {
                            arguments.append(try expression(depth: depth + 1))
                        } while try consumeComma()
                    }
                    try expect(")")
                    return Expression(.call(name, arguments), offset: token.offset)
                }
                return Expression(.context(name), offset: token.offset)
            case .symbol("("):
                let inner = try expression(depth: depth + 1)
                try expect(")")
                return inner
            case .end: throw fail("expected a value but the expression ended", at: token)
            default: throw fail("expected a value but found \(token.kind.shown)", at: token)
            }
        }

        mutating func consumeComma() throws(SyntaxError) -> Bool {
            guard peek.kind == .symbol(",") else { return false }
            position += 1
            return true
        }

        mutating func postfix(_ base: Expression, depth: Int) throws(SyntaxError) -> Expression {
            var result = base
            while true {
                if peek.kind == .symbol(".") {
                    position += 1
                    let token = advance()
                    guard case .identifier(let name) = token.kind else {
                        throw fail("expected a property name after '.' but found \(token.kind.shown)", at: token)
                    }
                    result = Expression(.member(result, name), offset: token.offset)
                } else if peek.kind == .symbol("[") {
                    let bracket = advance()
                    let index = try expression(depth: depth + 1)
                    try expect("]")
                    result = Expression(.index(result, index), offset: bracket.offset)
                } else {
                    return result
                }
            }
        }
    }
}
