public import Foundation
public import Nexus
public import Transport
public import Workflow

/// ``Messenger`` for a NexusMessaging account. The agent's own messages and the server's `system` messages
/// are skipped (the cursor still moves past them); a poll that finds the agent no longer a member joins
/// again once (nexus.md §8's auto-recovery).
public struct NexusMessenger: Messenger {
    public let account: String
    let client: NexusClient

    public init(account: String, client: NexusClient) {
        self.account = account
        self.client = client
    }

    public func poll(_ source: Target, after cursor: String?) async throws(NetworkError) -> PollBatch {
        guard let session = source.id else { return PollBatch(messages: [], cursor: cursor) }
        let result: PollResult
        do {
            result = try await client.poll(session: session, after: cursor.map(Cursor.init))
        } catch  where ["agent_not_in_session", "forbidden"].contains(error.code) {
            _ = try? await client.join(session: session)
            result = try await client.poll(session: session, after: cursor.map(Cursor.init))
        }
        let messages = result.messages.filter { !$0.isSystem && $0.agentId != client.agentID }.map {
            InboundMessage(
                id: $0.id, conversation: source.description, sender: $0.agentId, text: $0.text, json: $0.json,
                cursor: $0.cursor.value, verified: $0.verified)
        }
        return PollBatch(messages: messages, cursor: result.resumeCursor?.value ?? cursor)
    }

    /// Nexus keeps no read state on the server: the journaled cursor is the acknowledgement.
    public func acknowledge(_ source: Target, through cursor: String?) async throws(NetworkError) {}

    public func send(text: String, json: Value?, to target: Target) async throws(NetworkError) -> String? {
        guard target.kind == .session, let session = target.id else {
            throw NetworkError(
                network: "nexus", code: "invalid_target", message: "nexus sends to sessions, not \(target)",
                isTransient: false)
        }
        do {
            return try await client.send(session: session, text: text, json: json).id
        } catch  where error.code == "forbidden" {
            // Not a member of the session it sends to (nexus.md §8's recovery): join, then send once.
            _ = try await client.join(session: session)
            return try await client.send(session: session, text: text, json: json).id
        }
    }

    /// Renews when less than max(3 × poll interval, 2 min) remains (DESIGN.md §5), or when the expiry is not
    /// known yet.
    public func maintain(
        _ source: Target, knownExpiry: Date?, pollInterval: TimeInterval, now: Date
    )
        async throws(NetworkError) -> SessionExpiry?
    {
        guard source.kind == .session, let session = source.id else { return nil }
        let margin = max(3 * pollInterval, 120)
        if let knownExpiry, knownExpiry.timeIntervalSince(now) > margin { return nil }
        let renewed = try await client.renew(session: session)
        return renewed.expiresAt.map { SessionExpiry(session: session, expiresAt: $0, renewed: true) }
    }

    /// Looks for our own message with the same text among those the session still holds.
    public func reconcile(digest: String, to target: Target, since: Date) async throws(NetworkError) -> Bool? {
        guard target.kind == .session, let session = target.id else { return nil }
        let held = try await client.poll(session: session)
        return held.messages.contains {
            $0.agentId == client.agentID && PayloadDigest.of($0.text, json: $0.json) == digest
        }
    }
}
