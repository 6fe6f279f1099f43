public import Foundation
public import Transport
public import Workflow

/// A message as the engine sees it, whatever network brought it.
public struct InboundMessage: Sendable, Equatable, Codable {
    /// The network's id for the message, unique within its conversation.
    public var id: String
    /// The conversation as a target (`nx:session/…`, `ms:thread/…`): where a reply goes.
    public var conversation: String
    public var sender: String
    public var text: String
    public var json: Value?
    /// The source's cursor after this message.
    public var cursor: String?
    public var verified: Bool

    public init(
        id: String, conversation: String, sender: String, text: String, json: Value? = nil, cursor: String? = nil,
        verified: Bool = false
    ) {
        self.id = id
        self.conversation = conversation
        self.sender = sender
        self.text = text
        self.json = json
        self.cursor = cursor
        self.verified = verified
    }
}

/// What one poll of a source brought, and where the source's cursor now stands.
public struct PollBatch: Sendable {
    public var messages: [InboundMessage]
    public var cursor: String?

    public init(messages: [InboundMessage], cursor: String?) {
        self.messages = messages
        self.cursor = cursor
    }
}

/// A network session's expiry, as a maintenance task learned or renewed it.
public struct SessionExpiry: Sendable {
    public var session: String
    public var expiresAt: Date
    public var renewed: Bool
}

/// The one way the engine reaches a network (DESIGN.md §6): poll, acknowledge, send, maintain, reconcile.
/// Dry runs implement it with fixtures, so no other code path can reach a network.
public protocol Messenger: Sendable {
    /// The account it speaks for.
    var account: String { get }

    /// New messages of a source after `cursor` (nil: from the start).
    func poll(_ source: Target, after cursor: String?) async throws(NetworkError) -> PollBatch

    /// Tells the network the messages up to `cursor` are safely journaled, where it keeps read state.
    func acknowledge(_ source: Target, through cursor: String?) async throws(NetworkError)

    /// Sends text (and JSON) to a target; returns the network's message id when it gives one.
    func send(text: String, json: Value?, to target: Target) async throws(NetworkError) -> String?

    /// Keeps a source alive (renews a Nexus session before its TTL runs out), given what the journal knows.
    func maintain(
        _ source: Target, knownExpiry: Date?, pollInterval: TimeInterval, now: Date
    ) async throws(NetworkError)
        -> SessionExpiry?

    /// Whether a message whose text has `digest` reached `target` since `since`: true, false, or nil when
    /// the network cannot tell (then the intent counts as delivered at least once, visibly).
    func reconcile(digest: String, to target: Target, since: Date) async throws(NetworkError) -> Bool?
}

/// A stable digest of a payload (BLAKE2b through libsodium, hex), for idempotency and reconciliation.
public enum PayloadDigest {
    public static func of(_ text: String, json: Value? = nil) -> String {
        Digest.blake2b(Array((text + "\u{0}" + (json.map { JSONText.encode($0) } ?? "")).utf8))
    }
}
