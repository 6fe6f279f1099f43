import Foundation
import Sandbox
import TBX1
import Testing
import Transport

/// Access tokens, refresh rotation, deactivation and recovery (transmissionbot.md §4, §5.3).
@Suite struct TokenTests {
    @Test func accessTokensExpireOnTheSandboxClockAndRefreshTokensRotate() async throws {
        try await TransmissionBotServer.with { server in
            let agent = try await server.register("rotating")
            server.clock.advance(by: 3599)
            #expect(try await server.call(.get, "/v1/keys/count", token: agent.accessToken).status == 200)
            server.clock.advance(by: 1)
            expectError(try await server.call(.get, "/v1/keys/count", token: agent.accessToken), 401, "UNAUTHORIZED")

            let refreshed = try await server.call(
                .post, "/v1/auth/refresh", json: ["refresh_token": agent.refreshToken, "agent_id": agent.id])
            #expect(refreshed.status == 200)
            #expect(refreshed.json["agent_id"] as? String == agent.id)
            #expect(refreshed.json["token_expires_at"] as? Int == 1_800_007_200)
            let access = try #require(refreshed.json["access_token"] as? String)
            let refresh = try #require(refreshed.json["refresh_token"] as? String)
            #expect(refresh != agent.refreshToken)
            #expect(try await server.call(.get, "/v1/keys/count", token: access).status == 200)

            // The spent refresh token is refused; the new one works once.
            expectError(
                try await server.call(
                    .post, "/v1/auth/refresh", json: ["refresh_token": agent.refreshToken, "agent_id": agent.id]),
                401, "UNAUTHORIZED")
            let again = try await server.call(
                .post, "/v1/auth/refresh", json: ["refresh_token": refresh, "agent_id": agent.id])
            #expect(again.status == 200)
            expectError(
                try await server.call(
                    .post, "/v1/auth/refresh", json: ["refresh_token": refresh, "agent_id": agent.id]),
                401, "UNAUTHORIZED")
            expectError(
                try await server.call(.post, "/v1/auth/refresh", json: ["refresh_token": refresh]), 400,
                "INVALID_REQUEST")
        }
    }

    @Test func forgedTokensAreRefused() async throws {
        try await TransmissionBotServer.with { server in
            let agent = try await server.register("forged")
            let parts = agent.accessToken.split(separator: ".").map(String.init)
            // The same header and signature over a payload that claims a later expiry.
            let claims = #"{"exp":1900000000,"iat":1800000000,"jti":"x","sub":"\#(agent.id)"}"#
            let forgedPayload = Data(claims.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            for token in [
                "\(parts[0]).\(forgedPayload).\(parts[2])", "\(parts[0]).\(parts[1]).", "not-a-jwt",
                agent.refreshToken,
            ] {
                expectError(try await server.call(.get, "/v1/keys/count", token: token), 401, "UNAUTHORIZED")
            }
            // Another sandbox's tokens mean nothing here.
            try await TransmissionBotServer.with { other in
                expectError(
                    try await other.call(.get, "/v1/keys/count", token: agent.accessToken), 401, "UNAUTHORIZED")
            }
        }
    }

    @Test func deactivationRevokesEveryToken() async throws {
        try await TransmissionBotServer.with { server in
            let agent = try await server.register("leaving")
            let reply = try await server.call(.post, "/v1/agents/me/deactivate", token: agent.accessToken)
            #expect(reply.status == 200)
            #expect(reply.json["status"] as? String == "deactivated")
            expectError(try await server.call(.get, "/v1/keys/count", token: agent.accessToken), 401, "UNAUTHORIZED")
            expectError(
                try await server.call(
                    .post, "/v1/auth/refresh", json: ["refresh_token": agent.refreshToken, "agent_id": agent.id]),
                401, "UNAUTHORIZED")
            // A deactivated agent cannot delete itself, and is hidden from discovery.
            expectError(
                try await server.call(.delete, "/v1/agents/me", token: agent.accessToken, json: ["confirm": true]), 401,
                "UNAUTHORIZED")
            expectError(try await server.call(.get, "/v1/discovery/resolve/leaving"), 404, "NOT_FOUND")
        }
    }

    @Test func aReusedRefreshTokenCanRevokeItsFamily() async throws {
        try await TransmissionBotServer.with({ $0.refreshReuseRevokesFamily = true }) { server in
            let agent = try await server.register("family")
            let rotated = try await server.call(
                .post, "/v1/auth/refresh", json: ["refresh_token": agent.refreshToken, "agent_id": agent.id])
            let successor = try #require(rotated.json["refresh_token"] as? String)
            expectError(
                try await server.call(
                    .post, "/v1/auth/refresh", json: ["refresh_token": agent.refreshToken, "agent_id": agent.id]),
                401, "UNAUTHORIZED")
            expectError(
                try await server.call(
                    .post, "/v1/auth/refresh", json: ["refresh_token": successor, "agent_id": agent.id]),
                401, "UNAUTHORIZED")
        }
    }

    /// The challenge signed with the identity key gets fresh tokens, once, within five minutes; five attempts an
    /// hour per address.
    @Test func recoveryNeedsTheIdentityKeyAndIsLimited() async throws {
        try await TransmissionBotServer.with({ $0.recoveryAttemptsPerHour = 5 }) { server in
            let agent = try await server.register("lost")
            func challenge() async throws -> (text: String, bytes: [UInt8]) {
                let reply = try await server.call(.post, "/v1/auth/recover/challenge", json: ["handle": "lost"])
                #expect(reply.status == 200)
                #expect(reply.json["expires_at"] as? Int == Int(server.clock.now.timeIntervalSince1970) + 300)
                let text = try #require(reply.json["challenge"] as? String)
                return (text, Array(try base64URLDecoded(text)))
            }
            func recover(
                _ text: String, signedBy key: Ed25519KeyPair, over bytes: [UInt8]
            ) async throws
                -> TransmissionBotServer.Exchange
            {
                try await server.call(
                    .post, "/v1/auth/recover",
                    json: ["agent_id": agent.id, "challenge": text, "signature": key.sign(bytes).base64URL])
            }
            let first = try await challenge()
            let recovered = try await recover(first.text, signedBy: agent.identity.signing, over: first.bytes)
            #expect(recovered.status == 200)
            #expect(recovered.json["agent_id"] as? String == agent.id)
            let access = try #require(recovered.json["access_token"] as? String)
            #expect(try await server.call(.get, "/v1/keys/count", token: access).status == 200)
            // Single use, and the old refresh token is revoked.
            expectError(
                try await recover(first.text, signedBy: agent.identity.signing, over: first.bytes), 401, "UNAUTHORIZED")
            expectError(
                try await server.call(
                    .post, "/v1/auth/refresh", json: ["refresh_token": agent.refreshToken, "agent_id": agent.id]),
                401, "UNAUTHORIZED")
            // Another key's signature, and a challenge past its five minutes.
            let second = try await challenge()
            expectError(
                try await recover(second.text, signedBy: IdentityKeyPair.generate().signing, over: second.bytes), 401,
                "UNAUTHORIZED")
            let third = try await challenge()
            server.clock.advance(by: 301)
            expectError(
                try await recover(third.text, signedBy: agent.identity.signing, over: third.bytes), 401, "UNAUTHORIZED")
            let fourth = try await challenge()
            #expect(try await recover(fourth.text, signedBy: agent.identity.signing, over: fourth.bytes).status == 200)
            // Five attempts this hour: the sixth is refused whatever it carries, until the first leaves the window.
            let fifth = try await challenge()
            let limited = try await recover(fifth.text, signedBy: agent.identity.signing, over: fifth.bytes)
            expectError(limited, 429, "RATE_LIMITED")
            #expect(limited.headers["retry-after"] == String(3600 - 301))
            server.http = HTTPClient(connections: 1)
            server.clock.advance(by: 3600 - 301)
            let sixth = try await challenge()
            #expect(try await recover(sixth.text, signedBy: agent.identity.signing, over: sixth.bytes).status == 200)
            expectError(
                try await server.call(.post, "/v1/auth/recover/challenge", json: ["agent_id": "nobody"]), 404,
                "NOT_FOUND")
        }
    }

    @Test func recoveryCanCoverTheChallengeText() async throws {
        try await TransmissionBotServer.with({ $0.recoverySignsChallengeText = true }) { server in
            let agent = try await server.register("textual")
            let reply = try await server.call(.post, "/v1/auth/recover/challenge", json: ["agent_id": agent.id])
            let text = try #require(reply.json["challenge"] as? String)
            let recovered = try await server.call(
                .post, "/v1/auth/recover",
                json: [
                    "agent_id": agent.id, "challenge": text,
                    "signature": agent.identity.signing.sign(Array(text.utf8)).base64URL,
                ])
            #expect(recovered.status == 200)
        }
    }
}
