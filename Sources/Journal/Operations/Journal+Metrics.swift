public import Foundation
internal import GRDB

/// What the journal can say for metrics: totals that hold across processes (a cron tick and the daemon alike).
public struct JournalMetrics: Sendable, Equatable {
    /// Messages in the inbox (pruning lowers it).
    public var messages = 0
    /// Intents by status: pending, sent, failed, blocked, unknown.
    public var intents: [String: Int] = [:]
    /// Failed attempts of the intents on record.
    public var strikes = 0
    public var escalations = 0
    public var openEscalations = 0
    public var pausedSources = 0
    public var openWaits = 0
    /// The soonest session expiry, when the journal knows one.
    public var nearestSessionExpiry: Date?

    public init() {}
}

extension Journal {
    public func metrics() throws(JournalError) -> JournalMetrics {
        try read { db in
            var metrics = JournalMetrics()
            metrics.messages = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") ?? 0
            for row in try Row.fetchAll(
                db, sql: "SELECT status, COUNT(*) AS n, SUM(strikes) AS s FROM intents GROUP BY status")
            {
                metrics.intents[row["status"]] = row["n"]
                metrics.strikes += (row["s"] as Int?) ?? 0
            }
            metrics.escalations = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM escalations") ?? 0
            metrics.openEscalations =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM escalations WHERE resolved_at IS NULL") ?? 0
            metrics.pausedSources =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkpoints WHERE paused_at IS NOT NULL") ?? 0
            metrics.openWaits = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM waits WHERE resolved_at IS NULL") ?? 0
            metrics.nearestSessionExpiry = try Date.fetchOne(db, sql: "SELECT MIN(expires_at) FROM sessions")
            return metrics
        }
    }
}
