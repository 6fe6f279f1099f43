public import Foundation
internal import GRDB

/// The journal as a stream of events, for `switchboard journal tail`.
extension Journal {
    public struct Event: Sendable, Equatable, Codable {
        public var time: Date
        /// `run`, `step`, `intent` or `escalation`.
        public var kind: String
        public var runID: Int64?
        public var status: String
        public var summary: String
    }

    /// The newest `limit` events at or after `since`, oldest first. Within the same millisecond a run's steps
    /// come before its intents and the run's own end.
    public func events(since: Date? = nil, limit: Int = 20) throws(JournalError) -> [Event] {
        try read { db in
            let since = since ?? Date(timeIntervalSince1970: 0)
            // Each table is read newest first through its time index, at most `limit` rows; then merged.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (SELECT COALESCE(finished_at, started_at) AS time, 3 AS rank, id, 'run' AS kind,
                        id AS run_id, status, workflow || COALESCE('/' || handler, '') || ' (' || trigger_kind || ')' AS summary
                      FROM runs WHERE COALESCE(finished_at, started_at) >= ?1
                      ORDER BY COALESCE(finished_at, started_at) DESC LIMIT ?2)
                    UNION ALL
                    SELECT * FROM (SELECT COALESCE(finished_at, started_at), 1, id, 'step', run_id, status,
                        'step ' || (position + 1) || COALESCE(' ' || step_id, '') || ' attempt ' || attempt
                          || COALESCE(': ' || error_code || ' ' || error_message, '')
                      FROM steps WHERE COALESCE(finished_at, started_at) >= ?1
                      ORDER BY COALESCE(finished_at, started_at) DESC LIMIT ?2)
                    UNION ALL
                    SELECT * FROM (SELECT updated_at, 2, id, 'intent', run_id, status,
                        target || ' attempt ' || attempts || ' strikes ' || strikes || '/' || max_strikes
                          || COALESCE(': ' || last_error_code || ' ' || last_error_message, '')
                      FROM intents WHERE updated_at >= ?1 ORDER BY updated_at DESC LIMIT ?2)
                    UNION ALL
                    SELECT * FROM (SELECT created_at, 4, id, 'escalation', NULL,
                        CASE WHEN resolved_at IS NULL THEN 'open' ELSE 'resolved' END,
                        subject || ': ' || COALESCE(code || ' ', '') || message
                      FROM escalations WHERE created_at >= ?1 ORDER BY created_at DESC LIMIT ?2)
                    ORDER BY time DESC, rank DESC, id DESC LIMIT ?2
                    """, arguments: [since, limit])
            return rows.reversed().map {
                Event(
                    time: $0["time"], kind: $0["kind"], runID: $0["run_id"], status: $0["status"],
                    summary: $0["summary"])
            }
        }
    }
}
