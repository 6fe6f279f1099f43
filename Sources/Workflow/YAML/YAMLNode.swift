/// A YAML node as the workflow reader sees it: scalars stay text (typed later, with the key's context),
/// every node keeps the line and column it started at, and mappings keep every pair in order.
struct YAMLNode: Sendable {
    enum Kind: Sendable {
        case scalar(Scalar)
        case sequence([YAMLNode])
        case mapping([Pair])
    }

    struct Scalar: Sendable {
        var text: String
        /// Unquoted, untagged: only these can be null, booleans or numbers.
        var isPlain: Bool
        /// Quoted scalars start one column before their text.
        var quoted: Bool
        /// Whether the text stands in the file exactly as decoded on the scalar's first line, so an offset
        /// into the text is an offset into the line (no escapes, no folding, no line breaks).
        var exactColumns: Bool
    }

    struct Pair: Sendable {
        var key: YAMLNode
        var value: YAMLNode
    }

    var kind: Kind
    var location: SourceLocation

    var scalar: Scalar? {
        if case .scalar(let scalar) = kind { scalar } else { nil }
    }

    /// A plain `~`, `null` or empty scalar.
    var isNull: Bool {
        guard let scalar, scalar.isPlain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.text)
    }

    /// What the user wrote, as a word for messages: "a mapping", "a list", "the text 'x'".
    var kindDescription: String {
        switch kind {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let scalar):
            if isNull { return "nothing" }
            let shown = scalar.text.count > 40 ? String(scalar.text.prefix(40)) + "…" : scalar.text
            return "'\(shown)'"
        }
    }

    /// The location of a character at `offset` (in Unicode scalars) inside a scalar's text, as precisely as
    /// the scalar's style allows: exact for single-line scalars, the scalar's start otherwise.
    func location(ofScalarOffset offset: Int) -> SourceLocation {
        guard let scalar, scalar.exactColumns else { return location }
        return location.advanced(by: offset + (scalar.quoted ? 1 : 0))
    }
}
