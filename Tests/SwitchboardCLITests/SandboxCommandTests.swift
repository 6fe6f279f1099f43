import Foundation
import Testing
import Transport

/// `switchboard sandbox` as a real process, and `switchboard nexus` talking to it.
@Suite struct SandboxCommandTests {
    /// `switchboard sandbox --json` started, with the Nexus URL it printed first.
    static func startSandbox() throws -> (process: Process, errors: Pipe, url: String) {
        let (process, errors, urls) = try startSandboxServers()
        return (process, errors, try #require(urls["nexus"]))
    }

    /// `switchboard sandbox --json` and the line it prints first: `{"nexus": URL, "masumi": PATH, "transmissionbot": URL}`.
    static func startSandboxServers(
        _ arguments: [String] = []
    ) throws -> (process: Process, errors: Pipe, urls: [String: String]) {
        let sandbox = Process()
        sandbox.executableURL = Binary.url
        sandbox.arguments = ["sandbox", "--json"] + arguments
        let output = Pipe()
        let errors = Pipe()
        sandbox.standardOutput = output
        sandbox.standardError = errors
        try sandbox.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != 0x0A {
            line.append(first)
        }
        let urls = try #require(try JSONSerialization.jsonObject(with: line) as? [String: String])
        return (sandbox, errors, urls)
    }

    /// The masumi stand-in the command prints answers like the CLI: the envelope, the default inboxes, and
    /// messages between them.
    @Test func theSandboxServesTheMasumiStandIn() throws {
        let (sandbox, _, urls) = try Self.startSandboxServers()
        defer { if sandbox.isRunning { sandbox.terminate() } }
        let cli = URL(fileURLWithPath: try #require(urls["masumi"]))
        func masumi(_ arguments: [String]) throws -> [String: Any] {
            let process = Process()
            process.executableURL = cli
            process.arguments = arguments
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        let sent = try masumi(["thread", "send", "helper", "--agent", "bot", "--json", "--", "hello"])
        #expect(sent["ok"] as? Bool == true)
        let data = try #require(sent["data"] as? [String: Any])
        #expect(data["sent"] as? Bool == true)
        let thread = try #require(data["threadId"] as? String)
        let shown = try masumi(["thread", "show", thread, "--agent", "helper", "--json"])
        let messages = try #require((shown["data"] as? [String: Any])?["messages"] as? [[String: Any]])
        #expect(messages.map { $0["text"] as? String } == ["hello"])
        let refused = try masumi(["thread", "show", thread, "--agent", "peer", "--profile", "peer", "--json"])
        #expect((refused["error"] as? [String: Any])?["code"] as? String == "THREAD_NOT_FOUND")
        sandbox.terminate()
        sandbox.waitUntilExit()
        // Its script is gone with it.
        #expect(!FileManager.default.fileExists(atPath: cli.path))
    }

    /// Faults from the command line and from `POST /sandbox/faults`, for both networks; a bad one is refused.
    @Test func faultsAreInjectedFromTheCommandLineAndWhileRunning() async throws {
        let refused = try Binary.run(["sandbox", "--fault", "masumi:thread list=explode"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("unknown masumi effect 'explode'"))
        let (sandbox, _, urls) = try Self.startSandboxServers([
            "--fault", "masumi:thread list=error:SPACETIMEDB_TIMEOUT:2*2", "--fault", "nexus:GET /health=status:503",
            "--fault", "transmissionbot:GET /health=status:503",
        ])
        defer { if sandbox.isRunning { sandbox.terminate() } }
        let cli = URL(fileURLWithPath: try #require(urls["masumi"]))
        let server = try #require(urls["nexus"])
        func masumi(_ arguments: [String]) throws -> (status: Int32, code: String?, data: [String: Any]?) {
            let process = Process()
            process.executableURL = cli
            process.arguments = ["--agent", "bot", "--json"] + arguments
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let envelope = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            return (
                process.terminationStatus, (envelope?["error"] as? [String: Any])?["code"] as? String,
                envelope?["data"] as? [String: Any]
            )
        }
        for _ in 0..<2 {
            let failed = try masumi(["thread", "list"])
            #expect(failed.status == 2)
            #expect(failed.code == "SPACETIMEDB_TIMEOUT")
        }
        #expect(try masumi(["thread", "list"]).status == 0)
        let health = try Binary.run(["nexus", "health", "--server", server])
        #expect(health.status == 1)
        #expect(health.stderr.contains("internal_error"))
        #expect(try Binary.run(["nexus", "health", "--server", server]).status == 0)

        // The TransmissionBot listener is a server of its own, with its own faults.
        let http = HTTPClient(connections: 1)
        let transmissionBot = try #require(urls["transmissionbot"])
        #expect(transmissionBot != server)
        #expect(try await http.send(HTTPRequest(.get, transmissionBot + "/health")).status == 503)
        #expect(try await http.send(HTTPRequest(.get, transmissionBot + "/health")).status == 200)

        // While it runs: all lines or none.
        func post(_ body: String) async throws -> Int {
            try await http.send(HTTPRequest(.post, server + "/sandbox/faults", body: Data(body.utf8))).status
        }
        #expect(try await post("masumi:thread reply=garbage\nnexus:*=teapot") == 400)
        #expect(try await post("masumi:thread reply=stored-timeout\n") == 200)
        let thread = try #require(try masumi(["thread", "send", "helper", "--", "hello"]).data?["threadId"] as? String)
        let stored = try masumi(["thread", "reply", thread, "--", "stored anyway"])
        #expect(stored.status == 2)
        #expect(stored.code == "SPACETIMEDB_MESSAGE_TIMEOUT")
        let shown = try masumi(["thread", "show", thread]).data?["messages"] as? [[String: Any]]
        #expect(shown?.compactMap { $0["text"] as? String } == ["hello", "stored anyway"])
    }

    @Test func theSandboxServesNexusAndStopsOnSIGTERM() throws {
        let workspace = try Binary.workspace([:])
        let (sandbox, errors, url) = try Self.startSandbox()
        defer { if sandbox.isRunning { sandbox.terminate() } }
        #expect(url.hasPrefix("http://127.0.0.1:"))

        func nexus(_ arguments: [String]) throws -> Binary.Result {
            try Binary.run(
                ["nexus"] + arguments + ["--server", url, "--workspace", workspace.path, "--json"], in: workspace)
        }
        let created = try nexus(["create", "--agent-id", "alice", "--greeting", "hi"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(!created.stdout.contains("sessionKey\" : \""), "keys are never printed")
        let session = try #require(
            (try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])?["sessionId"]
                as? String)
        #expect(try nexus(["join", session, "--agent-id", "bob"]).status == 0)
        #expect(try nexus(["send", session, "hello", "--agent-id", "bob"]).status == 0)
        let polled = try nexus(["poll", session, "--agent-id", "alice"])
        let messages = try #require(
            (try JSONSerialization.jsonObject(with: Data(polled.stdout.utf8)) as? [String: Any])?["messages"]
                as? [[String: Any]])
        #expect(messages.map { $0["text"] as? String } == ["hi", "hello"])

        // A failure: the server's exact code, on stdout as JSON and on stderr for people, exit 1.
        let failed = try nexus(["join", session, "--agent-id", "bob"])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("\"error\" : \"agent_id_taken\""))
        #expect(failed.stderr.contains("nexus: agent_id_taken (HTTP 409)"))

        // No key ever reaches output; it is in a 0600 file.
        let keys = workspace.appendingPathComponent(".switchboard/nexus-keys").path
        let keyFiles = try FileManager.default.subpathsOfDirectory(atPath: keys).filter { $0.hasSuffix(".key") }
        #expect(keyFiles.count == 2)
        for file in keyFiles {
            let key = try String(contentsOfFile: keys + "/" + file, encoding: .utf8)
            for result in [created, polled, failed] {
                #expect(!result.stdout.contains(key) && !result.stderr.contains(key))
            }
        }

        sandbox.terminate()  // SIGTERM
        sandbox.waitUntilExit()
        #expect(sandbox.terminationStatus == 0)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.contains("sandbox stopped"))
    }

    /// The rest of the operator's commands, through the built binary: health, pairing, renew, status, leave.
    @Test func pairingRenewAndLeaveThroughTheBinary() throws {
        let workspace = try Binary.workspace([:])
        let (sandbox, _, url) = try Self.startSandbox()
        defer { sandbox.terminate() }
        func nexus(_ arguments: [String]) throws -> [String: Any] {
            let result = try Binary.run(
                ["nexus"] + arguments + ["--server", url, "--workspace", workspace.path, "--json"], in: workspace)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                "\(arguments): \(result.stdout)")
        }
        #expect(try nexus(["health"])["messageFormats"] as? [String] == ["text", "json"])
        let session = try #require(try nexus(["create", "--agent-id", "alice"])["sessionId"] as? String)
        let code = try #require(try nexus(["pair", session])["code"] as? String)
        #expect(try nexus(["pair-status", code])["state"] as? String == "pending")
        let claimed = try nexus(["claim", code, "--agent-id", "carol"])
        #expect(claimed["sessionId"] as? String == session)
        #expect(try nexus(["pair-status", code])["state"] as? String == "claimed")
        #expect(try nexus(["renew", session, "--agent-id", "carol", "--ttl", "600"])["ttl"] as? Int == 600)
        #expect(try nexus(["status", session])["agents"] as? [String] == ["alice", "carol"])
        #expect(try nexus(["leave", session, "--agent-id", "carol"])["ok"] as? Bool == true)
        #expect(try nexus(["status", session])["agents"] as? [String] == ["alice"])

        // Leaving again: the key went with the first leave, so the server's code comes with a hint.
        let again = try Binary.run(
            ["nexus", "leave", session, "--agent-id", "carol", "--server", url, "--workspace", workspace.path],
            in: workspace)
        #expect(again.status == 1)
        #expect(again.stderr.contains("missing_session_key"))
        #expect(again.stderr.contains("hint: no key is stored"))
    }

    @Test func nexusNeedsToKnowWhoIsTalking() throws {
        let workspace = try Binary.workspace([:])
        let result = try Binary.run(["nexus", "join", "abc", "--server", "http://127.0.0.1:9"], in: workspace)
        #expect(result.status == 1)
        #expect(result.stderr.contains("which agent?"))
        // Public endpoints need no agent.
        let anonymous = try Binary.run(
            ["nexus", "status", "abc", "--server", "http://127.0.0.1:9", "--json"], in: workspace)
        #expect(anonymous.status == 1)
        #expect(anonymous.stdout.contains("\"status\" : null"))
        let refused = try Binary.run(
            ["nexus", "status", "abc", "--server", "http://127.0.0.1:9", "--agent-id", "a"], in: workspace)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("CURLE_COULDNT_CONNECT"))
        #expect(refused.stderr.contains("switchboard sandbox"))
    }

    @Test func nexusTakesTheAccountFromTheWorkspace() throws {
        let workspace = try Binary.workspace([
            "workflows/a.yaml":
                "version: 1\naccounts:\n  nx: { protocol: nexus, server: http://127.0.0.1:9, agent-id: from-account }\n"
        ])
        let result = try Binary.run(["nexus", "status", "abc", "--account", "nx"], in: workspace)
        #expect(result.status == 1)
        #expect(result.stderr.contains("http://127.0.0.1:9: CURLE_COULDNT_CONNECT"))
        let unknown = try Binary.run(["nexus", "status", "abc", "--account", "nope"], in: workspace)
        #expect(unknown.stderr.contains("no nexus account 'nope'"))
    }
}
