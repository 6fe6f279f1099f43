/// A string with `${{ … }}` expressions in it, parsed once when the file is loaded.
public struct Template: Sendable, Equatable, CustomStringConvertible {
    public enum Part: Sendable, Equatable {
        case text(String)
        /// The expression and the offset (in Unicode scalars) of its source inside the template.
        case expression(Expression, offset: Int)
    }

    public var source: String
    public var parts: [Part]

    public var description: String { source }

    public var expressions: [(expression: Expression, offset: Int)] {
        parts.compactMap {
            if case .expression(let expression, let offset) = $0 { (expression, offset) } else { nil }
        }
    }

    public var isLiteral: Bool { expressions.isEmpty }

    /// The expression when the whole template is one `${{ }}` (surrounding spaces aside).
    public var singleExpression: Expression? {
        let meaningful = parts.filter {
            if case .text(let text) = $0 { !text.trimmingSpaces.isEmpty } else { true }
        }
        if meaningful.count == 1, case .expression(let expression, _) = meaningful[0] { return expression }
        return nil
    }

    public struct SyntaxError: Error, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { message }
    }

    public static func parse(_ source: String) throws(SyntaxError) -> Template {
        let scalars = Array(source.unicodeScalars)
        var parts: [Part] = []
        var text = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "$", index + 2 < scalars.count, scalars[index + 1] == "{", scalars[index + 2] == "{"
            else {
                text.append(scalars[index])
                index += 1
                continue
            }
            let open = index
            let start = index + 3
            var cursor = start
            var inString = false
            var close: Int?
            while cursor < scalars.count {
                let scalar = scalars[cursor]
                if scalar == "'" {
                    inString.toggle()
                } else if !inString, scalar == "}", cursor + 1 < scalars.count, scalars[cursor + 1] == "}" {
                    close = cursor
                    break
                }
                cursor += 1
            }
            guard let close else {
                throw SyntaxError(offset: open, message: "'${{' is not closed with '}}'")
            }
            let body = String(String.UnicodeScalarView(scalars[start..<close]))
            guard !body.trimmingSpaces.isEmpty else {
                throw SyntaxError(offset: open, message: "empty expression '${{ }}'")
            }
            let expression: Expression
            do {
                expression = try ExpressionParser.parse(body)
            } catch {
                throw SyntaxError(offset: start + error.offset, message: error.message)
            }
            if !text.isEmpty {
                parts.append(.text(String(text)))
                text = String.UnicodeScalarView()
            }
            parts.append(.expression(expression, offset: start))
            index = close + 2
        }
        if !text.isEmpty { parts.append(.text(String(text))) }
        return Template(source: source, parts: parts)
    }

    private init(source: String, parts: [Part]) {
        self.source = source
        self.parts = parts
    }
}
