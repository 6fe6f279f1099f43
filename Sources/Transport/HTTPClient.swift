internal import CCurl
public import Foundation
internal import Synchronization

/// An HTTP client directly on libcurl: a bounded pool of easy handles, their transfers all driven by one
/// multi handle on a thread of its own (``MultiDriver``), async to the caller. TLS verification is always on,
/// proxies come from the environment as curl reads them (`https_proxy`, `no_proxy`, …), plain http goes only
/// to loopback unless a request allows it, and a 429 with `Retry-After` stops requests to that origin until
/// the time has passed.
public final class HTTPClient: Sendable {
    /// One per process: libcurl's global state.
    public static let shared = HTTPClient()

    private let pool: HandlePool
    let driver: MultiDriver?
    private let backoff = Mutex<[String: Date]>([:])

    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    /// `connections`: how many transfers may run at once (and how many handles stay warm).
    public init(connections: Int = 16) {
        _ = Self.globalInit
        pool = HandlePool(limit: max(1, connections))
        driver = MultiDriver()
    }

    deinit { driver?.close() }

    /// Sends a request. A non-2xx status is a response, not an error; transport failures throw.
    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let destination = try URLOrigin.check(request.url, allowsInsecure: request.allowsInsecure)
        let origin = destination.origin
        if let until = backoff.withLock({ $0[origin] }), until > Date() {
            throw TransportError(.rateLimited(retryAfter: until.timeIntervalSinceNow), origin: origin, detail: "")
        }
        guard let driver, let handle = await pool.acquire() else {
            throw TransportError(
                .curl(CurlCode(rawValue: 2)), origin: origin, detail: "libcurl could not create a handle")
        }
        let result: Result<HTTPResponse, TransportError>
        do throws(TransportError) {
            let transfer = try handle.prepare(request, to: destination)
            result = await withCheckedContinuation { continuation in
                driver.submit(
                    MultiDriver.Job(handle: handle) { code in
                        continuation.resume(
                            returning: Result { () throws(TransportError) in
                                try handle.finish(transfer, result: code)
                            })
                    })
            }
        } catch {
            result = .failure(error)
        }
        await pool.release(handle)
        let response = try result.get()
        if response.status == 429, let seconds = response.retryAfter() {
            backoff.withLock { $0[origin] = Date().addingTimeInterval(seconds) }
        }
        return response
    }
}

/// Hands out easy handles one request at a time; a request waits when all are busy.
actor HandlePool {
    private let limit: Int
    private var free: [EasyHandle] = []
    private var created = 0
    private var waiters: [CheckedContinuation<EasyHandle?, Never>] = []

    init(limit: Int) {
        self.limit = limit
    }

    func acquire() async -> EasyHandle? {
        if let handle = free.popLast() { return handle }
        if created < limit {
            guard let handle = EasyHandle() else { return nil }  // the slot stays free for a later try
            created += 1
            return handle
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    func release(_ handle: EasyHandle) {
        if waiters.isEmpty {
            free.append(handle)
        } else {
            waiters.removeFirst().resume(returning: handle)
        }
    }
}
