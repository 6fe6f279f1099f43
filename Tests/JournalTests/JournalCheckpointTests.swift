import Foundation
import GRDB
import Testing

@testable import Journal

@Suite struct JournalCheckpointTests {
    /// Ten messages of 2,000 bytes, batch `batch` of one source.
    static func poll(_ batch: Int, into journal: Journal) throws {
        let payload = String(repeating: "x", count: 2000)
        let messages = (0..<10).map {
            NewInboxMessage(
                account: "nx", conversation: "room", messageID: "m\(batch)-\($0)", cursor: nil, payload: payload)
        }
        _ = try journal.recordPoll(source: "nx", messages: messages, cursor: nil)
    }

    /// A checkpoint started while writes go on (the end of a busy tick) copies what was written before it into
    /// the database file, and the writes made meanwhile are all there.
    @Test func aCheckpointStartedEarlyOverlapsWithLaterWrites() throws {
        let path = temporaryJournalPath()
        var options = Journal.Options()
        options.walBudget = 256 << 10  // SQLite's own checkpoint comes only at 4 MiB
        let journal = try Journal(path: path, options: options)
        func poll(_ batch: Int) throws { try Self.poll(batch, into: journal) }
        for batch in 0..<20 { try poll(batch) }
        journal.checkpointSoon()
        for batch in 20..<25 { try poll(batch) }
        // It ran (the journal waits for it here), so the end of the tick starts no second one.
        #expect(journal.checkpointer.takeCompleted())
        #expect(!journal.checkpointer.takeCompleted())
        // The database file alone (no WAL beside it) holds at least what was written before the checkpoint.
        let copy = temporaryJournalPath()
        try FileManager.default.createDirectory(
            atPath: (copy as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        // (Without the checkpoint, the file has not even the table yet.)
        let inFile = try DatabaseQueue(path: copy).read { db in
            (try? Int.fetchOne(db, sql: "SELECT count(*) FROM inbox")) ?? 0
        }
        #expect(inFile >= 200, "the database file holds \(inFile) messages")
        #expect(try journal.unhandledMessages().count == 250)
        // The end of the tick copies what came after it, so the next write starts the WAL over, within budget.
        journal.checkpointSoon()
        for batch in 25..<30 { try poll(batch) }
        try journal.checkpointIfOverBudget()
        try poll(30)
        let wal = Journal.sizes(path: path).wal
        #expect(wal <= options.walBudget, "the WAL is \(wal) bytes")
        #expect(try journal.unhandledMessages().count == 310)
    }

    /// The kernel is told to write the WAL out each time it has grown by a MiB (so that the checkpoint ending a
    /// busy tick finds little left to fsync), and starts counting again once the WAL is truncated.
    @Test func theWALIsWrittenBackAsItGrows() throws {
        let path = temporaryJournalPath()
        let journal = try Journal(path: path)
        func poll(_ batch: Int) throws { try Self.poll(batch, into: journal) }
        try poll(0)
        #expect(journal.writeback.hintedSize == 0)
        for batch in 1..<120 { try poll(batch) }
        let wal = Int64(Journal.sizes(path: path).wal)
        let hinted = journal.writeback.hintedSize
        #expect(hinted >= Int64(WALWriteback.step), "hinted at \(hinted) bytes")
        #expect(wal - hinted < Int64(WALWriteback.step), "hinted at \(hinted) of \(wal) bytes")
        try journal.compact()  // truncates the WAL
        try poll(200)
        #expect(journal.writeback.hintedSize == 0)
        #expect(try journal.unhandledMessages(limit: 2000).count == 1210)
    }
}
