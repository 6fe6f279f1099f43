import Foundation
import Journal
import Nexus
import Sandbox
import Testing
import Transport

/// `switchboard run` on SIGTERM: the step in flight finishes and is journaled, nothing new starts, and the
/// next tick does the rest without sending anything twice.
@Suite struct DaemonStopTests {
    @Test func sigtermFinishesTheStepInFlightAndLeavesTheRestForTheNextTick() async throws {
        let server = try await SandboxServer.start(nexus: NexusSandbox())
        let peer = NexusClient.testPeer(server: server.url)
        let room = try await peer.createSession(ttl: 3600).sessionId
        let workspace = try Binary.workspace([
            "workflows/main.yaml": """
            version: 1
            accounts:
              nx: { protocol: nexus, server: "\(server.url)", agent-id: bot }
            sources:
              - { from: nx:session/room, every: 1h }
            handlers:
              slow:
                - id: work
                  run: [./slow.sh]
                - reply: "done ${{ message.text }}"
            """,
            "MESSAGING.md": "## Sessions\n### room\n- **Session:** nx:session/\(room)\n- **On message:** slow\n",
            // A step that takes a second: it says when it starts, and counts the times it finished.
            "slow.sh": "#!/bin/sh\ncat >/dev/null\ntouch started\nsleep 1\necho x >> finished\n",
        ])
        let script = workspace.appendingPathComponent("slow.sh").path
        #expect(chmod(script, 0o755) == 0)
        _ = try await peer.send(session: room, text: "one")
        _ = try await peer.send(session: room, text: "two")

        let daemon = try Daemon(workspace: workspace)
        let started = workspace.appendingPathComponent("started").path
        let finished = workspace.appendingPathComponent("finished").path
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: started) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(FileManager.default.fileExists(atPath: started), "the first step never started")
        let (status, log) = await daemon.stop()  // SIGTERM, while the step runs
        #expect(status == 0, "\(log)")
        #expect(log.hasSuffix("stopped\n"), "\(log)")
        // The step in flight finished; the reply after it and the second message were not started.
        #expect(try String(contentsOfFile: finished, encoding: .utf8) == "x\n")
        #expect(try await peer.poll(session: room).messages.filter { $0.agentId == "bot" }.isEmpty)
        let journal = try Journal(path: Journal.defaultPath(workspace: workspace.path))
        let runs = try journal.runs()
        #expect(runs.map(\.status) == [.cancelled], "\(runs)")
        #expect(try journal.steps(ofRun: runs[0].id).map(\.stepID) == ["work"])
        #expect(try journal.unhandledMessages().count == 2)

        // The next tick runs both messages, each reply once.
        let tick = try await Binary.run(async: ["tick", "--workspace", workspace.path], in: workspace)
        #expect(tick.status == 0, "\(tick.stderr)")
        let replies = try await peer.poll(session: room).messages.filter { $0.agentId == "bot" }.map(\.text)
        #expect(replies == ["done one", "done two"])
        #expect(try journal.unhandledMessages().isEmpty)
        await server.stop()
    }

    /// Responders waiting for a child slot when SIGTERM comes are not started: only the children already
    /// running finish, and their conversations' messages wait for the next tick, which answers each once.
    @Test func sigtermLeavesRespondersWaitingForASlotUnstarted() async throws {
        let server = try await SandboxServer.start(nexus: NexusSandbox())
        let peer = NexusClient.testPeer(server: server.url)
        let rooms = 12  // more than the 8 children a 2-core machine runs at once
        var sessions: [String] = []
        for _ in 0..<rooms { sessions.append(try await peer.createSession(ttl: 3600).sessionId) }
        var sources = ""
        var messaging = "## Sessions\n"
        for (index, session) in sessions.enumerated() {
            sources += "  - { from: nx:session/r\(index), every: 1h }\n"
            messaging += "### r\(index)\n- **Session:** nx:session/\(session)\n- **Auto-reply:** yes\n"
        }
        let workspace = try Binary.workspace([
            "workflows/main.yaml": """
            version: 1
            accounts:
              nx: { protocol: nexus, server: "\(server.url)", agent-id: bot }
            responder: { run: [./reply.sh] }
            sources:
            \(sources)
            """,
            "MESSAGING.md": messaging,
            // Each start leaves a file of its own; two seconds, then the reply.
            "reply.sh": "#!/bin/sh\ncat >/dev/null\ntouch \"started-$$\"\nsleep 2\necho ok\n",
        ])
        #expect(chmod(workspace.appendingPathComponent("reply.sh").path, 0o755) == 0)
        for session in sessions { _ = try await peer.send(session: session, text: "hello") }
        func started() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: workspace.path)) ?? []).filter {
                $0.hasPrefix("started-")
            }.count
        }

        let daemon = try Daemon(workspace: workspace)
        // Every slot taken: the other four conversations wait for one.
        for _ in 0..<300 where started() < 8 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(started() == 8, "\(started()) responders started")
        try await Task.sleep(for: .milliseconds(200))
        let (status, log) = await daemon.stop()
        #expect(status == 0, "\(log)")
        let before = started()
        #expect(before == 8, "\(before) responders started, some after the stop was asked")
        #expect(!log.contains("was not started"), "a responder not started is not a failure: \(log)")
        let journal = try Journal(path: Journal.defaultPath(workspace: workspace.path))
        #expect(try journal.unhandledMessages().count >= rooms - before)

        // The next tick answers every room once.
        let tick = try await Binary.run(async: ["tick", "--workspace", workspace.path], in: workspace)
        #expect(tick.status == 0, "\(tick.stderr)")
        for session in sessions {
            let replies = try await peer.poll(session: session).messages.filter { $0.agentId == "bot" }
            #expect(replies.map(\.text) == ["ok"], "\(session)")
        }
        #expect(try journal.unhandledMessages().isEmpty)
        await server.stop()
    }
}

/// `switchboard run` on a workspace, its stderr kept.
private struct Daemon {
    let process = Process()
    let errors = Pipe()

    init(workspace: URL) throws {
        process.executableURL = Binary.url
        process.arguments = ["run", "--workspace", workspace.path, "--max-sleep", "1"]
        process.currentDirectoryURL = workspace
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    /// SIGTERM, then its exit status and stderr. Waited for on a thread of its own: the sandbox in the test
    /// process answers the daemon meanwhile.
    func stop() async -> (status: Int32, log: String) {
        process.terminate()
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread {
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }.start()
        }
        return (status, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}
