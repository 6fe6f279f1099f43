import Engine
import Foundation
import TestSupport
import Testing
import TransmissionBot
import Transport
import Workflow

/// `driver: cli`: the official CLI's stand-in that `switchboard sandbox` writes (§9 shapes, TBX-1 inside), driven
/// through ``TBCLI`` and ``TransmissionBotCLIMessenger``, and through `switchboard tick`.
@Suite(.serialized) struct TransmissionBotCLITests {
    static func runnerState(_ script: String) async throws -> (TBCLI, String) {
        let directory = testTemporaryDirectory.appendingPathComponent("tbcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cli = TBCLI(executable: script, statePath: directory.appendingPathComponent("state.json").path)
        struct Initialized: Decodable { var agent_id: String }
        let made = try await cli.run(
            ["init", "--handle", "runner-\(Int.random(in: 1000...9999))"], as: Initialized.self)
        return (cli, made.agent_id)
    }

    @Test func theMessengerPollsAcknowledgesAndSpoolsWhatTheAckBrought() async throws {
        let sandbox = try TransmissionBotTests.sandbox()
        defer { sandbox.stop() }
        let script = try #require(sandbox.urls["transmissionbot-cli"])
        let (cli, runnerID) = try await Self.runnerState(script)
        let peer = try await TransmissionBotTests.agent(
            "peer-\(Int.random(in: 1000...9999))", server: sandbox.transmissionBot)
        let peerID = try #require(peer.state.agentID)
        let spool = testTemporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString).json")
            .path
        let messenger = TransmissionBotCLIMessenger(
            account: "tb", cli: cli, spool: spool, acceptContactsFrom: [peerID.uppercased()])
        let inbox = Target(account: "tb", kind: .inbox, id: nil)

        _ = try await peer.requestContact(runnerID, message: "hello")
        #expect(try await messenger.poll(inbox, after: nil).messages.isEmpty)  // accepted, not surfaced
        try await peer.send(text: "one", to: runnerID)
        let first = try await messenger.poll(inbox, after: nil)
        #expect(first.messages.map(\.text) == ["one"])
        #expect(first.messages.first?.conversation == "tb:agent/\(peerID)")
        // Not acknowledged yet: the next poll brings it again.
        #expect(try await messenger.poll(inbox, after: first.cursor).messages.map(\.text) == ["one"])
        // "two" arrives between the poll and the acknowledgement, which the CLI's `receive` also acknowledges.
        try await peer.send(text: "two", to: runnerID)
        try await messenger.acknowledge(inbox, through: first.cursor)
        let second = try await messenger.poll(inbox, after: first.cursor)
        #expect(second.messages.map(\.text) == ["two"])
        try await messenger.acknowledge(inbox, through: second.cursor)
        #expect(try await messenger.poll(inbox, after: second.cursor).messages.isEmpty)

        _ = try await messenger.send(
            text: "-a reply that starts with a dash", json: nil, to: Target(account: "tb", kind: .agent, id: peerID))
        #expect(try await peer.receive().map(\.text) == ["-a reply that starts with a dash"])
        // The API's error comes through with its exact code.
        do {
            _ = try await messenger.send(
                text: "x", json: nil, to: Target(account: "tb", kind: .agent, id: UUID().uuidString.lowercased()))
            Issue.record("a send to nobody succeeded")
        } catch {
            #expect(error.code == "NOT_FOUND")
        }
    }

    @Test func aTickRepliesThroughTheCLI() async throws {
        let sandbox = try TransmissionBotTests.sandbox()
        defer { sandbox.stop() }
        let script = try #require(sandbox.urls["transmissionbot-cli"])
        let workspace = try Binary.workspace(["MESSAGING.md": "## Default Behavior\n1. Reply\n\n## Sessions\n"])
        let state = workspace.appendingPathComponent("tb/state.json").path
        let cli = TBCLI(executable: script, statePath: state)
        struct Initialized: Decodable { var agent_id: String }
        let runnerID = try await cli.run(
            ["init", "--handle", "desk-\(Int.random(in: 1000...9999))"], as: Initialized.self
        )
        .agent_id
        let peer = try await TransmissionBotTests.agent(
            "peer-\(Int.random(in: 1000...9999))", server: sandbox.transmissionBot)
        let peerID = try #require(peer.state.agentID)
        try FileManager.default.createDirectory(
            at: workspace.appendingPathComponent("workflows"), withIntermediateDirectories: true)
        try Data(
            """
            version: 1
            accounts:
              tb: { protocol: transmissionbot, driver: cli, executable: "\(script)", state: tb/state.json, accept-contacts-from: \(peerID) }
            sources:
              - { from: tb:inbox, every: 1s }
            rules:
              - { session: "tb:agent/*", on-message: ack }
            handlers:
              ack:
                - reply: "ack: ${{ message.text }}"
            """.utf8
        ).write(to: workspace.appendingPathComponent("workflows/main.yaml"))
        _ = try await peer.requestContact(runnerID, message: "hi")
        let first = try await Binary.run(async: ["tick", "--workspace", workspace.path], in: workspace)
        #expect(first.status == 0, "\(first.stderr)")
        try await peer.send(text: "status?", to: runnerID)
        try await Task.sleep(for: .milliseconds(1100))
        let second = try await Binary.run(async: ["tick", "--workspace", workspace.path], in: workspace)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try await peer.receive().map(\.text) == ["ack: status?"])
    }

    /// `switchboard transmissionbot register` and `status` for a workspace's account.
    @Test func registerAndStatusFromTheCommandLine() async throws {
        let sandbox = try TransmissionBotTests.sandbox()
        defer { sandbox.stop() }
        let workspace = try Binary.workspace([
            "workflows/main.yaml": """
            version: 1
            accounts:
              tb: { protocol: transmissionbot, state: tb/state.json, server: "\(sandbox.transmissionBot)" }
            """,
            "MESSAGING.md": "## Sessions\n",
        ])
        let handle = "desk-\(Int.random(in: 1000...9999))"
        let registered = try await Binary.run(
            async: ["transmissionbot", "register", handle, "--workspace", workspace.path, "--json"], in: workspace)
        #expect(registered.status == 0, "\(registered.stderr)")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(registered.stdout.utf8)) as? [String: Any])
        #expect(summary["handle"] as? String == handle)
        #expect(summary["messaging_ready"] as? Bool == true)
        let state = try String(contentsOf: workspace.appendingPathComponent("tb/state.json"), encoding: .utf8)
        let refresh = try #require(
            (try JSONSerialization.jsonObject(with: Data(state.utf8)) as? [String: Any])?["refresh_token"] as? String)
        #expect(!registered.stdout.contains(refresh) && !registered.stderr.contains(refresh))
        let again = try await Binary.run(
            async: ["transmissionbot", "register", handle, "--workspace", workspace.path], in: workspace)
        #expect(again.status == 1)
        #expect(again.stderr.contains("already holds agent"))
        let status = try await Binary.run(
            async: ["transmissionbot", "status", "--workspace", workspace.path], in: workspace)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("messaging ready: yes"))
    }
}
