internal import Foundation
internal import Workflow

/// The offline queue: opaque envelopes per recipient, fetched until acknowledged (transmissionbot.md §5.5, §6.2).
extension TransmissionBotSandbox {
    /// Message ids one acknowledgement may name.
    static let maximumAcknowledgedIDs = 1_000

    /// `POST /v1/messages/send` `{"recipient_agent_id", "payload_type": "direct", "envelope"}`: the sender needs a
    /// connected contact; the envelope, standard padded base64, is kept as sent and never parsed.
    func send(_ call: Call, _ sender: String) throws(SandboxResponse) -> SandboxResponse {
        let body = try object(call)
        let recipient = try string(body, "recipient_agent_id")!
        guard try string(body, "payload_type")! == "direct" else { throw Self.invalid("payload_type must be direct") }
        let envelope = try string(body, "envelope", maximumLength: storedOptions.maximumBodyBytes)!
        guard !envelope.isEmpty else { throw Self.invalid("envelope must not be empty") }
        guard envelope.utf8.count.isMultiple(of: 4), let decoded = Data(base64Encoded: envelope) else {
            throw Self.invalid("envelope must be standard base64 with = padding")
        }
        guard decoded.count <= storedOptions.maximumEnvelopeBytes else {
            throw Self.failure(status: 413, "envelope is larger than \(storedOptions.maximumEnvelopeBytes) bytes")
        }
        var agent = try activeAgent(recipient)
        guard relationships[Pair(sender, recipient)]?.state == .connected else {
            throw Self.failure(status: 403, "sending needs a connected contact with the recipient")
        }
        guard agent.queue.count < storedOptions.maximumQueuedMessages else {
            var full = Self.failure(
                status: 429, "the recipient's queue holds \(storedOptions.maximumQueuedMessages) messages, its limit")
            full.headers["retry-after"] = "60"
            throw full
        }
        let bytes = envelope.utf8.count
        guard storedEnvelopeBytes + bytes <= storedOptions.maximumStoredEnvelopeBytes else {
            throw Self.failure(status: 503, "the sandbox's queues are full")
        }
        let message = QueuedMessage(
            id: ids.uuid(at: call.now), sender: sender, envelope: envelope, bytes: bytes, createdAt: call.now)
        agent.queue.append(message)
        agents[recipient] = agent
        storedEnvelopeBytes += bytes
        return .json(
            201,
            ["message_id": .string(message.id), "status": "queued", "created_at": Self.timestamp(message.createdAt)])
    }

    /// `GET /v1/messages/offline?limit=`: the oldest unacknowledged messages (100 unless asked, at most 500). A
    /// fetch removes nothing.
    func offline(_ call: Call, _ id: String) throws(SandboxResponse) -> SandboxResponse {
        let limit = try query(call, "limit", default: 100, in: 1...500)
        let queue = agents[id]?.queue ?? []
        let messages = queue.prefix(limit).map { message -> Value in
            var item: [String: Value] = [
                "message_id": .string(message.id), "payload_type": "direct", "envelope": .string(message.envelope),
                "created_at": Self.timestamp(message.createdAt),
            ]
            if storedOptions.includeSenderID { item["sender_agent_id"] = .string(message.sender) }
            return .object(item)
        }
        return .json(200, ["messages": .array(messages), "has_more": .bool(queue.count > limit)])
    }

    /// `POST /v1/messages/ack` `{"message_ids": […]}`: deletes those in the caller's queue; ids that are not (any
    /// more) are ignored, so acknowledging twice is harmless.
    func acknowledge(_ call: Call, _ id: String) throws(SandboxResponse) -> SandboxResponse {
        guard case .array(let items)? = try object(call)["message_ids"] else {
            throw Self.invalid("message_ids must be an array of message ids")
        }
        guard items.count <= Self.maximumAcknowledgedIDs else {
            throw Self.invalid("message_ids takes at most \(Self.maximumAcknowledgedIDs) ids")
        }
        var acknowledged = Set<String>()
        for item in items {
            guard case .string(let messageID) = item else { throw Self.invalid("message_ids must hold strings") }
            acknowledged.insert(messageID)
        }
        guard var agent = agents[id] else { throw Self.failure(status: 404, "no such agent") }
        let before = agent.queue.count
        let removedBytes = agent.queue.filter { acknowledged.contains($0.id) }.reduce(0) { $0 + $1.bytes }
        agent.queue.removeAll { acknowledged.contains($0.id) }
        storedEnvelopeBytes -= removedBytes
        agents[id] = agent
        return .json(200, ["acknowledged": .number(Double(before - agent.queue.count))])
    }
}
