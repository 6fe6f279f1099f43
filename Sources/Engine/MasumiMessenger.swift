public import Foundation
public import Masumi
public import Transport
public import Workflow

/// ``Messenger`` for a masumi-agent-messenger account, through the official CLI (masumi.md §7).
///
/// - `ms:inbox` is a complete unread sweep: every page of `thread list --filter latest`, then each thread's
///   history paged back to its read state (`thread unread` alone sees only the 25 most recent threads).
/// - `ms:thread/ID` reads one thread after its cursor (the highest seq processed); `ms:channel/SLUG` reads a
///   channel's history after its cursor (the first poll takes the newest page).
/// - Acknowledging marks each thread read through the highest seq journaled, never the CLI's default.
/// - A first contact (`approvalRequired`) counts as sent: the message waits inside the contact request, and
///   sending it again would be refused (`CONTACT_REQUEST_PENDING`); the id returned is `request:ID`.
public struct MasumiMessenger: Messenger {
    public let account: String
    let client: MasumiClient

    public init(account: String, client: MasumiClient) {
        self.account = account
        self.client = client
    }

    /// Cursor of `ms:inbox`: the highest seq journaled per thread in the last batch, as JSON.
    typealias InboxCursor = [String: Int]

    public func poll(_ source: Target, after cursor: String?) async throws(NetworkError) -> PollBatch {
        switch source.kind {
        case .inbox: return try await sweep(after: cursor)
        case .thread:
            guard let thread = source.id else { break }
            let (messages, _) = try await client.messages(thread: thread, after: cursor.flatMap { Int($0) })
            let inbound = messages.filter { $0.sender.slug != client.agent }.map { inboundMessage($0, thread: thread) }
            return PollBatch(messages: inbound, cursor: messages.last.map { String($0.seq) } ?? cursor)
        case .channel:
            guard let slug = source.id else { break }
            return try await channel(slug, after: cursor.flatMap { Int($0) }, source: source)
        default: break
        }
        throw NetworkError(
            network: "masumi", code: "invalid_source", message: "masumi cannot poll \(source)", isTransient: false)
    }

    func inboundMessage(_ message: MasumiClient.Message, thread: String) -> InboundMessage {
        InboundMessage(
            id: message.id, conversation: "\(account):thread/\(thread)", sender: message.sender.slug,
            text: message.text ?? "", cursor: String(message.seq), verified: message.decryptStatus == "ok")
    }

    private func sweep(after cursor: String?) async throws(NetworkError) -> PollBatch {
        var threads: [MasumiClient.ThreadSummary] = []
        var after: String?
        repeat {
            let page = try await client.threads(filter: "latest", after: after)
            threads += page.threads
            after = page.hasNext ? page.nextAfterSortKey : nil
        } while after != nil
        var messages: [InboundMessage] = []
        var highest: InboxCursor = [:]
        for thread in threads where (thread.unreadMessages ?? 1) > 0 {
            let (found, _) = try await client.messages(thread: thread.id, after: nil)
            guard let last = found.last else { continue }
            highest[thread.id] = last.seq
            messages += found.filter { $0.sender.slug != client.agent }.map { inboundMessage($0, thread: thread.id) }
        }
        if highest.isEmpty { return PollBatch(messages: [], cursor: cursor) }
        let encoded = (try? JSONEncoder().encode(highest)).map { String(decoding: $0, as: UTF8.self) }
        return PollBatch(messages: messages, cursor: encoded)
    }

    private func channel(_ slug: String, after: Int?, source: Target) async throws(NetworkError) -> PollBatch {
        var collected: [MasumiClient.ChannelMessage] = []
        var before: Int?
        while true {
            let page = try await client.channelMessages(slug, before: before)
            collected += page.filter { after == nil || $0.seq > after! }
            guard let lowest = page.map(\.seq).min(), let after, lowest > after + 1, page.count == 25 else { break }
            before = lowest
        }
        collected.sort { $0.seq < $1.seq }
        let inbound = collected.filter { $0.sender != client.agent }.map {
            InboundMessage(
                id: $0.id, conversation: "\(account):channel/\(slug)", sender: $0.sender, text: $0.text ?? "",
                cursor: String($0.seq), verified: true)
        }
        return PollBatch(messages: inbound, cursor: collected.last.map { String($0.seq) } ?? after.map(String.init))
    }

    /// Marks threads read through the highest seq journaled. An old thread outside the CLI's 25-thread view
    /// may refuse (`THREAD_NOT_FOUND`, masumi.md §7.3): its messages are journaled already and the journal
    /// ignores them when they come again.
    public func acknowledge(_ source: Target, through cursor: String?) async throws(NetworkError) {
        guard let cursor else { return }
        switch source.kind {
        case .inbox:
            guard let marks = try? JSONDecoder().decode(InboxCursor.self, from: Data(cursor.utf8)) else { return }
            var failure: NetworkError?
            for (thread, seq) in marks.sorted(by: { $0.key < $1.key }) {
                do throws(NetworkError) {
                    try await client.markRead(thread: thread, through: seq)
                } catch {
                    failure = failure ?? error
                }
            }
            if let failure { throw failure }
        case .thread:
            guard let thread = source.id, let seq = Int(cursor) else { return }
            try await client.markRead(thread: thread, through: seq)
        default: return
        }
    }

    public func send(text: String, json: Value?, to target: Target) async throws(NetworkError) -> String? {
        let body = Self.body(text: text, json: json)
        switch (target.kind, target.id) {
        case (.thread, let thread?):
            return try await client.reply(thread: thread, text: body).messageId
        case (.agent, let slug?):
            let result = try await client.send(toAgent: slug, text: body)
            if result.approvalRequired == true { return result.requestId.map { "request:\($0)" } ?? "request" }
            return result.messageId
        case (.channel, let slug?):
            try await client.sendChannel(slug, text: body)
            return nil
        default:
            throw NetworkError(
                network: "masumi", code: "invalid_target", message: "masumi cannot send to \(target)",
                isTransient: false)
        }
    }

    public func maintain(
        _ source: Target, knownExpiry: Date?, pollInterval: TimeInterval, now: Date
    ) async throws(NetworkError) -> SessionExpiry? {
        nil
    }

    /// After a timeout code on a send (the write may be stored, §7.4): looks for our own message with the same
    /// text, sent since the attempt began, before any second attempt.
    public func reconcile(digest: String, to target: Target, since: Date) async throws(NetworkError) -> Bool? {
        let earliest = since.addingTimeInterval(-5)
        func recent(_ stamp: String?) -> Bool { stamp.flatMap(Timestamp.parse).map { $0 >= earliest } ?? true }
        switch (target.kind, target.id) {
        case (.thread, let thread?):
            return try await ownMessage(in: thread, digest: digest, recent: recent)
        case (.agent, let slug?):
            // A first contact waits in a contact request; otherwise the message is in the direct thread.
            let requests = try await client.approvals()
            if requests.contains(where: {
                $0.direction == "outgoing" && $0.target?.slug == slug && recent($0.createdAt)
            }) {
                return true
            }
            var after: String?
            repeat {
                let page = try await client.threads(filter: "all", after: after)
                for thread in page.threads
                where thread.kind == "direct" && Set(thread.participants ?? []) == Set([client.agent, slug]) {
                    if try await ownMessage(in: thread.id, digest: digest, recent: recent) { return true }
                }
                after = page.hasNext ? page.nextAfterSortKey : nil
            } while after != nil
            return false
        case (.channel, let slug?):
            let page = try await client.channelMessages(slug, before: nil)
            return page.contains {
                $0.sender == client.agent && recent($0.createdAt) && PayloadDigest.of($0.text ?? "") == digest
            }
        default:
            return nil
        }
    }

    private func ownMessage(
        in thread: String, digest: String, recent: (String?) -> Bool
    ) async throws(NetworkError) -> Bool {
        let history = try await client.history(thread: thread, page: 1)
        return history.messages.contains {
            $0.sender.slug == client.agent && recent($0.createdAt) && PayloadDigest.of($0.text ?? "") == digest
        }
    }
}
