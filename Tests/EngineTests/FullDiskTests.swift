import Engine
import Foundation
import GRDB
import Nexus
import Testing
import Transport
import Workflow

@testable import Journal

@Suite struct FullDiskTests {
    /// The disk fills up while a tick journals what its polls brought: the tick fails with the journal's
    /// disk-full error, what was journaled before stays, and once there is room again the next tick handles
    /// every message that came meanwhile, each once.
    @Test func aFullDiskFailsThePollsTickAndLosesNothing() async throws {
        let scenario = try await Scenario()
        let room = try await scenario.session()
        try scenario.writeRoom(room, handlers: "  ack:\n    - reply: \"ack\"\n", bullets: "- **On message:** ack\n")
        let journal = try Journal(path: scenario.journalPath)
        let engine = try scenario.engine(journal: journal)
        _ = try await scenario.peer.send(session: room, text: "one")
        #expect(try await engine.tick().failures == [])

        // Room for nothing more: every page the journal has is in use by what it holds.
        func cap(_ pages: String) async throws {
            try await journal.pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA max_page_count = \(pages)")
            }
        }
        let used = try await journal.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
        try await cap(String(used))
        let long = String(repeating: "x", count: 3000)
        for text in ["two", "three", "four"] { _ = try await scenario.peer.send(session: room, text: text + long) }
        scenario.advance(61)
        await #expect {
            try await engine.tick()
        } throws: { error in
            (error as? JournalError)?.kind == .diskFull
        }
        #expect(try await scenario.botMessages(in: room) == ["ack"])
        #expect(try journal.unhandledMessages().isEmpty)

        try await cap("1073741823")
        scenario.advance(61)
        #expect(try await engine.tick().failures == [])
        // One reply to each message: none lost, none repeated.
        #expect(try await scenario.botMessages(in: room) == ["ack", "ack", "ack", "ack"])
        #expect(try journal.unhandledMessages().isEmpty)
        await scenario.stop()
    }
}
