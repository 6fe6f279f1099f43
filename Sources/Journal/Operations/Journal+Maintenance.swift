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

    public func sizes() -> Sizes {
        func size(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        }
        return Sizes(file: size(path), wal: size(path + "-wal"))
    }

    /// Deletes history older than `cutoff` in chunks of `chunk` rows per transaction, so a large prune never
    /// holds the write lock for long: finished runs (their steps and waits with them), intents that are done
    /// (sent, or failed with strikes left), inbox rows a run has handled, resolved escalations. Blocked
    /// intents, paused sources, unhandled messages and running or waiting runs are kept whatever their age.
    public func prune(olderThan cutoff: Date, chunk: Int = 500) throws(JournalError) -> PruneReport {
        var report = PruneReport(cutoff: cutoff, before: sizes(), after: sizes())
        let statements: [(WritableKeyPath<PruneReport, Int>, String)] = [
            (
                \.inbox,
                "DELETE FROM inbox WHERE id IN (SELECT id FROM inbox WHERE handling_run_id IS NOT NULL AND received_at < ? LIMIT ?)"
            ),
            (
                \.runs,
                "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE status IN ('succeeded','failed','cancelled') AND finished_at < ? LIMIT ?)"
            ),
            (
                \.intents,
                "DELETE FROM intents WHERE id IN (SELECT id FROM intents WHERE status IN ('sent','failed','unknown') AND updated_at < ? LIMIT ?)"
            ),
            (
                \.escalations,
                "DELETE FROM escalations WHERE id IN (SELECT id FROM escalations WHERE resolved_at IS NOT NULL AND resolved_at < ? LIMIT ?)"
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

    /// Hands free pages back to the file system and truncates the WAL.
    public func compact() throws(JournalError) {
        do {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA incremental_vacuum")
                try db.checkpoint(.truncate)
            }
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    /// SQLite's integrity and foreign-key checks, and the schema's version: an empty list means healthy.
    public func check() throws(JournalError) -> [String] {
        var problems: [String] = try read { db in
            var found = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") {
                found.append(
                    "row \(row[1] as Int64? ?? 0) of \(row[0] as String? ?? "?") points at a missing \(row[2] as String? ?? "?") row"
                )
            }
            return found
        }
        let applied = try appliedMigrations()
        let missing = Self.knownMigrations.filter { !applied.contains($0) }
        if !missing.isEmpty { problems.append("schema migrations not applied yet: \(missing.joined(separator: ", "))") }
        return problems
    }
}
