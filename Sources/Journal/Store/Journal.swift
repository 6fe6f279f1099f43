public import Foundation
internal import GRDB
internal import Synchronization
internal import Workflow
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
        /// The WAL is checkpointed, and truncated to this size, once it grows past it: at the end of a tick
        /// (``Journal/checkpointIfOverBudget()``), or by SQLite itself at sixteen times this in the middle of one.
        public var walBudget = 4 << 20
        /// How long a writer waits for another to finish before giving up.
        public var busyTimeout: TimeInterval = 5
        /// Create the file (and a 0700 directory) when it does not exist.
        public var create = true
        /// Bring the schema up to date. Readers leave it alone (so an older switchboard's ticks keep working)
        /// and refuse a schema that is not current.
        public var migrate = true

        public init() {}
    }

    public let path: String
    let pool: DatabasePool
    let walBudget: Int
    /// Writes a caller has let wait (``flush()``): applied in order at the start of the next transaction this
    /// journal commits, whoever commits it.
    let deferred = Mutex<Deferred>(Deferred())
    /// Writes waiting for the next group commit (``writeTogether(_:)``), and whether one is under way.
    let group = Mutex<(waiting: [GroupWrite], committing: Bool)>(([], false))
    /// Where group commits run: off the cooperative pool, whose few threads must not block on the disk.
    let groupQueue = DispatchQueue(label: "switchboard-journal-group-commit")
    /// Checkpoints started early, on a connection of their own (``checkpointSoon()``).
    let checkpointer: BackgroundCheckpointer
    /// Starts the WAL's writeback as it grows, so that the checkpoint's fsync has little left to write.
    let writeback: WALWriteback

    /// A write let wait, and what undoes its effects outside the database if the transaction that carried
    /// it rolls back (a run's id, handed out inside that transaction).
    struct DeferredWrite: Sendable {
        var apply: @Sendable (Database) throws -> Void
        var undo: (@Sendable () -> Void)?
    }

    struct GroupWrite: Sendable {
        var body: @Sendable (Database) throws -> any Sendable
        var resume: @Sendable (Result<any Sendable, JournalError>) -> Void
    }

    struct Deferred {
        var operations: [DeferredWrite] = []
        /// Deferred writes SQLite refused on their own (a constraint): dropped, reported by ``flush()``.
        var failures: [JournalError] = []
        /// Deferred writes a transaction has taken and not yet committed or given back.
        var inFlight = 0
    }

    /// The page size of a new journal, in bytes. Each commit writes every page it changed to the WAL whole,
    /// and a busy tick's commits change one or two pages of each of a dozen tables and indexes: with 2 KiB
    /// pages instead of SQLite's 4 KiB, a tick writes 43 % fewer bytes to the WAL and takes 5 % less CPU.
    static let pageSize = 2048

    /// The SQLite file header; anything else is not a database and must not be touched.
    private static let header = Array("SQLite format 3\u{0}".utf8)

    public init(path: String, options: Options = Options()) throws(JournalError) {
        self.path = path
        walBudget = options.walBudget
        if try !Self.createIfMissing(path, allowed: options.create) {
            try Self.checkIsJournal(path)
            // A reader leaves a file no writer has set up exactly as it is (opening a pool would write page 1).
            if !options.migrate, Self.sizes(path: path).file == 0 {
                throw JournalError(
                    .olderSchema, path: path, "the journal is empty: no writer has set it up yet",
                    hint: "the next writer (`switchboard tick`, `switchboard journal prune`) sets it up")
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(options.busyTimeout)
        configuration.label = "switchboard-journal"
        let walBudget = options.walBudget
        configuration.prepareDatabase { db in
            _ = journal_disable_checkpoint_on_close(db.sqliteConnection)
            // Only a file being created takes it (before WAL mode writes its first page); a journal that
            // exists keeps the size it has.
            try db.execute(sql: "PRAGMA page_size = \(Self.pageSize)")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A WAL past the budget is checkpointed on commit and then truncated back to it.
            try db.execute(sql: "PRAGMA journal_size_limit = \(walBudget)")
            // Not at every 4 MiB in the middle of a busy tick: that checkpoint's fsync held up every commit
            // waiting behind it. The engine checkpoints when the tick ends; this is the backstop.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(max(1, 16 * walBudget / 4096))")
        }
        // The early checkpoint's connection is set up as the pool's are.
        checkpointer = BackgroundCheckpointer(path: path, configuration: configuration)
        writeback = WALWriteback(databasePath: path)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw JournalError.from(error, path: path)
        }
        try prepareSchema(migrate: options.migrate)
    }

    /// Creates the file (0600, in a 0700 directory) if it is not there; true when it was created. `O_EXCL`
    /// makes creation atomic: two processes starting on a fresh workspace never replace each other's file, and
    /// a symbolic link at the path is never followed.
    private static func createIfMissing(_ path: String, allowed: Bool) throws(JournalError) -> Bool {
        let manager = FileManager.default
        var isLink = false
        if let attributes = try? manager.attributesOfItem(atPath: path) {
            isLink = attributes[.type] as? FileAttributeType == .typeSymbolicLink
            if !isLink { return false }
        }
        if isLink, manager.fileExists(atPath: path) { return false }  // a link to an existing file: used as is
        guard allowed else {
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
        // SQLite gives its WAL and shared-memory files the mode of the database file.
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
            return true
        }
        if errno == EEXIST, !isLink { return false }  // another process created it first
        throw JournalError(
            .readOnly, path: path, "cannot create the journal file: \(String(cString: strerror(errno)))",
            hint: "check that the directory is writable")
    }

    /// Refuses, before anything writes to it, a file that is not SQLite or is another program's database.
    private static func checkIsJournal(_ path: String) throws(JournalError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw JournalError(
                .readOnly, path: path, "cannot read the journal", hint: "check the file's owner and permissions")
        }
        let bytes = (try? handle.read(upToCount: header.count)) ?? Data()
        try? handle.close()
        guard !bytes.isEmpty else { return }  // an empty file becomes a journal
        guard Array(bytes) == header else { throw JournalError.notSQLite(path: path) }
        // Opening a pool switches the file to WAL mode: look first, read-only.
        let foreign: Bool
        do {
            var configuration = Configuration()
            configuration.readonly = true
            // Another process may be recovering the WAL index right now (SQLITE_BUSY_RECOVERY): wait for it.
            configuration.busyMode = .timeout(5)
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            foreign = try queue.read { db in
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                return !tables.isEmpty && !tables.contains("grdb_migrations")
            }
            try queue.close()
        } catch {
            throw JournalError.from(error, path: path)
        }
        if foreign {
            throw JournalError(
                .notADatabase, path: path, "an SQLite database, but not a switchboard journal",
                hint: "give the journal its own file with --journal; nothing was written to this one")
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
            guard !complete else { return }
            guard migrate else {
                throw JournalError(
                    .olderSchema, path: path,
                    "the journal's schema is not current (applied: \(try appliedMigrations().joined(separator: ", ")); this switchboard has \(Self.knownMigrations.joined(separator: ", ")))",
                    hint: "the next writer (`switchboard tick`, `switchboard journal prune`) upgrades it")
            }
            if empty {
                // Set before the first table exists, so pruning can hand freed pages back to the file system.
                // WAL mode has already written page 1, so the mode takes effect through a VACUUM (instant here).
                // Best effort: another process setting the file up at the same moment may hold it.
                try? pool.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                    try db.execute(sql: "VACUUM")
                }
            }
            do {
                try migrator.migrate(pool)
            } catch {
                // Two processes upgrading at once: the loser's migration collides with the winner's tables.
                guard try pool.read({ db in try migrator.hasCompletedMigrations(db) }) else { throw error }
            }
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    /// The migrations applied to this file, oldest first (none for a file no writer has set up).
    public func appliedMigrations() throws(JournalError) -> [String] {
        try read { db in
            guard try db.tableExists("grdb_migrations") else { return [] }
            return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
        }
    }

    /// Every migration this switchboard knows, oldest first.
    public static var knownMigrations: [String] { JournalSchema.migrator.migrations }

    // MARK: - Transactions

    /// A write transaction that takes the write lock at once (BEGIN IMMEDIATE), so read-then-write logic
    /// such as the lease cannot interleave with another process. Deferred writes go first, in the same
    /// transaction; if it rolls back they wait for the next one.
    func write<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        defer { writeback.committed() }
        do {
            return try pool.writeWithoutTransaction { db in
                let (pending, reported) = deferred.withLock { state in
                    defer {
                        state.inFlight += state.operations.count
                        state.operations = []
                    }
                    return (state.operations, state.failures.count)
                }
                defer { if !pending.isEmpty { deferred.withLock { $0.inFlight -= pending.count } } }
                do {
                    var result: T?
                    try db.inTransaction(.immediate) {
                        for operation in pending { try applyDeferred(operation.apply, db) }
                        result = try body(db)
                        return .commit
                    }
                    return result!
                } catch {
                    // Rolled back: every deferred write waits for the next transaction, as if never tried.
                    for operation in pending { operation.undo?() }
                    if !pending.isEmpty {
                        deferred.withLock { state in
                            state.operations.insert(contentsOf: pending, at: 0)
                            state.failures.removeSubrange(min(reported, state.failures.count)...)
                        }
                    }
                    throw error
                }
            }
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    /// A deferred write that breaks a constraint is dropped (SQLite has undone that statement alone) and kept
    /// for ``flush()`` to report; anything else (a full disk, a lock) fails the transaction, and every deferred
    /// write waits for the next one.
    private func applyDeferred(_ operation: @Sendable (Database) throws -> Void, _ db: Database) throws {
        do {
            try operation(db)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            deferred.withLock { $0.failures.append(JournalError.from(error, path: path)) }
        }
    }

    /// A write transaction shared with every other `writeTogether` that arrives while one is being committed
    /// (group commit): concurrent tasks each wait for their write to be durable, and pay for one commit
    /// between them instead of one each. Off the caller's thread: a task waiting for its commit leaves its
    /// thread to others. If any write in a group fails, each is tried again in a transaction of its own, so one
    /// failure is its own caller's alone.
    func writeTogether<T: Sendable>(
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(JournalError) -> T {
        let result: Result<T, JournalError> = await withCheckedContinuation { continuation in
            let waiting = GroupWrite(
                body: { db in try body(db) },
                resume: { result in continuation.resume(returning: result.map { $0 as! T }) })
            let lead = group.withLock { state in
                state.waiting.append(waiting)
                defer { state.committing = true }
                return !state.committing
            }
            if lead { groupQueue.async { self.commitGroups() } }
        }
        return try result.get()
    }

    /// Commits what has gathered, again and again, until nothing waits.
    private func commitGroups() {
        while true {
            let batch = group.withLock { state in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.committing = false }
                return state.waiting
            }
            guard !batch.isEmpty else { return }
            var results: [any Sendable] = []
            do throws(JournalError) {
                try write { db in
                    results = []
                    for waiting in batch { results.append(try waiting.body(db)) }
                }
            } catch {
                for waiting in batch {
                    waiting.resume(Result { () throws(JournalError) in try write { db in try waiting.body(db) } })
                }
                continue
            }
            for (waiting, result) in zip(batch, results) { waiting.resume(.success(result)) }
        }
    }

    /// Lets a write wait for the next transaction (or ``flush()``), to save a commit per write on a busy
    /// tick. Only for writes a crash may lose: ones the next tick redoes or reconciles (an intent's `sent`
    /// outcome, a run's start and end).
    func writeLater(
        _ operation: @escaping @Sendable (Database) throws -> Void, undo: (@Sendable () -> Void)? = nil
    ) {
        deferred.withLock { $0.operations.append(DeferredWrite(apply: operation, undo: undo)) }
    }

    /// Commits the writes that were let wait, leaving a refused one's report for ``flush()``.
    func commitDeferred() throws(JournalError) {
        if hasUncommittedDeferred { try write { _ in } }
    }

    /// Deferred writes wait, or another thread's transaction carries them now: a write queued behind it (the
    /// writer is one connection) sees them committed.
    var hasUncommittedDeferred: Bool { deferred.withLock { !$0.operations.isEmpty || $0.inFlight > 0 } }

    /// Commits every write that was let wait, and throws the first that SQLite refused since the last flush.
    /// Reads do the commit first by themselves, so this process always reads what it wrote; other processes
    /// see those writes once they are committed.
    public func flush() throws(JournalError) {
        try commitDeferred()
        let failure = deferred.withLock { state in
            defer { state.failures = [] }
            return state.failures.first
        }
        if let failure { throw failure }
    }

    func read<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        try commitDeferred()
        do {
            return try pool.read(body)
        } catch {
            throw JournalError.from(error, path: path)
        }
    }

    /// A read of tables deferred writes never touch (waits, checkpoints, the inbox's messages), which need
    /// not flush them first.
    func readIndependently<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw JournalError.from(error, path: path)
        }
    }
}

/// Runs a PASSIVE checkpoint on a connection of its own, off the caller's thread, while writes go on (a
/// PASSIVE checkpoint takes no write lock): its copy into the database file and its two fsyncs overlap with
/// the end of a busy tick instead of following it. One at a time. It never needs to finish: a process that
/// exits in the middle of one leaves the WAL whole, and the next checkpoint does the rest.
final class BackgroundCheckpointer: Sendable {
    private let path: String
    private let configuration: Configuration
    private let queue = DispatchQueue(label: "switchboard-journal-checkpoint", qos: .utility)
    /// Whether one completed since the last ``takeCompleted()``, and the connection (opened on first use).
    private let state = Mutex<(completed: Bool, connection: DatabaseQueue?)>((false, nil))

    init(path: String, configuration: Configuration) {
        self.path = path
        self.configuration = configuration
    }

    func start() {
        queue.async {
            do {
                let connection = try self.state.withLock { $0.connection } ?? self.open()
                _ = try connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
                self.state.withLock { $0.completed = true }
            } catch {
                // Best effort: the end of the tick checkpoints as it would have without it.
            }
        }
    }

    /// Waits for one under way, and says whether one completed since the last call.
    func takeCompleted() -> Bool {
        queue.sync {}
        return state.withLock { state in
            defer { state.completed = false }
            return state.completed
        }
    }

    private func open() throws -> DatabaseQueue {
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        state.withLock { $0.connection = connection }
        return connection
    }
}

// Statements compiled once per connection and reused: a tick runs the same few statements thousands of times,
// and compiling each one again (parse, plan, GRDB's authorizer) was most of the journal's cost per message.
// For single statements only; a multi-statement script goes through `execute(sql:)`.
extension Database {
    func cachedExecute(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// `body` in a savepoint of the current transaction: all of its statements or none. GRDB's `inSavepoint`
    /// compiles its SAVEPOINT and RELEASE anew each time (two statements prepared per deferred run end); these
    /// are compiled once per connection.
    func inCachedSavepoint(_ body: () throws -> Void) throws {
        try cachedExecute(sql: "SAVEPOINT journal_deferred")
        do {
            try body()
        } catch {
            try? cachedExecute(sql: "ROLLBACK TO SAVEPOINT journal_deferred")
            try? cachedExecute(sql: "RELEASE SAVEPOINT journal_deferred")
            throw error
        }
        try cachedExecute(sql: "RELEASE SAVEPOINT journal_deferred")
    }
}

extension Row {
    static func fetchOne(
        cached db: Database, sql: String, arguments: StatementArguments = StatementArguments()
    )
        throws -> Row?
    {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func fetchAll(
        cached db: Database, sql: String, arguments: StatementArguments = StatementArguments()
    )
        throws -> [Row]
    {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }
}

extension Date {
    /// The date as GRDB stores one (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), made without GRDB's `DateFormatter`
    /// (an ICU call per value, a few percent of a busy tick). Statements bind this instead of the `Date`.
    var journalText: String { Timestamp.sqlite(self) }
}
