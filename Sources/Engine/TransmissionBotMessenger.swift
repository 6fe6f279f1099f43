public import Foundation
public import TransmissionBot
public import Transport
public import Workflow

/// ``Messenger`` for a TransmissionBot account with the native driver (TBX-1, transmissionbot.md §2.1).
///
/// - `tb:inbox` takes the offline queue: each envelope opened, decrypted and saved with the state before the
///   batch returns; the batch's cursor is the message ids, which `acknowledge` acks once the engine has
///   journaled them (two-phase receive: fetch, journal, then ack), deleting the prekey secrets they consumed.
///   A message that cannot be decrypted arrives unverified with the reason as its text, so it is seen and
///   acknowledged rather than fetched forever.
/// - `tb:agent/ID-or-handle` encrypts (a first message fetches the peer's bundle: PQXDH), saves the ratchet,
///   then sends.
/// - Maintenance tops the server's prekey pools up when fewer than the threshold (5) remain.
/// - Contact requests from `accept-contacts-from` (handles or agent ids) are accepted as they come; any other
///   arrives with the inbox as an unverified message from its sender, id `contact-request:ID`, its text the
///   request's and `json.contact_request` its fields, for the rules to notify someone (nothing answers it).
public struct TransmissionBotMessenger: Messenger {
    public let account: String
    let client: TBClient
    let acceptContactsFrom: Set<String>

    public init(account: String, client: TBClient, acceptContactsFrom: [String] = []) {
        self.account = account
        self.client = client
        self.acceptContactsFrom = Set(acceptContactsFrom.map { $0.lowercased() })
    }

    public func poll(_ source: Target, after cursor: String?) async throws(NetworkError) -> PollBatch {
        try TransmissionBotShared.requireInbox(source)
        let received = try await client.receive()
        var messages = received.map {
            InboundMessage(
                id: $0.messageID, conversation: "\(account):agent/\($0.sender)", sender: $0.sender, text: $0.text,
                cursor: nil, verified: $0.decrypted)
        }
        for request in try await client.contacts(state: "pending_incoming") {
            guard let id = request.request_id else { continue }
            let names = [request.other_agent_id, request.other_handle].compactMap { $0?.lowercased() }
            if names.contains(where: acceptContactsFrom.contains) {
                _ = try await client.respond(toRequest: id, action: "accept")
                continue
            }
            messages.append(
                TransmissionBotShared.contactRequest(
                    account: account, id: id, from: request.other_agent_id, handle: request.other_handle,
                    message: request.message))
        }
        return PollBatch(
            messages: messages,
            cursor: TransmissionBotShared.cursor(ids: received.map(\.messageID), previous: cursor))
    }

    public func acknowledge(_ source: Target, through cursor: String?) async throws(NetworkError) {
        guard let ids = TransmissionBotShared.ids(in: cursor) else { return }
        try await client.acknowledgeReceived(ids)
    }

    public func send(text: String, json: Value?, to target: Target) async throws(NetworkError) -> String? {
        let recipient = try TransmissionBotShared.recipient(target)
        return try await client.send(text: Self.body(text: text, json: json), to: recipient).message_id
    }

    public func maintain(
        _ source: Target, knownExpiry: Date?, pollInterval: TimeInterval, now: Date
    ) async throws(NetworkError) -> SessionExpiry? {
        try await client.replenishPrekeys()
        return nil
    }

    /// The API has no outbox to look in: an unknown outcome stays "delivered at least once".
    public func reconcile(digest: String, to target: Target, since: Date) async throws(NetworkError) -> Bool? {
        nil
    }
}
