public import Foundation

/// One execution of a handler for one trigger.
public struct RunRecord: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case running, waiting, succeeded, failed, cancelled

        /// The run is over; it has a finish time.
        public var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }
    }

    public var id: Int64
    public var triggerKind: String
    public var triggerRef: String?
    public var workflow: String
    public var handler: String?
    public var status: Status
    public var startedAt: Date
    public var finishedAt: Date?
    public var definitionHash: String?
}

/// One attempt at one step of a run.
public struct StepRecord: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable, CaseIterable { case running, waiting, succeeded, failed, skipped }

    public var id: Int64
    public var runID: Int64
    public var stepID: String?
    public var position: Int
    public var attempt: Int
    public var status: Status
    public var outputJSON: String?
    public var errorCode: String?
    public var errorMessage: String?
    public var startedAt: Date
    public var finishedAt: Date?
}

/// One effect a run means to have; the unit of idempotency and of the strike count.
public struct IntentRecord: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Journaled, effect under way (or interrupted: a pending intent found by a later tick was in flight).
        case pending
        case sent
        /// The last attempt failed; strikes remain.
        case failed
        /// Out of strikes: nothing more happens until an operator resolves it.
        case blocked
        /// The effect may or may not have happened (a timeout, a crash) and could not be reconciled.
        case unknown
    }

    public var id: Int64
    public var key: String
    public var runID: Int64?
    public var stepID: String?
    public var target: String
    public var payloadDigest: String
    public var status: Status
    public var attempts: Int
    public var strikes: Int
    public var maxStrikes: Int
    public var lastErrorCode: String?
    public var lastErrorMessage: String?
    public var createdAt: Date
    public var updatedAt: Date
}

/// A message as it arrived, stored before the source's cursor moves past it.
public struct InboxMessage: Sendable, Equatable, Codable {
    public var id: Int64
    public var account: String
    public var conversation: String
    public var messageID: String
    public var cursor: String?
    public var receivedAt: Date
    /// The message as JSON.
    public var payload: String
    public var handlingRunID: Int64?
}

/// A message to store, before it has an id.
public struct NewInboxMessage: Sendable, Equatable {
    public var account: String
    public var conversation: String
    public var messageID: String
    public var cursor: String?
    public var payload: String

    public init(account: String, conversation: String, messageID: String, cursor: String?, payload: String) {
        self.account = account
        self.conversation = conversation
        self.messageID = messageID
        self.cursor = cursor
        self.payload = payload
    }
}

/// How far a source has been read, and whether it is failing.
public struct Checkpoint: Sendable, Equatable, Codable {
    public var source: String
    public var cursor: String?
    public var ackState: String?
    public var consecutiveFailures: Int
    public var pausedAt: Date?
    public var lastErrorCode: String?
    public var lastErrorMessage: String?
    public var updatedAt: Date

    public var isPaused: Bool { pausedAt != nil }
}

/// A network session and when it expires (Nexus sessions slide; see nexus.md §5).
public struct SessionRecord: Sendable, Equatable, Codable {
    public var account: String
    public var session: String
    public var expiresAt: Date
    public var lastRenewedAt: Date?
}

/// A recurring job (a source's poll, a schedule) and when it is due.
public struct ScheduleRecord: Sendable, Equatable, Codable {
    public var jobKey: String
    public var nextDue: Date?
    public var lastFired: Date?
}

/// A run suspended until a matching message arrives or its deadline passes.
public struct WaitRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var runID: Int64
    public var stepID: String?
    /// What resolves the wait, as JSON (the engine's matcher).
    public var matcher: String
    public var deadline: Date
    public var resolvedAt: Date?
    public var resolution: String?
}

/// An escalation to a human: what it was about, when it went out, who resolved it.
public struct EscalationRecord: Sendable, Equatable, Codable {
    public var id: Int64
    /// `intent:KEY` or `source:NAME`.
    public var subject: String
    public var code: String?
    public var message: String
    public var createdAt: Date
    public var sentAt: Date?
    public var resolvedAt: Date?
    public var resolvedBy: String?
}

/// Who may write: the one-writer rule across ticks and daemons.
public struct LeaseRecord: Sendable, Equatable, Codable {
    public var name: String
    public var holder: String
    public var acquiredAt: Date
    public var expiresAt: Date
}
