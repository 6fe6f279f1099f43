public import Foundation
internal import GRDB
internal import Secrets

/// Sessions with their expiry, recurring jobs, durable waits and escalations.
extension Journal {
    public func recordSession(
        account: String, session: String, expiresAt: Date, renewedAt: Date? = nil
    )
        throws(JournalError)
    {
        try write { db in
            try db.cachedExecute(
                sql: """
                    INSERT INTO sessions (account, session, expires_at, last_renewed_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(account, session) DO UPDATE SET expires_at = excluded.expires_at,
                      last_renewed_at = COALESCE(excluded.last_renewed_at, sessions.last_renewed_at)
                    """, arguments: [account, session, expiresAt.journalText, renewedAt?.journalText])
        }
    }

    /// Soonest to expire first.
    public func sessions() throws(JournalError) -> [SessionRecord] {
        try readIndependently { db in
            try Row.fetchAll(cached: db, sql: "SELECT * FROM sessions ORDER BY expires_at").map(
                SessionRecord.init(row:))
        }
    }

    public func recordSchedule(_ jobKey: String, nextDue: Date?, lastFired: Date? = nil) throws(JournalError) {
        try write { db in
            try db.cachedExecute(
                sql: """
                    INSERT INTO schedules (job_key, next_due, last_fired) VALUES (?, ?, ?)
                    ON CONFLICT(job_key) DO UPDATE SET next_due = excluded.next_due,
                      last_fired = COALESCE(excluded.last_fired, schedules.last_fired)
                    """, arguments: [jobKey, nextDue?.journalText, lastFired?.journalText])
        }
    }

    /// Soonest due first; jobs with no due time last.
    public func schedules() throws(JournalError) -> [ScheduleRecord] {
        try readIndependently { db in
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
