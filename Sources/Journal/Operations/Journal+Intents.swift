public import Foundation
internal import GRDB
internal import Secrets
internal import Synchronization

/// Intents: journal before effect, outcome after, at most `maxStrikes` attempts, then blocked.
extension Journal {
    /// What the engine may do with an intent, decided and journaled before any effect.
    public enum AttemptDecision: Sendable, Equatable {
        /// Go ahead: this attempt is journaled (pending, attempts counted).
        case attempt(IntentRecord)
        /// The journal shows it sent; sending again would repeat it.
        case alreadySent(IntentRecord)
        /// Out of strikes; an operator must resolve it first.
        case blocked(IntentRecord)
        /// An earlier attempt's outcome is not known: it was interrupted before the outcome was written
        /// (`pending`), or the network left it open (`unknown`). Reconcile with the network, then call
        /// ``Journal/reconcile(intent:sent:now:)``; never resend blindly.
        case interrupted(IntentRecord)
    }

    public enum Outcome: Sendable, Equatable {
        case sent
        /// The network's exact code and message.
        case failed(code: String, message: String)
        /// The effect may have happened (a timeout after the request went out): counted, never repeated blindly.
        case unknown(code: String, message: String)
    }

    /// Journal before effect: records the attempt and says whether to make it.
    public func beginAttempt(
        key: String, run: Int64?, stepID: String?, target: String, payloadDigest: String, maxStrikes: Int = 2,
        now: Date = Date()
    ) throws(JournalError) -> AttemptDecision {
        let handle = run.map(RunHandle.init(id:))
        return try write { db in
            try Self.attempt(
                db, key: key, run: handle, stepID: stepID, target: target, payloadDigest: payloadDigest,
                maxStrikes: maxStrikes, now: now)
        }
    }

    /// ``beginAttempt(key:run:stepID:target:payloadDigest:maxStrikes:now:)`` as a busy tick makes it: committed
    /// together with the attempts other tasks begin at the same moment (one commit for them all, see
    /// ``writeTogether(_:)``), and with its run written first if that is still waiting.
    public func beginAttempt(
        key: String, runHandle: RunHandle?, stepID: String?, target: String, payloadDigest: String,
        maxStrikes: Int = 2, now: Date = Date()
    ) async throws(JournalError) -> AttemptDecision {
        try await writeTogether { db in
            try Self.attempt(
                db, key: key, run: runHandle, stepID: stepID, target: target, payloadDigest: payloadDigest,
                maxStrikes: maxStrikes, now: now)
        }
    }

    private static func attempt(
        _ db: Database, key: String, run runHandle: RunHandle?, stepID: String?, target: String,
        payloadDigest: String, maxStrikes: Int, now: Date
    ) throws -> AttemptDecision {
        let run = runHandle?.storage.withLock { $0 }
        guard let row = try Row.fetchOne(cached: db, sql: "SELECT * FROM intents WHERE key = ?", arguments: [key])
        else {
            let stamp = now.journalText
            try db.cachedExecute(
                sql: """
                    INSERT INTO intents (key, run_id, step_id, target, payload_digest, status, attempts, strikes,
                      max_strikes, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, 'pending', 1, 0, ?, ?, ?)
                    """,
                arguments: [key, run, stepID, target, payloadDigest, maxStrikes, stamp, stamp])
            // The row just written, without reading it back (its dates as a read would give them).
            let created = Date.fromDatabaseValue(stamp.databaseValue) ?? now
            return .attempt(
                IntentRecord(
                    id: db.lastInsertedRowID, key: key, runID: run, stepID: stepID, target: target,
                    payloadDigest: payloadDigest, status: .pending, attempts: 1, strikes: 0, maxStrikes: maxStrikes,
                    lastErrorCode: nil, lastErrorMessage: nil, createdAt: created, updatedAt: created))
        }
        let intent = IntentRecord(row: row)
        switch intent.status {
        case .sent: return .alreadySent(intent)
        case .blocked: return .blocked(intent)
        case .pending, .unknown: return .interrupted(intent)
        case .failed:
            guard intent.strikes < intent.maxStrikes else { return .blocked(intent) }
            // The run making this attempt owns the intent now (resolving it re-runs that run's messages).
            try db.cachedExecute(
                sql: """
                    UPDATE intents SET status = 'pending', attempts = attempts + 1, run_id = COALESCE(?, run_id),
                      updated_at = ? WHERE key = ?
                    """,
                arguments: [run, now.journalText, key])
            return .attempt(try Self.intent(db, key: key))
        }
    }

    /// Records how the attempt in flight ended. A failure or an unknown outcome is a strike; the last strike
    /// blocks the intent (the engine then escalates). Only a `pending` intent takes an outcome: a late or
    /// repeated outcome (a tick that lost its lease during a slow call) is refused with `.conflict`.
    @discardableResult
    public func recordOutcome(
        _ outcome: Outcome, forIntent key: String, now: Date = Date()
    ) throws(JournalError)
        -> IntentRecord
    {
        try write { db in
            switch outcome {
            case .sent:
                try db.cachedExecute(
                    sql: """
                        UPDATE intents SET status = 'sent', last_error_code = NULL, last_error_message = NULL, updated_at = ?
                        WHERE key = ? AND status = 'pending'
                        """, arguments: [now.journalText, key])
            case .failed(let code, let message), .unknown(let code, let message):
                let status = if case .failed = outcome { "failed" } else { "unknown" }
                try db.cachedExecute(
                    sql: """
                        UPDATE intents SET strikes = strikes + 1,
                          status = CASE WHEN strikes + 1 >= max_strikes THEN 'blocked' ELSE ? END,
                          last_error_code = ?, last_error_message = ?, updated_at = ?
                        WHERE key = ? AND status = 'pending'
                        """, arguments: [status, code, Redactor.shared.redact(message), now.journalText, key])
            }
            guard db.changesCount == 1 else { throw try Self.notInFlight(db, key: key, path: path) }
            return try Self.intent(db, key: key)
        }
    }

    /// Records that the attempt in flight was sent, with the next transaction (``Journal/flush()``). A crash
    /// before then leaves the intent pending, which the next tick reconciles with the network like any
    /// interrupted attempt: nothing is sent twice. A late outcome (the intent no longer pending) changes nothing.
    public func recordSentLater(intent key: String, now: Date = Date()) {
        let stamp = now.journalText
        writeLater { db in
            try db.cachedExecute(
                sql: """
                    UPDATE intents SET status = 'sent', last_error_code = NULL, last_error_message = NULL, updated_at = ?
                    WHERE key = ? AND status = 'pending'
                    """, arguments: [stamp, key])
        }
    }

    /// What reconciling an interrupted or unknown intent with the network found. `sent: true` closes it as
    /// sent; `sent: false` makes it eligible for another attempt (the strike an unknown outcome cost stays,
    /// and its error stays visible).
    @discardableResult
    public func reconcile(intent key: String, sent: Bool, now: Date = Date()) throws(JournalError) -> IntentRecord {
        try write { db in
            try db.cachedExecute(
                sql: """
                    UPDATE intents SET status = CASE WHEN ? THEN 'sent'
                        WHEN strikes >= max_strikes THEN 'blocked' ELSE 'failed' END, updated_at = ?
                    WHERE key = ? AND status IN ('pending', 'unknown')
                    """, arguments: [sent, now.journalText, key])
            guard db.changesCount == 1 else { throw try Self.notInFlight(db, key: key, path: path) }
            return try Self.intent(db, key: key)
        }
    }

    static func notInFlight(_ db: Database, key: String, path: String) throws -> JournalError {
        guard let row = try Row.fetchOne(cached: db, sql: "SELECT status FROM intents WHERE key = ?", arguments: [key])
        else {
            return JournalError(.notFound, path: path, "no intent '\(key)'", hint: "begin the attempt first")
        }
        return JournalError(
            .conflict, path: path, "intent '\(key)' is \(row["status"] as String), not in flight",
            hint: "another tick may have settled it; read it again before acting")
    }

    public func intent(key: String) throws(JournalError) -> IntentRecord? {
        try read { db in
            try Row.fetchOne(cached: db, sql: "SELECT * FROM intents WHERE key = ?", arguments: [key]).map(
                IntentRecord.init(row:))
        }
    }

    /// Intents whose outcome is not known: left in flight by a crash, or unknown after a timeout.
    public func interruptedIntents() throws(JournalError) -> [IntentRecord] {
        try intents(where: "status IN ('pending', 'unknown') AND status <> 'sent'")
    }

    public func blockedIntents() throws(JournalError) -> [IntentRecord] {
        try intents(where: "status = 'blocked' AND status <> 'sent'")
    }

    /// Intents that have used strikes and are not done: what `status` shows as strikes.
    public func struckIntents() throws(JournalError) -> [IntentRecord] {
        try intents(where: "strikes > 0 AND status <> 'sent'")
    }

    /// An operator's decision on a blocked intent: its strikes start over, its open escalations close, and
    /// the messages its run handled become unhandled again, so the next tick runs them once more (what was
    /// sent is not sent twice). Only a blocked intent can be resolved; resolving a sent or in-flight one would
    /// invite a second send.
    @discardableResult
    public func resolveIntent(
        _ idOrKey: String, by operator: String, now: Date = Date()
    ) throws(JournalError)
        -> IntentRecord
    {
        try write { db in
            let row =
                if let id = Int64(idOrKey) {
                    try Row.fetchOne(cached: db, sql: "SELECT * FROM intents WHERE id = ?", arguments: [id])
                } else {
                    try Row.fetchOne(cached: db, sql: "SELECT * FROM intents WHERE key = ?", arguments: [idOrKey])
                }
            guard let row else {
                throw JournalError(
                    .notFound, path: path, "no intent '\(idOrKey)'", hint: "`switchboard status` lists blocked intents")
            }
            let intent = IntentRecord(row: row)
            guard intent.status == .blocked else {
                throw JournalError(
                    .conflict, path: path, "intent \(intent.id) is \(intent.status.rawValue), not blocked",
                    hint: "only blocked intents wait for an operator; `switchboard status` lists them")
            }
            try db.cachedExecute(
                sql: "UPDATE intents SET status = 'failed', strikes = 0, updated_at = ? WHERE id = ?",
                arguments: [now.journalText, intent.id])
            if let run = intent.runID {
                try db.cachedExecute(
                    sql: "UPDATE inbox SET handling_run_id = NULL WHERE handling_run_id = ?", arguments: [run])
            }
            try Self.closeEscalations(db, subject: "intent:\(intent.key)", by: `operator`, now: now)
            return try Self.intent(db, key: intent.key)
        }
    }

    /// `condition` says `status <> 'sent'` when it can: the index by status holds unfinished intents only.
    private func intents(where condition: String) throws(JournalError) -> [IntentRecord] {
        try read { db in
            try Row.fetchAll(cached: db, sql: "SELECT * FROM intents WHERE \(condition) ORDER BY updated_at, id")
                .map(IntentRecord.init(row:))
        }
    }

    static func intent(_ db: Database, key: String) throws -> IntentRecord {
        IntentRecord(row: try Row.fetchOne(cached: db, sql: "SELECT * FROM intents WHERE key = ?", arguments: [key])!)
    }
}

extension Journal {
    /// Journals many intents at once (`batch` per transaction), as a tick that plans several effects does.
    public func recordIntents(_ keys: [String], target: String, batch: Int, now: Date = Date()) throws(JournalError) {
        guard batch > 0 else {
            throw JournalError(
                .invalidArgument, path: path, "batch must be at least 1", hint: "pass a batch size of 1 or more")
        }
        var start = 0
        while start < keys.count {
            let slice = keys[start..<min(keys.count, start + batch)]
            try write { db in
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO intents (key, target, payload_digest, status, attempts, created_at, updated_at)
                        VALUES (?, ?, '', 'pending', 1, ?, ?) ON CONFLICT(key) DO NOTHING
                        """)
                for key in slice { try insert.execute(arguments: [key, target, now.journalText, now.journalText]) }
            }
            start += batch
        }
    }
}
