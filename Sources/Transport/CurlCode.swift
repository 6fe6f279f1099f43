internal import CCurl

/// A libcurl result code as a typed value (STYLE.md: GRDB's `ResultCode` pattern), so callers can match
/// `catch let error where error.curlCode == .couldNotConnect`.
public struct CurlCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    public static let ok = CurlCode(rawValue: 0)
    public static let unsupportedProtocol = CurlCode(rawValue: 1)
    public static let malformedURL = CurlCode(rawValue: 3)
    public static let couldNotResolveProxy = CurlCode(rawValue: 5)
    public static let couldNotResolveHost = CurlCode(rawValue: 6)
    public static let couldNotConnect = CurlCode(rawValue: 7)
    public static let partialFile = CurlCode(rawValue: 18)
    public static let writeError = CurlCode(rawValue: 23)
    public static let operationTimedOut = CurlCode(rawValue: 28)
    public static let sslConnectError = CurlCode(rawValue: 35)
    public static let gotNothing = CurlCode(rawValue: 52)
    public static let sendError = CurlCode(rawValue: 55)
    public static let receiveError = CurlCode(rawValue: 56)
    public static let peerFailedVerification = CurlCode(rawValue: 60)

    /// libcurl's own description (`curl_easy_strerror`).
    public var description: String {
        String(cString: curl_easy_strerror(CURLcode(UInt32(bitPattern: rawValue))))
    }

    /// The symbolic name users search for: `CURLE_COULDNT_CONNECT`.
    public var name: String {
        switch self {
        case .ok: "CURLE_OK"
        case .unsupportedProtocol: "CURLE_UNSUPPORTED_PROTOCOL"
        case .malformedURL: "CURLE_URL_MALFORMAT"
        case .couldNotResolveProxy: "CURLE_COULDNT_RESOLVE_PROXY"
        case .couldNotResolveHost: "CURLE_COULDNT_RESOLVE_HOST"
        case .couldNotConnect: "CURLE_COULDNT_CONNECT"
        case .partialFile: "CURLE_PARTIAL_FILE"
        case .writeError: "CURLE_WRITE_ERROR"
        case .operationTimedOut: "CURLE_OPERATION_TIMEDOUT"
        case .sslConnectError: "CURLE_SSL_CONNECT_ERROR"
        case .gotNothing: "CURLE_GOT_NOTHING"
        case .sendError: "CURLE_SEND_ERROR"
        case .receiveError: "CURLE_RECV_ERROR"
        case .peerFailedVerification: "CURLE_PEER_FAILED_VERIFICATION"
        default: "CURLE_\(rawValue)"
        }
    }

    /// Worth trying again later: the network, not the request, was the problem.
    public var isTransient: Bool {
        [
            .couldNotResolveProxy, .couldNotResolveHost, .couldNotConnect, .partialFile, .operationTimedOut,
            .gotNothing, .sendError, .receiveError, .sslConnectError,
        ].contains(self)
    }
}
