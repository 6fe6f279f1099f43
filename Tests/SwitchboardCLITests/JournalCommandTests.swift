import Foundation
import Testing

@Suite struct JournalCommandTests {
    /// A workspace whose journal holds one finished tick, written by another process.
    func workspaceWithATick() throws -> URL {
        let root = try Binary.workspace([:])
        let harness = Process()
        harness.executableURL = Binary.product("journal-harness")
        harness.arguments = ["tick", root.appendingPathComponent(".switchboard/journal.sqlite3").path]
        try harness.run()
        harness.waitUntilExit()
        #expect(harness.terminationStatus == 0)
        return root
    }

    @Test func statusOfAWorkspaceThatHasNotRun() throws {
        let root = try Binary.workspace([:])
        let text = try Binary.run(["status"], in: root)
        #expect(text.status == 0)
        #expect(text.stdout.contains("no journal yet"))
        let json = try Binary.run(["status", "--json"], in: root)
        #expect(json.stdout == "{\"journal\":null}\n")
        // Reading never creates a journal.
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(".switchboard").path))
    }

    @Test func listShowTailAndStatusReadWhatATickWrote() throws {
        let root = try workspaceWithATick()
        let list = try Binary.run(["journal", "list"], in: root)
        #expect(list.status == 0)
        #expect(list.stdout.hasPrefix("ID  STARTED"))
        #expect(list.stdout.contains("bench     h        schedule  succeeded"))

        let runs = try #require(
            try JSONSerialization.jsonObject(
                with: Data(try Binary.run(["journal", "list", "--json"], in: root).stdout.utf8)) as? [[String: Any]])
        #expect(runs.count == 1)
        #expect(runs[0]["status"] as? String == "succeeded")
        #expect(runs[0]["trigger_kind"] as? String == "schedule")

        let show = try Binary.run(["journal", "show", "1", "--json"], in: root)
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        #expect((detail["steps"] as? [Any])?.count == 3)

        let missing = try Binary.run(["journal", "show", "42"], in: root)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no run 42"))

        let tail = try Binary.run(["journal", "tail", "-n", "2"], in: root)
        #expect(tail.stdout.split(separator: "\n").count == 2)
        #expect(tail.stdout.contains("run        run 1     succeeded bench/h (schedule)"))

        let status = try Binary.run(["status", "--json"], in: root)
        let snapshot = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect((snapshot["blocked_intents"] as? [Any])?.isEmpty == true)
        #expect(snapshot["lease"] == nil || snapshot["lease"] is NSNull)
    }

    @Test func checkAndPrune() throws {
        let root = try workspaceWithATick()
        let check = try Binary.run(["journal", "check"], in: root)
        #expect(check.status == 0)
        #expect(check.stdout.contains(": ok"))
        let prune = try Binary.run(["journal", "prune", "--older-than", "0s", "--json"], in: root)
        #expect(prune.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(prune.stdout.utf8)) as? [String: Any])
        #expect(report["runs"] as? Int == 1)
        #expect(try Binary.run(["journal", "list"], in: root).stdout == "no runs yet\n")
        let usage = try Binary.run(["journal", "prune", "--older-than", "soon"], in: root)
        #expect(usage.status == 2)
    }

    @Test func aBrokenJournalIsNamedWithWhatToDo() throws {
        let root = try Binary.workspace([".switchboard/journal.sqlite3": "this is not a database\n"])
        for arguments in [["journal", "list"], ["journal", "check"], ["status"]] {
            let result = try Binary.run(arguments, in: root)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("journal.sqlite3: not a switchboard journal"), "\(arguments)")
            #expect(result.stderr.contains("hint:"))
        }
        let contents = try String(
            contentsOf: root.appendingPathComponent(".switchboard/journal.sqlite3"), encoding: .utf8)
        #expect(contents == "this is not a database\n")
        let missing = try Binary.run(["journal", "list", "--journal", "/nonexistent/j.sqlite3"], in: root)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no journal here yet"))
    }
}

@Suite struct ResolveCommandTests {
    @Test func resolveClearsABlockedIntentAndAPausedSource() throws {
        let root = try Binary.workspace([:])
        let path = root.appendingPathComponent(".switchboard/journal.sqlite3").path
        let harness = Process()
        harness.executableURL = Binary.product("journal-harness")
        harness.arguments = ["block", path, "inbox:1/auto-reply", "nx:session/abc"]
        try harness.run()
        harness.waitUntilExit()
        #expect(harness.terminationStatus == 0)

        let before = try Binary.run(["status", "--json"], in: root)
        let snapshot = try #require(try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as? [String: Any])
        #expect((snapshot["blocked_intents"] as? [Any])?.count == 1)
        #expect((snapshot["paused_sources"] as? [Any])?.count == 1)

        let intent = try Binary.run(["resolve", "inbox:1/auto-reply", "--json"], in: root)
        #expect(intent.status == 0, "\(intent.stderr)")
        #expect(intent.stdout.contains("\"resolved\" : \"intent\""))
        let source = try Binary.run(["resolve", "nx:session/abc"], in: root)
        #expect(source.stdout == "source nx:session/abc resumed\n")
        let unknown = try Binary.run(["resolve", "nope"], in: root)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no intent 'nope'"))

        let after = try Binary.run(["status", "--json"], in: root)
        let cleared = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])
        #expect((cleared["blocked_intents"] as? [Any])?.isEmpty == true)
        #expect((cleared["paused_sources"] as? [Any])?.isEmpty == true)
    }
}
