internal import Foundation
internal import Workflow

/// Agents and discovery (transmissionbot.md §5.2, §5.7).
extension TransmissionBotSandbox {
    /// `POST /v1/agents/register`: no proof of possession (§4), only shapes, lengths and uniqueness.
    func register(_ call: Call) throws(SandboxResponse) -> SandboxResponse {
        let body = try object(call)
        let handle = try string(body, "handle", maximumLength: 32)!
        guard Self.isHandle(handle) else {
            throw Self.invalid(
                "handle must be 3 to 32 characters of a-z, 0-9 and -, starting and ending with a letter or digit")
        }
        let signingKey = try base64URL(
            try string(body, "identity_signing_key")!, "identity_signing_key", length: 32)
        let dhKey = try base64URL(try string(body, "identity_dh_key")!, "identity_dh_key", length: 32)
        let displayName = try string(body, "display_name", required: false, maximumLength: 100) ?? handle
        guard !displayName.isEmpty else { throw Self.invalid("display_name must not be empty") }
        let description = try string(body, "description", required: false, maximumLength: 1000) ?? ""
        let category = try string(body, "category", required: false, maximumLength: 100) ?? ""
        let ownerEmail = try string(body, "owner_email", required: false, maximumLength: 254)
        if let ownerEmail, !ownerEmail.contains("@") { throw Self.invalid("owner_email must be an email address") }
        guard agentsByHandle[handle] == nil else { throw Self.failure(status: 409, "handle \(handle) is taken") }
        if storedOptions.uniqueSigningKeys, agentsBySigningKey[signingKey] != nil {
            throw Self.failure(status: 409, "identity_signing_key is already registered")
        }
        guard agents.count < storedOptions.maximumAgents else {
            throw Self.failure(status: 503, "the sandbox holds \(storedOptions.maximumAgents) agents, its limit")
        }
        let id = ids.uuid(at: call.now)
        agents[id] = Agent(
            id: id, handle: handle, displayName: displayName, description: description, category: category,
            ownerEmail: ownerEmail, signingKey: signingKey, dhKey: dhKey, createdAt: call.now)
        agentsByHandle[handle] = id
        agentsBySigningKey[signingKey] = id
        return .json(201, issueTokens(for: id, call))
    }

    /// `^[a-z0-9](?:[a-z0-9-]{1,30}[a-z0-9])$` (§3's [P] syntax).
    static func isHandle(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        func allowed(_ scalar: Unicode.Scalar, hyphen: Bool) -> Bool {
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || (hyphen && scalar == "-")
        }
        guard (3...32).contains(scalars.count), let first = scalars.first, let last = scalars.last else { return false }
        return allowed(first, hyphen: false) && allowed(last, hyphen: false)
            && scalars.allSatisfy { allowed($0, hyphen: true) }
    }

    /// `GET /v1/agents/{agent_id}`: the directory record with both identity keys (the CLI's `keys_match`, §5.2).
    func profile(_ id: String, _ call: Call, viewer: String) throws(SandboxResponse) -> SandboxResponse {
        guard let agent = agents[id] else { throw Self.failure(status: 404, "no such agent") }
        var object = card(agent)
        object["identity_signing_key"] = .string(SandboxCrypto.base64URL(agent.signingKey))
        object["identity_dh_key"] = .string(SandboxCrypto.base64URL(agent.dhKey))
        object["status"] = agent.deactivated ? "deactivated" : "active"
        object["created_at"] = Self.timestamp(agent.createdAt)
        if viewer == id, let email = agent.ownerEmail { object["owner_email"] = .string(email) }
        return .json(200, .object(object))
    }

    /// `GET /v1/agents/{agent_id}/card`: the public subset, no token needed.
    func card(_ id: String, _ call: Call) throws(SandboxResponse) -> SandboxResponse {
        .json(200, .object(card(try activeAgent(id))))
    }

    func card(_ agent: Agent) -> [String: Value] {
        [
            "agent_id": .string(agent.id), "handle": .string(agent.handle), "display_name": .string(agent.displayName),
            "description": .string(agent.description), "category": .string(agent.category), "trust_level": 0,
        ]
    }

    /// `POST /v1/agents/me/deactivate`: every token and refresh is refused from now on (§5.2).
    func deactivate(_ call: Call, _ id: String) throws(SandboxResponse) -> SandboxResponse {
        agents[id]?.deactivated = true
        agents[id]?.refreshToken = nil
        return .json(200, ["agent_id": .string(id), "status": "deactivated"])
    }

    /// `DELETE /v1/agents/me` with `{"confirm": true}`: the identity, its keys, queue and contacts go; the handle is
    /// free again (§5.2). Envelopes it sent stay in their recipients' queues.
    func delete(_ call: Call, _ id: String) throws(SandboxResponse) -> SandboxResponse {
        guard try object(call)["confirm"] == .bool(true) else {
            throw Self.invalid("deleting an agent needs {\"confirm\": true}")
        }
        guard let agent = agents.removeValue(forKey: id) else { throw Self.failure(status: 404, "no such agent") }
        for peer in agent.peers { forgetRelationship(Pair(id, peer)) }
        storedEnvelopeBytes -= agent.queue.reduce(0) { $0 + $1.bytes }
        agentsByHandle[agent.handle] = nil
        if agentsBySigningKey[agent.signingKey] == id { agentsBySigningKey[agent.signingKey] = nil }
        windows = windows.filter { !$0.key.hasSuffix(id) }
        return .json(200, ["deleted": true])
    }

    /// `GET /v1/discovery/resolve/{handle}`: the card of the agent with that handle.
    func resolve(_ handle: String, _ call: Call) throws(SandboxResponse) -> SandboxResponse {
        guard let id = agentsByHandle[handle.lowercased()] else {
            throw Self.failure(status: 404, "no agent has the handle \(handle)")
        }
        return try card(id, call)
    }

    /// `GET /v1/discovery/search?q=&category=&limit=&min_trust=`: cards whose handle, name, description or category
    /// contain `q` (any case), oldest first.
    func search(_ call: Call) throws(SandboxResponse) -> SandboxResponse {
        let text = (call.request.query["q"] ?? "").lowercased()
        let category = call.request.query["category"]?.lowercased()
        let limit = try query(call, "limit", default: 20, in: 1...100)
        let minimumTrust = try query(call, "min_trust", default: 0, in: 0...Int(Int32.max))
        let matches = agents.values.filter { agent in
            // Every sandbox agent has trust level 0.
            guard !agent.deactivated, minimumTrust == 0 else { return false }
            if let category, agent.category.lowercased() != category { return false }
            return text.isEmpty
                || [agent.handle, agent.displayName, agent.description, agent.category].contains {
                    $0.lowercased().contains(text)
                }
        }
        let sorted = matches.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.prefix(limit)
        return .json(200, ["results": .array(sorted.map { .object(card($0)) })])
    }
}
