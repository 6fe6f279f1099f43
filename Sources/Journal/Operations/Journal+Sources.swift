public import Foundation
internal import GRDB
internal import Secrets

/// The inbox and each source's checkpoint: a message is stored before the cursor moves past it.
extension Journal {
    public struct PollRecord: Sendable {
        /// Messages seen for the first time; re-deliveries are recognised and left out.
        public var new: [InboxMessage]
        public var checkpoint: Checkpoint
    }

    /// Stores a polled batch and advances the source's checkpoint in one transaction: both or neither. A
    /// successful poll also clears the source's failure count. A nil `cursor` or `ackState` keeps the stored
    /// one (a poll that brought nothing never moves a source back to the start).
    public func recordPoll(
        source: String, messages: [NewInboxMessage], cursor: String?, ackState: String? = nil, now: Date = Date()
    ) throws(JournalError) -> PollRecord {
        let batch = PolledBatch(source: source, messages: messages, cursor: cursor, ackState: ackState)
        return try write { db in try Self.store(batch, db, now: now) }
    }

    /// ``recordPoll(source:messages:cursor:ackState:now:)`` as soon as a poll answers, in a transaction shared
    /// with the other polls (and runs) that are waiting for one at the same moment (``writeTogether(_:)``): a
    /// tick's polls are journaled while the slower ones are still on the network.
    public func recordPollTogether(_ batch: PolledBatch, now: Date = Date()) async throws(JournalError) -> PollRecord {
        try await writeTogether { db in try Self.store(batch, db, now: now) }
    }

    /// One source's polled batch, for ``recordPollTogether(_:now:)``.
    public struct PolledBatch: Sendable {
        public var source: String
        public var messages: [NewInboxMessage]
        public var cursor: String?
        public var ackState: String?

        public init(source: String, messages: [NewInboxMessage], cursor: String?, ackState: String? = nil) {
            self.source = source
            self.messages = messages
            self.cursor = cursor
            self.ackState = ackState
        }
    }

    private static func store(_ batch: PolledBatch, _ db: Database, now: Date) throws -> PollRecord {
        let received = now.journalText
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO inbox (account, conversation, message_id, cursor, received_at, payload)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(account, conversation, message_id) DO NOTHING
                """)
        var new: [InboxMessage] = []
        for message in batch.messages {
            try insert.execute(arguments: [
                message.account, message.conversation, message.messageID, message.cursor, received,
                Redactor.shared.redact(message.payload),
            ])
            if db.changesCount == 1 {
                new.append(
                    InboxMessage(
                        id: db.lastInsertedRowID, account: message.account, conversation: message.conversation,
                        messageID: message.messageID, cursor: message.cursor, receivedAt: now,
                        payload: message.payload, handlingRunID: nil))
            }
        }
        try db.cachedExecute(
            sql: """
                INSERT INTO checkpoints (source, cursor, ack_state, consecutive_failures, updated_at)
                VALUES (?, ?, ?, 0, ?)
                ON CONFLICT(source) DO UPDATE SET cursor = COALESCE(excluded.cursor, checkpoints.cursor),
                  ack_state = COALESCE(excluded.ack_state, checkpoints.ack_state),
                  consecutive_failures = 0, last_error_code = NULL, last_error_message = NULL,
                  updated_at = excluded.updated_at
                """, arguments: [batch.source, batch.cursor, batch.ackState, received])
        return PollRecord(new: new, checkpoint: try checkpoint(db, source: batch.source)!)
    }

    /// Records that the network acknowledged up to here (TransmissionBot's ack, masumi's read mark).
    public func recordAck(source: String, ackState: String, now: Date = Date()) throws(JournalError) {
        try write { db in
            try db.cachedExecute(
                sql: "UPDATE checkpoints SET ack_state = ?, updated_at = ? WHERE source = ?",
                arguments: [ackState, now.journalText, source])
        }
    }

    /// A failed poll is a strike against the source; the last strike pauses it (the engine then escalates).
    @discardableResult
    public func recordPollFailure(
        source: String, code: String, message: String, maxStrikes: Int = 2, now: Date = Date()
    ) throws(JournalError) -> Checkpoint {
        try write { db in
            try db.cachedExecute(
                sql: """
                    INSERT INTO checkpoints (source, consecutive_failures, last_error_code, last_error_message, updated_at)
                    VALUES (?, 1, ?, ?, ?)
                    ON CONFLICT(source) DO UPDATE SET consecutive_failures = consecutive_failures + 1,
                      last_error_code = excluded.last_error_code, last_error_message = excluded.last_error_message,
                      updated_at = excluded.updated_at
                    """, arguments: [source, code, Redactor.shared.redact(message), now.journalText])
            try db.cachedExecute(
                sql:
                    "UPDATE checkpoints SET paused_at = ? WHERE source = ? AND paused_at IS NULL AND consecutive_failures >= ?",
                arguments: [now.journalText, source, maxStrikes])
            return try Self.checkpoint(db, source: source)!
        }
    }

    public func checkpoint(source: String) throws(JournalError) -> Checkpoint? {
        try read { db in try Self.checkpoint(db, source: source) }
    }

    public func checkpoints() throws(JournalError) -> [Checkpoint] {
        try readIndependently { db in
            try Row.fetchAll(cached: db, sql: "SELECT * FROM checkpoints ORDER BY source").map(Checkpoint.init(row:))
        }
    }

    public func pausedSources() throws(JournalError) -> [Checkpoint] {
        try read { db in
            try Row.fetchAll(cached: db, sql: "SELECT * FROM checkpoints WHERE paused_at IS NOT NULL ORDER BY source")
                .map(Checkpoint.init(row:))
        }
    }

    /// An operator's decision on a paused source: polling resumes and its open escalations close.
    @discardableResult
    public func resolveSource(
        _ source: String, by operator: String, now: Date = Date()
    ) throws(JournalError)
        -> Checkpoint
    {
        try write { db in
            try db.cachedExecute(
                sql:
                    "UPDATE checkpoints SET paused_at = NULL, consecutive_failures = 0, updated_at = ? WHERE source = ?",
                arguments: [now.journalText, source])
            guard db.changesCount == 1 else {
                throw JournalError(
                    .notFound, path: path, "no source '\(source)'", hint: "`switchboard status` lists paused sources")
            }
            try Self.closeEscalations(db, subject: "source:\(source)", by: `operator`, now: now)
            return try Self.checkpoint(db, source: source)!
        }
    }

    /// Messages no run has handled yet, oldest first.
    public func unhandledMessages(limit: Int = 1000) throws(JournalError) -> [InboxMessage] {
        try read { db in
            try Row.fetchAll(
                cached: db, sql: "SELECT * FROM inbox WHERE handling_run_id IS NULL ORDER BY id LIMIT ?",
                arguments: [limit]
            ).map(InboxMessage.init(row:))
        }
    }

    /// The latest messages of a conversation (up to inbox row `through`, when given), oldest first: the
    /// history a responder is given. Their `handlingRunID` may lag a run's deferred end.
    public func recentMessages(
        account: String, conversation: String, limit: Int = 10, through: Int64? = nil
    ) throws(JournalError)
        -> [InboxMessage]
    {
        try readIndependently { db in
            try Row.fetchAll(
                cached: db,
                sql: """
                    SELECT * FROM inbox WHERE account = ? AND conversation = ? AND id <= ? ORDER BY id DESC LIMIT ?
                    """,
                arguments: [account, conversation, through ?? .max, limit]
            ).map(InboxMessage.init(row:)).reversed()
        }
    }

    public func markHandled(_ messageIDs: [Int64], by run: Int64) throws(JournalError) {
        try write { db in try Self.markHandled(db, messageIDs, by: run) }
    }

    static func markHandled(_ db: Database, _ messageIDs: [Int64], by run: Int64) throws {
        let update = try db.cachedStatement(sql: "UPDATE inbox SET handling_run_id = ? WHERE id = ?")
        for id in messageIDs { try update.execute(arguments: [run, id]) }
    }

    static func checkpoint(_ db: Database, source: String) throws -> Checkpoint? {
        try Row.fetchOne(cached: db, sql: "SELECT * FROM checkpoints WHERE source = ?", arguments: [source]).map(
            Checkpoint.init(row:))
    }
}
