import Foundation
import Testing

/// `heartbeat:` pinged the healthchecks.io way around each tick, against a loopback receiver.
@Suite struct HeartbeatTests {
    @Test func aTickPingsStartThenSuccessOrFail() async throws {
        let receiver = try EchoingServer.start(status: 200)
        defer { receiver.stop() }
        let workspace = try Binary.workspace([
            "workflows/main.yaml": """
            version: 1
            accounts:
              nx: { protocol: nexus, server: "http://127.0.0.1:9", agent-id: bot }
            sources:
              - { from: nx:session/abcdef0123456789abcdef0123456789abcdef0123456789, every: 1h }
            heartbeat: "\(receiver.url)/ping/${{ env.CHECK_ID }}"
            """,
            "MESSAGING.md": "## Sessions\n",
        ])
        let env = ["CHECK_ID": "check-7"]
        // The source's server refuses connections: the first tick fails.
        let failed = try await Binary.run(async: ["tick", "--workspace", workspace.path], environment: env)
        #expect(failed.status == 1)
        // Nothing is due an hour ahead: the second tick does nothing, and says so.
        let idle = try await Binary.run(async: ["tick", "--workspace", workspace.path], environment: env)
        #expect(idle.status == 4)
        let lines = receiver.received.split(separator: "\n").filter { $0.hasPrefix("POST ") }.map {
            String($0.split(separator: " ")[1])
        }
        #expect(lines == ["/ping/check-7/start", "/ping/check-7/fail", "/ping/check-7/start", "/ping/check-7"])
        #expect(receiver.received.contains("exit 1: 1 polled"))
        #expect(receiver.received.contains("CURLE_COULDNT_CONNECT"))

        // A heartbeat that cannot be reached is reported and changes nothing.
        let unreachable = try Binary.workspace([
            "workflows/main.yaml": "version: 1\nheartbeat: http://127.0.0.1:9/ping\n", "MESSAGING.md": "## Sessions\n",
        ])
        let result = try await Binary.run(async: ["tick", "--workspace", unreachable.path])
        #expect(result.status == 4)
        #expect(result.stderr.contains("heartbeat:"))
    }
}
