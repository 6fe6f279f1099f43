import Foundation
import GRDB
import Journal
import Testing

/// Real processes against one file: killed mid-write, and contending for the lease.
@Suite(.serialized) struct JournalProcessTests {
    @Test func aWriterKilledWithSIGKILLLeavesWholeTransactionsOnly() throws {
        for round in 0..<3 {
            let path = temporaryJournalPath()
            _ = try openJournal(path)
            let (process, output) = try Harness.start(["hammer", path])
            #expect(output.readLine() == "ready")
            usleep(UInt32(20_000 + round * 70_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)

            let queue = try DatabaseQueue(path: path)
            try queue.read { db in
                #expect(try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"])
                // Every batch of 200 is there whole or not at all, and the cursor names the last whole batch.
                let counts = try Row.fetchAll(
                    db, sql: "SELECT conversation, count(*) AS n FROM inbox GROUP BY conversation")
                #expect(!counts.isEmpty)
                #expect(counts.allSatisfy { ($0["n"] as Int) == 200 }, "round \(round)")
                let cursor = try String.fetchOne(db, sql: "SELECT cursor FROM checkpoints WHERE source = 'hammer'")
                #expect(cursor == String(counts.count - 1))
            }
        }
    }

    @Test func ofSeveralProcessesContendingForTheLeaseExactlyOneWins() throws {
        let path = temporaryJournalPath()
        _ = try openJournal(path)
        let contenders = try (0..<6).map { _ in try Harness.start(["lease", path, "tick", "60"]) }
        let answers = contenders.map { process, output in
            let line = output.readLine()
            process.waitUntilExit()
            return line
        }
        #expect(answers.filter { $0 == "acquired" }.count == 1, "\(answers)")
        #expect(answers.filter { $0.hasPrefix("held by ") }.count == 5, "\(answers)")
        // The winner exited without releasing, as a killed tick would: the lease stays held until it expires.
        let journal = try openJournal(path)
        let lease = try #require(try journal.lease("tick"))
        guard case .held = try journal.acquireLease("tick", holder: "next", for: 60) else {
            Issue.record("the lease is held until it expires"); return
        }
        guard case .acquired = try journal.acquireLease("tick", holder: "next", for: 60, now: lease.expiresAt + 1)
        else {
            Issue.record("an expired lease is free"); return
        }
    }

    @Test func aCronShapedTickRunsInItsOwnProcess() throws {
        let path = temporaryJournalPath()
        let result = try Harness.run(["tick", path])
        #expect(result.status == 0)
        let journal = try openJournal(path)
        let run = try #require(try journal.runs().first)
        #expect(run.status == .succeeded)
        #expect(try journal.steps(ofRun: run.id).map(\.status) == [.succeeded, .succeeded, .succeeded])
        #expect(try journal.lease("tick") == nil)
    }
}
