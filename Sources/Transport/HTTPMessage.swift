public import Foundation
internal import Synchronization

public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable { case get = "GET", put = "PUT", post = "POST", delete = "DELETE" }

    public var method: Method
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: Data?
    /// The whole exchange, connection included.
    public var timeout: TimeInterval
    /// Reading stops, with an error, past this many bytes of body.
    public var maximumResponseSize: Int
    /// Plain http to a host that is not loopback; only when the account says `insecure: true`.
    public var allowsInsecure: Bool

    public init(
        _ method: Method, _ url: String, headers: [(name: String, value: String)] = [], body: Data? = nil,
        timeout: TimeInterval = 10, maximumResponseSize: Int = 4 << 20, allowsInsecure: Bool = false
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.maximumResponseSize = maximumResponseSize
        self.allowsInsecure = allowsInsecure
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `Retry-After` in seconds (a number, or an HTTP date turned into the time until it), at most an hour:
    /// a hostile or broken server cannot block a client for longer, nor send it infinity.
    public func retryAfter(now: Date = Date()) -> TimeInterval? {
        guard let value = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = TimeInterval(value) { return seconds.isFinite ? min(3600, max(0, seconds)) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { min(3600, max(0, $0.timeIntervalSince(now))) }
    }
}

/// What may be said about a URL in an error or a log: its origin, never its path, query or credentials.
public enum URLOrigin {
    public static func of(_ url: String) -> String {
        URLComponents(string: url).flatMap(origin(of:)) ?? "(invalid URL)"
    }

    private static func origin(of components: URLComponents) -> String? {
        guard let scheme = components.scheme, let host = components.host else { return nil }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost)" + (components.port.map { ":\($0)" } ?? "")
    }

    /// Where a request goes, from one parse of its URL.
    struct Destination: Sendable {
        var origin: String
        var isLoopback: Bool
    }

    /// Whether a request to `url` may go out: https anywhere, http to loopback or when allowed.
    static func check(_ url: String, allowsInsecure: Bool) throws(TransportError) -> Destination {
        // A client sends to the same few origins again and again, and parsing each URL in full was 1.5 % of a
        // busy tick: an origin is parsed once, and a later URL of it whose rest is plain URL text is judged by
        // it (the scheme, host and port, all the decision depends on, are in that prefix).
        let prefix = plainPrefix(url)
        if let prefix, let known = checkedOrigins.withLock({ $0[prefix] }) {
            return try decide(known.destination, https: known.https, allowsInsecure: allowsInsecure)
        }
        let (destination, https) = try parse(url)
        if let prefix {
            checkedOrigins.withLock { known in
                if known.count < 64 { known[prefix] = (destination, https) }
            }
        }
        return try decide(destination, https: https, allowsInsecure: allowsInsecure)
    }

    private static func decide(
        _ destination: Destination, https: Bool, allowsInsecure: Bool
    ) throws(TransportError) -> Destination {
        if https || allowsInsecure || destination.isLoopback { return destination }
        throw TransportError(.insecureURL, origin: destination.origin, detail: "")
    }

    /// Origins parsed by ``check(_:allowsInsecure:)``, by the text of their URLs up to the path.
    private static let checkedOrigins = Mutex<[String: (destination: Destination, https: Bool)]>([:])

    /// `scheme://host[:port]` of `url` when the rest is plain URL text (RFC 3986's unreserved and reserved
    /// characters but `[`, `]` and `#`, and `%` before two hex digits) and there are no credentials; nil
    /// otherwise, and the URL is parsed in full.
    static func plainPrefix(_ url: String) -> String? {
        let bytes = Array(url.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0,
            bytes[..<colon].allSatisfy({ isLetter($0) }), bytes.count >= colon + 3,
            bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
        else { return nil }
        let authorityStart = colon + 3
        var end = authorityStart
        while end < bytes.count, !"/?#".utf8.contains(bytes[end]) {
            if bytes[end] == UInt8(ascii: "@") || !isPlain(bytes[end]) { return nil }
            end += 1
        }
        guard end > authorityStart else { return nil }
        var index = end
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) else { return nil }
                index += 3
                continue
            }
            guard isPlain(byte), byte != UInt8(ascii: "#") else { return nil }
            index += 1
        }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    private static func isHex(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66)
    }
    /// Unreserved and reserved characters (RFC 3986) but `[` and `]`.
    private static func isPlain(_ byte: UInt8) -> Bool {
        isLetter(byte) || (0x30...0x39).contains(byte) || "-._~:/?#@!$&'()*+,;=".utf8.contains(byte)
    }

    static func parse(_ url: String) throws(TransportError) -> (Destination, https: Bool) {
        let components = URLComponents(string: url)
        let origin = components.flatMap(origin(of:)) ?? "(invalid URL)"
        guard let components, let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else { throw TransportError(.invalidURL, origin: origin, detail: "not an absolute http(s) URL") }
        let destination = Destination(origin: origin, isLoopback: isLoopback(host))
        switch scheme {
        case "https": return (destination, true)
        case "http": return (destination, false)
        default:
            throw TransportError(.invalidURL, origin: origin, detail: "only http and https are supported")
        }
    }

    /// `localhost`, `::1` or 127.0.0.0/8 in dotted-quad form.
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { $0.count <= 3 && UInt8($0) != nil }
    }
}
