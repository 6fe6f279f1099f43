import Engine
import Foundation
import Journal
import Masumi
import Nexus
import Sandbox
import TestSupport
import Testing
import Transport
import Workflow

/// The engine with a Nexus and a masumi account side by side: one sandbox server serves both networks (the
/// masumi side through the stand-in CLI, real child processes), one workspace says what goes where.
@Suite(.serialized) struct CrossNetworkTests {
    final class Setup: @unchecked Sendable {
        let clock = SandboxClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000))
        let nexus: NexusSandbox
        let masumi: MasumiSandbox
        let faults = FaultPlan()
        let server: SandboxServer
        let directory: URL
        let executable: String
        let http = HTTPClient(connections: 4)
        let peer: NexusClient

        init() async throws {
            var options = NexusSandbox.Options()
            options.rateLimit = nil
            nexus = NexusSandbox(options: options, clock: clock)
            let clock = self.clock
            masumi = MasumiSandbox(clock: { clock.now })
            masumi.addInbox(profile: "default", email: "bot@example.invalid", agents: ["bot"])
            masumi.addInbox(profile: "lead", email: "lead@example.invalid", agents: ["lead"])
            masumi.addInbox(profile: "peer", email: "peer@example.invalid", agents: ["peer"])
            server = try await SandboxServer.start(nexus: nexus, masumi: masumi, faults: faults)
            directory = testTemporaryDirectory.appendingPathComponent("cross-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let script = directory.appendingPathComponent("masumi-agent-messenger")
            try Data("#!/bin/sh\nexec '\(Binary.url.path)' __masumi-sandbox-cli '\(server.url)' \"$@\"\n".utf8)
                .write(to: script)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
            executable = script.path
            peer = NexusClient(
                server: server.url, agentID: "peer",
                keys: SessionKeyStore(directory: directory.appendingPathComponent("peer-keys").path), http: http)
        }

        func stop() async {
            await server.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        /// Both accounts, `room` polled every minute, escalations to the masumi agent `lead`.
        func write(messaging: String, extra: String = "") throws {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("workflows"), withIntermediateDirectories: true)
            let workflow = """
                version: 1
                name: cross
                accounts:
                  nx: { protocol: nexus, server: "\(server.url)", agent-id: bot }
                  ms: { protocol: masumi, agent: bot, executable: "\(executable)" }
                sources:
                  - { from: nx:session/room, every: 1m }
                channels:
                  lead: { to: ms:agent/lead }
                escalation: { to: lead }

                """
            try Data((workflow + extra).utf8).write(to: directory.appendingPathComponent("workflows/main.yaml"))
            try Data(messaging.utf8).write(to: directory.appendingPathComponent("MESSAGING.md"))
        }

        func client(_ agent: String, profile: String) -> MasumiClient {
            MasumiClient(cli: MasumiCLI(executable: executable, profile: profile), agent: agent)
        }

        func engine() throws -> Engine {
            let report = WorkspaceLoader.validate(paths: [directory.path])
            let errors = report.diagnostics.filter { $0.severity == .error }
            #expect(errors.isEmpty, "\(errors.map(\.description))")
            let nexusClient = NexusClient(
                server: server.url, agentID: "bot", keys: SessionKeyStore.workspace(directory.path), http: http)
            let clock = self.clock
            return Engine(
                configuration: EngineConfiguration(workspace: report.workspace, directory: directory.path),
                journal: try Journal(path: directory.appendingPathComponent(".switchboard/journal.sqlite3").path),
                messengers: [
                    "nx": NexusMessenger(account: "nx", client: nexusClient),
                    "ms": MasumiMessenger(account: "ms", client: client("bot", profile: "default")),
                ],
                effects: LiveEffects(http: http), holder: "test-\(UUID().uuidString)", now: { clock.now })
        }
    }

    @Test func aNexusMessageIsForwardedToAMasumiThread() async throws {
        let setup = try await Setup()
        let room = try await setup.peer.createSession(ttl: 3600).sessionId
        let thread = setup.masumi.directThread("bot", "peer")
        try setup.write(
            messaging: """
                ## Sessions
                ### room
                - **Session:** nx:session/\(room)
                - **Forward to:** ms:thread/\(thread)
                """)
        _ = try await setup.peer.send(session: room, text: "deploy v42")
        let engine = try setup.engine()
        let report = try await engine.tick()
        #expect(report.failures == [])
        #expect(report.sent == 1)
        #expect(
            setup.masumi.threadMessages(thread).map(\.text) == ["Forwarded from peer in nx:session/\(room): deploy v42"]
        )
        // The peer on masumi reads it as an unread message from bot.
        let unread = try await setup.client("peer", profile: "peer").messages(thread: thread, after: nil)
        #expect(unread.messages.map(\.sender.slug) == ["bot"])
        // Nothing new on Nexus: nothing more on masumi.
        setup.clock.advance(by: 61)
        _ = try await engine.tick()
        #expect(setup.masumi.threadMessages(thread).count == 1)
        await setup.stop()
    }

    @Test func twoStrikesOnNexusEscalateToAMasumiAgent() async throws {
        let setup = try await Setup()
        let room = try await setup.peer.createSession(ttl: 3600).sessionId
        try setup.write(
            messaging: """
                ## Sessions
                ### room
                - **Session:** nx:session/\(room)
                - **On message:** ack
                """,
            extra: """
                handlers:
                  ack:
                    - reply: "ack: ${{ message.text }}"

                """)
        _ = try await setup.peer.send(session: room, text: "restart the queue")
        setup.faults.inject(.status(503), pathPrefix: "/v1/sessions/\(room)/messages", method: "POST", times: 2)
        let engine = try setup.engine()
        let first = try await engine.tick()
        #expect(first.escalations == 0)
        #expect(try engine.journal.struckIntents().first?.strikes == 1)
        setup.clock.advance(by: 61)
        let second = try await engine.tick()
        #expect(second.escalations == 1)
        let blocked = try #require(try engine.journal.blockedIntents().first)
        #expect(blocked.lastErrorCode == "internal_error")

        // bot and lead have never talked: the escalation is a first contact that waits for lead's approval.
        let lead = setup.client("lead", profile: "lead")
        let requests = try await lead.approvals()
        #expect(requests.map(\.direction) == ["incoming"])
        #expect(requests.first?.requester?.slug == "bot")
        #expect(try await lead.approve(request: requests[0].id) == "approved")
        let thread = try #require(requests.first?.threadId)
        let received = try await lead.messages(thread: thread, after: nil).messages.compactMap(\.text)
        #expect(received.count == 1)
        let text = received.first ?? ""
        #expect(text.contains("nx:session/\(room) failed 2 times: internal_error"), "\(text)")
        #expect(text.contains("switchboard resolve \(blocked.id)"), "\(text)")
        // Still blocked after more ticks: no third attempt on Nexus and no second escalation.
        setup.clock.advance(by: 61)
        #expect(try await engine.tick().escalations == 0)
        let botMessages = try await setup.peer.poll(session: room).messages.filter { $0.agentId == "bot" }
        #expect(botMessages.isEmpty)
        await setup.stop()
    }

    /// `switchboard tick` killed while the CLI's write is stored but unanswered: the next tick finds the
    /// message on masumi and records it as sent, without a second `thread reply`.
    @Test func aTickKilledBetweenSendAndJournalIsReconciledWithoutADuplicate() async throws {
        let masumi = MasumiSandbox()
        masumi.addInbox(profile: "default", email: "bot@example.invalid", agents: ["bot"])
        masumi.addInbox(profile: "peer", email: "peer@example.invalid", agents: ["peer"])
        let server = try await SandboxServer.start(nexus: NexusSandbox(), masumi: masumi)
        let thread = masumi.directThread("bot", "peer")
        let workspace = try Binary.workspace([
            "masumi-agent-messenger":
                "#!/bin/sh\nexec '\(Binary.url.path)' __masumi-sandbox-cli '\(server.url)' \"$@\"\n",
            "workflows/main.yaml": """
            version: 1
            accounts:
              ms: { protocol: masumi, agent: bot, executable: ./masumi-agent-messenger, timeout: 30s }
            sources:
              - { from: ms:thread/\(thread), every: 1s }
            handlers:
              ack:
                - reply: "ack: ${{ message.text }}"
            channels:
              ops: { command: [/bin/true] }
            escalation: { to: ops }
            """,
            "MESSAGING.md": "## Sessions\n### desk\n- **Session:** ms:thread/\(thread)\n- **On message:** ack\n",
        ])
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755], ofItemAtPath: workspace.appendingPathComponent("masumi-agent-messenger").path)
        masumi.deliver(from: "peer", toThread: thread, text: "deploy?")
        // The stand-in stores the reply, then takes 4 s to answer: the tick is killed in between.
        masumi.inject(.init(command: "thread reply", effect: .latency(4)))
        let tick = Process()
        tick.executableURL = Binary.url
        tick.arguments = ["tick", "--workspace", workspace.path]
        tick.standardOutput = FileHandle.nullDevice
        tick.standardError = FileHandle.nullDevice
        try tick.run()
        var stored = false
        for _ in 0..<300 where !stored {
            stored = masumi.threadMessages(thread).contains { $0.sender == "bot" }
            if !stored { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(stored, "the reply never reached the stand-in")
        kill(tick.processIdentifier, SIGKILL)
        tick.waitUntilExit()
        #expect(tick.terminationReason == .uncaughtSignal)

        // Ticks left alone: the intent whose outcome is unknown is reconciled, not sent again.
        var readsAfterFirstTick = 0
        for round in 0..<3 {
            let result = try await Binary.run(async: ["tick", "--workspace", workspace.path], in: workspace)
            #expect([0, 4].contains(result.status), "\(result.stderr)")
            if round == 0 { readsAfterFirstTick = masumi.invocations()["thread read", default: 0] }
            try await Task.sleep(for: .milliseconds(1100))
        }
        let replies = masumi.threadMessages(thread).filter { $0.sender == "bot" }.map(\.text)
        #expect(replies == ["ack: deploy?"])
        #expect(masumi.invocations()["thread reply"] == 1)
        // Later ticks poll (`thread show`) but find nothing new, so they leave the read state alone.
        #expect(masumi.invocations()["thread read", default: 0] == readsAfterFirstTick)
        #expect(masumi.invocations()["thread show", default: 0] >= 4)
        let journal = try Journal(path: workspace.appendingPathComponent(".switchboard/journal.sqlite3").path)
        #expect(try journal.struckIntents().isEmpty)
        #expect(try journal.blockedIntents().isEmpty)
        await server.stop()
    }
}
