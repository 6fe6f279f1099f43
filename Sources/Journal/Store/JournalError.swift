internal import GRDB

/// Why the journal could not be opened or written, with the file and what to do about it.
public struct JournalError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case notADatabase = "not-a-database"
        case corrupt
        case readOnly = "read-only"
        case diskFull = "disk-full"
        case newerSchema = "newer-schema"
        case olderSchema = "older-schema"
        /// The operation does not apply to the record as it is now (an outcome for an intent not in flight).
        case conflict
        case busy
        case missing
        case io
        case notFound = "not-found"
        case invalidArgument = "invalid-argument"
    }

    public var kind: Kind
    public var path: String
    public var message: String
    public var hint: String

    public init(_ kind: Kind, path: String, _ message: String, hint: String) {
        self.kind = kind
        self.path = path
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(path): \(message)\nhint: \(hint)" }

    /// A file that is not SQLite at all: refused before anything writes to it.
    static func notSQLite(path: String) -> JournalError {
        JournalError(
            .notADatabase, path: path, "not a switchboard journal (not an SQLite database)",
            hint: "move the file aside, or give another path with --journal; nothing was written to it")
    }

    /// Translates SQLite's result codes into what a user can act on.
    static func from(_ error: any Error, path: String) -> JournalError {
        if let error = error as? JournalError { return error }
        guard let error = error as? DatabaseError else {
            return JournalError(.io, path: path, "\(error)", hint: "check the file and its directory")
        }
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return notSQLite(path: path)
        case .SQLITE_CORRUPT:
            return JournalError(
                .corrupt, path: path, "the journal is corrupt (\(error.message ?? "SQLITE_CORRUPT"))",
                hint: "keep a copy, then recover what is readable with `sqlite3 \(path) .recover > recovered.sql`")
        case .SQLITE_READONLY, .SQLITE_PERM:
            return JournalError(
                .readOnly, path: path, "the journal is read-only (SQLite \(error.extendedResultCode.rawValue))",
                hint: "give the user running switchboard write access to the file and its directory")
        case .SQLITE_CANTOPEN:
            return JournalError(
                .readOnly, path: path, "cannot open the journal (\(error.message ?? "SQLITE_CANTOPEN"))",
                hint: "check that the directory exists and is writable")
        case .SQLITE_FULL:
            return JournalError(
                .diskFull, path: path, "the disk is full; the last write was rolled back",
                hint:
                    "free space on the disk (then `switchboard journal prune --older-than 30d` keeps the journal small); what was journaled before is intact"
            )
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return JournalError(
                .busy, path: path,
                "the journal stayed locked by another process (SQLite \(error.extendedResultCode.rawValue))",
                hint: "another switchboard is writing; try again")
        case .SQLITE_IOERR:
            return JournalError(
                .io, path: path, "I/O error (\(error.message ?? "SQLITE_IOERR"))",
                hint: "check the disk; the failed transaction was rolled back")
        default:
            return JournalError(
                .io, path: path, "\(error.message ?? "SQLite error \(error.resultCode.rawValue)")",
                hint: "the file or the disk may be damaged; keep a copy before changing anything")
        }
    }
}
