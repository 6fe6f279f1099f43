public import Foundation

/// Every secret value and credential this process holds, and the one function that hides them: `redact`
/// replaces each (and its JSON-escaped and percent-encoded forms) with `***` wherever it appears in a text.
/// The journal, the engine's escalations and errors, and every line the command prints go through it.
///
/// Values shorter than ``minimumLength`` are not registered: masking them would garble ordinary text, which
/// is why `secrets set` refuses them.
public final class Redactor: @unchecked Sendable {
    public static let shared = Redactor()
    public static let mask = "***"
    public static let minimumLength = 4

    private let lock = NSLock()
    /// Longest first, so a secret that contains another is masked whole.
    private var needles: [String] = []

    public init() {}

    /// Values already registered, so registering again (every save of a state file) costs a set lookup.
    private var registered: Set<String> = []

    /// Remembers a value to mask from now on.
    public func register(_ value: String) { register(contentsOf: [value]) }

    /// Remembers values to mask from now on; the needles are re-sorted once, and only when something is new.
    public func register(contentsOf values: some Sequence<String>) {
        lock.withLock {
            var added = false
            for value in values where value.count >= Self.minimumLength && !registered.contains(value) {
                registered.insert(value)
                var forms: Set<String> = [value]
                forms.insert(Self.jsonEscaped(value, slashes: true))
                forms.insert(Self.jsonEscaped(value, slashes: false))
                // Percent-encoded as the strictest encoder does, and as URL query and path encoders do.
                for allowed in [CharacterSet.alphanumerics, .urlQueryAllowed, .urlPathAllowed] {
                    if let encoded = value.addingPercentEncoding(withAllowedCharacters: allowed) {
                        forms.insert(encoded)
                    }
                }
                needles += forms
                added = true
            }
            if added { needles = Array(Set(needles)).sorted { $0.utf8.count > $1.utf8.count } }
        }
    }

    /// Whether anything is registered (a fast path for callers that build costly texts).
    public var isEmpty: Bool { lock.withLock { needles.isEmpty } }

    /// The text with every registered value replaced by `***`. Each needle is looked for with `memmem` over
    /// the UTF-8 bytes (a journal write checks every session key and secret), and only a text that holds one
    /// is rebuilt.
    public func redact(_ text: String) -> String {
        let needles = lock.withLock { self.needles }
        guard !needles.isEmpty, !text.isEmpty else { return text }
        var utf8 = Array(text.utf8)
        var changed = false
        for needle in needles {
            let pattern = Array(needle.utf8)
            guard pattern.count <= utf8.count else { continue }
            while let range = Self.find(pattern, in: utf8) {
                utf8.replaceSubrange(range, with: Array(Self.mask.utf8))
                changed = true
            }
        }
        return changed ? String(decoding: utf8, as: UTF8.self) : text
    }

    /// The first occurrence of `pattern` in `bytes`: `memchr` to each candidate first byte, `memcmp` there.
    static func find(_ pattern: [UInt8], in bytes: [UInt8]) -> Range<Int>? {
        guard let first = pattern.first else { return nil }
        return bytes.withUnsafeBytes { haystack -> Range<Int>? in
            pattern.withUnsafeBytes { needle -> Range<Int>? in
                guard let base = haystack.baseAddress, let needleBase = needle.baseAddress else { return nil }
                var offset = 0
                while offset + needle.count <= haystack.count {
                    guard let hit = memchr(base + offset, Int32(first), haystack.count - offset - needle.count + 1)
                    else { return nil }
                    let start = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + start, needleBase, needle.count) == 0 { return start..<(start + needle.count) }
                    offset = start + 1
                }
                return nil
            }
        }
    }

    /// As `redact`, for optional texts.
    public func redact(_ text: String?) -> String? { text.map { redact($0) } }

    /// How a value appears inside a JSON string: quotes, backslashes and control characters escaped, and
    /// slashes too when `slashes` (Foundation's encoder escapes them, others do not).
    static func jsonEscaped(_ value: String, slashes: Bool) -> String {
        var escaped = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "/" where slashes: escaped += "\\/"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case let control where control.value < 0x20:
                escaped += String(format: "\\u%04x", control.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
