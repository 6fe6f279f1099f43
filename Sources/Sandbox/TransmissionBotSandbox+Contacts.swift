internal import Foundation
internal import Workflow

/// Contacts: requests, responses and the list (transmissionbot.md §5.6, §6.3).
extension TransmissionBotSandbox {
    /// `POST /v1/contacts/request` `{"target_agent_id", "message"}`: 201 `pending_outgoing`, or 200 `connected` when
    /// the target had already asked (mutual requests auto-accept).
    func requestContact(_ call: Call, _ id: String) throws(SandboxResponse) -> SandboxResponse {
        let body = try object(call)
        let target = try string(body, "target_agent_id")!
        let message = try string(body, "message", required: false, maximumLength: 1000) ?? ""
        guard target != id else { throw Self.invalid("an agent cannot ask itself to be a contact") }
        _ = try activeAgent(target)
        let pair = Pair(id, target)
        if var existing = relationships[pair] {
            switch existing.state {
            case .connected:
                throw Self.failure(status: 409, "already connected")
            case .blocked(let blocker) where blocker == id:
                // The blocker asking lifts its block: a fresh request.
                forgetRelationship(pair)
            case .pending where existing.requester != id:
                existing.state = .connected
                existing.updatedAt = call.now
                relationships[pair] = existing
                return .json(200, ["request_id": .string(existing.requestID), "status": "connected"])
            case .pending, .blocked:
                // The requester's own pending request, blocked or not (a block is never revealed).
                throw Self.failure(status: 409, "a request to this agent is already pending")
            }
        }
        let limit = storedOptions.maximumContactsPerAgent
        guard let agent = agents[id], agent.peers.count < limit, (agents[target]?.peers.count ?? 0) < limit else {
            throw Self.invalid("an agent has at most \(limit) contacts and requests")
        }
        let requestID = ids.uuid(at: call.now)
        relationships[pair] = Relationship(
            requestID: requestID, requester: id, message: message, state: .pending, createdAt: call.now,
            updatedAt: call.now, order: nextRelationshipOrder)
        nextRelationshipOrder += 1
        pairsByRequest[requestID] = pair
        agents[id]?.peers.insert(target)
        agents[target]?.peers.insert(id)
        return .json(201, ["request_id": .string(requestID), "status": "pending_outgoing"])
    }

    /// `POST /v1/contacts/respond` `{"request_id", "action": "accept" | "reject" | "block"}` on an incoming pending
    /// request. Rejecting removes the request on both sides, so the requester may ask again.
    func respondToContact(_ call: Call, _ id: String) throws(SandboxResponse) -> SandboxResponse {
        let body = try object(call)
        let requestID = try string(body, "request_id")!
        let action = try string(body, "action")!
        guard ["accept", "reject", "block"].contains(action) else {
            throw Self.invalid("action must be accept, reject or block")
        }
        guard let pair = pairsByRequest[requestID], pair.first == id || pair.second == id,
            var relationship = relationships[pair], relationship.requester != id
        else { throw Self.failure(status: 404, "no incoming contact request \(requestID)") }
        guard relationship.state == .pending else { throw Self.failure(status: 409, "the request was already handled") }
        switch action {
        case "accept": relationship.state = .connected
        case "block": relationship.state = .blocked(by: id)
        default:
            forgetRelationship(pair)
            return .json(200, ["request_id": .string(requestID), "status": "rejected"])
        }
        relationship.updatedAt = call.now
        relationships[pair] = relationship
        return .json(200, ["request_id": .string(requestID), "status": .string(relationship.state(for: id))])
    }

    /// `GET /v1/contacts?state=pending_incoming|pending_outgoing|connected|blocked`: `{"contacts": […]}`, oldest
    /// request first.
    func listContacts(_ call: Call, _ id: String) throws(SandboxResponse) -> SandboxResponse {
        let filter = call.request.query["state"]
        if let filter, !["pending_incoming", "pending_outgoing", "connected", "blocked"].contains(filter) {
            throw Self.invalid("state must be pending_incoming, pending_outgoing, connected or blocked")
        }
        let listed = (agents[id]?.peers ?? []).compactMap { peer -> (Relationship, String, String)? in
            guard let relationship = relationships[Pair(id, peer)] else { return nil }
            let state = relationship.state(for: id)
            return filter == nil || filter == state ? (relationship, peer, state) : nil
        }
        let contacts = listed.sorted { $0.0.order < $1.0.order }.map { relationship, peer, state -> Value in
            [
                "request_id": .string(relationship.requestID), "other_agent_id": .string(peer),
                "other_handle": .string(agents[peer]?.handle ?? ""), "message": .string(relationship.message),
                "state": .string(state), "created_at": Self.timestamp(relationship.createdAt),
                "updated_at": Self.timestamp(relationship.updatedAt),
            ]
        }
        return .json(200, ["contacts": .array(contacts)])
    }

    /// Removes a pair's relationship from both agents.
    func forgetRelationship(_ pair: Pair) {
        guard let relationship = relationships.removeValue(forKey: pair) else { return }
        pairsByRequest[relationship.requestID] = nil
        agents[pair.first]?.peers.remove(pair.second)
        agents[pair.second]?.peers.remove(pair.first)
    }
}
