public import Foundation
internal import GRDB
internal import _JournalCShims

/// The SQLite journal of a workspace: runs, steps, intents, inbox, checkpoints, sessions, schedules, waits,
/// escalations and leases, in WAL mode with `synchronous=NORMAL`.
///
/// Every method either completes its transaction or leaves the file as it was; errors are
/// ``JournalError``s that name the file and say what to do.
public final class Journal: Sendable {
    /// Where a workspace keeps its journal unless told otherwise.
    public static func defaultPath(workspace: String) -> String {
        (workspace as NSString).appendingPathComponent(".switchboard/journal.sqlite3")
    }

    public struct Options: Sendable {
        /// The WAL is checkpointed, and truncated to this size, once it grows past it.
        public var walBudget = 4 << 20
        /// How long a writer waits for another to finish before giving up.
        public var busyTimeout: TimeInterval = 5
        /// Create the file (and a 0700 directory) when it does not exist.
        public var create = true
        /// Bring the schema up to date; off for `check`, which must not write.
        public var migrate = true

        public init() {}
    }

    public let path: String
    let pool: DatabasePool

    /// The SQLite file header; anything else is not a database and must not be touched.
    private static let header = Array("SQLite format 3\u{0}".utf8)

    public init(path: String, options: Options = Options()) throws(JournalError) {
        self.path = path
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            guard options.create else {
                throw JournalError(
                    .missing, path: path, "no journal here yet",
                    hint: "it is created by the first `switchboard tick`; or give its path with --journal")
            }
            let directory = (path as NSString).deletingLastPathComponent
            do {
                if !directory.isEmpty, !manager.fileExists(atPath: directory) {
                    try manager.createDirectory(
                        atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                }
            } catch {
                throw JournalError(
                    .readOnly, path: path, "cannot create the directory \(directory): \(error.localizedDescription)",
                    hint: "check that the workspace is writable")
            }
            // Created empty with 0600 first: SQLite gives its WAL and shared-memory files the same mode.
            guard manager.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw JournalError(
                    .readOnly, path: path, "cannot create the journal file",
                    hint: "check that the directory is writable")
            }
        } else {
            try Self.checkHeader(path)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(options.busyTimeout)
        configuration.label = "switchboard-journal"
        let walBudget = options.walBudget
        configuration.prepareDatabase { db in
            _ = journal_disable_checkpoint_on_close(db.sqliteConnection)
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A WAL past the budget is checkpointed on commit and then truncated back to it.
            try db.execute(sql: "PRAGMA journal_size_limit = \(walBudget)")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(max(1, walBudget / 4096))")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw JournalError.from(error, path: path)
        }
        try prepareSchema(migrate: options.migrate)
    }

    private static func checkHeader(_ path: String) throws(JournalError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw JournalError(
                .readOnly, path: path, "cannot read the journal", hint: "check the file's owner and permissions")
        }
        defer { try? handle.close() }
        let bytes = (try? handle.read(upToCount: header.count)) ?? Data()
        if !bytes.isEmpty, Array(bytes) != header {
            throw JournalError(
                .notADatabase, path: path, "not a switchboard journal (not an SQLite database)",
                hint: "move the file aside, or give another path with --journal; nothing was written to it")
        }
    }

    private func prepareSchema(migrate: Bool) throws(JournalError) {
        let migrator = JournalSchema.migrator
        do {
            let (superseded, complete, empty) = try pool.read { db in
                (
                    try migrator.hasBeenSuperseded(db), try migrator.hasCompletedMigrations(db),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") == 0
                )
            }
            if superseded {
                throw JournalError(
                    .newerSchema, path: path,
                    "written by a newer switchboard (schema \(try appliedMigrations().joined(separator: ", ")))",
                    hint: "upgrade switchboard; this version must not write a schema it does not know")
            }
            guard migrate, !complete else { return }
            if empty {
                // Set before the first table exists: pruning can then hand freed pages back to the file system.
                // WAL mode has already written page 1, so the mode takes effect through a VACUUM (instant here).
                try pool.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                    try db.execute(sql: "VACUUM")
                }
            }
            try migrator.migrate(pool)
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    /// The migrations applied to this file, oldest first.
    public func appliedMigrations() throws(JournalError) -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid") }
    }

    /// Every migration this switchboard knows, oldest first.
    public static var knownMigrations: [String] { JournalSchema.migrator.migrations }

    // MARK: - Transactions

    /// A write transaction that takes the write lock at once (BEGIN IMMEDIATE), so read-then-write logic
    /// such as the lease cannot interleave with another process.
    func write<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw JournalError.from(error, path: path)
        }
    }
}
