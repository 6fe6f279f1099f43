public import Foundation
internal import GRDB

/// Keeping the file bounded and checking it.
extension Journal {
    public struct Sizes: Sendable, Equatable, Codable {
        /// Bytes of the database file and of its write-ahead log.
        public var file: Int
        public var wal: Int
    }

    public struct PruneReport: Sendable, Codable {
        public var cutoff: Date
        public var runs = 0
        public var intents = 0
        public var inbox = 0
        public var escalations = 0
        public var before: Sizes
        public var after: Sizes
    }

    public func sizes() -> Sizes { Self.sizes(path: path) }

    public static func sizes(path: String) -> Sizes {
        func size(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        }
        return Sizes(file: size(path), wal: size(path + "-wal"))
    }

    /// How many handled messages each conversation keeps whatever their age: a network that lists the
    /// latest messages again (masumi shows 25) finds them already in the inbox instead of new.
    public static let keptMessagesPerConversation = 50

    /// Deletes history older than `cutoff` in chunks of `chunk` rows per transaction, so a large prune never
    /// holds the write lock for long: handled inbox messages of finished runs (keeping each conversation's
    /// latest ``keptMessagesPerConversation``), sent intents of finished runs, finished runs that nothing
    /// left refers to (their steps and waits with them), resolved escalations. Intents with strikes (failed,
    /// unknown, blocked), paused sources, unhandled messages and running or waiting runs are kept whatever
    /// their age.
    public func prune(olderThan cutoff: Date, chunk: Int = 500) throws(JournalError) -> PruneReport {
        guard chunk > 0 else {
            throw JournalError(.invalidArgument, path: path, "chunk must be at least 1", hint: "pass 1 or more")
        }
        var report = PruneReport(cutoff: cutoff, before: sizes(), after: sizes())
        let finished = "SELECT id FROM runs WHERE status IN ('succeeded','failed','cancelled')"
        let statements: [(WritableKeyPath<PruneReport, Int>, String)] = [
            (
                \.inbox,
                """
                DELETE FROM inbox WHERE id IN (SELECT i.id FROM inbox i
                  WHERE i.received_at < ?1 AND i.handling_run_id IN (\(finished))
                    AND i.id NOT IN (SELECT k.id FROM inbox k WHERE k.account = i.account AND k.conversation = i.conversation
                      ORDER BY k.id DESC LIMIT \(Self.keptMessagesPerConversation))
                  LIMIT ?2)
                """
            ),
            (
                \.intents,
                """
                DELETE FROM intents WHERE id IN (SELECT id FROM intents WHERE status = 'sent' AND updated_at < ?1
                  AND (run_id IS NULL OR run_id IN (\(finished))) LIMIT ?2)
                """
            ),
            (
                \.runs,
                """
                DELETE FROM runs WHERE id IN (SELECT r.id FROM runs r WHERE r.status IN ('succeeded','failed','cancelled')
                  AND r.finished_at < ?1 AND NOT EXISTS (SELECT 1 FROM inbox WHERE handling_run_id = r.id)
                  AND NOT EXISTS (SELECT 1 FROM intents WHERE run_id = r.id) LIMIT ?2)
                """
            ),
            (
                \.escalations,
                "DELETE FROM escalations WHERE id IN (SELECT id FROM escalations WHERE resolved_at < ?1 LIMIT ?2)"
            ),
        ]
        for (counter, sql) in statements {
            while true {
                let deleted = try write { db in
                    try db.execute(sql: sql, arguments: [cutoff, chunk])
                    return db.changesCount
                }
                report[keyPath: counter] += deleted
                if deleted < chunk { break }
            }
        }
        try compact()
        report.after = sizes()
        return report
    }

    /// Checkpoints a WAL that has grown past its budget, without waiting for readers (PASSIVE): the next write
    /// then starts the WAL over and truncates it to the budget. The engine does this when a tick ends, instead
    /// of SQLite doing it every few MiB in the middle of the tick's commits.
    public func checkpointIfOverBudget() throws(JournalError) {
        // One started near the end of the tick has done most of it; this one copies what was written after
        // it, so that the next write can start the WAL over (SQLite does only when every frame is copied).
        _ = checkpointer.takeCompleted()
        guard Self.sizes(path: path).wal > walBudget else { return }
        do {
            _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    /// Starts a checkpoint in the background if the WAL is past its budget: for the end of a busy tick, while
    /// its last writes still go on. ``checkpointIfOverBudget()`` waits for it, then copies the rest.
    public func checkpointSoon() {
        guard Self.sizes(path: path).wal > walBudget else { return }
        checkpointer.start()
    }

    /// Hands free pages back to the file system and truncates the WAL. A reader in the way only means the
    /// WAL is truncated at a later checkpoint; that is not a failure.
    public func compact() throws(JournalError) {
        do {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA incremental_vacuum")
                do {
                    try db.checkpoint(.truncate)
                } catch let error as DatabaseError
                    where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
                {
                    return
                }
            }
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    /// SQLite's integrity and foreign-key checks and the schema's version, on a read-only connection that
    /// writes nothing (not even the WAL setup a normal open does). An empty list of problems means healthy.
    public static func check(path: String) throws(JournalError) -> (problems: [String], schema: [String]) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw JournalError(.missing, path: path, "no journal here yet", hint: "give its path with --journal")
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                var problems = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
                for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") {
                    problems.append(
                        "row \(row[1] as Int64? ?? 0) of \(row[0] as String? ?? "?") points at a missing \(row[2] as String? ?? "?") row"
                    )
                }
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                if !tables.isEmpty, !tables.contains("grdb_migrations") {
                    problems.append("an SQLite database, but not a switchboard journal")
                    return (problems, [])
                }
                let schema =
                    tables.isEmpty
                    ? [] : try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
                let missing = knownMigrations.filter { !schema.contains($0) }
                let unknown = schema.filter { !knownMigrations.contains($0) }
                if !missing.isEmpty {
                    problems.append(
                        "schema migrations not applied yet: \(missing.joined(separator: ", ")) (the next writer applies them)"
                    )
                }
                if !unknown.isEmpty {
                    problems.append("schema from a newer switchboard: \(unknown.joined(separator: ", "))")
                }
                return (problems, schema)
            }
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    /// ``check(path:)`` for this journal.
    public func check() throws(JournalError) -> [String] {
        try Self.check(path: path).problems
    }
}
