import Foundation
import Sandbox
import TBX1
import Testing
import Transport

/// Prekey upload, count, purge and bundles (transmissionbot.md §5.4, §6.1).
@Suite struct KeyTests {
    @Test func uploadsAreCheckedAgainstTheIdentityKeyAllOrNothing() async throws {
        try await TransmissionBotServer.with { server in
            let agent = try await server.register("keys")
            let empty = try await server.call(.get, "/v1/keys/count", token: agent.accessToken)
            #expect(empty.json["messaging_ready"] as? Bool == false)
            #expect(
                empty.json["issues"] as? [String] == ["no_signed_prekey", "no_pq_prekeys", "one_time_prekeys_low"])

            // Signed by another identity: refused, and nothing is stored.
            expectError(
                try await server.uploadPrekeys(agent, oneTime: [2], pq: [3], signer: .generate()), 400,
                "IDENTITY_KEY_MISMATCH")
            // A PQ key of X25519 size, and a signature of the wrong length.
            let identity = agent.identity
            var shortPQ = try #require(
                try TransmissionBotServer.json(PQPrekey.generate(keyID: 3, signedBy: identity).publicPart)
                    as? [String: Any])
            shortPQ["public_key"] = identity.dh.publicKey.base64URL
            var shortSignature = try #require(
                try TransmissionBotServer.json(SignedPrekey.generate(keyID: 1, signedBy: identity).publicPart)
                    as? [String: Any])
            shortSignature["signature"] = identity.dh.publicKey.base64URL
            for body: [String: Any] in [
                ["pq_prekeys": [shortPQ]], ["signed_prekey": shortSignature], ["one_time_prekeys": "none"],
                ["one_time_prekeys": [["key_id": -1, "public_key": identity.dh.publicKey.base64URL]]],
            ] {
                expectError(
                    try await server.call(.post, "/v1/keys/prekeys", token: agent.accessToken, json: body), 400,
                    "INVALID_REQUEST")
            }
            let stillEmpty = try await server.call(.get, "/v1/keys/count", token: agent.accessToken)
            #expect(stillEmpty.json["pq_prekeys"] as? Int == 0)
            #expect(stillEmpty.json["one_time_prekeys"] as? Int == 0)

            let uploaded = try await server.uploadPrekeys(agent, oneTime: Array(10...15), pq: [20, 21])
            #expect(uploaded.status == 200)
            #expect(uploaded.json["one_time_prekeys"] as? Int == 6)
            #expect(uploaded.json["messaging_ready"] as? Bool == true)
            #expect(uploaded.json["issues"] as? [String] == ["pq_prekeys_low"])
            // A key id already in the pool.
            expectError(try await server.uploadPrekeys(agent, oneTime: [16, 15]), 409, "CONFLICT")
            let count = try await server.call(.get, "/v1/keys/count", token: agent.accessToken)
            #expect(count.json["one_time_prekeys"] as? Int == 6)
        }
    }

    /// Each bundle consumes the oldest one-time and PQ prekeys; without one-time prekeys a bundle still comes, without
    /// PQ prekeys none does.
    @Test func bundlesConsumePrekeysUntilThePQPoolIsEmpty() async throws {
        try await TransmissionBotServer.with { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            #expect(try await server.uploadPrekeys(bob, oneTime: [100, 101], pq: [200, 201, 202]).status == 200)
            var served: [(Int?, Int?)] = []
            for _ in 0..<3 {
                let bundle = try await server.call(.get, "/v1/keys/bundle/\(bob.id)", token: alice.accessToken)
                #expect(bundle.status == 200)
                #expect(bundle.json["identity_signing_key"] as? String == bob.identity.signing.publicKey.base64URL)
                #expect(bundle.json["identity_dh_key"] as? String == bob.identity.dh.publicKey.base64URL)
                // The signatures a client checks verify under the identity key.
                let pq = try #require(bundle.json["pq_prekey"] as? [String: Any])
                let decoded = try JSONDecoder().decode(
                    PQPrekey.Public.self, from: JSONSerialization.data(withJSONObject: pq))
                #expect(
                    bob.identity.signing.publicKey.isValidSignature(decoded.signature, for: decoded.publicKey.bytes))
                let signed = try #require(bundle.json["signed_prekey"] as? [String: Any])
                #expect(signed["key_id"] as? Int == 1)
                served.append(
                    ((bundle.json["one_time_prekey"] as? [String: Any])?["key_id"] as? Int, pq["key_id"] as? Int))
                #expect(bundle.json.keys.contains("one_time_prekey"))
            }
            #expect(served.map(\.0) == [100, 101, nil])
            #expect(served.map(\.1) == [200, 201, 202])
            let count = try await server.call(.get, "/v1/keys/count", token: bob.accessToken)
            #expect(count.json["messaging_ready"] as? Bool == false)
            #expect(count.json["issues"] as? [String] == ["no_pq_prekeys", "one_time_prekeys_low"])
            expectError(
                try await server.call(.get, "/v1/keys/bundle/\(bob.id)", token: alice.accessToken), 404, "NOT_FOUND")
            expectError(try await server.call(.get, "/v1/keys/bundle/\(bob.id)"), 401, "UNAUTHORIZED")

            // Purge, then a fresh upload (the CLI's purge-keys).
            #expect(try await server.uploadPrekeys(bob, oneTime: [300], pq: [400]).status == 200)
            let purged = try await server.call(.delete, "/v1/keys/prekeys", token: bob.accessToken)
            let deleted = try #require(purged.json["deleted"] as? [String: Any])
            #expect(deleted["one_time_prekeys"] as? Int == 1)
            #expect(deleted["pq_prekeys"] as? Int == 1)
            #expect(deleted["signed_prekey"] as? Bool == true)
            expectError(
                try await server.call(.get, "/v1/keys/bundle/\(bob.id)", token: alice.accessToken), 404, "NOT_FOUND")
        }
    }

    @Test func aLastResortPQPrekeyIsServedAgain() async throws {
        try await TransmissionBotServer.with({ $0.lastResortPQPrekey = true }) { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            #expect(try await server.uploadPrekeys(bob, pq: [200, 201]).status == 200)
            var ids: [Int?] = []
            for _ in 0..<3 {
                let bundle = try await server.call(.get, "/v1/keys/bundle/\(bob.id)", token: alice.accessToken)
                ids.append((bundle.json["pq_prekey"] as? [String: Any])?["key_id"] as? Int)
            }
            #expect(ids == [200, 201, 201])
            #expect(
                try await server.call(.get, "/v1/keys/count", token: bob.accessToken).json["pq_prekeys"] as? Int == 1)
        }
    }

    @Test func bundlesCanRequireAContactAndAreLimitedPerRequester() async throws {
        try await TransmissionBotServer.with({
            $0.bundleRequiresContact = true
            $0.bundleFetchesPerHour = 2
        }) { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            #expect(try await server.uploadPrekeys(bob, pq: [200, 201, 202]).status == 200)
            expectError(
                try await server.call(.get, "/v1/keys/bundle/\(bob.id)", token: alice.accessToken), 403,
                "CONTACT_REQUIRED")
            try await server.connect(alice, bob)
            #expect(try await server.call(.get, "/v1/keys/bundle/\(bob.id)", token: alice.accessToken).status == 200)
            let limited = try await server.call(.get, "/v1/keys/bundle/\(bob.id)", token: alice.accessToken)
            expectError(limited, 429, "RATE_LIMITED")
            #expect(Int(limited.headers["retry-after"] ?? "") == 3600)
            server.http = HTTPClient(connections: 1)
            #expect(
                try await server.call(.get, "/v1/keys/count", token: bob.accessToken).json["pq_prekeys"] as? Int == 2)
        }
    }
}
