import Foundation
import Testing

/// The idle tick's shortcut: after a tick that leaves nothing pending, the next one before anything falls due
/// exits 4 without touching the journal; a changed file or `resolve` sends it the long way again.
@Suite struct IdleTickTests {
    @Test func anIdleTickSkipsTheJournalUntilSomethingChanges() throws {
        let workspace = try Binary.workspace([
            "workflows/main.yaml": """
            version: 1
            handlers:
              note:
                - set: { seen: true }
            schedules:
              hourly: { every: 1h, handler: note }
            """,
            "MESSAGING.md": "## Sessions\n",
        ])
        let journal = workspace.appendingPathComponent(".switchboard/journal.sqlite3").path
        func walStamp() -> Date? {
            (try? FileManager.default.attributesOfItem(atPath: journal + "-wal"))?[.modificationDate] as? Date
        }
        let first = try Binary.run(["tick", "--workspace", workspace.path])
        #expect([0, 4].contains(first.status), "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: journal + ".wake"))
        let before = walStamp()
        usleep(20_000)
        let idle = try Binary.run(["tick", "--workspace", workspace.path])
        #expect(idle.status == 4)
        #expect(idle.stderr.contains("tick: 0 polled"))
        #expect(walStamp() == before, "the idle tick wrote to the journal")

        // A changed workspace file: the long way (the lease is taken and released), then idle again.
        try Data("## Sessions\n\n".utf8).write(to: workspace.appendingPathComponent("MESSAGING.md"))
        let changed = try Binary.run(["tick", "--workspace", workspace.path])
        #expect(changed.status == 4)
        #expect(walStamp() != before, "a changed workspace did not reach the journal")
        let stamp = walStamp()
        usleep(20_000)
        #expect(try Binary.run(["tick", "--workspace", workspace.path]).status == 4)
        #expect(walStamp() == stamp)

        // --json always reports from the engine.
        let json = try Binary.run(["tick", "--workspace", workspace.path, "--json"])
        #expect(json.status == 4)
        #expect(json.stdout.contains("\"sources_polled\""))
        #expect(walStamp() != stamp)
    }
}
