internal import Foundation
internal import Workflow

/// Access tokens, refresh and recovery (transmissionbot.md §4, §5.3).
extension TransmissionBotSandbox {
    /// Spent refresh tokens remembered per agent, to answer reuse (and revoke the family if asked).
    static let rememberedSpentTokens = 16
    /// Outstanding recovery challenges per agent; asking for another drops the oldest.
    static let outstandingChallenges = 5

    /// New tokens for `id`, replacing its refresh token: the register, refresh and recover response (§5.2).
    func issueTokens(for id: String, _ call: Call) -> Value {
        let expiresAt = call.unixSeconds + storedOptions.accessTokenLifetime
        let refreshToken = SandboxCrypto.base64URL(SandboxCrypto.randomBytes(32))
        agents[id]?.refreshToken = refreshToken
        return [
            "agent_id": .string(id), "handle": .string(agents[id]?.handle ?? ""),
            "access_token": .string(accessToken(for: id, issuedAt: call.unixSeconds, expiresAt: expiresAt)),
            "refresh_token": .string(refreshToken), "token_expires_at": .number(Double(expiresAt)),
        ]
    }

    /// An HS256 JWT `{sub, iat, exp, jti}` under this sandbox's key (§4's [P] claims): clients decode `exp`, only the
    /// sandbox can check the signature.
    func accessToken(for id: String, issuedAt: Int, expiresAt: Int) -> String {
        let header = SandboxCrypto.base64URL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let claims: Value = [
            "sub": .string(id), "iat": .number(Double(issuedAt)), "exp": .number(Double(expiresAt)),
            "jti": .string(SandboxCrypto.base64URL(SandboxCrypto.randomBytes(16))),
        ]
        let signed = header + "." + SandboxCrypto.base64URL(Array(JSONText.encode(claims).utf8))
        return signed + "." + SandboxCrypto.base64URL(SandboxCrypto.hmac(Array(signed.utf8), key: tokenKey))
    }

    /// The agent a request's `Authorization: Bearer` token belongs to: signed by this sandbox, not expired, and
    /// the agent still exists and is active. Anything else is 401 `UNAUTHORIZED`.
    func authenticate(_ call: Call) throws(SandboxResponse) -> String {
        guard let header = call.request.headers["authorization"], header.count > 7,
            header.prefix(7).lowercased() == "bearer "
        else { throw Self.failure(status: 401, "Authorization: Bearer <access_token> is required") }
        let parts = header.dropFirst(7).trimmingCharacters(in: .whitespaces).split(
            separator: ".", omittingEmptySubsequences: false)
        let refused = Self.failure(status: 401, "the access token is not valid")
        guard parts.count == 3, let signature = SandboxCrypto.bytes(base64URL: String(parts[2])),
            SandboxCrypto.equal(
                signature, SandboxCrypto.hmac(Array("\(parts[0]).\(parts[1])".utf8), key: tokenKey)),
            let payload = SandboxCrypto.bytes(base64URL: String(parts[1])),
            case .object(let claims)? = try? JSONText.decode(String(decoding: payload, as: UTF8.self)),
            case .string(let id)? = claims["sub"], case .number(let expiry)? = claims["exp"]
        else { throw refused }
        guard call.now.timeIntervalSince1970 < expiry else {
            throw Self.failure(status: 401, "the access token expired; refresh it")
        }
        guard let agent = agents[id] else { throw refused }
        guard !agent.deactivated else { throw Self.failure(status: 401, "the agent is deactivated") }
        return id
    }

    /// `POST /v1/auth/refresh` `{"refresh_token", "agent_id"}`: the token is spent and both tokens rotate (§4).
    func refresh(_ call: Call) throws(SandboxResponse) -> SandboxResponse {
        let body = try object(call)
        let token = try string(body, "refresh_token")!
        let id = try string(body, "agent_id")!
        let refused = Self.failure(status: 401, "the refresh token is not valid")
        guard var agent = agents[id] else { throw refused }
        guard !agent.deactivated else { throw Self.failure(status: 401, "the agent is deactivated") }
        guard let live = agent.refreshToken, SandboxCrypto.equal(Array(live.utf8), Array(token.utf8)) else {
            if agent.spentRefreshTokens.contains(token) {
                if storedOptions.refreshReuseRevokesFamily { agents[id]?.refreshToken = nil }
                throw Self.failure(status: 401, "the refresh token was already used")
            }
            throw refused
        }
        agent.spentRefreshTokens = Array((agent.spentRefreshTokens + [live]).suffix(Self.rememberedSpentTokens))
        agents[id] = agent
        return .json(200, issueTokens(for: id, call))
    }

    /// `POST /v1/auth/recover/challenge` `{"agent_id"}` or `{"handle"}`: 32 random bytes to sign, for five
    /// minutes (§5.3).
    func challenge(_ call: Call) throws(SandboxResponse) -> SandboxResponse {
        let body = try object(call)
        let id: String?
        if let agentID = try string(body, "agent_id", required: false) {
            id = agentID
        } else if let handle = try string(body, "handle", required: false) {
            id = agentsByHandle[handle.lowercased()]
        } else {
            throw Self.invalid("agent_id or handle is required")
        }
        guard let id, let agent = agents[id] else { throw Self.failure(status: 404, "no such agent") }
        guard !agent.deactivated else { throw Self.failure(status: 401, "the agent is deactivated") }
        let challenge = SandboxCrypto.base64URL(SandboxCrypto.randomBytes(32))
        let expiresAt = call.now.addingTimeInterval(TimeInterval(storedOptions.challengeLifetime))
        agents[id]?.challenges = Array((agent.challenges + [(challenge, expiresAt)]).suffix(Self.outstandingChallenges))
        return .json(
            200,
            [
                "challenge": .string(challenge),
                "expires_at": .number(expiresAt.timeIntervalSince1970.rounded(.down)),
            ])
    }

    /// `POST /v1/auth/recover` `{"agent_id", "challenge", "signature"}`: an Ed25519 signature over the challenge
    /// under the registered signing key gets fresh tokens and revokes the old refresh token (§4, §6.4). Every
    /// attempt counts against the per-address limit, and spends the challenge it names.
    func recover(_ call: Call) throws(SandboxResponse) -> SandboxResponse {
        try limit(
            "recover:\(call.request.clientAddress)", to: storedOptions.recoveryAttemptsPerHour, per: 3600, call)
        let body = try object(call)
        let id = try string(body, "agent_id")!
        let challenge = try string(body, "challenge")!
        let signature = try base64URL(try string(body, "signature")!, "signature", length: 64)
        guard var agent = agents[id] else { throw Self.failure(status: 404, "no such agent") }
        guard !agent.deactivated else { throw Self.failure(status: 401, "the agent is deactivated") }
        guard let index = agent.challenges.firstIndex(where: { $0.value == challenge && $0.expiresAt > call.now })
        else { throw Self.failure(status: 401, "the challenge is unknown, used or expired") }
        agent.challenges.remove(at: index)
        let message =
            storedOptions.recoverySignsChallengeText
            ? Array(challenge.utf8) : SandboxCrypto.bytes(base64URL: challenge) ?? []
        guard SandboxCrypto.isValidSignature(signature, of: message, by: agent.signingKey) else {
            agents[id] = agent
            throw Self.failure(status: 401, "the signature does not verify under the agent's identity_signing_key")
        }
        agent.spentRefreshTokens = []
        agents[id] = agent
        return .json(200, issueTokens(for: id, call))
    }
}
