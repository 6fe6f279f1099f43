import Foundation
import GRDB
import TestSupport
import Testing

@testable import Journal

/// Migrations, and files that are not what they should be: a clear error, nothing overwritten.
@Suite(.serialized) struct JournalFileTests {
    @Test func anEmptyFileMigratesToTheCurrentSchema() throws {
        let path = temporaryJournalPath()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path, contents: Data())
        let journal = try Journal(path: path)
        #expect(try journal.appliedMigrations() == Journal.knownMigrations)
        let tables = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(
                db,
                sql:
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb%' AND name NOT LIKE 'sqlite%' ORDER BY name"
            )
        }
        #expect(
            tables == [
                "checkpoints", "escalations", "inbox", "intents", "leases", "runs", "schedules", "sessions", "steps",
                "waits",
            ])
        #expect(try Self.pageSize(path) == Journal.pageSize)
    }

    static func pageSize(_ path: String) throws -> Int {
        try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0 }
    }

    @Test func aNewJournalHasSmallPagesAndAnOldOneKeepsItsOwn() throws {
        let fresh = temporaryJournalPath()
        _ = try Journal(path: fresh)
        #expect(try Self.pageSize(fresh) == 2048)
        // A journal created with SQLite's default pages, as every journal was before.
        let old = temporaryJournalPath()
        try FileManager.default.createDirectory(
            atPath: (old as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: old)
        try JournalSchema.migrator.migrate(queue)
        try queue.close()
        let journal = try Journal(path: old)
        let run = try journal.beginRun(trigger: "manual", reference: nil, workflow: "w", handler: nil)
        try journal.finishRun(run.id, status: .succeeded, steps: [], handled: [])
        #expect(try journal.runs().map(\.status) == [.succeeded])
        #expect(try Self.pageSize(old) == 4096)
    }

    @Test(arguments: JournalSchema.migrator.migrations)
    func everyEarlierSchemaVersionMigratesAndKeepsItsData(version: String) throws {
        let path = temporaryJournalPath()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path)
        try JournalSchema.migrator.migrate(queue, upTo: version)
        try queue.write { db in
            try db.execute(
                sql:
                    "INSERT INTO runs (trigger_kind, workflow, status, started_at) VALUES ('schedule', 'old', 'succeeded', '2026-01-01 00:00:00.000')"
            )
        }
        try queue.close()
        let journal = try Journal(path: path)
        #expect(try journal.appliedMigrations() == Journal.knownMigrations)
        #expect(try journal.runs().map(\.workflow) == ["old"])
    }

    /// v2 keeps unfinished intents alone in the index by status: a v1 journal's pending and blocked intents are
    /// still found after the upgrade, and a sent one is not among them.
    @Test func version2IndexesOnlyUnfinishedIntentsByStatus() throws {
        let path = temporaryJournalPath()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path)
        try JournalSchema.migrator.migrate(queue, upTo: "v1")
        try queue.write { db in
            for (key, status) in [("a", "pending"), ("b", "sent"), ("c", "blocked"), ("d", "unknown")] {
                try db.execute(
                    sql: """
                        INSERT INTO intents (key, target, payload_digest, status, created_at, updated_at)
                        VALUES (?, 'nx:session/s', '', ?, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')
                        """, arguments: [key, status])
            }
        }
        try queue.close()
        let journal = try Journal(path: path)
        #expect(try journal.interruptedIntents().map(\.key) == ["a", "d"])
        #expect(try journal.blockedIntents().map(\.key) == ["c"])
        let (indexes, unfinished) = try DatabaseQueue(path: path).read { db in
            (
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"),
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM intents INDEXED BY intents_unfinished WHERE status <> 'sent'")
            )
        }
        #expect(indexes.contains("intents_unfinished"))
        for gone in ["intents_on_status", "steps_on_run_id", "runs_on_started_at"] { #expect(!indexes.contains(gone)) }
        #expect(unfinished == 3)
    }

    @Test func aSchemaFromANewerSwitchboardIsRefusedUntouched() throws {
        let path = temporaryJournalPath()
        _ = try Journal(path: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')") }
        try queue.close()
        #expect {
            try Journal(path: path)
        } throws: { error in
            (error as? JournalError)?.kind == .newerSchema
        }
        let applied = try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(applied.contains("v99-future"))
    }

    @Test func aFileThatIsNotSQLiteIsNamedAndLeftAlone() throws {
        let path = temporaryJournalPath()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let garbage = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: path))
        #expect {
            try Journal(path: path)
        } throws: { error in
            guard let error = error as? JournalError else { return false }
            return error.kind == .notADatabase && error.path == path && error.description.contains("hint:")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func anotherProgramsSQLiteDatabaseIsRefusedUntouched() throws {
        let path = temporaryJournalPath()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)") }
        try queue.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect {
            try Journal(path: path)
        } throws: { ($0 as? JournalError)?.kind == .notADatabase }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try Journal.check(path: path).problems == ["an SQLite database, but not a switchboard journal"])
    }

    @Test func checkReportsAFileNoWriterHasSetUp() throws {
        let path = temporaryJournalPath()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path, contents: Data())
        let (problems, schema) = try Journal.check(path: path)
        #expect(schema.isEmpty)
        #expect(
            problems == [
                "schema migrations not applied yet: \(Journal.knownMigrations.joined(separator: ", ")) (the next writer applies them)"
            ])
        // Readers refuse it rather than migrate it.
        var options = Journal.Options()
        options.migrate = false
        #expect {
            try Journal(path: path, options: options)
        } throws: { ($0 as? JournalError)?.kind == .olderSchema }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
    }

    @Test func aCorruptFileIsReportedAsCorrupt() throws {
        let path = temporaryJournalPath()
        do {
            let journal = try Journal(path: path)
            for index in 0..<200 {
                _ = try journal.beginRun(
                    trigger: "schedule", workflow: String(repeating: "w", count: 200), handler: "h\(index)")
            }
            try journal.compact()
        }
        // Scribble over the pages after the header page.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.count > 4096 * 4)
        for index in 4096..<min(bytes.count, 4096 * 4) { bytes[index] = 0xA5 }
        try bytes.write(to: URL(fileURLWithPath: path))
        let outcome: Result<[String], JournalError> = Result {
            try Journal.check(path: path).problems
        }.mapError { $0 as! JournalError }
        switch outcome {
        case .success(let problems): #expect(!problems.isEmpty)
        case .failure(let error): #expect(error.kind == .corrupt || error.kind == .notADatabase, "\(error)")
        }
    }

    @Test func aReadOnlyFileGivesAClearErrorAndKeepsItsData() throws {
        let path = temporaryJournalPath()
        do {
            let journal = try Journal(path: path)
            _ = try journal.beginRun(trigger: "schedule", workflow: "kept", handler: "h")
            try journal.compact()
        }
        try setImmutable(path, true)
        defer { try? setImmutable(path, false) }
        let result = Result { () throws -> Void in
            let journal = try Journal(path: path)
            _ = try journal.beginRun(trigger: "schedule", workflow: "new", handler: "h")
        }
        guard case .failure(let error as JournalError) = result else {
            Issue.record("writing a read-only journal must fail"); return
        }
        #expect(error.kind == .readOnly, "\(error)")
        try setImmutable(path, false)
        #expect(try Journal(path: path).runs().map(\.workflow) == ["kept"])
    }

    /// As root, permissions do not stop writes; the immutable attribute does.
    func setImmutable(_ path: String, _ on: Bool) throws {
        if geteuid() == 0 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
            process.arguments = [on ? "+i" : "-i", path]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "chattr needs a file system with the immutable attribute")
        } else {
            try FileManager.default.setAttributes([.posixPermissions: on ? 0o400 : 0o600], ofItemAtPath: path)
        }
    }

    @Test func aFullDiskRollsBackTheWriteAndKeepsWhatWasJournaled() throws {
        // A 512 KiB tmpfs is a disk that fills up for real.
        let mountPoint = testTemporaryDirectory.appendingPathComponent(
            "switchboard-full-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(
            try command("/bin/mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mountPoint]) == 0,
            "mounting a tmpfs needs root")
        defer { _ = try? command("/bin/umount", [mountPoint]) }
        let path = mountPoint + "/journal.sqlite3"
        let journal = try Journal(path: path)
        var stored = 0
        var failure: JournalError?
        let payload = String(repeating: "p", count: 4000)
        while failure == nil, stored < 1000 {
            do {
                _ = try journal.recordPoll(
                    source: "s",
                    messages: [
                        NewInboxMessage(
                            account: "a", conversation: "c", messageID: String(stored), cursor: nil, payload: payload)
                    ],
                    cursor: String(stored))
                stored += 1
            } catch {
                failure = error
            }
        }
        let error = try #require(failure)
        #expect(error.kind == .diskFull, "\(error)")
        #expect(error.description.contains("prune"))
        #expect(try journal.checkpoint(source: "s")?.cursor == String(stored - 1))
        #expect(try journal.unhandledMessages(limit: 10_000).count == stored)
    }

    func command(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
