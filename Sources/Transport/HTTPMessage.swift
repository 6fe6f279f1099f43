public import Foundation

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
        let components = URLComponents(string: url)
        let origin = components.flatMap(origin(of:)) ?? "(invalid URL)"
        guard let components, let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else { throw TransportError(.invalidURL, origin: origin, detail: "not an absolute http(s) URL") }
        let destination = Destination(origin: origin, isLoopback: isLoopback(host))
        switch scheme {
        case "https": return destination
        case "http":
            if allowsInsecure || destination.isLoopback { return destination }
            throw TransportError(.insecureURL, origin: origin, detail: "")
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
