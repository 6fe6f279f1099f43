import Foundation
import Sandbox
import Testing

/// `switchboard doctor` on a workspace that can run and on one that cannot.
@Suite struct DoctorTests {
    static func checks(_ result: Binary.Result) throws -> [String: (status: String, detail: String)] {
        let items = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: String]], "\(result.stdout)")
        var checks: [String: (String, String)] = [:]
        for item in items { checks[item["check"] ?? "?"] = (item["status"] ?? "?", item["detail"] ?? "") }
        return checks
    }

    @Test func aHealthyWorkspacePasses() async throws {
        let masumi = MasumiSandbox()
        masumi.addInbox(profile: "default", email: "bot@example.invalid", agents: ["bot"])
        let server = try await SandboxServer.start(nexus: NexusSandbox(), masumi: masumi)
        let workspace = try Binary.workspace([
            "masumi-agent-messenger":
                "#!/bin/sh\nexec '\(Binary.url.path)' __masumi-sandbox-cli '\(server.url)' \"$@\"\n",
            "workflows/main.yaml": """
            version: 1
            accounts:
              nx: { protocol: nexus, server: "\(server.url)", agent-id: bot }
              ms: { protocol: masumi, agent: bot, executable: ./masumi-agent-messenger }
            """,
            "MESSAGING.md": "## Sessions\n",
        ])
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o755], ofItemAtPath: workspace.appendingPathComponent("masumi-agent-messenger").path)
        #expect(try await Binary.run(async: ["tick", "--workspace", workspace.path]).status == 4)
        let result = try await Binary.run(async: ["doctor", "--workspace", workspace.path, "--json"])
        #expect(result.status == 0, "\(result.stdout)")
        let checks = try Self.checks(result)
        #expect(checks["workspace"]?.status == "ok")
        #expect(checks["journal"]?.status == "ok")
        #expect(checks["journal"]?.detail.contains("intact") == true)
        #expect(checks["account nx"]?.status == "ok")
        #expect(checks["account ms"]?.detail.contains("version 0.0.22") == true)
        #expect(checks["clock"]?.status == "ok", "\(checks["clock"]?.detail ?? "")")
        await server.stop()
    }

    @Test func aBrokenWorkspaceFailsWithWhatIsWrong() async throws {
        let workspace = try Binary.workspace([
            "workflows/main.yaml": """
            version: 1
            accounts:
              nx: { protocol: nexus, server: "http://127.0.0.1:9", agent-id: bot }
              ms: { protocol: masumi, agent: bot, executable: ./no-such-cli }
            channels:
              ops: { webhook: "${{ secrets.HOOK }}" }
            """,
            "MESSAGING.md": "## Sessions\n",
        ])
        let result = try await Binary.run(async: ["doctor", "--workspace", workspace.path, "--json"])
        #expect(result.status == 1)
        let checks = try Self.checks(result)
        #expect(checks["workspace"]?.status == "fail")
        #expect(checks["secrets"]?.status == "fail")
        #expect(checks["account nx"]?.detail.contains("CURLE_COULDNT_CONNECT") == true)
        #expect(checks["account ms"]?.status == "fail")
        let text = try await Binary.run(async: ["doctor", "--workspace", workspace.path])
        #expect(text.stdout.contains("fail  account ms:"))
    }
}
