import Foundation
import Testing

/// `switchboard tick` killed with SIGKILL at many points of a run over many messages: afterwards every
/// message has been answered exactly once. Both counts are measured and must be zero.
@Suite struct CrashResumeTests {
    @Test func killedTicksLoseNothingAndSendNothingTwice() throws {
        let sandbox = Process()
        sandbox.executableURL = Binary.url
        sandbox.arguments = ["sandbox", "--json", "--rate-limit", "0"]
        let output = Pipe()
        sandbox.standardOutput = output
        sandbox.standardError = FileHandle.nullDevice
        try sandbox.run()
        defer {
            sandbox.terminate()
            sandbox.waitUntilExit()
        }
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != 0x0A {
            line.append(first)
        }
        let url = try #require((try JSONSerialization.jsonObject(with: line) as? [String: String])?["nexus"])

        let peer = try Binary.workspace([:])
        func nexus(_ arguments: [String]) throws -> Binary.Result {
            try Binary.run(
                ["nexus"] + arguments + ["--server", url, "--workspace", peer.path, "--agent-id", "peer", "--json"],
                in: peer)
        }
        let created = try nexus(["create", "--max-agents", "5"])
        let session = try #require(
            (try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])?["sessionId"]
                as? String)
        let count = 24
        for index in 0..<count { #expect(try nexus(["send", session, "m\(index)"]).status == 0) }

        let workspace = try Binary.workspace([
            "workflows/main.yaml": """
            version: 1
            accounts:
              nx: { protocol: nexus, server: "\(url)", agent-id: bot }
            responder: { run: [./reply.sh] }
            sources:
              - { from: nx:session/room, every: 1s }
            channels:
              ops: { command: [./reply.sh] }
            escalation: { to: ops }
            """,
            "MESSAGING.md": "## Sessions\n### room\n- **Session:** nx:session/\(session)\n- **Auto-reply:** yes\n",
            "reply.sh":
                "#!/bin/sh\npython3 -c 'import json,sys; print(\"echo: \" + json.load(sys.stdin)[\"message\"][\"text\"])'\n",
        ])
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755], ofItemAtPath: workspace.appendingPathComponent("reply.sh").path)

        // Ticks killed at many different points.
        var generator = SystemRandomNumberGenerator()
        for round in 0..<16 {
            let tick = Process()
            tick.executableURL = Binary.url
            tick.arguments = ["tick", "--workspace", workspace.path]
            tick.currentDirectoryURL = workspace
            tick.standardOutput = FileHandle.nullDevice
            tick.standardError = FileHandle.nullDevice
            try tick.run()
            usleep(UInt32.random(in: 10_000...(40_000 + UInt32(round) * 25_000), using: &generator))
            kill(tick.processIdentifier, SIGKILL)
            tick.waitUntilExit()
        }
        // Then ticks left alone until everything is answered.
        var finished = false
        for _ in 0..<40 where !finished {
            let result = try Binary.run(["tick", "--workspace", workspace.path], in: workspace)
            #expect([0, 4].contains(result.status), "\(result.stderr)")
            let replies = try botReplies()
            finished = replies.count >= count && result.status == 4
            if !finished { usleep(300_000) }
        }

        func botReplies() throws -> [String] {
            let polled = try nexus(["poll", session])
            let messages =
                (try JSONSerialization.jsonObject(with: Data(polled.stdout.utf8)) as? [String: Any])?["messages"]
                as? [[String: Any]] ?? []
            return messages.filter { $0["agentId"] as? String == "bot" }.compactMap { $0["text"] as? String }
        }
        let replies = try botReplies()
        let lost = (0..<count).filter { !replies.contains("echo: m\($0)") }
        let duplicated = Dictionary(grouping: replies, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(lost == [], "messages never answered")
        #expect(duplicated == [], "replies sent twice")
    }
}
