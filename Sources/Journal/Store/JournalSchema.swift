internal import GRDB

/// The journal's tables, created and upgraded by migrations. Names are snake_case so the file reads well in
/// the `sqlite3` shell; times are UTC text (`2026-11-21 17:20:12.345`), which sorts and compares as time.
enum JournalSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("trigger_kind", .text).notNull()  // message | schedule | timer | manual
                t.column("trigger_ref", .text)  // the inbox row, schedule or wait that started it
                t.column("workflow", .text).notNull()
                t.column("handler", .text)
                t.column("status", .text).notNull().check(
                    sql: "status IN ('running','waiting','succeeded','failed','cancelled')")
                t.column("started_at", .datetime).notNull().indexed()
                t.column("finished_at", .datetime)
                t.column("definition_hash", .text)
            }
            try db.create(table: "steps") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("run_id", .integer).notNull().indexed().references("runs", onDelete: .cascade)
                t.column("step_id", .text)
                t.column("position", .integer).notNull()
                t.column("attempt", .integer).notNull().defaults(to: 1)
                t.column("status", .text).notNull().check(
                    sql: "status IN ('running','waiting','succeeded','failed','skipped')")
                t.column("output_json", .text)
                t.column("error_code", .text)
                t.column("error_message", .text)
                t.column("started_at", .datetime).notNull()
                t.column("finished_at", .datetime)
                t.uniqueKey(["run_id", "position", "attempt"])
            }
            try db.create(table: "intents") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("key", .text).notNull().unique()
                t.column("run_id", .integer).indexed().references("runs", onDelete: .setNull)
                t.column("step_id", .text)
                t.column("target", .text).notNull()
                t.column("payload_digest", .text).notNull()
                t.column("status", .text).notNull().indexed()
                    .check(sql: "status IN ('pending','sent','failed','blocked','unknown')")
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("strikes", .integer).notNull().defaults(to: 0)
                t.column("max_strikes", .integer).notNull().defaults(to: 2)
                t.column("last_error_code", .text)
                t.column("last_error_message", .text)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull().indexed()
            }
            try db.create(table: "inbox") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("account", .text).notNull()
                t.column("conversation", .text).notNull()
                t.column("message_id", .text).notNull()
                t.column("cursor", .text)
                t.column("received_at", .datetime).notNull().indexed()
                t.column("payload", .text).notNull()
                t.column("handling_run_id", .integer).indexed().references("runs", onDelete: .setNull)
                t.uniqueKey(["account", "conversation", "message_id"])
            }
            try db.create(table: "checkpoints") { t in
                t.primaryKey("source", .text)
                t.column("cursor", .text)
                t.column("ack_state", .text)
                t.column("consecutive_failures", .integer).notNull().defaults(to: 0)
                t.column("paused_at", .datetime)
                t.column("last_error_code", .text)
                t.column("last_error_message", .text)
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(table: "sessions") { t in
                t.column("account", .text).notNull()
                t.column("session", .text).notNull()
                t.column("expires_at", .datetime).notNull()
                t.column("last_renewed_at", .datetime)
                t.primaryKey(["account", "session"])
            }
            try db.create(table: "schedules") { t in
                t.primaryKey("job_key", .text)
                t.column("next_due", .datetime)
                t.column("last_fired", .datetime)
            }
            try db.create(table: "waits") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("run_id", .integer).notNull().indexed().references("runs", onDelete: .cascade)
                t.column("step_id", .text)
                t.column("matcher", .text).notNull()
                t.column("deadline", .datetime).notNull().indexed()
                t.column("resolved_at", .datetime)
                t.column("resolution", .text)
            }
            try db.create(table: "escalations") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("subject", .text).notNull().indexed()  // intent:KEY or source:NAME
                t.column("code", .text)
                t.column("message", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("sent_at", .datetime)
                t.column("resolved_at", .datetime)
                t.column("resolved_by", .text)
            }
            // What `journal tail` and `journal prune` search by.
            try db.execute(
                sql: """
                    CREATE INDEX runs_event_time ON runs (COALESCE(finished_at, started_at));
                    CREATE INDEX steps_event_time ON steps (COALESCE(finished_at, started_at));
                    CREATE INDEX escalations_created_at ON escalations (created_at);
                    CREATE INDEX inbox_conversation_order ON inbox (account, conversation, id);
                    """)
            try db.create(table: "leases") { t in
                t.primaryKey("name", .text)
                t.column("holder", .text).notNull()
                t.column("acquired_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
            }
        }
        // Fewer pages written per message: every index a commit touches costs a page in the WAL. The steps'
        // (run_id, position, attempt) key already serves lookups by run, nothing looks runs up by their start
        // alone, and only unfinished intents (pending, unknown, failed, blocked) are ever looked up by status,
        // so the status index keeps those alone: an intent leaves it when sent.
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    DROP INDEX steps_on_run_id;
                    DROP INDEX runs_on_started_at;
                    DROP INDEX intents_on_status;
                    CREATE INDEX intents_unfinished ON intents (status) WHERE status <> 'sent';
                    """)
        }
        return migrator
    }
}
