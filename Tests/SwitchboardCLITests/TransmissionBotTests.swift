import Engine
import Foundation
import TBX1
import TestSupport
import Testing
import TransmissionBot
import Transport
import Workflow

/// The native TransmissionBot client against `switchboard sandbox`'s TransmissionBot server, and the engine
/// across all three networks.
@Suite(.serialized) struct TransmissionBotTests {
    struct Sandbox {
        let process: Process
        let urls: [String: String]
        var transmissionBot: String { urls["transmissionbot"] ?? "" }
        func stop() {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
    }

    static func sandbox() throws -> Sandbox {
        let (process, _, urls) = try SandboxCommandTests.startSandboxServers(["--rate-limit", "0"])
        return Sandbox(process: process, urls: urls)
    }

    /// A registered agent with its own state file.
    static func agent(
        _ handle: String, server: String, oneTime: Int = 20, pq: Int = 20,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> TBClient {
        let directory = testTemporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)")
        let file = TBStateFile(path: directory.appendingPathComponent("state/\(handle).json").path)
        let client = TBClient(server: server, state: TBState(), file: file, now: now)
        try await client.register(handle: handle, oneTimePrekeys: oneTime, pqPrekeys: pq)
        return client
    }

    /// The same account read back from its file, as the next cron tick would.
    static func reopened(_ client: TBClient, now: @escaping @Sendable () -> Date = { Date() }) throws -> TBClient {
        let state = try #require(try client.file.load(environment: [:]))
        return TBClient(server: client.server, state: state, file: client.file, now: now)
    }

    static func connect(_ a: TBClient, _ b: TBClient) async throws {
        let request = try await a.requestContact(try #require(b.state.agentID), message: "hi")
        #expect(request.status == "pending_outgoing")
        let pending = try await b.contacts(state: "pending_incoming")
        let incoming = try #require(pending.first { $0.other_agent_id == a.state.agentID })
        let answered = try await b.respond(toRequest: try #require(incoming.request_id), action: "accept")
        #expect(answered.status == "connected")
    }

    @Test func twoAgentsTalkBothWaysWithTwoPhaseReceive() async throws {
        let sandbox = try Self.sandbox()
        defer { sandbox.stop() }
        let alice = try await Self.agent("alice-\(Int.random(in: 1000...9999))", server: sandbox.transmissionBot)
        let bob = try await Self.agent("bob-\(Int.random(in: 1000...9999))", server: sandbox.transmissionBot)
        #expect(try await bob.prekeyCount().messaging_ready)
        // Not contacts yet: the server refuses.
        await #expect(throws: NetworkError.self) {
            try await alice.send(text: "too early", to: try #require(bob.state.agentID))
        }
        try await Self.connect(alice, bob)
        let oneTimeBefore = try #require(bob.state.prekeys?.oneTimePrekeys.count)
        // By handle: resolved first; the first message fetches bob's bundle (PQXDH).
        try await alice.send(text: "hello bob", to: try #require(bob.state.handle))
        let first = try await bob.receive()
        #expect(first.map(\.text) == ["hello bob"])
        #expect(first.first?.sender == alice.state.agentID)
        // A crash before the ack: the next process gets the same message from the state, not a second decrypt.
        let restarted = try Self.reopened(bob)
        let again = try await restarted.receive()
        #expect(again.map(\.messageID) == first.map(\.messageID))
        #expect(again.map(\.text) == ["hello bob"])
        // The one-time prekey the handshake used is kept until the ack, then deleted.
        #expect(restarted.state.prekeys?.oneTimePrekeys.count == oneTimeBefore)
        try await restarted.acknowledgeReceived(again.map(\.messageID))
        #expect(restarted.state.prekeys?.oneTimePrekeys.count == oneTimeBefore - 1)
        #expect(restarted.state.pendingAcks.isEmpty)
        #expect(try await restarted.receive().isEmpty)
        // Several turns both ways.
        for turn in 1...3 {
            try await restarted.send(text: "bob \(turn)", to: try #require(alice.state.agentID))
            let atAlice = try await alice.receive()
            #expect(atAlice.map(\.text) == ["bob \(turn)"])
            try await alice.acknowledgeReceived(atAlice.map(\.messageID))
            try await alice.send(text: "alice \(turn)", to: try #require(restarted.state.agentID))
            let atBob = try await restarted.receive()
            #expect(atBob.map(\.text) == ["alice \(turn)"])
            try await restarted.acknowledgeReceived(atBob.map(\.messageID))
        }
        // Nothing in the state file is readable by others, and no credential of it was printed anywhere here.
        let mode = try FileManager.default.attributesOfItem(atPath: restarted.file.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }

    @Test func oneTimePrekeysRunOutAndAreToppedUp() async throws {
        let sandbox = try Self.sandbox()
        defer { sandbox.stop() }
        let bob = try await Self.agent(
            "bob-\(Int.random(in: 1000...9999))", server: sandbox.transmissionBot, oneTime: 2, pq: 3)
        var senders: [TBClient] = []
        for index in 0..<3 {
            let sender = try await Self.agent(
                "s\(index)-\(Int.random(in: 1000...9999))", server: sandbox.transmissionBot)
            try await Self.connect(sender, bob)
            try await sender.send(text: "from \(index)", to: try #require(bob.state.agentID))
            senders.append(sender)
        }
        // Three handshakes, two one-time prekeys: the third went without one, and all three decrypt.
        let received = try await bob.receive()
        #expect(Set(received.map(\.text)) == ["from 0", "from 1", "from 2"])
        try await bob.acknowledgeReceived(received.map(\.messageID))
        let low = try await bob.prekeyCount()
        #expect(low.one_time_prekeys == 0)
        #expect(low.pq_prekeys == 0)
        #expect(low.messaging_ready == false)
        #expect(try await bob.replenishPrekeys())
        let topped = try await bob.prekeyCount()
        #expect(topped.one_time_prekeys == 20)
        #expect(topped.pq_prekeys == 20)
        #expect(topped.messaging_ready)
        #expect(try await bob.replenishPrekeys() == false)
    }

    @Test func tokensRefreshBeforeExpiryOnA401AndAfterACrashBetweenRefreshAndSave() async throws {
        let sandbox = try Self.sandbox()
        defer { sandbox.stop() }
        let alice = try await Self.agent("alice-\(Int.random(in: 1000...9999))", server: sandbox.transmissionBot)
        let refresh0 = try #require(alice.state.refreshToken)
        // 58 minutes later by the client's clock: refreshed before use, both tokens saved at once.
        let later = try Self.reopened(alice, now: { Date().addingTimeInterval(58 * 60) })
        _ = try await later.prekeyCount()
        let saved = try #require(try later.file.load(environment: [:]))
        #expect(saved.refreshToken != refresh0)
        #expect(saved.refreshToken == later.state.refreshToken)

        // The server rotates the refresh token, and the process dies before saving: the file holds a spent one.
        let spent = try #require(saved.refreshToken)
        let http = HTTPClient(connections: 1)
        let rotated = try await http.send(
            HTTPRequest(
                .post, sandbox.transmissionBot + "/v1/auth/refresh", headers: [("Content-Type", "application/json")],
                body: try JSONSerialization.data(withJSONObject: [
                    "refresh_token": spent, "agent_id": try #require(saved.agentID),
                ])))
        #expect(rotated.status == 200)
        let survivor = try Self.reopened(later, now: { Date().addingTimeInterval(58 * 60) })
        // Refresh with the spent token is refused; the client recovers with its identity key.
        _ = try await survivor.prekeyCount()
        let recovered = try #require(try survivor.file.load(environment: [:]))
        #expect(recovered.refreshToken != spent)
        #expect(try await Self.reopened(survivor).prekeyCount().messaging_ready)

        // A 401 on a call with a token that looks fresh: refreshed once, retried once.
        let faults = try await http.send(
            HTTPRequest(
                .post, sandbox.transmissionBot + "/sandbox/faults",
                body: Data("transmissionbot:GET /v1/keys/count=status:401".utf8)))
        #expect(faults.status == 200)
        let fresh = try Self.reopened(survivor)
        let before = fresh.state.refreshToken
        #expect(try await fresh.prekeyCount().messaging_ready)
        #expect(fresh.state.refreshToken != before)
    }

    /// masumi → TransmissionBot through `switchboard tick`: a thread message forwarded to a TransmissionBot
    /// agent, a handoff that waits for that agent's answer and relays it, and one that times out and escalates.
    @Test func theEngineForwardsFromMasumiToTransmissionBotAndWaitsForTheAnswer() async throws {
        let sandbox = try Self.sandbox()
        defer { sandbox.stop() }
        let masumi = try #require(sandbox.urls["masumi"])
        let deployer = try await Self.agent("deployer-\(Int.random(in: 1000...9999))", server: sandbox.transmissionBot)
        // The runner's own TransmissionBot agent, registered into the workspace's state file.
        let workspace = try Binary.workspace(["MESSAGING.md": "## Sessions\n"])
        let runnerFile = TBStateFile(path: workspace.appendingPathComponent("tb/state.json").path)
        let runner = TBClient(server: sandbox.transmissionBot, state: TBState(), file: runnerFile)
        try await runner.register(handle: "runner-\(Int.random(in: 1000...9999))")
        try await Self.connect(runner, deployer)
        let deployerID = try #require(deployer.state.agentID)

        func cli(_ arguments: [String]) throws -> [String: Any] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: masumi)
            // Flags before `--`: what follows it is the message text.
            let split = arguments.firstIndex(of: "--") ?? arguments.endIndex
            process.arguments = Array(arguments[..<split]) + ["--json"] + Array(arguments[split...])
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        // helper and bot share an inbox: their direct thread needs no approval. bot's own message is not news.
        let started = try cli(["thread", "send", "helper", "--agent", "bot", "--", "hello"])
        let thread = try #require((started["data"] as? [String: Any])?["threadId"] as? String)
        try FileManager.default.createDirectory(
            at: workspace.appendingPathComponent("workflows"), withIntermediateDirectories: true)
        try Data(
            """
            version: 1
            accounts:
              ms: { protocol: masumi, agent: bot, executable: "\(masumi)" }
              tb: { protocol: transmissionbot, state: tb/state.json, server: "\(sandbox.transmissionBot)" }
            sources:
              - { from: ms:thread/\(thread), every: 1s }
              - { from: tb:inbox, every: 1s }
            handlers:
              handoff:
                - forward: tb:agent/\(deployerID)
                - id: ack
                  wait: { reply-from: tb:agent/\(deployerID), timeout: 3s }
                - if: ${{ steps.ack.timed-out }}
                  escalate: "deployer did not acknowledge ${{ message.text }}"
                - if: ${{ !steps.ack.timed-out }}
                  reply: "Deployer says: ${{ steps.ack.message.text }}"
            channels:
              ops: { command: [./log.sh] }
            escalation: { to: ops }
            """.utf8
        ).write(to: workspace.appendingPathComponent("workflows/main.yaml"))
        try Data(
            "## Sessions\n### desk\n- **Session:** ms:thread/\(thread)\n- **On message:** handoff\n"
                .utf8
        ).write(to: workspace.appendingPathComponent("MESSAGING.md"))
        try Data(
            "#!/bin/sh\ncat >> \"$(dirname \"$0\")/escalations.log\"\necho >> \"$(dirname \"$0\")/escalations.log\"\n"
                .utf8
        )
        .write(to: workspace.appendingPathComponent("log.sh"))
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755], ofItemAtPath: workspace.appendingPathComponent("log.sh").path)
        func tick() async throws -> Binary.Result {
            let result = try await Binary.run(async: ["tick", "--workspace", workspace.path], in: workspace)
            #expect([0, 4].contains(result.status), "\(result.stderr)")
            return result
        }

        _ = try cli(["thread", "reply", thread, "--agent", "helper", "--", "deploy v42"])
        _ = try await tick()
        let forwarded = try await deployer.receive()
        #expect(forwarded.map(\.text) == ["Forwarded from helper in ms:thread/\(thread): deploy v42"])
        try await deployer.acknowledgeReceived(forwarded.map(\.messageID))
        try await deployer.send(text: "v42 is live", to: try #require(runner.state.agentID))
        try await Task.sleep(for: .milliseconds(1100))
        _ = try await tick()
        let shown = try cli(["thread", "show", thread, "--agent", "helper"])
        let texts = ((shown["data"] as? [String: Any])?["messages"] as? [[String: Any]])?.compactMap {
            $0["text"] as? String
        }
        #expect(texts?.last == "Deployer says: v42 is live", "\(texts ?? [])")

        // A second request nobody answers: after the wait's 3 s, the escalation goes out.
        _ = try cli(["thread", "reply", thread, "--agent", "helper", "--", "deploy v43"])
        try await Task.sleep(for: .milliseconds(1100))
        _ = try await tick()
        try await Task.sleep(for: .seconds(3.5))
        _ = try await tick()
        let escalations = try String(
            contentsOf: workspace.appendingPathComponent("escalations.log"), encoding: .utf8)
        #expect(escalations.contains("deployer did not acknowledge deploy v43"))
    }

    /// Contact requests: accepted at once from `accept-contacts-from`, surfaced to the rules from anyone else.
    @Test func contactRequestsAreAcceptedFromTheAllowlistAndSurfacedOtherwise() async throws {
        let sandbox = try Self.sandbox()
        defer { sandbox.stop() }
        let runner = try await Self.agent("runner-\(Int.random(in: 1000...9999))", server: sandbox.transmissionBot)
        let friend = try await Self.agent("friend-\(Int.random(in: 1000...9999))", server: sandbox.transmissionBot)
        let stranger = try await Self.agent("stranger-\(Int.random(in: 1000...9999))", server: sandbox.transmissionBot)
        let runnerID = try #require(runner.state.agentID)
        _ = try await friend.requestContact(runnerID, message: "let's work together")
        _ = try await stranger.requestContact(runnerID, message: "buy my tokens")
        let messenger = TransmissionBotMessenger(
            account: "tb", client: runner, acceptContactsFrom: [try #require(friend.state.handle).uppercased()])
        let batch = try await messenger.poll(Target(account: "tb", kind: .inbox, id: nil), after: nil)
        // The friend is a contact now and can message the runner; the stranger's request is a message.
        #expect(try await runner.contacts(state: "connected").map(\.other_agent_id) == [friend.state.agentID])
        let request = try #require(batch.messages.first)
        #expect(batch.messages.count == 1)
        #expect(request.id.hasPrefix("contact-request:"))
        #expect(request.conversation == "tb:agent/\(try #require(stranger.state.agentID))")
        #expect(request.text == "buy my tokens")
        #expect(request.verified == false)
        guard case .object(let fields)? = request.json, case .object(let details)? = fields["contact_request"] else {
            Issue.record("no contact_request in \(String(describing: request.json))")
            return
        }
        #expect(details["from_handle"] == .string(try #require(stranger.state.handle)))
        try await friend.send(text: "hello runner", to: runnerID)
        let next = try await messenger.poll(Target(account: "tb", kind: .inbox, id: nil), after: batch.cursor)
        #expect(next.messages.map(\.text).contains("hello runner"))
    }
}
