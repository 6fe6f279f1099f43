/// A look at a document's anchors and aliases before Yams composes it. Yams hashes every mapping key in full
/// to find duplicates, so an alias used as a key can make it walk an exponential expansion (an alias bomb)
/// before any budget of ours applies; and long alias chains nest deeper than libyaml's limit sees.
///
/// Only documents that define an anchor are scanned. The scan reads lines, skipping comments and quoted
/// text on each line; it may reject a document that holds such text in a block scalar, never miss a key.
enum AliasScan {
    static let maximumAliases = 1000

    static func check(_ text: String, file: String) -> Diagnostic? {
        guard text.utf8.contains(UInt8(ascii: "&")), text.utf8.contains(UInt8(ascii: "*")) else { return nil }
        var anchors = 0
        var aliases: [(line: Int, column: Int, isKey: Bool)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let scalars = Array(line.unicodeScalars)
            var position = 0
            var quote: Unicode.Scalar?
            while position < scalars.count {
                let scalar = scalars[position]
                if let open = quote {
                    if scalar == open { quote = nil }
                    position += 1
                    continue
                }
                let atTokenStart = position == 0 || " \t[{,:-?".unicodeScalars.contains(scalars[position - 1])
                guard atTokenStart else {
                    position += 1
                    continue
                }
                switch scalar {
                case "#": position = scalars.count
                case "'", "\"":
                    quote = scalar
                    position += 1
                case "&", "*":
                    var end = position + 1
                    while end < scalars.count, isNameScalar(scalars[end]) { end += 1 }
                    if end > position + 1 {
                        if scalar == "&" {
                            anchors += 1
                        } else {
                            var next = end
                            while next < scalars.count, scalars[next] == " " || scalars[next] == "\t" { next += 1 }
                            let isKey =
                                next < scalars.count && scalars[next] == ":"
                                && (next + 1 == scalars.count || " \t,}]".unicodeScalars.contains(scalars[next + 1]))
                            aliases.append((index + 1, position + 1, isKey))
                        }
                    }
                    position = end
                case "?" where position + 1 == scalars.count || scalars[position + 1] == " ":
                    aliases.append((index + 1, position + 1, true))
                    position += 1
                default: position += 1
                }
            }
        }
        guard anchors > 0 else { return nil }
        if let key = aliases.first(where: \.isKey) {
            return Diagnostic(
                .error, .yamlSyntax, at: SourceLocation(file: file, line: key.line, column: key.column),
                "an alias or complex value used as a mapping key",
                hint: "keys in a workflow file are plain text; use the alias as a value instead")
        }
        if aliases.count > maximumAliases {
            let first = aliases[maximumAliases]
            return Diagnostic(
                .error, .yamlTooLarge, at: SourceLocation(file: file, line: first.line, column: first.column),
                "more than \(maximumAliases) aliases in one document",
                hint: "aliases are copied where they are used; a workflow never needs this many")
        }
        return nil
    }

    /// libyaml's anchor names: letters, digits, '-' and '_'.
    private static func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII
            && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_")
    }
}
