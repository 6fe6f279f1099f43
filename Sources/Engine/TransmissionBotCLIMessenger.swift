public import Foundation
internal import Secrets
public import TransmissionBot
public import Transport
public import Workflow

/// ``Messenger`` for a TransmissionBot account with `driver: cli`: the official CLI with `--state` (§9).
///
/// The CLI has no acknowledgement of its own: `receive` acknowledges whatever it returns, `receive --no-ack`
/// nothing. So a poll is `receive --no-ack` (fetch, then the engine journals), and acknowledging is `receive`,
/// whose answer may hold messages that arrived since the poll and are now acknowledged on the server but
/// not yet journaled: those are written to a spool file (atomically, synced) before anything else and come
/// first in the next poll. Contact requests are accepted from `accept-contacts-from` and surfaced otherwise,
/// as with the native driver; the CLI tops its prekeys up itself.
public struct TransmissionBotCLIMessenger: Messenger {
    public let account: String
    let cli: TBCLI
    let spool: String
    let acceptContactsFrom: Set<String>

    /// `spool`: a file of the workspace's (`.switchboard/tb-spool-ACCOUNT.json`).
    public init(account: String, cli: TBCLI, spool: String, acceptContactsFrom: [String] = []) {
        self.account = account
        self.cli = cli
        self.spool = spool
        self.acceptContactsFrom = Set(acceptContactsFrom.map { $0.lowercased() })
    }

    struct Spooled: Codable, Equatable {
        var id: String
        var from: String
        var text: String
        var decrypted: Bool
    }

    func readSpool() -> [Spooled] {
        guard let data = FileManager.default.contents(atPath: spool) else { return [] }
        return (try? JSONDecoder().decode([Spooled].self, from: data)) ?? []
    }

    func writeSpool(_ entries: [Spooled]) throws(NetworkError) {
        if entries.isEmpty, !FileManager.default.fileExists(atPath: spool) { return }
        do throws(SecretError) {
            let data = (try? JSONEncoder().encode(entries)) ?? Data("[]".utf8)
            try AtomicFile.write(data, to: spool, mode: 0o600)
        } catch {
            throw NetworkError(
                network: TBClient.network, code: "spool_unwritable", message: error.message, isTransient: false)
        }
    }

    static func spooled(_ message: TBCLI.Message) -> Spooled {
        Spooled(
            id: message.message_id, from: (message.from ?? "unknown").lowercased(),
            text: message.plaintext ?? message.error.map { "(could not decrypt: \($0))" } ?? "",
            decrypted: message.error == nil && message.plaintext != nil)
    }

    public func poll(_ source: Target, after cursor: String?) async throws(NetworkError) -> PollBatch {
        try TransmissionBotShared.requireInbox(source)
        var entries = readSpool()
        let received = try await cli.receive(acknowledge: false)
        for message in received.messages where !entries.contains(where: { $0.id == message.message_id }) {
            entries.append(Self.spooled(message))
        }
        var messages = entries.map {
            InboundMessage(
                id: $0.id, conversation: "\(account):agent/\($0.from)", sender: $0.from, text: $0.text,
                verified: $0.decrypted)
        }
        for request in received.contact_requests ?? [] {
            if acceptContactsFrom.contains(request.from.lowercased()) {
                try await cli.acceptContact(request.request_id)
                continue
            }
            messages.append(
                TransmissionBotShared.contactRequest(
                    account: account, id: request.request_id, from: request.from, handle: nil,
                    message: request.message))
        }
        return PollBatch(
            messages: messages, cursor: TransmissionBotShared.cursor(ids: entries.map(\.id), previous: cursor))
    }

    public func acknowledge(_ source: Target, through cursor: String?) async throws(NetworkError) {
        guard let ids = TransmissionBotShared.ids(in: cursor) else { return }
        let journaled = Set(ids)
        let answer = try await cli.receive(acknowledge: true)
        // Acknowledged by the CLI just now but never journaled: kept for the next poll, saved first.
        var entries = readSpool().filter { !journaled.contains($0.id) }
        for message in answer.messages
        where !journaled.contains(message.message_id) && !entries.contains(where: { $0.id == message.message_id }) {
            entries.append(Self.spooled(message))
        }
        try writeSpool(entries)
    }

    public func send(text: String, json: Value?, to target: Target) async throws(NetworkError) -> String? {
        let recipient = try TransmissionBotShared.recipient(target)
        return try await cli.send(text: Self.body(text: text, json: json), to: recipient).message_id
    }

    public func maintain(
        _ source: Target, knownExpiry: Date?, pollInterval: TimeInterval, now: Date
    ) async throws(NetworkError) -> SessionExpiry? { nil }

    public func reconcile(digest: String, to target: Target, since: Date) async throws(NetworkError) -> Bool? { nil }
}
