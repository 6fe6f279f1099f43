import Foundation
import Testing

@Suite struct DryRunCommandTests {
    /// A conversation test that expects the wrong reply.
    static let failingTest = """
        name: wrong
        steps:
          - messages: [{ conversation: research-partner, sender: r, text: hi }]
        expect:
          - { kind: reply, to: research-partner, text: "something else" }
        """

    @Test func theShippedConversationTestsPass() throws {
        let result = try Binary.run(["test"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("6 passed, 0 failed"))
    }

    @Test func aFailingTestShowsTheDifferenceAndExitsOne() throws {
        let root = try Binary.workspace(["bad.yaml": Self.failingTest])
        let result = try Binary.run(["test", root.appendingPathComponent("bad.yaml").path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAIL  wrong"))
        #expect(result.stdout.contains("- expected reply → research-partner: \"something else\""))
        #expect(
            result.stdout.contains(
                "+ actual   reply → nx:session/b81c2f0e6d1a4c7e9f3b5a2d8c6e4f1a0b9d7c5e3a1f2b4c: \"(responder reply)\"")
        )
    }

    @Test func testJSONListsEachTestWithItsProblems() throws {
        let root = try Binary.workspace(["bad.yaml": Self.failingTest])
        let result = try Binary.run(["test", "--json", "tests", root.appendingPathComponent("bad.yaml").path])
        #expect(result.status == 1)
        let output = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            "\(result.stdout)")
        #expect(output["passed"] as? Int == 6)
        #expect(output["failed"] as? Int == 1)
        let tests = try #require(output["tests"] as? [[String: Any]])
        #expect(tests.count == 7)
        let failing = try #require(tests.first { $0["passed"] as? Bool == false })
        #expect(failing["name"] as? String == "wrong")
        let problems = try #require(failing["problems"] as? [String])
        #expect(problems.first == "- expected reply → research-partner: \"something else\"")
        #expect(
            tests.filter { $0["passed"] as? Bool == true }.allSatisfy { ($0["problems"] as? [Any])?.isEmpty == true })
    }

    @Test func planRendersTheEffectsWithoutANetwork() throws {
        let root = try Binary.workspace([
            "messages.yaml": "- { conversation: release-room, sender: build-agent, text: deploy v42 }\n"
        ])
        let result = try Binary.run(["plan", "--messages", root.appendingPathComponent("messages.yaml").path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let effects = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(effects.map { $0["kind"] as? String } == ["notify", "forward"])
        #expect(effects.map { $0["target"] as? String } == ["channel:operator", "tb:agent/deployer"])
        // The same input gives the same output.
        #expect(
            try Binary.run(["plan", "--messages", root.appendingPathComponent("messages.yaml").path, "--json"]).stdout
                == result.stdout)
    }

    @Test func tickExitCodes() throws {
        let root = try Binary.workspace([
            "workflows/a.yaml":
                "version: 1\naccounts:\n  nx: { protocol: nexus, server: \"http://127.0.0.1:9\", agent-id: bot }\n",
            "MESSAGING.md": "## Sessions\n",
        ])
        // Nothing to poll: 4.
        let idle = try Binary.run(["tick"], in: root)
        #expect(idle.status == 4, "\(idle.stderr)")
        // An invalid workspace runs nothing: 1.
        try Data("version: 1\nsorces: []\n".utf8).write(to: root.appendingPathComponent("workflows/b.yaml"))
        let invalid = try Binary.run(["tick"], in: root)
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("the workspace does not validate; nothing was run"))
        try FileManager.default.removeItem(at: root.appendingPathComponent("workflows/b.yaml"))
        // A source that cannot be reached: 1, and the failure is named.
        try Data("version: 1\nsources:\n  - { from: nx:session/0123456789abcdef0123, every: 1m }\n".utf8).write(
            to: root.appendingPathComponent("workflows/b.yaml"))
        let unreachable = try Binary.run(["tick"], in: root)
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("CURLE_COULDNT_CONNECT"))
    }
}

@Suite struct RunCommandTests {
    @Test func theDaemonReloadsKeepsTheLastGoodConfigurationAndStopsOnSIGTERM() throws {
        let root = try Binary.workspace([
            "workflows/a.yaml":
                "version: 1\naccounts:\n  nx: { protocol: nexus, server: \"http://127.0.0.1:9\", agent-id: bot }\n",
            "MESSAGING.md": "## Sessions\n",
        ])
        let daemon = Process()
        daemon.executableURL = Binary.url
        daemon.arguments = ["run", "--workspace", root.path, "--max-sleep", "1"]
        let errors = Pipe()
        daemon.standardError = errors
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        usleep(700_000)
        // A broken change is reported and ignored.
        try Data("version: 1\nsorces: []\n".utf8).write(to: root.appendingPathComponent("workflows/a.yaml"))
        usleep(1_200_000)
        #expect(daemon.isRunning)
        // A good change is taken.
        try Data(
            "version: 1\naccounts:\n  nx: { protocol: nexus, server: \"http://127.0.0.1:9\", agent-id: other }\n".utf8
        )
        .write(to: root.appendingPathComponent("workflows/a.yaml"))
        usleep(1_200_000)
        daemon.terminate()
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("keeping the last good configuration"))
        #expect(log.contains("reloaded the workspace"))
        #expect(log.hasSuffix("stopped\n"))
    }
}
