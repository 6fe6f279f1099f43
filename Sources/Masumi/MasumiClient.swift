public import Foundation
public import Transport

/// The commands the runner issues, as typed calls (masumi.md §6). Every id stays a string (§7.5: first-contact
/// thread ids do not fit in an Int64); `--agent` is always passed (§7.8); pages never exceed 25 (§7.6). The
/// forbidden commands (`thread delete`, key rotation, account creation, the TUI, interactive flags) have no
/// method here, so the runner cannot issue them.
public struct MasumiClient: Sendable {
    public var cli: MasumiCLI
    /// The agent slug every call acts as.
    public var agent: String

    public static let pageSize = 25

    public init(cli: MasumiCLI, agent: String) {
        self.cli = cli
        self.agent = agent
    }

    public struct Sender: Decodable, Sendable, Equatable {
        public var slug: String
    }

    public struct Message: Decodable, Sendable, Equatable {
        public var id: String
        public var threadSeq: String
        public var createdAt: String?
        public var sender: Sender
        public var text: String?
        public var decryptStatus: String?
        public var seq: Int { Int(threadSeq) ?? 0 }
    }

    public struct ThreadSummary: Decodable, Sendable {
        public var id: String
        public var kind: String?
        public var archived: Bool?
        public var unreadMessages: Int?
        public var participants: [String]?
        public var lastMessageSeq: String?
        public var lastMessageAt: String?
    }

    public struct ThreadList: Decodable, Sendable {
        public var hasNext: Bool
        public var nextAfterSortKey: String?
        public var threads: [ThreadSummary]
    }

    public struct ThreadHistory: Decodable, Sendable {
        public var lastReadThreadSeq: String?
        public var totalMessages: Int?
        public var hasNext: Bool?
        public var messages: [Message]
    }

    public struct ThreadCount: Decodable, Sendable {
        public var lastMessageSeq: String?
        public var messageCount: Int?
    }

    /// `thread send`/`start`/`reply`: `sent` false with `approvalRequired` is a first contact waiting for the
    /// peer's approval (§7.5).
    public struct SendResult: Decodable, Sendable {
        public var sent: Bool?
        public var approvalRequired: Bool?
        public var threadId: String?
        public var messageId: String?
        public var threadSeq: String?
        public var requestId: String?
    }

    public struct ChannelMessage: Decodable, Sendable {
        public var id: String
        public var channelSeq: String
        public var sender: String
        public var createdAt: String?
        public var text: String?
        public var seq: Int { Int(channelSeq) ?? 0 }
    }

    struct ChannelMessages: Decodable {
        var messages: [ChannelMessage]
    }

    public struct Approval: Decodable, Sendable {
        public var id: String
        public var threadId: String?
        public var direction: String
        public var status: String
        public var requester: Sender?
        public var target: Sender?
        public var createdAt: String?
    }

    struct Approvals: Decodable {
        var requests: [Approval]
    }

    // MARK: - Threads

    /// One page of `thread list --filter FILTER`, after `after` (the previous page's `nextAfterSortKey`).
    public func threads(filter: String, after: String?) async throws(NetworkError) -> ThreadList {
        var arguments = ["thread", "list", "--agent", agent, "--filter", filter, "--page-size", "25"]
        if let after { arguments += ["--after", after] }
        return try await cli.run(arguments, as: ThreadList.self)
    }

    /// `thread show ID --page P` (1 = the newest page; ascending by seq within it).
    public func history(thread: String, page: Int) async throws(NetworkError) -> ThreadHistory {
        try await cli.run(
            ["thread", "show", thread, "--agent", agent, "--page", String(page), "--page-size", "25"],
            as: ThreadHistory.self)
    }

    /// The thread's messages after seq `after` (or after the agent's read state when nil), oldest first,
    /// paging back from the newest end until they are all in; and the read state the CLI reported.
    public func messages(
        thread: String, after: Int?
    ) async throws(NetworkError) -> (
        messages: [Message], lastRead: Int
    ) {
        var collected: [Message] = []
        var page = 1
        var lastRead = 0
        while true {
            let history = try await history(thread: thread, page: page)
            if page == 1 { lastRead = Int(history.lastReadThreadSeq ?? "0") ?? 0 }
            let floor = after ?? lastRead
            collected += history.messages.filter { $0.seq > floor }
            let lowest = history.messages.map(\.seq).min() ?? 0
            guard history.hasNext == true, lowest > floor + 1, page < 10_000 else { break }
            page += 1
        }
        return (collected.sorted { $0.seq < $1.seq }, lastRead)
    }

    public func count(thread: String) async throws(NetworkError) -> ThreadCount {
        try await cli.run(["thread", "count", thread, "--agent", agent], as: ThreadCount.self)
    }

    /// `thread read ID --through-seq SEQ`, always with the highest seq actually processed (§7.2).
    public func markRead(thread: String, through seq: Int) async throws(NetworkError) {
        struct Read: Decodable { var throughSeq: String? }
        _ = try await cli.run(
            ["thread", "read", thread, "--agent", agent, "--through-seq", String(seq)], as: Read.self)
    }

    /// `thread reply ID -- TEXT` (after `--`, so a text starting with '-' is never read as an option).
    public func reply(thread: String, text: String) async throws(NetworkError) -> SendResult {
        try await cli.run(["thread", "reply", thread, "--agent", agent], trailing: [text], as: SendResult.self)
    }

    /// `thread send SLUG -- TEXT`: starts or continues the direct thread with that agent.
    public func send(toAgent slug: String, text: String) async throws(NetworkError) -> SendResult {
        try await cli.run(["thread", "send", slug, "--agent", agent], trailing: [text], as: SendResult.self)
    }

    /// First-contact requests and their state (resolved ones included, §6.2).
    public func approvals() async throws(NetworkError) -> [Approval] {
        try await cli.run(["thread", "approval", "list", "--agent", agent], as: Approvals.self).requests
    }

    /// Approves an incoming first-contact request (for rules that auto-accept from an allowlist); the status.
    public func approve(request id: String) async throws(NetworkError) -> String {
        struct Resolved: Decodable { var status: String }
        return try await cli.run(
            ["thread", "approval", "approve", "--request-id", id, "--agent", agent], as: Resolved.self
        ).status
    }

    // MARK: - Channels

    /// Authenticated channel history before `before` (nil: the newest), ascending, at most 25.
    public func channelMessages(_ slug: String, before: Int?) async throws(NetworkError) -> [ChannelMessage] {
        var arguments = ["channel", "messages", slug, "--agent", agent, "--authenticated", "--limit", "25"]
        if let before { arguments += ["--before-channel-seq", String(before)] }
        return try await cli.run(arguments, as: ChannelMessages.self).messages
    }

    public func sendChannel(_ slug: String, text: String) async throws(NetworkError) {
        struct Sent: Decodable { var status: String? }
        _ = try await cli.run(["channel", "send", slug, "--agent", agent], trailing: [text], as: Sent.self)
    }
}
