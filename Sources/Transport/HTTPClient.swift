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
        pool.release(handle)
        let response = try result.get()
        if response.status == 429, let seconds = response.retryAfter() {
            backoff.withLock { $0[origin] = Date().addingTimeInterval(seconds) }
        }
        return response
    }
}

/// Hands out easy handles one request at a time; a request waits, in turn, when all are busy. Taking a free
/// handle and giving one back are a lock each, not a hop to an actor and back: two task switches fewer per
/// request.
final class HandlePool: Sendable {
    private struct State {
        var free: [EasyHandle] = []
        var created = 0
        var waiters: [CheckedContinuation<EasyHandle?, Never>] = []
    }

    private enum Step {
        case take(EasyHandle)
        case create
        case wait
    }

    private let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    func acquire() async -> EasyHandle? {
        let step = state.withLock { state -> Step in
            if let handle = state.free.popLast() { return .take(handle) }
            guard state.created < limit else { return .wait }
            state.created += 1
            return .create
        }
        switch step {
        case .take(let handle):
            return handle
        case .create:
            if let handle = EasyHandle() { return handle }
            state.withLock { $0.created -= 1 }  // the slot stays free for a later try
            return nil
        case .wait:
            return await withCheckedContinuation { continuation in
                // A handle given back since the look above is taken now; otherwise the next one given back is
                // handed over here.
                let handle = state.withLock { state -> EasyHandle? in
                    if let handle = state.free.popLast() { return handle }
                    state.waiters.append(continuation)
                    return nil
                }
                if let handle { continuation.resume(returning: handle) }
            }
        }
    }

    func release(_ handle: EasyHandle) {
        let waiter = state.withLock { state -> CheckedContinuation<EasyHandle?, Never>? in
            guard !state.waiters.isEmpty else {
                state.free.append(handle)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: handle)
    }
}
