import Foundation
import Sandbox
import TBX1
import Testing
import Transport

/// Registration, profiles, discovery and deletion (transmissionbot.md §5.2, §5.7).
@Suite struct AgentTests {
    @Test func registrationAnswersAsDocumented() async throws {
        try await TransmissionBotServer.with { server in
            let identity = IdentityKeyPair.generate()
            let reply = try await server.call(
                .post, "/v1/agents/register",
                json: [
                    "handle": "my-agent", "display_name": "My Agent", "description": "Reviews code",
                    "category": "Code Reviewer", "identity_signing_key": identity.signing.publicKey.base64URL,
                    "identity_dh_key": identity.dh.publicKey.base64URL,
                ])
            #expect(reply.status == 201)
            let id = try #require(reply.json["agent_id"] as? String)
            // A UUIDv7 whose time is the sandbox clock's.
            let uuidV7 = #"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"#
            #expect(id.range(of: uuidV7, options: .regularExpression) != nil)
            #expect(id.replacingOccurrences(of: "-", with: "").hasPrefix("0" + String(1_800_000_000_000, radix: 16)))
            #expect(reply.json["handle"] as? String == "my-agent")
            #expect(reply.json["token_expires_at"] as? Int == 1_800_003_600)
            let refresh = try #require(reply.json["refresh_token"] as? String)
            #expect(refresh.count == 43)  // 32 bytes, base64url without padding
            // The access token is a JWT whose payload says who and until when.
            let token = try #require(reply.json["access_token"] as? String)
            let parts = token.split(separator: ".")
            try #require(parts.count == 3)
            let claims = try #require(
                try JSONSerialization.jsonObject(with: try base64URLDecoded(parts[1])) as? [String: Any])
            #expect(claims["sub"] as? String == id)
            #expect(claims["exp"] as? Int == 1_800_003_600)
            #expect(claims["iat"] as? Int == 1_800_000_000)

            let profile = try await server.call(.get, "/v1/agents/\(id)", token: token)
            #expect(profile.status == 200)
            #expect(profile.json["identity_signing_key"] as? String == identity.signing.publicKey.base64URL)
            #expect(profile.json["identity_dh_key"] as? String == identity.dh.publicKey.base64URL)
            #expect(profile.json["status"] as? String == "active")
            #expect(profile.json["display_name"] as? String == "My Agent")
            expectError(try await server.call(.get, "/v1/agents/\(id)"), 401, "UNAUTHORIZED")

            let card = try await server.call(.get, "/v1/agents/\(id)/card")
            #expect(card.status == 200)
            #expect(
                Set(card.json.keys) == ["agent_id", "handle", "display_name", "description", "category", "trust_level"])
            let resolved = try await server.call(.get, "/v1/discovery/resolve/my-agent")
            #expect(resolved.json["agent_id"] as? String == id)
            #expect(resolved.json["trust_level"] as? Int == 0)
            expectError(try await server.call(.get, "/v1/discovery/resolve/nobody"), 404, "NOT_FOUND")

            _ = try await server.register("other-agent")
            let search = try await server.call(.get, "/v1/discovery/search?q=review", token: token)
            #expect((search.json["results"] as? [[String: Any]])?.map { $0["handle"] as? String } == ["my-agent"])
            let everyone = try await server.call(.get, "/v1/discovery/search?q=&limit=1")
            #expect((everyone.json["results"] as? [Any])?.count == 1)
            expectError(try await server.call(.get, "/v1/discovery/search?limit=101"), 400, "INVALID_REQUEST")

            #expect(try await server.call(.get, "/health").json["status"] as? String == "ok")
            #expect(try await server.call(.get, "/health/ready").json["status"] as? String == "ready")
            expectError(try await server.call(.get, "/v1/groups/x", token: token), 404, "NOT_FOUND")
        }
    }

    static let signing = IdentityKeyPair.generate().signing.publicKey.base64URL
    static let dh = IdentityKeyPair.generate().dh.publicKey.base64URL

    /// Each field of a registration, broken one way at a time: 400 `INVALID_REQUEST`.
    @Test(arguments: [
        ["identity_signing_key": signing, "identity_dh_key": dh],
        ["handle": "ab", "identity_signing_key": signing, "identity_dh_key": dh],
        ["handle": "-agent", "identity_signing_key": signing, "identity_dh_key": dh],
        ["handle": "Agent", "identity_signing_key": signing, "identity_dh_key": dh],
        ["handle": String(repeating: "a", count: 33), "identity_signing_key": signing, "identity_dh_key": dh],
        ["handle": "agent", "identity_dh_key": dh],
        ["handle": "agent", "identity_signing_key": signing + "=", "identity_dh_key": dh],
        ["handle": "agent", "identity_signing_key": String(signing.dropLast(2)), "identity_dh_key": dh],
        ["handle": "agent", "identity_signing_key": signing, "identity_dh_key": dh + "AAAA"],
        ["handle": "agent", "identity_signing_key": "+" + signing.dropFirst(), "identity_dh_key": dh],
        ["handle": "agent", "identity_signing_key": signing, "identity_dh_key": dh, "display_name": ""],
        ["handle": "agent", "identity_signing_key": signing, "identity_dh_key": dh, "owner_email": "nobody"],
    ])
    func registrationIsValidated(_ body: [String: String]) async throws {
        try await TransmissionBotServer.with { server in
            expectError(try await server.call(.post, "/v1/agents/register", json: body), 400, "INVALID_REQUEST")
        }
    }

    @Test func handlesAndSigningKeysAreUnique() async throws {
        try await TransmissionBotServer.with { server in
            let first = try await server.register("taken")
            expectError(try await server.call(.post, "/v1/agents/register", body: "{not json"), 400, "INVALID_REQUEST")
            expectError(try await server.call(.post, "/v1/agents/register", body: "[1]"), 400, "INVALID_REQUEST")
            let again = try await server.call(
                .post, "/v1/agents/register",
                json: [
                    "handle": "taken", "identity_signing_key": IdentityKeyPair.generate().signing.publicKey.base64URL,
                    "identity_dh_key": Self.dh,
                ])
            expectError(again, 409, "CONFLICT")
            let sameKey = try await server.call(
                .post, "/v1/agents/register",
                json: [
                    "handle": "fresh", "identity_signing_key": first.identity.signing.publicKey.base64URL,
                    "identity_dh_key": Self.dh,
                ])
            expectError(sameKey, 409, "CONFLICT")
        }
    }

    /// Deleting removes the identity, its keys, queue and contacts, and frees the handle (§5.2).
    @Test func deletingCascadesAndFreesTheHandle() async throws {
        try await TransmissionBotServer.with { server in
            let leaving = try await server.register("leaving")
            let staying = try await server.register("staying")
            try await server.connect(leaving, staying)
            #expect(try await server.uploadPrekeys(leaving, oneTime: [2], pq: [3]).status == 200)
            #expect(try await server.send("hi", from: staying, to: leaving).status == 201)
            expectError(
                try await server.call(.delete, "/v1/agents/me", token: leaving.accessToken, json: ["confirm": false]),
                400, "INVALID_REQUEST")
            let deleted = try await server.call(
                .delete, "/v1/agents/me", token: leaving.accessToken, json: ["confirm": true])
            #expect(deleted.status == 200)
            #expect(deleted.json["deleted"] as? Bool == true)

            expectError(try await server.call(.get, "/v1/keys/count", token: leaving.accessToken), 401, "UNAUTHORIZED")
            let contacts = try await server.call(.get, "/v1/contacts", token: staying.accessToken)
            #expect((contacts.json["contacts"] as? [Any])?.isEmpty == true)
            expectError(
                try await server.call(.get, "/v1/keys/bundle/\(leaving.id)", token: staying.accessToken), 404,
                "NOT_FOUND")
            expectError(try await server.send("again", from: staying, to: leaving), 404, "NOT_FOUND")
            expectError(try await server.call(.get, "/v1/discovery/resolve/leaving"), 404, "NOT_FOUND")
            let reborn = try await server.register("leaving", identity: leaving.identity)
            #expect(reborn.id != leaving.id)
            let count = try await server.call(.get, "/v1/keys/count", token: reborn.accessToken)
            #expect(count.json["pq_prekeys"] as? Int == 0)
            let offline = try await server.call(.get, "/v1/messages/offline", token: reborn.accessToken)
            #expect((offline.json["messages"] as? [Any])?.isEmpty == true)
        }
    }
}
