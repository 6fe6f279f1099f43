import Foundation
import Nexus
import Sandbox
import Synchronization
import Testing

@testable import Transport

/// Each injected fault ends in a typed error: never a crash, never a hang.
@Suite struct FaultTests {
    @Test func eachFaultIsATypedError() async throws {
        try await withSandbox { url, _, faults in
            // A private HTTP client: the 429 backoff must not leak into other tests.
            let alice = client(url, "alice", http: HTTPClient(connections: 2), timeout: 1)
            let session = try await alice.createSession().sessionId
            let path = "/v1/sessions/\(session)/messages"

            faults.inject(.status(503), pathPrefix: path)
            let unavailable = try #require(await networkError { try await alice.poll(session: session) })
            #expect(unavailable.code == "internal_error")
            #expect(unavailable.status == 503)
            #expect(unavailable.isTransient)

            faults.inject(.proxyPage(502), pathPrefix: path)
            let proxy = try #require(await networkError { try await alice.poll(session: session) })
            #expect(proxy.code == "non_json_response")
            #expect(proxy.status == 502)
            #expect(proxy.isTransient)

            faults.inject(.malformedJSON, pathPrefix: path)
            #expect(await networkError { try await alice.poll(session: session) }?.code == "malformed_response")

            faults.inject(.dropConnection, pathPrefix: path)
            let dropped = try #require(await networkError { try await alice.poll(session: session) })
            #expect(
                ["CURLE_PARTIAL_FILE", "CURLE_RECV_ERROR", "CURLE_GOT_NOTHING"].contains(dropped.code), "\(dropped)")
            #expect(dropped.isTransient)

            faults.inject(.latency(3), pathPrefix: path)
            let slow = try #require(await networkError { try await alice.poll(session: session) })
            #expect(slow.code == "CURLE_OPERATION_TIMEDOUT")
            #expect(slow.isTransient)

            faults.inject(.oversized(bytes: 9 << 20), pathPrefix: path)
            #expect(await networkError { try await alice.poll(session: session) }?.code == "response_too_large")

            // After all that, the session still works.
            #expect(try await alice.poll(session: session).messages.isEmpty)

            faults.inject(.rateLimited(retryAfter: 30), pathPrefix: path)
            let limited = try #require(await networkError { try await alice.poll(session: session) })
            #expect(limited.code == "rate_limit_exceeded")
            #expect(limited.retryAfter == 30)
            #expect(limited.isTransient)
            // Retry-After is honoured: the next call does not reach the server.
            let held = try #require(await networkError { try await alice.status(session: session) })
            #expect(held.code == "rate_limit_exceeded")
            #expect((held.retryAfter ?? 0) > 25)
        }
    }

    @Test func theSandboxRateLimitAnswers429WithRetryAfter() async throws {
        try await withSandbox({ $0.rateLimit = 5 }) { url, _, _ in
            let alice = client(url, "alice", http: HTTPClient(connections: 1))
            let session = try await alice.createSession().sessionId
            for _ in 0..<4 { _ = try await alice.status(session: session) }
            let limited = try #require(await networkError { try await alice.status(session: session) })
            #expect(limited.code == "rate_limit_exceeded")
            #expect(limited.status == 429)
            #expect((limited.retryAfter ?? 0) >= 1)
        }
    }
}

@Suite struct TransportTests {
    @Test func plainHTTPGoesOnlyToLoopbackUnlessAllowed() async {
        let http = HTTPClient(connections: 1)
        for url in ["http://example.com/x", "http://127.0.0.1.nip.io/", "http://10.0.0.1/"] {
            do {
                _ = try await http.send(HTTPRequest(.get, url))
                Issue.record("\(url) must be refused")
            } catch {
                #expect(error.kind == .insecureURL, "\(url)")
            }
        }
        do {
            _ = try await http.send(HTTPRequest(.get, "ftp://127.0.0.1/"))
            Issue.record("ftp must be refused")
        } catch {
            #expect(error.kind == .invalidURL)
        }
    }

    @Test func errorsNameTheOriginNeverThePathOrQuery() async throws {
        // A port nothing listens on: bind one, note it, close it.
        let probe = try await SandboxServer.start(nexus: NexusSandbox())
        let port = probe.port
        await probe.stop()
        let http = HTTPClient(connections: 1)
        do {
            _ = try await http.send(
                HTTPRequest(.get, "http://user:hunter2@127.0.0.1:\(port)/hooks/T000/secret-token?key=abc"))
            Issue.record("nothing listens there")
        } catch {
            #expect(error.kind == .curl(.couldNotConnect))
            #expect(error.isTransient)
            let text = error.description
            #expect(text.hasPrefix("http://127.0.0.1:\(port): CURLE_COULDNT_CONNECT"))
            for secret in ["hunter2", "secret-token", "key=abc", "T000"] { #expect(!text.contains(secret), "\(text)") }
        }
    }

    /// Many requests at once through few connections all complete, each with its own answer; and a client's
    /// transfer thread ends when the client is gone (none is left behind per client a process makes).
    @Test func concurrentRequestsShareTheDriverAndItsThreadEndsWithTheClient() async throws {
        let server = try await SandboxServer.start(nexus: NexusSandbox())
        defer { Task { await server.stop() } }
        func requests(through http: HTTPClient) async throws -> MultiDriver {
            let statuses = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let path = index.isMultiple(of: 2) ? "/health" : "/v1/sessions/missing-\(index)"
                        return (index, try await http.send(HTTPRequest(.get, server.url + path)).status)
                    }
                }
                return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
            }
            #expect(statuses.count == 40)
            for (index, status) in statuses { #expect(status == (index.isMultiple(of: 2) ? 200 : 404), "\(index)") }
            let driver = try #require(http.driver)
            #expect(!driver.hasFinished)
            return driver
        }
        let driver = try await requests(through: HTTPClient(connections: 2))
        // The client is gone: its thread finishes its loop and exits.
        for _ in 0..<250 where !driver.hasFinished { try await Task.sleep(for: .milliseconds(20)) }
        #expect(driver.hasFinished)
    }

    /// The handle pool never has more than its limit out at once, and every request waiting for one gets one.
    @Test func theHandlePoolHandsOutAtMostItsLimit() async throws {
        final class Seen: Sendable {
            let state = Mutex((out: 0, most: 0, served: 0, handles: Set<ObjectIdentifier>()))
        }
        let pool = HandlePool(limit: 3)
        let seen = Seen()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    guard let handle = await pool.acquire() else { return }
                    seen.state.withLock { seen in
                        seen.out += 1
                        seen.most = max(seen.most, seen.out)
                        seen.served += 1
                        seen.handles.insert(ObjectIdentifier(handle))
                    }
                    await Task.yield()
                    seen.state.withLock { $0.out -= 1 }
                    pool.release(handle)
                }
            }
        }
        let result = seen.state.withLock { $0 }
        #expect(result.served == 50)
        #expect(result.most <= 3)
        #expect(result.handles.count <= 3)
    }
}
