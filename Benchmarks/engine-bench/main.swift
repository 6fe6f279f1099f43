// The engine's throughput against the sandbox, for scripts/bench-engine: 1,000 messages across 100 Nexus
// sessions through rule → reply → journal, once with a template reply and once with a subprocess responder.
//
//   engine-bench DIRECTORY [template|responder|floor]
//
// The workspaces are left in DIRECTORY for the script's nothing-due measurement; naming one kind runs only
// that one (for a profiler). `floor` measures no engine at all: the same 1,000 replies sent straight
// through NexusClient, sixteen at a time (the client's connections), the most any engine could do against this sandbox on this machine. With ENGINE_BENCH_CPU set it also prints, on stderr, the CPU time the measured
// tick took against its wall time. With ENGINE_BENCH_PERF_CTL naming a `perf record --control fifo:PATH -D -1`
// control FIFO, it enables perf for the measured tick only.
import Engine
import Foundation
import Journal
import Nexus
import Sandbox
import Transport
import Workflow

let sessionsCount = 100
let perSession = 10
let only = CommandLine.arguments.count == 3 ? CommandLine.arguments[2] : nil
guard (2...3).contains(CommandLine.arguments.count), only == nil || ["template", "responder", "floor"].contains(only)
else {
    FileHandle.standardError.write(Data("usage: engine-bench DIRECTORY [template|responder|floor]\n".utf8))
    exit(2)
}
let root = URL(fileURLWithPath: CommandLine.arguments[1])

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func measure(responder: Bool) async throws -> (seconds: Double, messages: Int) {
    var options = NexusSandbox.Options()
    options.rateLimit = nil
    options.defaultMaxAgents = 4
    let sandbox = NexusSandbox(options: options)
    let server = try await SandboxServer.start(nexus: sandbox)
    defer { Task { await server.stop() } }
    let http = HTTPClient()  // as the engine's own (`HTTPClient.shared`)
    let directory = root.appendingPathComponent(responder ? "responder" : "template")
    try FileManager.default.createDirectory(
        at: directory.appendingPathComponent("workflows"), withIntermediateDirectories: true)
    let peer = NexusClient(
        server: server.url, agentID: "peer",
        keys: SessionKeyStore(directory: directory.appendingPathComponent("peer").path),
        http: http)
    var sessions: [String] = []
    for _ in 0..<sessionsCount { sessions.append(try await peer.createSession().sessionId) }
    var sources = "sources:\n"
    var messaging = "## Sessions\n"
    for (index, session) in sessions.enumerated() {
        sources += "  - { from: nx:session/s\(index), every: 1h }\n"
        messaging += "### s\(index)\n- **Session:** nx:session/\(session)\n"
        messaging += responder ? "- **Auto-reply:** yes\n" : "- **On message:** ack\n"
    }
    try Data(
        """
        version: 1
        accounts:
          nx: { protocol: nexus, server: "\(server.url)", agent-id: bot }
        responder: { run: [./reply.sh] }
        channels:
          ops: { command: [./reply.sh] }
        escalation: { to: ops }
        handlers:
          ack:
            - reply: "ack ${{ message.id }}"
        \(sources)
        """.utf8
    ).write(to: directory.appendingPathComponent("workflows/main.yaml"))
    try Data(messaging.utf8).write(to: directory.appendingPathComponent("MESSAGING.md"))
    let script = directory.appendingPathComponent("reply.sh")
    try Data("#!/bin/sh\ncat >/dev/null\necho ok\n".utf8).write(to: script)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)

    let report = WorkspaceLoader.validate(paths: [directory.path])
    let configuration = EngineConfiguration(workspace: report.workspace, directory: directory.path)
    let journal = try Journal(path: directory.appendingPathComponent(".switchboard/journal.sqlite3").path)
    let client = NexusClient(
        server: server.url, agentID: "bot", keys: SessionKeyStore.workspace(directory.path), http: http)
    let engine = Engine(
        configuration: configuration, journal: journal,
        messengers: ["nx": NexusMessenger(account: "nx", client: client)],
        effects: LiveEffects(http: http))
    _ = try await engine.tick()  // joins every session: not part of the measurement
    try await withThrowingTaskGroup(of: Void.self) { group in
        for session in sessions {
            group.addTask {
                for index in 0..<perSession { _ = try await peer.send(session: session, text: "m\(index)") }
            }
        }
        try await group.waitForAll()
    }
    for source in configuration.sources { try journal.recordSchedule(source.jobKey, nextDue: nil) }
    let perf = ProcessInfo.processInfo.environment["ENGINE_BENCH_PERF_CTL"].flatMap { FileHandle(forWritingAtPath: $0) }
    perf?.write(Data("enable\n".utf8))
    let cpuBefore = cpuSeconds()
    let start = ContinuousClock.now
    let tick = try await engine.tick()
    let elapsed = ContinuousClock.now - start
    perf?.write(Data("disable\n".utf8))
    if ProcessInfo.processInfo.environment["ENGINE_BENCH_CPU"] != nil {
        FileHandle.standardError.write(Data("cpu \(cpuSeconds() - cpuBefore) s for \(elapsed)\n".utf8))
    }
    precondition(tick.failures.isEmpty, "\(tick.failures.prefix(3))")
    // Nothing is due for an hour now: the script times `switchboard tick` on this workspace.
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, tick.sent)
}

/// The same replies with no engine: 1,000 sends through NexusClient from sixteen concurrent workers.
func floor() async throws -> (seconds: Double, messages: Int) {
    var options = NexusSandbox.Options()
    options.rateLimit = nil
    options.defaultMaxAgents = 4
    let server = try await SandboxServer.start(nexus: NexusSandbox(options: options))
    defer { Task { await server.stop() } }
    let http = HTTPClient()
    let directory = root.appendingPathComponent("floor")
    let peer = NexusClient(
        server: server.url, agentID: "peer",
        keys: SessionKeyStore(directory: directory.appendingPathComponent("peer").path), http: http)
    let bot = NexusClient(
        server: server.url, agentID: "bot",
        keys: SessionKeyStore(directory: directory.appendingPathComponent("bot").path), http: http)
    var sessions: [String] = []
    for _ in 0..<sessionsCount {
        let session = try await peer.createSession().sessionId
        _ = try await bot.join(session: session)
        sessions.append(session)
    }
    let targets = sessions
    let cpuBefore = cpuSeconds()
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<16 {
            group.addTask {
                for index in stride(from: worker, to: sessionsCount * perSession, by: 16) {
                    _ = try await bot.send(session: targets[index % sessionsCount], text: "ack \(index)")
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    if ProcessInfo.processInfo.environment["ENGINE_BENCH_CPU"] != nil {
        FileHandle.standardError.write(Data("cpu \(cpuSeconds() - cpuBefore) s for \(elapsed)\n".utf8))
    }
    return (
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, sessionsCount * perSession
    )
}

do {
    if only == "floor" {
        let result = try await floor()
        print(String(format: "{\"floor_per_second\":%.0f}", Double(result.messages) / result.seconds))
        exit(0)
    }
    let template = only == "responder" ? (seconds: 1, messages: 0) : try await measure(responder: false)
    let responder = only == "template" ? (seconds: 1, messages: 0) : try await measure(responder: true)
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print(
        String(
            format:
                "{\"template_per_second\":%.0f,\"template_messages\":%d,\"responder_per_second\":%.0f,\"responder_messages\":%d,\"peak_rss_mib\":%.1f}",
            Double(template.messages) / template.seconds, template.messages,
            Double(responder.messages) / responder.seconds, responder.messages, Double(usage.ru_maxrss) / 1024))
} catch {
    FileHandle.standardError.write(Data("engine-bench: \(error)\n".utf8))
    exit(1)
}
