public import Foundation
internal import GRDB
internal import Secrets
internal import Synchronization

/// Runs and their steps.
extension Journal {
    public func beginRun(
        trigger: String, reference: String? = nil, workflow: String, handler: String?, definitionHash: String? = nil,
        now: Date = Date()
    ) throws(JournalError) -> RunRecord {
        try write { db in
            try db.cachedExecute(
                sql: """
                    INSERT INTO runs (trigger_kind, trigger_ref, workflow, handler, status, started_at, definition_hash)
                    VALUES (?, ?, ?, ?, 'running', ?, ?)
                    """, arguments: [trigger, reference, workflow, handler, now.journalText, definitionHash])
            return RunRecord(
                id: db.lastInsertedRowID, triggerKind: trigger, triggerRef: reference, workflow: workflow,
                handler: handler,
                status: .running, startedAt: now, finishedAt: nil, definitionHash: definitionHash)
        }
    }

    /// Starts a run whose row is written with the next transaction, usually its first intent's: a run that
    /// sends once costs one commit less. A crash before then leaves no trace of it; its message is still
    /// unhandled, and the next tick starts it again.
    public func beginRunLater(
        trigger: String, reference: String? = nil, workflow: String, handler: String?, now: Date = Date()
    ) -> RunHandle {
        let run = RunHandle()
        let stamp = now.journalText
        writeLater(
            { db in
                try db.cachedExecute(
                    sql: """
                        INSERT INTO runs (trigger_kind, trigger_ref, workflow, handler, status, started_at)
                        VALUES (?, ?, ?, ?, 'running', ?)
                        """, arguments: [trigger, reference, workflow, handler, stamp])
                run.storage.withLock { $0 = db.lastInsertedRowID }
            },
            // Rolled back with the transaction that carried it: waiting again, with no id.
            undo: { run.storage.withLock { $0 = nil } })
        return run
    }

    /// A run's id, writing the run first if it is still waiting.
    public func id(of run: RunHandle) throws(JournalError) -> Int64 {
        // A deferred run's id is set inside the transaction that writes its row (and cleared if that rolls
        // back): commit whatever waits, but leave another write's refusal for `flush()` to report.
        if run.storage.withLock({ $0 == nil }) || hasUncommittedDeferred { try write { _ in } }
        guard let id = run.storage.withLock({ $0 }) else {
            throw JournalError(
                .notFound, path: path, "the run was never written", hint: "a write before it failed; see the log")
        }
        return id
    }

    /// Sets a run's status; a terminal status also records when it finished.
    public func updateRun(_ id: Int64, status: RunRecord.Status, now: Date = Date()) throws(JournalError) {
        try write { db in
            try Self.setStatus(db, run: id, status, now: now)
            guard db.changesCount == 1 else {
                throw JournalError(
                    .notFound, path: path, "no run \(id)", hint: "`switchboard journal list` shows run ids")
            }
        }
    }

    public func beginStep(
        run: Int64, stepID: String?, position: Int, attempt: Int = 1, now: Date = Date()
    )
        throws(JournalError) -> StepRecord
    {
        try write { db in
            try db.cachedExecute(
                sql: """
                    INSERT INTO steps (run_id, step_id, position, attempt, status, started_at) VALUES (?, ?, ?, ?, 'running', ?)
                    """, arguments: [run, stepID, position, attempt, now.journalText])
            return StepRecord(
                id: db.lastInsertedRowID, runID: run, stepID: stepID, position: position, attempt: attempt,
                status: .running, outputJSON: nil, errorCode: nil, errorMessage: nil, startedAt: now, finishedAt: nil)
        }
    }

    public func finishStep(
        _ id: Int64, status: StepRecord.Status, outputJSON: String? = nil, errorCode: String? = nil,
        errorMessage: String? = nil, now: Date = Date()
    ) throws(JournalError) {
        try write { db in
            try db.cachedExecute(
                sql: """
                    UPDATE steps SET status = ?, output_json = ?, error_code = ?, error_message = ?, finished_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    status.rawValue, Redactor.shared.redact(outputJSON), errorCode,
                    Redactor.shared.redact(errorMessage),
                    now.journalText, id,
                ])
        }
    }

    /// Newest first.
    public func runs(limit: Int = 50, before id: Int64? = nil) throws(JournalError) -> [RunRecord] {
        try read { db in
            try Row.fetchAll(
                cached: db, sql: "SELECT * FROM runs WHERE id < ? ORDER BY id DESC LIMIT ?",
                arguments: [id ?? .max, limit]
            ).map(RunRecord.init(row:))
        }
    }

    public func run(_ id: Int64) throws(JournalError) -> RunRecord? {
        try read { db in
            try Row.fetchOne(cached: db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(
                RunRecord.init(row:))
        }
    }

    public func steps(ofRun id: Int64) throws(JournalError) -> [StepRecord] {
        try read { db in
            try Row.fetchAll(
                cached: db, sql: "SELECT * FROM steps WHERE run_id = ? ORDER BY position, attempt", arguments: [id]
            )
            .map(StepRecord.init(row:))
        }
    }

    public func intents(ofRun id: Int64) throws(JournalError) -> [IntentRecord] {
        try read { db in
            try Row.fetchAll(cached: db, sql: "SELECT * FROM intents WHERE run_id = ? ORDER BY id", arguments: [id])
                .map(IntentRecord.init(row:))
        }
    }
}

/// A step as the engine records it once the run has ended or paused.
public struct StepDraft: Sendable, Equatable {
    public var stepID: String?
    public var position: Int
    public var attempt: Int
    public var status: StepRecord.Status
    public var outputJSON: String?
    public var startedAt: Date
    public var finishedAt: Date

    public init(
        stepID: String?, position: Int, attempt: Int = 1, status: StepRecord.Status, outputJSON: String?,
        startedAt: Date,
        finishedAt: Date
    ) {
        self.stepID = stepID
        self.position = position
        self.attempt = attempt
        self.status = status
        self.outputJSON = outputJSON
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

extension Journal {
    /// Ends (or pauses) a run in one transaction: its steps, its status, and the messages it has handled.
    /// The effects themselves were journaled one by one, before and after each; this is the run's history.
    /// `deferred`: with the next transaction (``Journal/flush()``); a crash before then leaves the messages
    /// unhandled, and the next tick runs them again without repeating what was sent.
    public func finishRun(
        _ id: Int64, status: RunRecord.Status, steps: [StepDraft], handled: [Int64], now: Date = Date(),
        deferred: Bool = false
    ) throws(JournalError) {
        try finishRun(RunHandle(id: id), status: status, steps: steps, handled: handled, now: now, deferred: deferred)
    }

    /// ``finishRun(_:status:steps:handled:now:deferred:)`` for a run that may itself still be waiting to be
    /// written (it is written first, in the same transaction).
    public func finishRun(
        _ run: RunHandle, status: RunRecord.Status, steps: [StepDraft], handled: [Int64], now: Date = Date(),
        deferred: Bool = false
    ) throws(JournalError) {
        let steps = steps.map { step in
            (step, Redactor.shared.redact(step.outputJSON), step.startedAt.journalText, step.finishedAt.journalText)
        }
        let operation: @Sendable (Database) throws -> Void = { db in
            guard let id = run.storage.withLock({ $0 }) else { return }  // its start failed, and was reported
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO steps (run_id, step_id, position, attempt, status, output_json, started_at, finished_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(run_id, position, attempt) DO UPDATE SET status = excluded.status,
                      output_json = excluded.output_json, finished_at = excluded.finished_at
                    """)
            for (step, output, started, finished) in steps {
                try insert.execute(arguments: [
                    id, step.stepID, step.position, step.attempt, step.status.rawValue, output, started, finished,
                ])
            }
            try Self.setStatus(db, run: id, status, now: now)
            try Self.markHandled(db, handled, by: id)
        }
        if deferred {
            // All of it or none: a refused statement must not leave the run's other rows half-written.
            writeLater { db in try db.inCachedSavepoint { try operation(db) } }
        } else {
            try write(operation)
        }
    }

    static func setStatus(_ db: Database, run id: Int64, _ status: RunRecord.Status, now: Date) throws {
        try db.cachedExecute(
            sql: "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
            arguments: [status.rawValue, status.isTerminal ? now.journalText : nil, id])
    }
}

/// A run as the engine holds it: one read from the journal, or one started with
/// ``Journal/beginRunLater(trigger:reference:workflow:handler:now:)`` whose row is not written yet. Its id is
/// ``Journal/id(of:)``.
public final class RunHandle: Sendable {
    let storage: Mutex<Int64?>

    public init(id: Int64) {
        storage = Mutex(id)
    }

    init() {
        storage = Mutex(nil)
    }

    /// The id, or nil while the run waits to be written (for logs; ``Journal/id(of:)`` writes it first).
    public var writtenID: Int64? { storage.withLock { $0 } }
}
