import Foundation
import Sandbox
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The sandbox checked with raw HTTP written from protocols/nexus.md, not through our client, so the two
/// cannot agree on a shared mistake.
@Suite struct SandboxHTTPTests {
    struct Exchange {
        var status: Int
        var headers: [String: String]
        var json: [String: Any]
    }

    final class NoRedirects: NSObject, URLSessionTaskDelegate {
        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
        ) {
            completionHandler(nil)
        }
    }

    static let session = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)

    func call(
        _ base: String, _ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil
    )
        async throws -> Exchange
    {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await Self.session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            fields[String(describing: name).lowercased()] = String(describing: value)
        }
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return Exchange(status: http.statusCode, headers: fields, json: json)
    }

    @Test func endpointsAnswerAsNexusMdDocuments() async throws {
        try await withSandbox { url, _, _ in
            let health = try await call(url, "GET", "/health")
            #expect(health.status == 200)
            #expect((health.json["capabilities"] as? [String: Any])?["messageFormat"] as? [String] == ["text", "json"])

            let created = try await call(url, "PUT", "/v1/sessions", body: #"{"ttl": 3660, "greeting": "hi"}"#)
            #expect(created.status == 201)
            #expect(created.json["sessionKey"] == nil)  // no creator, no key
            let id = try #require(created.json["sessionId"] as? String)
            #expect(id.count == 48 && id.allSatisfy(\.isHexDigit))
            #expect(created.headers["x-request-id"] != nil)

            let joined = try await call(url, "POST", "/v1/sessions/\(id)/join", headers: ["X-Agent-Id": "a"])
            #expect(joined.status == 200)
            #expect(joined.json["status"] as? String == "joined")
            let key = try #require(joined.json["sessionKey"] as? String)

            let sent = try await call(
                url, "POST", "/v1/sessions/\(id)/messages", headers: ["X-Agent-Id": "a", "X-Session-Key": key],
                body: #"{"text": "hello"}"#)
            #expect(sent.status == 201)
            #expect(sent.json["cursor"] as? String == "1")
            #expect((sent.json["id"] as? String)?.hasPrefix("msg_") == true)

            let polled = try await call(url, "GET", "/v1/sessions/\(id)/messages", headers: ["X-Agent-Id": "a"])
            let messages = try #require(polled.json["messages"] as? [[String: Any]])
            #expect(messages.map { $0["cursor"] as? String } == ["0", "1"])
            #expect(messages[0]["agentId"] as? String == "system")
            #expect(messages[1]["verified"] as? Bool == true)
            #expect(polled.json["nextCursor"] as? String == "1")

            let status = try await call(url, "GET", "/v1/sessions/\(id)")
            #expect(status.json["agents"] as? [String] == ["a"])
            #expect(status.json["expiresAt"] is String)

            let renewed = try await call(
                url, "POST", "/v1/sessions/\(id)/renew", headers: ["X-Agent-Id": "a"], body: "{}")
            #expect(renewed.status == 200)
            #expect(renewed.json["ttl"] as? Int == 3660)

            let pair = try await call(url, "PUT", "/v1/pair", body: "{\"sessionId\": \"\(id)\"}")
            #expect(pair.status == 201)
            let code = try #require(pair.json["code"] as? String)
            #expect(code.range(of: #"^[A-Z]+-[A-Z]+-[A-Z0-9]{5}$"#, options: .regularExpression) != nil)
            let redirect = try await call(url, "GET", "/p/\(code)")
            #expect(redirect.status == 301)
            #expect(redirect.headers["location"] == "/v1/pair/\(code)/skill")

            let left = try await call(
                url, "DELETE", "/v1/sessions/\(id)/agents/a", headers: ["X-Agent-Id": "a", "X-Session-Key": key])
            #expect(left.status == 200)
            #expect(left.json["ok"] as? Bool == true)
        }
    }

    @Test func errorsUseTheEnvelopeAndTheDocumentedOrder() async throws {
        try await withSandbox { url, _, _ in
            let id = try #require(
                try await call(url, "PUT", "/v1/sessions", body: #"{"creatorAgentId": "c"}"#).json["sessionId"]
                    as? String)
            func expect(_ exchange: Exchange, _ status: Int, _ code: String, _ line: Int = #line) {
                #expect(exchange.status == status, "line \(line)")
                #expect(exchange.json["error"] as? String == code, "line \(line)")
                #expect(exchange.json["message"] is String, "line \(line)")
            }
            // Session before agent id: an unknown session is 404 even without X-Agent-Id.
            expect(try await call(url, "POST", "/v1/sessions/nope/join"), 404, "session_not_found")
            for (method, path) in [
                ("POST", "/v1/sessions/\(id)/join"), ("POST", "/v1/sessions/\(id)/messages"),
                ("GET", "/v1/sessions/\(id)/messages"), ("POST", "/v1/sessions/\(id)/renew"),
                ("DELETE", "/v1/sessions/\(id)/agents/c"),
            ] {
                expect(
                    try await call(url, method, path, body: method == "GET" || method == "DELETE" ? nil : "{}"), 400,
                    "missing_agent_id")
            }
            expect(
                try await call(
                    url, "POST", "/v1/sessions/\(id)/messages", headers: ["X-Agent-Id": "c"], body: "not json"), 400,
                "invalid_body")
            let invalid = try await call(
                url, "POST", "/v1/sessions/\(id)/messages", headers: ["X-Agent-Id": "c"], body: "{}")
            expect(invalid, 400, "invalid_request")
            #expect((invalid.json["details"] as? [Any])?.isEmpty == false)
            expect(try await call(url, "PUT", "/v1/sessions", body: #"{"maxAgents": 51}"#), 400, "invalid_request")
            expect(try await call(url, "PUT", "/v1/sessions", body: "{"), 400, "invalid_body")
            // Renew with an empty body was a server parse error (§3.7).
            expect(
                try await call(url, "POST", "/v1/sessions/\(id)/renew", headers: ["X-Agent-Id": "c"]), 400,
                "invalid_body")
            expect(
                try await call(url, "GET", "/v1/sessions/\(id)/messages?after=abc", headers: ["X-Agent-Id": "c"]), 400,
                "invalid_request")
            // Leave: key header, then path = agent, then membership, then key, then creator.
            expect(
                try await call(url, "DELETE", "/v1/sessions/\(id)/agents/c", headers: ["X-Agent-Id": "c"]), 401,
                "missing_session_key")
            expect(
                try await call(
                    url, "DELETE", "/v1/sessions/\(id)/agents/x", headers: ["X-Agent-Id": "c", "X-Session-Key": "k"]),
                403, "forbidden")
            expect(
                try await call(
                    url, "DELETE", "/v1/sessions/\(id)/agents/z", headers: ["X-Agent-Id": "z", "X-Session-Key": "k"]),
                404, "agent_not_found")
            expect(
                try await call(
                    url, "DELETE", "/v1/sessions/\(id)/agents/c", headers: ["X-Agent-Id": "c", "X-Session-Key": "k"]),
                401, "invalid_session_key")
            expect(try await call(url, "PUT", "/v1/pair", body: "{}"), 400, "invalid_request")
            expect(try await call(url, "GET", "/v1/pair/NOPE-NOPE-00000/status"), 404, "code_not_found")
            expect(try await call(url, "GET", "/v1/nothing"), 404, "not_found")
        }
    }

    @Test func aClaimWhoseJoinFailsDoesNotBurnTheCode() async throws {
        try await withSandbox { url, _, _ in
            let id = try #require(
                try await call(url, "PUT", "/v1/sessions", body: #"{"creatorAgentId": "c"}"#).json["sessionId"]
                    as? String)
            let code = try #require(
                try await call(url, "PUT", "/v1/pair", body: "{\"sessionId\": \"\(id)\"}").json["code"] as? String)
            let taken = try await call(url, "POST", "/v1/pair/\(code)/claim", headers: ["X-Agent-Id": "c"])
            #expect(taken.json["error"] as? String == "agent_id_taken")
            #expect(try await call(url, "GET", "/v1/pair/\(code)/status").json["state"] as? String == "pending")
            let claimed = try await call(url, "POST", "/v1/pair/\(code)/claim", headers: ["X-Agent-Id": "d"])
            #expect(claimed.json["status"] as? String == "claimed")
            #expect(claimed.json["sessionId"] as? String == id)
        }
    }

    /// The switches for nexus.md §12's disputed behaviours, on the request handler directly.
    @Test func disputedBehavioursFollowTheirSwitches() throws {
        var options = NexusSandbox.Options()
        options.rejectWrongKeyOnSend = false
        options.pollNonMemberCode = "forbidden"
        options.pollSlidesTTL = true
        options.cronReminder = true
        options.leaveChecksKeyFirst = true
        options.rateLimit = nil
        let clock = SandboxClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000))
        let sandbox = NexusSandbox(options: options, clock: clock)
        func json(_ response: SandboxResponse) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
        }
        let created = json(
            sandbox.handle(
                SandboxRequest(
                    method: "PUT", path: "/v1/sessions", body: Data(#"{"creatorAgentId":"a","ttl":60}"#.utf8))))
        let id = try #require(created["sessionId"] as? String)
        _ = sandbox.handle(
            SandboxRequest(method: "POST", path: "/v1/sessions/\(id)/join", headers: ["x-agent-id": "b"]))
        // Cron reminder when the second agent joins.
        let polled = json(
            sandbox.handle(
                SandboxRequest(method: "GET", path: "/v1/sessions/\(id)/messages", headers: ["x-agent-id": "a"])))
        #expect((polled["messages"] as? [[String: Any]])?.first?["agentId"] as? String == "system")
        // A wrong key stores the message unverified instead of refusing it.
        let sent = sandbox.handle(
            SandboxRequest(
                method: "POST", path: "/v1/sessions/\(id)/messages",
                headers: ["x-agent-id": "b", "x-session-key": "wrong"], body: Data(#"{"text":"x"}"#.utf8)))
        #expect(sent.status == 201)
        // Polls slide the TTL: 50 s, poll, 50 s more, still alive.
        clock.advance(by: 50)
        _ = sandbox.handle(
            SandboxRequest(method: "GET", path: "/v1/sessions/\(id)/messages", headers: ["x-agent-id": "a"]))
        clock.advance(by: 50)
        #expect(sandbox.handle(SandboxRequest(method: "GET", path: "/v1/sessions/\(id)")).status == 200)
        // Older servers answer a non-member's poll with forbidden.
        let outsider = sandbox.handle(
            SandboxRequest(method: "GET", path: "/v1/sessions/\(id)/messages", headers: ["x-agent-id": "z"]))
        #expect(json(outsider)["error"] as? String == "forbidden")
        // Key checked before membership on leave.
        let leave = sandbox.handle(
            SandboxRequest(
                method: "DELETE", path: "/v1/sessions/\(id)/agents/z",
                headers: ["x-agent-id": "z", "x-session-key": "k"]))
        #expect(json(leave)["error"] as? String == "invalid_session_key")
    }
}

extension SandboxHTTPTests {
    @Test func anEmptyBodyIsAValidationErrorExceptOnRenew() async throws {
        try await withSandbox { url, _, _ in
            let id = try #require(
                try await call(url, "PUT", "/v1/sessions", body: #"{"creatorAgentId": "c"}"#).json["sessionId"]
                    as? String)
            let send = try await call(url, "POST", "/v1/sessions/\(id)/messages", headers: ["X-Agent-Id": "c"])
            #expect(send.json["error"] as? String == "invalid_request")
            let pair = try await call(url, "PUT", "/v1/pair")
            #expect(pair.json["error"] as? String == "invalid_request")
        }
    }
}
