import Foundation
import Sandbox
import TBX1
import Testing
import Transport

/// Rate limits, bounds, injected faults and seeded ids (transmissionbot.md §5.8, §6.6, §10).
@Suite struct LimitTests {
    @Test func requestsPerTokenAreLimitedWithRetryAfter() async throws {
        try await TransmissionBotServer.with({ $0.requestsPerMinute = 3 }) { server in
            let agent = try await server.register("busy")  // the address's first request
            server.clock.advance(by: 10)
            for _ in 0..<3 {
                #expect(try await server.call(.get, "/v1/keys/count", token: agent.accessToken).status == 200)
            }
            let limited = try await server.call(.get, "/v1/keys/count", token: agent.accessToken)
            expectError(limited, 429, "RATE_LIMITED")
            #expect(limited.headers["retry-after"] == "60")
            // Health checks are not counted, and unauthenticated requests count per address, not per token.
            server.http = HTTPClient(connections: 1)
            #expect(try await server.call(.get, "/health").status == 200)
            #expect(try await server.call(.get, "/v1/discovery/resolve/busy").status == 200)
            server.clock.advance(by: 60)
            #expect(try await server.call(.get, "/v1/keys/count", token: agent.accessToken).status == 200)
        }
    }

    @Test func faultsAnswerInTheTransmissionBotEnvelope() async throws {
        try await TransmissionBotServer.with { server in
            let agent = try await server.register("faulty")
            server.faults.inject(.status(503), pathPrefix: "/v1/messages/offline", method: "GET")
            expectError(
                try await server.call(.get, "/v1/messages/offline", token: agent.accessToken), 503, "INTERNAL_ERROR")
            #expect(try await server.call(.get, "/v1/messages/offline", token: agent.accessToken).status == 200)

            // Queued while running: an expired token, as a client would see it.
            let queued = try await server.call(
                .post, "/sandbox/faults", body: "transmissionbot:GET /v1/keys/count=status:401*2\n")
            #expect(queued.json["queued"] as? Int == 1)
            for _ in 0..<2 {
                expectError(
                    try await server.call(.get, "/v1/keys/count", token: agent.accessToken), 401, "UNAUTHORIZED")
            }
            #expect(try await server.call(.get, "/v1/keys/count", token: agent.accessToken).status == 200)
            // Faults for another listener, or that do not parse, are refused and none is queued.
            for body in ["nexus:*=status:500", "transmissionbot:/health=status:500\ntransmissionbot:*=explode"] {
                expectError(try await server.call(.post, "/sandbox/faults", body: body), 400, "INVALID_REQUEST")
            }
            #expect(try await server.call(.get, "/health").status == 200)

            server.faults.inject(.rateLimited(retryAfter: 7), pathPrefix: "/health")
            let limited = try await server.call(.get, "/health")
            expectError(limited, 429, "RATE_LIMITED")
            #expect(limited.headers["retry-after"] == "7")
        }
    }

    @Test func faultSpecsNameTheTransmissionBotNetwork() throws {
        let spec = try SandboxFaultSpec.parse("transmissionbot:POST /v1/messages/send=drop*2")
        #expect(spec.network == .transmissionBot)
        guard case .transmissionBot(let fault, let method, let prefix, let times) = spec else {
            Issue.record("parsed as \(spec)")
            return
        }
        #expect(fault == .dropConnection)
        #expect(method == "POST")
        #expect(prefix == "/v1/messages/send")
        #expect(times == 2)
        #expect(throws: SandboxError.self) { try SandboxFaultSpec.parse("transmissionbot:/v1=teapot") }
        #expect(throws: SandboxError.self) { try SandboxFaultSpec.parse("tb:/v1=drop") }
    }

    /// A hostile client cannot grow the sandbox without bound: agents, queues and bodies are capped.
    @Test func stateStaysBounded() async throws {
        try await TransmissionBotServer.with({
            $0.maximumAgents = 2
            $0.maximumQueuedMessages = 2
            $0.maximumEnvelopeBytes = 16
            $0.maximumBodyBytes = 4096
        }) { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let third = try await server.call(
                .post, "/v1/agents/register",
                json: [
                    "handle": "carol", "identity_signing_key": IdentityKeyPair.generate().signing.publicKey.base64URL,
                    "identity_dh_key": IdentityKeyPair.generate().dh.publicKey.base64URL,
                ])
            expectError(third, 503, "INTERNAL_ERROR")
            try await server.connect(alice, bob)
            expectError(
                try await server.send(String(repeating: "x", count: 17), from: alice, to: bob), 413, "INVALID_REQUEST")
            #expect(try await server.send("one", from: alice, to: bob).status == 201)
            #expect(try await server.send("two", from: alice, to: bob).status == 201)
            let full = try await server.send("three", from: alice, to: bob)
            expectError(full, 429, "RATE_LIMITED")
            server.http = HTTPClient(connections: 1)
            let huge = try await server.call(
                .post, "/v1/messages/ack", token: bob.accessToken,
                body: "{\"message_ids\": [\"" + String(repeating: "x", count: 5000) + "\"]}")
            expectError(huge, 413, "INVALID_REQUEST")
        }
    }

    /// With a seed and a frozen clock, the same requests give the same ids.
    @Test func seededIDsRepeat() throws {
        var options = TransmissionBotSandbox.Options()
        options.idSeed = 42
        let identity = IdentityKeyPair.generate()
        let body = Data(
            """
            {"handle": "seeded", "identity_signing_key": "\(identity.signing.publicKey.base64URL)",
             "identity_dh_key": "\(identity.dh.publicKey.base64URL)"}
            """.utf8)
        var ids: [String] = []
        for seed in [42, 42, 43] as [UInt64] {
            options.idSeed = seed
            let sandbox = TransmissionBotSandbox(
                options: options, clock: SandboxClock(frozenAt: TransmissionBotServer.start))
            let response = sandbox.handle(SandboxRequest(method: "POST", path: "/v1/agents/register", body: body))
            let json = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
            ids.append(try #require(json["agent_id"] as? String))
        }
        #expect(ids[0] == ids[1])
        #expect(ids[0] != ids[2])
    }
}
