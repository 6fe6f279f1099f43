import Engine
import Foundation
import Journal
import Nexus
import Sandbox
import TestSupport
import Transport
import Workflow

/// A workspace on disk, a sandbox on loopback, and an engine whose clock is the sandbox's.
final class Scenario: @unchecked Sendable {
    let sandbox: NexusSandbox
    let faults = FaultPlan()
    let server: SandboxServer
    let directory: URL
    let peer: NexusClient
    let http = HTTPClient(connections: 4)

    init() async throws {
        var options = NexusSandbox.Options()
        options.rateLimit = nil
        options.defaultMaxAgents = 10
        sandbox = NexusSandbox(
            options: options, clock: SandboxClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000)))
        server = try await SandboxServer.start(nexus: sandbox, faults: faults)
        directory = testTemporaryDirectory.appendingPathComponent("engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("agents"), withIntermediateDirectories: true)
        peer = NexusClient(
            server: server.url, agentID: "peer",
            keys: SessionKeyStore(directory: directory.appendingPathComponent("peer-keys").path),
            http: http)
        // Scripts: a responder that echoes, a notifier that appends what it gets to a file.
        try script(
            "reply.sh", #"python3 -c 'import json,sys; m=json.load(sys.stdin)["message"]; print("echo: " + m["text"])'"#
        )
        try script(
            "notify.sh",
            "cat >> \"$(dirname \"$0\")/../notifications.jsonl\"; echo >> \"$(dirname \"$0\")/../notifications.jsonl\"")
    }

    func stop() async { await server.stop() }

    func script(_ name: String, _ body: String) throws {
        let url = directory.appendingPathComponent("agents/\(name)")
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    /// A session the peer created (and so is in).
    func session() async throws -> String {
        try await peer.createSession(ttl: 3600).sessionId
    }

    func write(workflow: String, messaging: String) throws {
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("workflows"), withIntermediateDirectories: true)
        let header = """
            version: 1
            name: scenario
            accounts:
              nx: { protocol: nexus, server: "\(server.url)", agent-id: bot }
            responder: { run: [./agents/reply.sh], timeout: 10s }
            channels:
              ops: { command: [./agents/notify.sh] }
            escalation: { to: ops }

            """
        try Data((header + workflow).utf8).write(to: directory.appendingPathComponent("workflows/main.yaml"))
        try Data(messaging.utf8).write(to: directory.appendingPathComponent("MESSAGING.md"))
    }

    /// One session, `room`, polled every minute, with these MESSAGING.md bullets after its Session, and these
    /// handlers (YAML as it goes under `handlers:`).
    func writeRoom(_ room: String, handlers: String? = nil, bullets: String) throws {
        try write(
            workflow: "sources:\n  - { from: nx:session/room, every: 1m }\n"
                + (handlers.map { "handlers:\n" + $0 } ?? ""),
            messaging: "## Sessions\n### room\n- **Session:** nx:session/\(room)\n" + bullets)
    }

    var journalPath: String { directory.appendingPathComponent(".switchboard/journal.sqlite3").path }

    /// An engine on this workspace; `lease` and `now` as the engine takes them (the sandbox's clock unless given),
    /// on `journal` (one of its own unless given).
    func engine(
        lease: TimeInterval = Engine.leaseDuration, now: (@Sendable () -> Date)? = nil, journal: Journal? = nil
    ) throws -> Engine {
        let report = WorkspaceLoader.validate(paths: [directory.path])
        let errors = report.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else { throw ScenarioError(findings: errors.map(\.description)) }
        let client = NexusClient(
            server: server.url, agentID: "bot", keys: SessionKeyStore.workspace(directory.path), http: http)
        let clock = sandbox.clock
        return Engine(
            configuration: EngineConfiguration(workspace: report.workspace, directory: directory.path),
            journal: try journal ?? Journal(path: journalPath),
            messengers: ["nx": NexusMessenger(account: "nx", client: client)],
            effects: LiveEffects(http: http), holder: "test-\(UUID().uuidString)", lease: lease,
            now: now ?? { clock.now })
    }

    /// Messages the bot sent to a session, in order.
    func botMessages(in session: String) async throws -> [String] {
        try await peer.poll(session: session).messages.filter { $0.agentId == "bot" }.map(\.text)
    }

    var notifications: [String] {
        let url = directory.appendingPathComponent("notifications.jsonl")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }

    func advance(_ seconds: TimeInterval) { sandbox.clock.advance(by: seconds) }
}

struct ScenarioError: Error, CustomStringConvertible {
    var findings: [String]
    var description: String { "the scenario's workspace does not validate: \(findings)" }
}
