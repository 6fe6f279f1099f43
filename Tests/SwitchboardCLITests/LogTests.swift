import Foundation
import Nexus
import Sandbox
import Testing
import Transport

/// `--log-format json`: every line an object with time, level and message (and workflow, run, step, intent,
/// source where they apply); a planted secret in none of them.
@Suite struct LogTests {
    @Test func jsonLogsParseAndHoldNoSecret() async throws {
        let planted = "planted-LOG-SECRET-9d1e"
        let server = try await SandboxServer.start(nexus: NexusSandbox())
        let peer = NexusClient.testPeer(server: server.url)
        let room = try await peer.createSession(ttl: 3600).sessionId
        let (workspace, env) = try SecretsCommandTests.keyed([
            "workflows/main.yaml": """
            version: 1
            name: logged
            accounts:
              nx: { protocol: nexus, server: "\(server.url)", agent-id: bot }
            sources:
              - { from: nx:session/room, every: 1m }
            handlers:
              ack:
                - id: answer
                  reply: "got ${{ message.text }}"
            channels:
              ops: { command: [/bin/false] }
            escalation: { to: ops }
            heartbeat: "http://127.0.0.1:9/${{ secrets.TOKEN }}"
            """,
            "MESSAGING.md": "## Sessions\n### room\n- **Session:** nx:session/\(room)\n- **On message:** ack\n",
        ])
        #expect(
            try await Binary.run(
                async: ["secrets", "set", "TOKEN"], in: workspace, environment: env, input: planted
            ).status == 0)
        _ = try await peer.send(session: room, text: "the token is \(planted)")
        let result = try await Binary.run(
            async: ["tick", "--workspace", workspace.path, "--log-format", "json", "--log-level", "debug"],
            in: workspace, environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count >= 3)
        var keys: Set<String> = []
        for line in lines {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "not a JSON line: \(line)"
            )
            #expect(object["time"] != nil && object["level"] != nil && object["message"] != nil, "\(line)")
            keys.formUnion(object.keys)
        }
        #expect(keys.isSuperset(of: ["workflow", "source", "intent", "run", "step"]), "\(keys)")
        #expect(!result.stderr.contains(planted))
        // The reply quoted the message: it went out masked.
        let replies = try await peer.poll(session: room).messages.filter { $0.agentId == "bot" }.map(\.text)
        #expect(replies == ["got the token is ***"])
        let text = try await Binary.run(
            async: ["tick", "--workspace", workspace.path, "--log-level", "bogus"], in: workspace, environment: env)
        #expect(text.status == 2)
        await server.stop()
    }
}
