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
    private var needles = Needles(patterns: [])

    public init() {}

    /// Values already registered, so registering again (every save of a state file) costs a set lookup.
    private var registered: Set<String> = []

    /// Remembers a value to mask from now on.
    public func register(_ value: String) { register(contentsOf: [value]) }

    /// Remembers values to mask from now on; the needle index is rebuilt once, and only when something is new.
    public func register(contentsOf values: some Sequence<String>) {
        lock.withLock {
            var forms: Set<String> = []
            for value in values where value.count >= Self.minimumLength && !registered.contains(value) {
                registered.insert(value)
                forms.insert(value)
                forms.insert(Self.jsonEscaped(value, slashes: true))
                forms.insert(Self.jsonEscaped(value, slashes: false))
                // Percent-encoded as the strictest encoder does, and as URL query and path encoders do.
                for allowed in [CharacterSet.alphanumerics, .urlQueryAllowed, .urlPathAllowed] {
                    if let encoded = value.addingPercentEncoding(withAllowedCharacters: allowed) {
                        forms.insert(encoded)
                    }
                }
            }
            guard !forms.isEmpty else { return }
            needles = Needles(patterns: needles.patterns + forms.map { Array($0.utf8) })
        }
    }

    /// Whether anything is registered (a fast path for callers that build costly texts).
    public var isEmpty: Bool { lock.withLock { needles.patterns.isEmpty } }

    /// The text with every registered value replaced by `***`. Every byte of every occurrence is hidden: where
    /// occurrences overlap or touch, their union becomes one `***`. Only a text that holds one is rebuilt.
    public func redact(_ text: String) -> String {
        let needles = lock.withLock { self.needles }
        guard !needles.patterns.isEmpty, text.utf8.count >= Self.minimumLength else { return text }
        var text = text
        return text.withUTF8 { bytes in
            let covered = needles.occurrences(in: UnsafeRawBufferPointer(bytes))
            guard !covered.isEmpty else { return nil }
            var result: [UInt8] = []
            result.reserveCapacity(bytes.count)
            var position = 0
            for range in covered {
                result.append(contentsOf: bytes[position..<range.lowerBound])
                result.append(contentsOf: Self.mask.utf8)
                position = range.upperBound
            }
            result.append(contentsOf: bytes[position...])
            return String(decoding: result, as: UTF8.self)
        } ?? text
    }

    /// The registered byte patterns (all at least ``minimumLength`` long), indexed by their first four bytes: a
    /// 64 Ki-bit filter answers "no pattern starts here" for almost every position of a text in one bit test,
    /// so a scan costs about the same with one secret as with a thousand.
    final class Needles: Sendable {
        let patterns: [[UInt8]]
        private let filter: [UInt64]
        /// Indices into `patterns` by their first four bytes, longest first.
        private let byPrefix: [UInt32: [Int]]

        init(patterns: [[UInt8]]) {
            self.patterns = patterns
            var filter = [UInt64](repeating: 0, count: 1024)
            var byPrefix: [UInt32: [Int]] = [:]
            for (index, pattern) in patterns.enumerated() {
                let prefix = pattern.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
                let slot = Self.slot(prefix)
                filter[slot >> 6] |= 1 << UInt64(slot & 63)
                byPrefix[prefix, default: []].append(index)
            }
            for key in byPrefix.keys { byPrefix[key]!.sort { patterns[$0].count > patterns[$1].count } }
            self.filter = filter
            self.byPrefix = byPrefix
        }

        @inline(__always) private static func slot(_ prefix: UInt32) -> Int {
            Int(truncatingIfNeeded: (prefix &* 0x9E37_79B1) >> 16)
        }

        /// The byte ranges any pattern covers in `bytes`, merged where they overlap or touch, in order.
        func occurrences(in bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
            guard bytes.count >= 4, let base = bytes.baseAddress else { return [] }
            var covered: [Range<Int>] = []
            filter.withUnsafeBufferPointer { filter in
                for start in 0...(bytes.count - 4) {
                    let prefix = (base + start).loadUnaligned(as: UInt32.self)
                    let slot = Self.slot(prefix)
                    guard filter[slot >> 6] & (1 << UInt64(slot & 63)) != 0, let candidates = byPrefix[prefix]
                    else { continue }
                    for index in candidates {
                        let length = patterns[index].count
                        guard start + length <= bytes.count else { continue }
                        let equal = patterns[index].withUnsafeBytes {
                            memcmp(base + start, $0.baseAddress!, length) == 0
                        }
                        guard equal else { continue }
                        if let last = covered.last, start <= last.upperBound {
                            covered[covered.count - 1] = last.lowerBound..<max(last.upperBound, start + length)
                        } else {
                            covered.append(start..<(start + length))
                        }
                        break  // the longest pattern starting here covers the shorter ones
                    }
                }
            }
            return covered
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
