public import Foundation
internal import GRDB
internal import Secrets

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
                    """, arguments: [trigger, reference, workflow, handler, now, definitionHash])
            return RunRecord(
                id: db.lastInsertedRowID, triggerKind: trigger, triggerRef: reference, workflow: workflow,
                handler: handler,
                status: .running, startedAt: now, finishedAt: nil, definitionHash: definitionHash)
        }
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
                    """, arguments: [run, stepID, position, attempt, now])
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
                    now, id,
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
    public func finishRun(
        _ id: Int64, status: RunRecord.Status, steps: [StepDraft], handled: [Int64], now: Date = Date()
    ) throws(JournalError) {
        try write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO steps (run_id, step_id, position, attempt, status, output_json, started_at, finished_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(run_id, position, attempt) DO UPDATE SET status = excluded.status,
                      output_json = excluded.output_json, finished_at = excluded.finished_at
                    """)
            for step in steps {
                try insert.execute(arguments: [
                    id, step.stepID, step.position, step.attempt, step.status.rawValue,
                    Redactor.shared.redact(step.outputJSON), step.startedAt, step.finishedAt,
                ])
            }
            try Self.setStatus(db, run: id, status, now: now)
            try Self.markHandled(db, handled, by: id)
        }
    }

    static func setStatus(_ db: Database, run id: Int64, _ status: RunRecord.Status, now: Date) throws {
        try db.cachedExecute(
            sql: "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
            arguments: [status.rawValue, status.isTerminal ? now : nil, id])
    }
}
