public import Foundation

/// Why an HTTP exchange did not produce a response. Messages name the server by origin only
/// (`https://host:port`): paths and queries can carry tokens (webhook URLs), and never reach an error text.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case curl(CurlCode)
        /// The response body passed the request's size cap; reading stopped there.
        case responseTooLarge(limit: Int)
        /// Plain http to a host that is not loopback, without the account's `insecure: true`.
        case insecureURL
        case invalidURL
        /// The server asked (429 with Retry-After) not to be called again before this many seconds pass.
        case rateLimited(retryAfter: TimeInterval)
    }

    public var kind: Kind
    /// `scheme://host:port` of the request.
    public var origin: String
    public var detail: String

    public init(_ kind: Kind, origin: String, detail: String) {
        self.kind = kind
        self.origin = origin
        self.detail = detail
    }

    public var description: String {
        switch kind {
        case .curl(let code): "\(origin): \(code.name): \(detail)"
        case .responseTooLarge(let limit): "\(origin): response larger than \(limit) bytes; reading stopped"
        case .insecureURL: "\(origin): plain http is allowed only to loopback unless the account says insecure: true"
        case .invalidURL: "\(origin): \(detail)"
        case .rateLimited(let seconds):
            "\(origin): rate limited; the server asked to wait \(Int(seconds.rounded(.up))) s"
        }
    }

    public var isTransient: Bool {
        switch kind {
        case .curl(let code): code.isTransient
        case .rateLimited: true
        case .responseTooLarge, .insecureURL, .invalidURL: false
        }
    }
}

/// A failure on any network, as the engine's strike and escalation logic reads it: the network's exact code
/// and message (Nexus `error`, TransmissionBot `error.code`, masumi `error.code`, or a transport code such as
/// `CURLE_COULDNT_CONNECT`) and whether trying later may succeed.
public struct NetworkError: Error, CustomStringConvertible, Sendable, Equatable {
    public var network: String
    public var code: String
    public var message: String
    /// The HTTP status, when the failure came with one.
    public var status: Int?
    public var isTransient: Bool
    /// How long the server asked to wait (429 Retry-After), when it did.
    public var retryAfter: TimeInterval?

    public init(
        network: String, code: String, message: String, status: Int? = nil, isTransient: Bool,
        retryAfter: TimeInterval? = nil
    ) {
        self.network = network
        self.code = code
        self.message = message
        self.status = status
        self.isTransient = isTransient
        self.retryAfter = retryAfter
    }

    public var description: String {
        "\(network): \(code)" + (status.map { " (HTTP \($0))" } ?? "") + ": \(message)"
    }

    /// A timeout after the request went out: the effect may have happened, so the outcome is unknown and must
    /// be reconciled, never resent blindly. libcurl's `CURLE_OPERATION_TIMEDOUT`, masumi's `*_TIMEOUT` codes
    /// (masumi.md §7), a command's `timeout`.
    public var mayHaveArrived: Bool {
        code.hasSuffix("TIMEDOUT") || code.hasSuffix("_TIMEOUT") || code == "timeout"
    }

    /// A transport failure as a network error: the curl code's name is the code.
    public init(network: String, transport error: TransportError) {
        let code: String
        var retryAfter: TimeInterval?
        switch error.kind {
        case .curl(let curl): code = curl.name
        case .responseTooLarge: code = "response_too_large"
        case .insecureURL: code = "insecure_url"
        case .invalidURL: code = "invalid_url"
        case .rateLimited(let seconds):
            code = "rate_limit_exceeded"
            retryAfter = seconds
        }
        self.init(
            network: network, code: code, message: error.description, status: nil, isTransient: error.isTransient,
            retryAfter: retryAfter)
    }
}
