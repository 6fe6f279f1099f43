public import Foundation
internal import GRDB
internal import Secrets

/// Sessions with their expiry, recurring jobs, durable waits and escalations.
extension Journal {
    /// `deferred`: with the next transaction (``Journal/flush()``); a crash before then only means the next
    /// tick learns the expiry again.
    public func recordSession(
        account: String, session: String, expiresAt: Date, renewedAt: Date? = nil, deferred: Bool = false
    )
        throws(JournalError)
    {
        let expires = expiresAt.journalText
        let renewed = renewedAt?.journalText
        let operation: @Sendable (Database) throws -> Void = { db in
            try db.cachedExecute(
                sql: """
                    INSERT INTO sessions (account, session, expires_at, last_renewed_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(account, session) DO UPDATE SET expires_at = excluded.expires_at,
                      last_renewed_at = COALESCE(excluded.last_renewed_at, sessions.last_renewed_at)
                    """, arguments: [account, session, expires, renewed])
        }
        if deferred { writeLater(operation) } else { try write(operation) }
    }

    /// Soonest to expire first.
    public func sessions() throws(JournalError) -> [SessionRecord] {
        try read { db in
            try Row.fetchAll(cached: db, sql: "SELECT * FROM sessions ORDER BY expires_at").map(
                SessionRecord.init(row:))
        }
    }

    /// `deferred`: with the next transaction (``Journal/flush()``), for a source's next poll, which a crash
    /// before then only brings forward (what it polls again is recognised). Not for a schedule's fire.
    public func recordSchedule(
        _ jobKey: String, nextDue: Date?, lastFired: Date? = nil, deferred: Bool = false
    ) throws(JournalError) {
        let due = nextDue?.journalText
        let fired = lastFired?.journalText
        let operation: @Sendable (Database) throws -> Void = { db in
            try db.cachedExecute(
                sql: """
                    INSERT INTO schedules (job_key, next_due, last_fired) VALUES (?, ?, ?)
                    ON CONFLICT(job_key) DO UPDATE SET next_due = excluded.next_due,
                      last_fired = COALESCE(excluded.last_fired, schedules.last_fired)
                    """, arguments: [jobKey, due, fired])
        }
        if deferred { writeLater(operation) } else { try write(operation) }
    }

    /// Soonest due first; jobs with no due time last.
    public func schedules() throws(JournalError) -> [ScheduleRecord] {
        try read { db in
            try Row.fetchAll(cached: db, sql: "SELECT * FROM schedules ORDER BY next_due IS NULL, next_due, job_key")
                .map(ScheduleRecord.init(row:))
        }
    }

    public func createWait(
        run: Int64, stepID: String?, matcher: String, deadline: Date
    ) throws(JournalError)
        -> WaitRecord
    {
        try write { db in
            try db.cachedExecute(
                sql: "INSERT INTO waits (run_id, step_id, matcher, deadline) VALUES (?, ?, ?, ?)",
                arguments: [run, stepID, Redactor.shared.redact(matcher), deadline.journalText])
            return WaitRecord(
                id: db.lastInsertedRowID, runID: run, stepID: stepID, matcher: matcher, deadline: deadline,
                resolvedAt: nil, resolution: nil)
        }
    }

    /// Resolves a wait once; false when it was already resolved (a message and the deadline raced).
    @discardableResult
    public func resolveWait(_ id: Int64, resolution: String, now: Date = Date()) throws(JournalError) -> Bool {
        try write { db in
            try db.cachedExecute(
                sql: "UPDATE waits SET resolved_at = ?, resolution = ? WHERE id = ? AND resolved_at IS NULL",
                arguments: [now.journalText, Redactor.shared.redact(resolution), id])
            return db.changesCount == 1
        }
    }

    /// Unresolved waits, soonest deadline first.
    public func openWaits() throws(JournalError) -> [WaitRecord] {
        try readIndependently { db in
            try Row.fetchAll(cached: db, sql: "SELECT * FROM waits WHERE resolved_at IS NULL ORDER BY deadline")
                .map(WaitRecord.init(row:))
        }
    }

    public func recordEscalation(
        subject: String, code: String?, message: String, now: Date = Date()
    )
        throws(JournalError) -> EscalationRecord
    {
        try write { db in
            try db.cachedExecute(
                sql: "INSERT INTO escalations (subject, code, message, created_at) VALUES (?, ?, ?, ?)",
                arguments: [subject, code, Redactor.shared.redact(message), now.journalText])
            return EscalationRecord(
                id: db.lastInsertedRowID, subject: subject, code: code, message: message, createdAt: now, sentAt: nil,
                resolvedAt: nil, resolvedBy: nil)
        }
    }

    public func markEscalationSent(_ id: Int64, now: Date = Date()) throws(JournalError) {
        try write { db in
            try db.cachedExecute(
                sql: "UPDATE escalations SET sent_at = ? WHERE id = ?", arguments: [now.journalText, id])
        }
    }

    /// Whether an escalation about `subject` was delivered already.
    public func escalationSent(subject: String) throws(JournalError) -> Bool {
        try readIndependently { db in
            try Row.fetchOne(
                cached: db, sql: "SELECT 1 FROM escalations WHERE subject = ? AND sent_at IS NOT NULL LIMIT 1",
                arguments: [subject]) != nil
        }
    }

    public func openEscalations() throws(JournalError) -> [EscalationRecord] {
        try read { db in
            try Row.fetchAll(cached: db, sql: "SELECT * FROM escalations WHERE resolved_at IS NULL ORDER BY id")
                .map(EscalationRecord.init(row:))
        }
    }

    static func closeEscalations(_ db: Database, subject: String, by operator: String, now: Date) throws {
        try db.cachedExecute(
            sql: "UPDATE escalations SET resolved_at = ?, resolved_by = ? WHERE subject = ? AND resolved_at IS NULL",
            arguments: [now.journalText, `operator`, subject])
    }
}
