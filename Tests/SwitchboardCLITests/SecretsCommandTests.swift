import Foundation
import Nexus
import Sandbox
import TestSupport
import Testing
import Transport

/// `switchboard secrets` through the built binary, and a planted secret and planted credentials pushed through
/// every command and failure path: zero hits in any output, log, escalation or the journal's files.
@Suite(.serialized) struct SecretsCommandTests {
    /// A workspace with a key file (0600) in SWITCHBOARD_KEY_FILE.
    static func keyed(_ files: [String: String]) throws -> (URL, [String: String]) {
        let workspace = try Binary.workspace(files)
        let key = workspace.appendingPathComponent("private/key").path
        let made = try Binary.run(["secrets", "keygen", key], in: workspace)
        #expect(made.status == 0, "\(made.stderr)")
        return (workspace, ["SWITCHBOARD_KEY_FILE": key])
    }

    @Test func setListRemoveAndValidateWithoutTheKey() throws {
        let (workspace, env) = try Self.keyed([
            "workflows/a.yaml": """
            version: 1
            channels:
              ops: { webhook: "https://hooks.example.invalid/x", headers: { Authorization: "Bearer ${{ secrets.OPS_TOKEN }}" } }
              typo: { webhook: "${{ secrets.OPS_TOKN }}" }
            """
        ])
        let key = try #require(env["SWITCHBOARD_KEY_FILE"])
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try Binary.run(["secrets", "keygen", key], in: workspace).stderr.contains("never overwritten"))

        // Before anything is stored: both references are unknown, no key needed to say so.
        let none = try Binary.run(["validate", "."], in: workspace)
        #expect(none.status == 1)
        #expect(none.stdout.contains("a.yaml:3:") && none.stdout.contains("unknown secret 'OPS_TOKEN'"))
        #expect(none.stdout.contains("there is no secret store"))

        let set = try Binary.run(
            ["secrets", "set", "OPS_TOKEN"], in: workspace, environment: env, input: "tok-123456\n")
        #expect(set.status == 0, "\(set.stderr)")
        #expect(!set.stdout.contains("tok-123456") && !set.stderr.contains("tok-123456"))
        let stored = try String(contentsOf: workspace.appendingPathComponent("secrets.sealed.json"), encoding: .utf8)
        #expect(stored.contains("\"OPS_TOKEN\"") && !stored.contains("tok-123456"))

        let checked = try Binary.run(["validate", "."], in: workspace)
        #expect(checked.status == 1)
        #expect(!checked.stdout.contains("'OPS_TOKEN'"))
        #expect(checked.stdout.contains("a.yaml:4:33: error: unknown secret 'OPS_TOKN'"), "\(checked.stdout)")
        #expect(checked.stdout.contains("stored: OPS_TOKEN"))

        let list = try Binary.run(["secrets", "list", "--json"], in: workspace)
        #expect(list.stdout.contains("\"OPS_TOKEN\""))
        #expect(try Binary.run(["secrets", "rm", "OPS_TOKEN"], in: workspace).status == 0)
        #expect(try Binary.run(["secrets", "list"], in: workspace).stdout.isEmpty)

        // Refused: a value on the command line is not an option, a name workflows cannot spell, a short value.
        #expect(try Binary.run(["secrets", "set", "A", "value"], in: workspace, environment: env).status == 2)
        #expect(
            try Binary.run(["secrets", "set", "9LIVES"], in: workspace, environment: env, input: "x1234").status == 2)
        let short = try Binary.run(["secrets", "set", "PIN"], in: workspace, environment: env, input: "123")
        #expect(short.status == 1)
        #expect(short.stderr.contains("shorter than 4"))
    }

    @Test func wrongKeyCorruptStoreAndLooseKeyFileChangeNothing() throws {
        let (workspace, env) = try Self.keyed([:])
        #expect(
            try Binary.run(["secrets", "set", "TOKEN"], in: workspace, environment: env, input: "first-value").status
                == 0)
        let storeURL = workspace.appendingPathComponent("secrets.sealed.json")
        let before = try Data(contentsOf: storeURL)

        let otherKey = workspace.appendingPathComponent("private/other").path
        _ = try Binary.run(["secrets", "keygen", otherKey], in: workspace)
        let wrong = try Binary.run(
            ["secrets", "set", "TOKEN"], in: workspace, environment: ["SWITCHBOARD_KEY_FILE": otherKey],
            input: "second-value")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("wrong key (from \(otherKey))"), "\(wrong.stderr)")
        #expect(try Data(contentsOf: storeURL) == before)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: otherKey)
        let loose = try Binary.run(
            ["secrets", "set", "TOKEN"], in: workspace, environment: ["SWITCHBOARD_KEY_FILE": otherKey],
            input: "second-value")
        #expect(loose.status == 1)
        #expect(loose.stderr.contains("mode 644") && loose.stderr.contains("chmod 600"))
        #expect(try Data(contentsOf: storeURL) == before)

        let corrupt = Data(before.prefix(before.count / 2))
        try corrupt.write(to: storeURL)
        let broken = try Binary.run(["secrets", "set", "TOKEN"], in: workspace, environment: env, input: "third-value")
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("not a switchboard secret store"))
        #expect(try Data(contentsOf: storeURL) == corrupt)
        let listed = try Binary.run(["secrets", "list"], in: workspace)
        #expect(listed.status == 1)
    }

    /// Eight `secrets set` at once: each holds the workspace's lock in turn, so no update is lost.
    @Test func concurrentSetsKeepEveryName() throws {
        let (workspace, env) = try Self.keyed([:])
        #expect(
            try Binary.run(["secrets", "set", "FIRST"], in: workspace, environment: env, input: "value-0").status == 0)
        var processes: [Process] = []
        for index in 1...8 {
            let process = Process()
            process.executableURL = Binary.url
            process.arguments = ["secrets", "set", "NAME_\(index)", "--workspace", workspace.path]
            process.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
            let input = Pipe()
            process.standardInput = input
            process.standardError = FileHandle.nullDevice
            try process.run()
            try input.fileHandleForWriting.write(contentsOf: Data("value-\(index)".utf8))
            try input.fileHandleForWriting.close()
            processes.append(process)
        }
        for process in processes {
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
        let names = try Binary.run(["secrets", "list"], in: workspace).stdout.split(separator: "\n").map(String.init)
        #expect(names == ["FIRST"] + (1...8).map { "NAME_\($0)" })
    }

    /// A planted secret used in a webhook header (a server that answers 500 echoing the request), a responder's
    /// environment (a responder that echoes everything it gets), a failing notify command (whose error echoes
    /// its input) and the escalation that follows; a peer that quotes the secret and the bot's own session key.
    @Test func aPlantedSecretAndPlantedCredentialsNeverShowUp() async throws {
        let planted = "planted-SECRET-4f9c2e71"
        let sandbox = NexusSandbox()
        let server = try await SandboxServer.start(nexus: sandbox)
        defer { Task { await server.stop() } }
        let receiver = try EchoingServer.start()
        defer { receiver.stop() }
        let peerKeys = testTemporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString)")
        let http = HTTPClient(connections: 2)
        let peer = NexusClient(
            server: server.url, agentID: "peer", keys: SessionKeyStore(directory: peerKeys.path), http: http)
        let room = try await peer.createSession(ttl: 3600).sessionId

        let (workspace, env) = try Self.keyed([
            "workflows/main.yaml": """
            version: 1
            accounts:
              nx: { protocol: nexus, server: "\(server.url)", agent-id: bot }
            responder:
              run: [./echo.sh]
              env: { TOKEN: "${{ secrets.TOKEN }}" }
            sources:
              - { from: nx:session/room, every: 1s }
            channels:
              hook: { webhook: "\(receiver.url)/hook", headers: { Authorization: "Bearer ${{ secrets.TOKEN }}" } }
              failing: { command: [./fail.sh] }
              log: { command: [./log.sh] }
            escalation: { to: log }
            """,
            "MESSAGING.md":
                "## Sessions\n### room\n- **Session:** nx:session/\(room)\n- **Auto-reply:** yes\n- **Notify:** hook, failing\n",
            // Echoes its whole input and the secret it was given.
            "echo.sh": "#!/bin/sh\necho \"got: $(cat) with $TOKEN\"\n",
            // Fails, quoting what it got and its environment.
            "fail.sh": "#!/bin/sh\necho \"cannot deliver: $(cat) $(env)\" >&2\nexit 1\n",
            "log.sh":
                "#!/bin/sh\ncat >> \"$(dirname \"$0\")/escalations.log\"\necho >> \"$(dirname \"$0\")/escalations.log\"\n",
            "messages.json": #"[{"conversation": "nx:session/room", "sender": "peer", "text": "hello"}]"#,
        ])
        for script in ["echo.sh", "fail.sh", "log.sh"] {
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o755], ofItemAtPath: workspace.appendingPathComponent(script).path)
        }
        var outputs: [String] = []
        func run(_ arguments: [String], input: String? = nil) async throws -> Binary.Result {
            let result = try await Binary.run(async: arguments, in: workspace, environment: env, input: input)
            outputs += [result.stdout, result.stderr]
            return result
        }
        #expect(try await run(["secrets", "set", "TOKEN"], input: planted).status == 0)
        #expect(try await run(["validate", "."]).status == 0)

        _ = try await peer.send(session: room, text: "hello, the token is \(planted)")
        let first = try await run(["tick", "--json"])
        #expect(first.status == 1)  // the failing channel
        // The bot's own session key, now on disk: the peer quotes it too.
        let keyStore = SessionKeyStore.workspace(workspace.path)
        let sessionKey = try #require(keyStore.key(server: server.url, session: room, agent: "bot"))
        _ = try await peer.send(session: room, text: "is your key \(sessionKey)?")
        try await Task.sleep(for: .milliseconds(1100))
        _ = try await run(["tick"])
        try await Task.sleep(for: .milliseconds(1100))
        _ = try await run(["tick", "--json"])
        _ = try await run(["status", "--json"])
        _ = try await run(["status"])
        _ = try await run(["journal", "list", "--json"])
        _ = try await run(["journal", "tail", "--json"])
        _ = try await run(["plan", "--messages", "messages.json"])
        _ = try await run(["plan", "--messages", "messages.json", "--json"])
        _ = try await run(["secrets", "list", "--json"])

        // The paths worked: the webhook got the real header, the responder answered, an escalation went out.
        #expect(receiver.received.contains("Bearer \(planted)"))
        let replies = try await peer.poll(session: room).messages.filter { $0.agentId == "bot" }.map(\.text)
        #expect(replies.count == 2)
        let escalations = try String(
            contentsOf: workspace.appendingPathComponent("escalations.log"), encoding: .utf8)
        #expect(escalations.contains("channel:failing failed 2 times"))

        var places = outputs + replies + [escalations]
        for name in ["journal.sqlite3", "journal.sqlite3-wal"] {
            if let data = FileManager.default.contents(
                atPath: workspace.appendingPathComponent(".switchboard/\(name)").path)
            {
                places.append(String(decoding: data, as: UTF8.self))
            }
        }
        let secretHits = places.filter { $0.contains(planted) }
        let keyHits = places.filter { $0.contains(sessionKey) }
        #expect(secretHits.count == 0, "the planted secret leaked: \(secretHits.map { String($0.prefix(300)) })")
        #expect(keyHits.count == 0, "the session key leaked: \(keyHits.map { String($0.prefix(300)) })")
        // Masked, not dropped: the reply says where the secret was.
        #expect(replies.allSatisfy { $0.contains("***") })
    }
}

/// A loopback HTTP server (python3) that answers every request with `status` (500 by default) and the request
/// itself as the body, and keeps what it received.
final class EchoingServer: @unchecked Sendable {
    let process: Process
    let url: String
    let log: URL

    private init(process: Process, url: String, log: URL) {
        self.process = process
        self.url = url
        self.log = log
    }

    static func start(status: Int = 500) throws -> EchoingServer {
        let log = testTemporaryDirectory.appendingPathComponent("echo-\(UUID().uuidString).log")
        let script = """
            import http.server, sys
            log = open(sys.argv[1], "a")
            class Echo(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get("content-length", 0)))
                    echoed = (self.requestline + "\\n" + str(self.headers)).encode() + body
                    log.write(echoed.decode(errors="replace") + "\\n"); log.flush()
                    self.send_response(int(sys.argv[2])); self.send_header("content-length", str(len(echoed))); self.end_headers()
                    self.wfile.write(echoed)
                def log_message(self, *args): pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Echo)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, log.path, String(status)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != 0x0A {
            line.append(first)
        }
        return EchoingServer(
            process: process, url: "http://127.0.0.1:\(String(decoding: line, as: UTF8.self))", log: log)
    }

    var received: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func stop() {
        // SIGKILL: a test process running a sandbox server ignores SIGTERM (service lifecycle's handlers), and
        // its children inherit that.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: log)
    }
}
