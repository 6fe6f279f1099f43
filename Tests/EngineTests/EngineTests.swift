import Engine
import Foundation
import Journal
import Nexus
import Sandbox
import Testing

/// The engine end to end against the sandbox on loopback.
@Suite(.serialized) struct EngineTests {
    @Test func autoReplyAndNotifyOncePerMessage() async throws {
        let scenario = try await Scenario()
        let room = try await scenario.session()
        try scenario.writeRoom(room, bullets: "- **Auto-reply:** yes\n- **Notify:** ops\n")
        let engine = try scenario.engine()
        let first = try await engine.tick()
        #expect(first.failures == [])
        for text in ["one", "two", "three"] { _ = try await scenario.peer.send(session: room, text: text) }
        scenario.advance(61)
        let second = try await engine.tick()
        #expect(second.messagesReceived == 3)
        #expect(second.runs == 3)
        #expect(try await scenario.botMessages(in: room) == ["echo: one", "echo: two", "echo: three"])
        #expect(scenario.notifications.count == 3)
        // Nothing new: the next tick polls and sends nothing.
        scenario.advance(61)
        let third = try await engine.tick()
        #expect(third.sent == 0)
        #expect(try await scenario.botMessages(in: room).count == 3)
        // Not due yet: nothing at all.
        #expect(try await engine.tick().nothingDue)
        await scenario.stop()
    }

    @Test func forwardBetweenSessionsWithProvenance() async throws {
        let scenario = try await Scenario()
        let a = try await scenario.session()
        let b = try await scenario.session()
        try scenario.write(
            workflow: "sources:\n  - { from: nx:session/a, every: 1m }\n",
            messaging: """
                ## Sessions
                ### a
                - **Session:** nx:session/\(a)
                - **Forward to:** nx:session/b
                ### b
                - **Session:** nx:session/\(b)
                """)
        _ = try await scenario.peer.send(session: a, text: "deploy v42")
        let report = try await scenario.engine().tick()
        #expect(report.failures == [])
        let forwarded = try await scenario.botMessages(in: b)
        #expect(forwarded == ["Forwarded from peer in nx:session/\(a): deploy v42"])
        await scenario.stop()
    }

    static let handoff = """
        sources:
          - { from: nx:session/desk, every: 1m }
          - { from: nx:session/deployer, every: 1m }
        handlers:
          handoff:
            - forward: nx:session/deployer
            - id: ack
              wait: { reply-from: nx:session/deployer, timeout: 30m }
            - if: ${{ steps.ack.timed-out }}
              escalate: "deployer did not acknowledge ${{ message.text }} within 30m"
            - if: ${{ !steps.ack.timed-out }}
              reply: "Deployer acknowledged: ${{ steps.ack.message.text }}"

        """

    func handoffScenario() async throws -> (Scenario, String, String) {
        let scenario = try await Scenario()
        let desk = try await scenario.session()
        let deployer = try await scenario.session()
        try scenario.write(
            workflow: Self.handoff,
            messaging: """
                ## Sessions
                ### desk
                - **Session:** nx:session/\(desk)
                - **On message:** handoff
                ### deployer
                - **Session:** nx:session/\(deployer)
                """)
        return (scenario, desk, deployer)
    }

    @Test func aWaitResumesOnTheReply() async throws {
        let (scenario, desk, deployer) = try await handoffScenario()
        let engine = try scenario.engine()
        _ = try await scenario.peer.send(session: desk, text: "deploy v42")
        _ = try await engine.tick()
        #expect(try await scenario.botMessages(in: deployer).count == 1)
        #expect(try engine.journal.openWaits().count == 1)
        _ = try await scenario.peer.send(session: deployer, text: "done, v42 is live")
        scenario.advance(61)
        let report = try await engine.tick()
        #expect(report.failures == [])
        #expect(try await scenario.botMessages(in: desk) == ["Deployer acknowledged: done, v42 is live"])
        #expect(try engine.journal.openWaits().isEmpty)
        #expect(scenario.notifications.isEmpty)
        await scenario.stop()
    }

    @Test func aWaitTimesOutAcrossEnginesAndEscalates() async throws {
        let (scenario, desk, _) = try await handoffScenario()
        _ = try await scenario.peer.send(session: desk, text: "deploy v43")
        _ = try await scenario.engine().tick()
        // A later process (a new engine on the same journal), 31 minutes on.
        scenario.advance(31 * 60)
        let report = try await scenario.engine().tick()
        #expect(report.escalations == 1)
        #expect(scenario.notifications.count == 1)
        #expect(scenario.notifications.first?.contains("deployer did not acknowledge deploy v43 within 30m") == true)
        #expect(try await scenario.botMessages(in: desk).isEmpty)
        await scenario.stop()
    }

    @Test func twoStrikesBlockEscalateAndWaitForResolve() async throws {
        let scenario = try await Scenario()
        let room = try await scenario.session()
        try scenario.writeRoom(room, bullets: "- **Auto-reply:** yes\n")
        let engine = try scenario.engine()
        _ = try await scenario.peer.send(session: room, text: "hello")
        scenario.faults.inject(.status(503), pathPrefix: "/v1/sessions/\(room)/messages", method: "POST", times: 2)
        let first = try await engine.tick()
        #expect(first.failures.count == 1)
        #expect(try engine.journal.struckIntents().first?.strikes == 1)
        scenario.advance(61)
        let second = try await engine.tick()
        #expect(second.escalations == 1)
        let blocked = try #require(try engine.journal.blockedIntents().first)
        #expect(blocked.lastErrorCode == "internal_error")
        #expect(scenario.notifications.first?.contains("internal_error") == true)
        // No third attempt, however many ticks.
        scenario.advance(61)
        _ = try await engine.tick()
        #expect(try await scenario.botMessages(in: room).isEmpty)
        // An operator resolves it; the next tick delivers.
        _ = try engine.journal.resolveIntent(String(blocked.id), by: "test")
        scenario.advance(61)
        _ = try await engine.tick()
        #expect(try await scenario.botMessages(in: room) == ["echo: hello"])
        await scenario.stop()
    }

    /// An `escalate` step run again (its run failed after it and the message came round) is delivered once.
    @Test func anEscalateStepRunAgainIsDeliveredOnce() async throws {
        let scenario = try await Scenario()
        let room = try await scenario.session()
        try scenario.writeRoom(
            room,
            handlers: """
                  alarm:
                    - escalate: "look at ${{ message.text }}"
                    - reply: "seen"

                """,
            bullets: "- **On message:** alarm\n")
        let engine = try scenario.engine()
        _ = try await scenario.peer.send(session: room, text: "disk full")
        scenario.faults.inject(.status(503), pathPrefix: "/v1/sessions/\(room)/messages", method: "POST", times: 1)
        let first = try await engine.tick()
        #expect(first.escalations == 1)
        #expect(first.failures.count == 1)
        scenario.advance(61)
        let second = try await engine.tick()
        #expect(second.failures == [])
        #expect(try await scenario.botMessages(in: room) == ["seen"])
        #expect(scenario.notifications.filter { $0.contains("look at disk full") }.count == 1)
        await scenario.stop()
    }

    @Test func aSourceFailingTwiceIsPausedAndEscalated() async throws {
        let scenario = try await Scenario()
        let room = try await scenario.session()
        try scenario.writeRoom(room, bullets: "")
        let engine = try scenario.engine()
        scenario.faults.inject(.status(502), pathPrefix: "/v1/sessions/\(room)/messages", method: "GET", times: 2)
        _ = try await engine.tick()
        scenario.advance(61)
        let second = try await engine.tick()
        #expect(second.escalations == 1)
        #expect(try engine.journal.pausedSources().map(\.source) == ["nx:session/\(room)"])
        scenario.advance(61)
        #expect(try await engine.tick().sourcesPolled == 0)
        await scenario.stop()
    }

    @Test func sessionsAreRenewedBeforeTheyExpire() async throws {
        let scenario = try await Scenario()
        let room = try await scenario.peer.createSession(ttl: 300).sessionId
        try scenario.writeRoom(room, bullets: "")
        let engine = try scenario.engine()
        // Half an hour of sandbox time, a tick a minute: a 5-minute session would have expired six times.
        for _ in 0..<30 {
            let report = try await engine.tick()
            #expect(report.failures == [])
            scenario.advance(61)
        }
        #expect(try await scenario.peer.status(session: room).sessionId == room)
        let session = try #require(try engine.journal.sessions().first)
        #expect(session.expiresAt > scenario.sandbox.clock.now)
        await scenario.stop()
    }

    @Test func anOverlappingTickSkips() async throws {
        let scenario = try await Scenario()
        let room = try await scenario.session()
        try scenario.writeRoom(room, bullets: "")
        let engine = try scenario.engine()
        _ = try engine.journal.acquireLease("tick", holder: "another-tick", for: 300, now: scenario.sandbox.clock.now)
        let report = try await engine.tick()
        #expect(report.leaseHeld)
        #expect(report.sourcesPolled == 0)
        await scenario.stop()
    }
}

@Suite(.serialized) struct EngineWebhookTests {
    /// The loopback receiver is the sandbox itself: the webhook posts `{kind, text, …}` into a session it
    /// joined, with X-Agent-Id as a header, and the test reads what arrived.
    @Test func notifyByWebhookAndTheResponderSeesHistory() async throws {
        let scenario = try await Scenario()
        let room = try await scenario.session()
        let inbox = try await scenario.session()
        let receiver = NexusClient(
            server: scenario.server.url, agentID: "receiver",
            keys: SessionKeyStore(directory: scenario.directory.appendingPathComponent("receiver-keys").path),
            http: scenario.http)
        _ = try await receiver.join(session: inbox)
        try scenario.script(
            "history.sh",
            #"python3 -c 'import json,sys; d=json.load(sys.stdin); print("seen " + ",".join(m["text"] for m in d["history"]))'"#
        )
        try scenario.writeRoom(room, bullets: "- **Auto-reply:** yes\n- **Notify:** hook\n")
        // Add the webhook channel and the history responder.
        let file = scenario.directory.appendingPathComponent("workflows/main.yaml")
        var text = try String(contentsOf: file, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "responder: { run: [./agents/reply.sh], timeout: 10s }",
            with: "responder: { run: [./agents/history.sh], timeout: 10s }")
        text = text.replacingOccurrences(
            of: "  ops: { command: [./agents/notify.sh] }",
            with:
                "  ops: { command: [./agents/notify.sh] }\n  hook: { webhook: \"\(scenario.server.url)/v1/sessions/\(inbox)/messages\", headers: { X-Agent-Id: receiver } }"
        )
        try Data(text.utf8).write(to: file)
        let engine = try scenario.engine()
        _ = try await scenario.peer.send(session: room, text: "first")
        _ = try await scenario.peer.send(session: room, text: "second")
        let report = try await engine.tick()
        #expect(report.failures == [])
        let received = try await receiver.poll(session: inbox).messages.filter { $0.agentId == "receiver" }.map(\.text)
        #expect(received.count == 2)
        #expect(received.first?.contains("New message from peer") == true)
        #expect(try await scenario.botMessages(in: room) == ["seen first", "seen first,second"])
        await scenario.stop()
    }
}

/// Schedules after a late tick and after downtime: `skip` runs a fire late by less than its period but none
/// of a run of missed ones; `last` runs one; `all` runs each.
@Suite struct ScheduleCatchUpTests {
    @Test func lateTicksAndDowntime() async throws {
        let scenario = try await Scenario()
        try scenario.write(
            workflow: """
                handlers:
                  ping:
                    - notify: { channel: ops, text: "${{ trigger.schedule }}" }
                schedules:
                  skipper: { every: 10m, handler: ping, catch-up: skip }
                  latest: { every: 10m, handler: ping, catch-up: last }
                  everyone: { every: 10m, handler: ping, catch-up: all }

                """,
            messaging: "## Sessions\n")
        let engine = try scenario.engine()
        _ = try await engine.tick()  // records when each is first due
        func count(_ name: String) -> Int { scenario.notifications.filter { $0.contains("\"\(name)\"") }.count }
        // Two minutes late (a tick every few minutes): every policy runs the fire.
        scenario.advance(12 * 60)
        _ = try await engine.tick()
        let late: [Int] = [count("skipper"), count("latest"), count("everyone")]
        #expect(late == [1, 1, 1])
        // Down for 35 minutes, three fires missed.
        scenario.advance(35 * 60)
        _ = try await engine.tick()
        let afterDowntime: [Int] = [count("skipper"), count("latest"), count("everyone")]
        #expect(afterDowntime == [1, 2, 4])
        await scenario.stop()
    }
}
