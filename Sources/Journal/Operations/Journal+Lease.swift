public import Foundation
internal import GRDB

/// The one-writer rule: a named lease with an expiry, so a killed holder does not block forever.
extension Journal {
    public enum LeaseAcquisition: Sendable, Equatable {
        case acquired(LeaseRecord)
        /// Someone else holds it until `expiresAt`.
        case held(LeaseRecord)
    }

    /// Takes the lease if it is free, expired, or already ours; returns at once either way.
    public func acquireLease(
        _ name: String, holder: String, for duration: TimeInterval, now: Date = Date()
    ) throws(JournalError) -> LeaseAcquisition {
        try write { db in
            if let row = try Row.fetchOne(cached: db, sql: "SELECT * FROM leases WHERE name = ?", arguments: [name]) {
                let current = LeaseRecord(row: row)
                if current.holder != holder, current.expiresAt > now { return .held(current) }
            }
            let lease = LeaseRecord(name: name, holder: holder, acquiredAt: now, expiresAt: now + duration)
            try db.cachedExecute(
                sql: """
                    INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
                      expires_at = excluded.expires_at
                    """,
                arguments: [lease.name, lease.holder, lease.acquiredAt.journalText, lease.expiresAt.journalText])
            return .acquired(lease)
        }
    }

    /// Extends a lease we hold; false when it was lost (expired and taken by another holder).
    @discardableResult
    public func renewLease(
        _ name: String, holder: String, for duration: TimeInterval, now: Date = Date()
    )
        throws(JournalError) -> Bool
    {
        try write { db in
            try db.cachedExecute(
                sql: "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?",
                arguments: [(now + duration).journalText, name, holder])
            return db.changesCount == 1
        }
    }

    /// Gives the lease up; releasing a lease someone else now holds does nothing.
    public func releaseLease(_ name: String, holder: String) throws(JournalError) {
        try write { db in
            try db.cachedExecute(sql: "DELETE FROM leases WHERE name = ? AND holder = ?", arguments: [name, holder])
        }
    }

    /// Takes a lease over from a holder known to be dead (its process is gone), before its expiry.
    public func breakLease(_ name: String, heldBy holder: String) throws(JournalError) {
        try releaseLease(name, holder: holder)
    }

    /// Whether a holder named `pid@host#nonce` is a process on this host that no longer exists.
    public static func holderIsDead(_ holder: String) -> Bool {
        let parts = holder.split(separator: "@", maxSplits: 1)
        guard parts.count == 2, let pid = Int32(parts[0]), pid > 0,
            parts[1].split(separator: "#").first.map(String.init) == ProcessInfo.processInfo.hostName
        else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }

    public func lease(_ name: String) throws(JournalError) -> LeaseRecord? {
        try read { db in
            try Row.fetchOne(cached: db, sql: "SELECT * FROM leases WHERE name = ?", arguments: [name]).map(
                LeaseRecord.init(row:))
        }
    }

    /// A holder name that tells operators which process holds a lease, `pid@host#nonce`; the nonce keeps two
    /// containers with the same host name and process id apart.
    public static let processHolder =
        "\(ProcessInfo.processInfo.processIdentifier)@\(ProcessInfo.processInfo.hostName)#\(UInt32.random(in: .min ... .max))"
}
