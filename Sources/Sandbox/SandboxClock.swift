public import Foundation
internal import Workflow

/// The sandbox's idea of now. Tests advance it to expire sessions and pairing codes without sleeping;
/// `switchboard sandbox` runs it on real time.
public final class SandboxClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: TimeInterval = 0
    private var frozen: Date?

    /// Real time, shifted by whatever tests advance it.
    public init() {}

    /// A clock standing still at `date` until advanced.
    public init(frozenAt date: Date) {
        frozen = date
    }

    public var now: Date {
        lock.withLock { frozen ?? Date().addingTimeInterval(offset) }
    }

    public func advance(by seconds: TimeInterval) {
        lock.withLock {
            if let date = frozen { frozen = date.addingTimeInterval(seconds) } else { offset += seconds }
        }
    }
}

/// A request as the sandbox sees it, independent of the HTTP server that carried it.
public struct SandboxRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: Data
    public var clientAddress: String

    public init(
        method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
        body: Data = Data(),
        clientAddress: String = "127.0.0.1"
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
    }
}

public struct SandboxResponse: Error, Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func json(_ status: Int, _ value: Value) -> SandboxResponse {
        SandboxResponse(
            status: status, headers: ["content-type": "application/json"], body: Data(JSONText.encode(value).utf8))
    }

    /// The error envelope every non-2xx answer uses (nexus.md §2).
    static func error(_ status: Int, _ code: String, _ message: String, details: [Value]? = nil) -> SandboxResponse {
        var object: [String: Value] = ["error": .string(code), "message": .string(message)]
        if let details { object["details"] = .array(details) }
        return json(status, .object(object))
    }
}

/// Something to go wrong on purpose, for the next requests (fault injection).
public enum SandboxFault: Sendable, Equatable {
    /// Answer, but only after this many seconds.
    case latency(TimeInterval)
    /// Answer with this status and the `internal_error` envelope.
    case status(Int)
    /// Answer with this status and an HTML page, as a proxy or load balancer in front of the server would.
    case proxyPage(Int)
    /// 429 `rate_limit_exceeded` with `Retry-After`.
    case rateLimited(retryAfter: Int)
    /// Close the connection half-way through the body.
    case dropConnection
    /// 200 with a body that is not JSON.
    case malformedJSON
    /// 200 with a JSON body of this many bytes.
    case oversized(bytes: Int)
}

/// Faults queued for the next matching requests, one request each.
public final class FaultPlan: @unchecked Sendable {
    private let lock = NSLock()
    private var queue: [(fault: SandboxFault, pathPrefix: String?, method: String?)] = []

    public init() {}

    /// The next request (whose path starts with `pathPrefix` and whose method is `method`, if given) meets
    /// `fault`; `times` requests in a row.
    public func inject(_ fault: SandboxFault, pathPrefix: String? = nil, method: String? = nil, times: Int = 1) {
        lock.withLock { queue += Array(repeating: (fault, pathPrefix, method), count: times) }
    }

    func next(for path: String, method: String) -> SandboxFault? {
        lock.withLock {
            guard
                let index = queue.firstIndex(where: {
                    ($0.pathPrefix.map(path.hasPrefix) ?? true) && ($0.method.map { $0 == method } ?? true)
                })
            else { return nil }
            return queue.remove(at: index).fault
        }
    }
}
