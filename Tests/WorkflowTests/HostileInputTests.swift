import Foundation
import Testing
import Workflow

/// Inputs shaped to make a checker hang, crash or leak; each must end quickly in a finding.
@Suite struct HostileInputTests {
    @Test func anAliasUsedAsAKeyIsRejectedBeforeYamsHashesIt() throws {
        var yaml = "version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            yaml +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        for key in ["? *a8\n: x\n", "*a8 : x\n", "k: { *a8 : x }\n"] {
            let workspace = try TestWorkspace(["workflows/a.yaml": yaml + key])
            #expect(workspace.findings() == ["workflows/a.yaml:11:\(key.hasPrefix("k") ? 6 : 1) error yaml-syntax"])
        }
    }

    @Test func aLongAliasChainIsCappedNotNestedWithoutLimit() throws {
        var yaml = "version: 1\nx-0: &a0 [x]\n"
        for level in 1...1500 { yaml += "x-\(level): &a\(level) [*a\(level - 1)]\n" }
        let workspace = try TestWorkspace(["workflows/a.yaml": yaml])
        #expect(workspace.findings() == ["workflows/a.yaml:1003:17 error yaml-too-large"])
    }

    @Test func anAliasToADeepNodeInsideADeepNodeStopsAtTheDepthLimit() throws {
        // Each is within libyaml's 1000 levels; together, through the alias, they are twice that.
        let deep = String(repeating: "[", count: 990) + "x" + String(repeating: "]", count: 990)
        let deeper = String(repeating: "[", count: 990) + "*deep" + String(repeating: "]", count: 990)
        let yaml = "version: 1\nx-a: &deep \(deep)\nx-b: \(deeper)\n"
        let report = try TestWorkspace(["workflows/a.yaml": yaml]).validate()
        #expect(report.diagnostics.map(\.code) == [.yamlTooDeep])
    }

    @Test func aRulesFileOutsideTheWorkspaceIsNeverRead() throws {
        for path in ["/dev/zero", "/etc/passwd", "../../outside.md"] {
            let workspace = try TestWorkspace(["workflows/a.yaml": "version: 1\nrules: \(path)\n"])
            let report = workspace.validate()
            #expect(report.diagnostics.map(\.message) == ["rules file '\(path)' is outside the workspace"])
        }
    }

    @Test func aFIFOIsNotReadAsARulesFile() throws {
        let workspace = try TestWorkspace(["workflows/a.yaml": "version: 1\nrules: ../pipe.md\n"])
        #expect(mkfifo(workspace.root.appendingPathComponent("pipe.md").path, 0o600) == 0)
        #expect(workspace.findings() == ["pipe.md:0:0 error file-unreadable"])
    }

    @Test func aLongChainOfForwardsIsCheckedInLinearTime() throws {
        // 3000 entries, each forwarding to the next, the last back to the first: one loop.
        var messaging = "## Sessions\n"
        let count = 3000
        for index in 0..<count {
            messaging += "### r\(index)\n- **Session:** nx:session/\(String(format: "%048x", index))\n"
            messaging += "- **Forward to:** nx:session/r\((index + 1) % count)\n"
        }
        let workspace = try TestWorkspace([
            "workflows/a.yaml":
                "version: 1\naccounts:\n  nx: { protocol: nexus, agent-id: bot }\nchannels:\n  c: { to: nx:session/r0 }\nescalation: { to: c }\n",
            "MESSAGING.md": messaging,
        ])
        let report = workspace.validate()
        #expect(report.diagnostics.filter { $0.code == .forwardLoop }.count == 1)
    }

    @Test func windowsLineEndingsReadLikeUnixOnes() throws {
        let messaging = "## Sessions\r\n### room\r\n- **Session:** ms:thread/42\r\n- **Notfy:** ops\r\n"
        let yaml =
            "version: 1\r\naccounts:\r\n  ms: { protocol: masumi, agent: bot }\r\nsources:\r\n  - { from: ms:inbox, evry: 5m }\r\n"
        let workspace = try TestWorkspace(["workflows/a.yaml": yaml, "MESSAGING.md": messaging])
        #expect(
            workspace.findings(.error) == [
                "MESSAGING.md:4:3 error unknown-bullet", "workflows/a.yaml:5:5 error missing-key",
                "workflows/a.yaml:5:23 error unknown-key",
            ])
    }

    @Test func lookalikeLoopbackHostsNeedInsecure() throws {
        for (server, expected) in [
            ("http://127.0.0.1.nip.io", ["workflows/a.yaml:3:49 error insecure-server"]),
            ("http://127.evil.example", ["workflows/a.yaml:3:49 error insecure-server"]),
            ("http://127.0.0.1:8080", []), ("http://localhost:3000/", []), ("'http://[::1]:3000'", []),
        ] {
            let workspace = try TestWorkspace([
                "workflows/a.yaml":
                    "version: 1\naccounts:\n  nx: { protocol: nexus, agent-id: bot, server: \(server) }\n"
            ])
            #expect(workspace.findings() == expected, "\(server)")
        }
    }

    @Test func forbiddenMasumiCommandsAreFoundBehindOptions() throws {
        for argv in [
            "[masumi-agent-messenger, --profile, release, thread, delete, \"42\"]",
            "[masumi-agent-messenger, --profile, x]",
            "[/usr/local/bin/masumi-agent-messenger, agent, key, rotate, bot]",
        ] {
            let workspace = try TestWorkspace([
                "workflows/a.yaml": "version: 1\nhandlers:\n  h:\n    - run: \(argv)\n"
            ])
            #expect(workspace.findings() == ["workflows/a.yaml:4:13 error forbidden-command"], "\(argv)")
        }
        let allowed = try TestWorkspace([
            "workflows/a.yaml":
                "version: 1\nhandlers:\n  h:\n    - run: [masumi-agent-messenger, thread, unread, --agent, bot, --json]\n"
        ])
        #expect(allowed.findings().isEmpty)
    }

    @Test func findingsInsideRunArgumentsAndEscapedTextPointWhereTheyCan() throws {
        let workspace = try TestWorkspace([
            "workflows/a.yaml": """
            version: 1
            handlers:
              h:
                - run: [echo, "${{ bogus }}"]
                - reply: "say \\"hi\\" ${{ bogus }}"
                - reply: 'it''s ${{ bogus }}'
            """
        ])
        #expect(
            workspace.findings() == [
                "workflows/a.yaml:4:24 error unknown-context",
                // Escapes make the decoded text shorter than the line: the finding points at the scalar.
                "workflows/a.yaml:5:14 error unknown-context",
                "workflows/a.yaml:6:14 error unknown-context",
            ])
    }

    @Test func backtickedValuesPointPastTheBacktick() throws {
        let (document, _) = MessagingDocument.parse(
            "## Sessions\n### a\n- **Session:** `ms:thread/42`\n- **Notify:**\tops,  pager\n", file: "M.md")
        let rule = try #require(document.rules.first)
        #expect(rule.session?.location.column == 17)
        #expect(rule.notify.map(\.location.column) == [15, 21])
    }

    @Test func commentMarkersInsideFencedCodeAreLeftAlone() throws {
        let (document, diagnostics) = MessagingDocument.parse(
            "## Sessions\n```\n<!-- not a comment\n```\n### a\n- **Session:** ms:thread/42\n", file: "M.md")
        #expect(diagnostics.isEmpty)
        #expect(document.rules.map(\.label) == ["a"])
    }
}
