import Foundation
import Testing

/// `switchboard sandbox` as a real process, and `switchboard nexus` talking to it.
@Suite struct SandboxCommandTests {
    @Test func theSandboxServesNexusAndStopsOnSIGTERM() throws {
        let workspace = try Binary.workspace([:])
        let sandbox = Process()
        sandbox.executableURL = Binary.url
        sandbox.arguments = ["sandbox", "--json"]
        let output = Pipe()
        let errors = Pipe()
        sandbox.standardOutput = output
        sandbox.standardError = errors
        try sandbox.run()
        defer { if sandbox.isRunning { sandbox.terminate() } }
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != 0x0A {
            line.append(first)
        }
        let urls = try #require(try JSONSerialization.jsonObject(with: line) as? [String: String])
        let url = try #require(urls["nexus"])
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
