/// Deterministic JSON text for ``Value``s (sorted keys, no insignificant whitespace), and a strict parser.
public enum JSONText {
    public static func encode(_ value: Value) -> String {
        var output = ""
        write(value, to: &output, indent: nil)
        return output
    }

    /// Indented with two spaces, one member per line: for people and for diffs.
    public static func encodePretty(_ value: Value) -> String {
        var output = ""
        write(value, to: &output, indent: "")
        return output + "\n"
    }

    private static func write(_ value: Value, to output: inout String, indent: String?) {
        let inner = indent.map { $0 + "  " }
        let newline = indent == nil ? "" : "\n"
        switch value {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .number(let number): output += format(number)
        case .string(let text): quote(text, to: &output)
        case .array(let items):
            guard !items.isEmpty else { return output += "[]" }
            output += "[" + newline
            for (index, item) in items.enumerated() {
                if index > 0 { output += "," + newline }
                output += inner ?? ""
                write(item, to: &output, indent: inner)
            }
            output += newline + (indent ?? "") + "]"
        case .object(let members):
            guard !members.isEmpty else { return output += "{}" }
            output += "{" + newline
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output += "," + newline }
                output += inner ?? ""
                quote(key, to: &output)
                output += indent == nil ? ":" : ": "
                write(members[key]!, to: &output, indent: inner)
            }
            output += newline + (indent ?? "") + "}"
        }
    }

    /// Whole numbers without a fraction (`3`, not `3.0`); JSON has no NaN or infinity, so those are null.
    static func format(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }

    static func quote(_ text: String, to output: inout String) {
        output += "\""
        // Most text has nothing to escape: one append instead of one per scalar (request bodies are built here).
        guard text.utf8.contains(where: { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }) else {
            output += text
            output += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "\(message) at offset \(offset)" }
    }

    /// Parses JSON text; nesting is capped so hostile input cannot exhaust the stack.
    public static func decode(_ text: String) throws(ParseError) -> Value {
        var parser = Parser(scalars: Array(text.unicodeScalars))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == parser.scalars.count else {
            throw parser.error("unexpected text after the JSON value")
        }
        return value
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var position = 0

        func error(_ message: String) -> ParseError { ParseError(offset: position, message: message) }

        mutating func skipSpace() {
            while position < scalars.count, [" ", "\n", "\r", "\t"].contains(scalars[position]) { position += 1 }
        }

        mutating func expect(_ word: String) throws(ParseError) {
            for scalar in word.unicodeScalars {
                guard position < scalars.count, scalars[position] == scalar else { throw error("expected '\(word)'") }
                position += 1
            }
        }

        mutating func value(depth: Int) throws(ParseError) -> Value {
            guard depth < 256 else { throw error("JSON nested too deeply") }
            guard position < scalars.count else { throw error("unexpected end of JSON") }
            switch scalars[position] {
            case "n":
                try expect("null")
                return .null
            case "t":
                try expect("true")
                return .bool(true)
            case "f":
                try expect("false")
                return .bool(false)
            case "\"": return .string(try string())
            case "[":
                position += 1
                var items: [Value] = []
                skipSpace()
                if position < scalars.count, scalars[position] == "]" {
                    position += 1
                    return .array(items)
                }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard position < scalars.count else { throw error("unterminated array") }
                    if scalars[position] == "]" {
                        position += 1
                        return .array(items)
                    }
                    try expect(",")
                }
            case "{":
                position += 1
                var members: [String: Value] = [:]
                skipSpace()
                if position < scalars.count, scalars[position] == "}" {
                    position += 1
                    return .object(members)
                }
                while true {
                    skipSpace()
                    guard position < scalars.count, scalars[position] == "\"" else { throw error("expected a key") }
                    let key = try string()
                    skipSpace()
                    try expect(":")
                    skipSpace()
                    members[key] = try value(depth: depth + 1)
                    skipSpace()
                    guard position < scalars.count else { throw error("unterminated object") }
                    if scalars[position] == "}" {
                        position += 1
                        return .object(members)
                    }
                    try expect(",")
                }
            default: return .number(try number())
            }
        }

        mutating func string() throws(ParseError) -> String {
            position += 1
            var text = String.UnicodeScalarView()
            while position < scalars.count {
                let scalar = scalars[position]
                position += 1
                switch scalar {
                case "\"": return String(text)
                case "\\":
                    guard position < scalars.count else { break }
                    let escape = scalars[position]
                    position += 1
                    switch escape {
                    case "\"", "\\", "/": text.append(escape)
                    case "n": text.append("\n")
                    case "r": text.append("\r")
                    case "t": text.append("\t")
                    case "b": text.append("\u{08}")
                    case "f": text.append("\u{0C}")
                    case "u":
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code), position + 1 < scalars.count, scalars[position] == "\\",
                            scalars[position + 1] == "u"
                        {
                            let resume = position
                            position += 2
                            let low = try hex4()
                            if (0xDC00..<0xE000).contains(low) {
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                position = resume  // a lone high surrogate; the next escape stands alone
                            }
                        }
                        text.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                    default: throw error("invalid escape")
                    }
                case _ where scalar.value < 0x20: throw error("control character in string")
                default: text.append(scalar)
                }
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard position + 4 <= scalars.count,
                let code = UInt32(String(String.UnicodeScalarView(scalars[position..<position + 4])), radix: 16)
            else { throw error("invalid \\u escape") }
            position += 4
            return code
        }

        mutating func number() throws(ParseError) -> Double {
            let start = position
            while position < scalars.count, "+-0123456789.eE".unicodeScalars.contains(scalars[position]) {
                position += 1
            }
            guard position > start, let number = Double(String(String.UnicodeScalarView(scalars[start..<position])))
            else { throw error("invalid JSON value") }
            return number
        }
    }
}
