import Testing
import Workflow

/// Inputs and the exact findings `validate` reports for them: file, line, column, severity and code.
@Suite struct WorkflowFindingsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var files: [String: String]
        var expected: [String]
        var testDescription: String { name }

        init(_ name: String, _ yaml: String, _ expected: [String]) {
            self.name = name
            files = ["workflows/main.yaml": workflow(yaml)]
            self.expected = expected
        }

        init(_ name: String, files: [String: String], _ expected: [String]) {
            self.name = name
            self.files = files
            self.expected = expected
        }
    }

    static let valid: [Case] = [
        Case(
            "sources of every kind",
            """
            sources:
              - { from: nx:session/4670cde8a96a4d6eacca4185abb1e8aebdcb319f6eca5bb9, every: 2m, jitter: 10s }
              - { from: ms:inbox, cron: "*/5 * * * *", timezone: Europe/Berlin, catch-up: all }
              - { from: ms:channel/releases, every: 1h }
              - { from: tb:inbox, cron: "@hourly" }
            """, []),
        Case(
            "anchors and aliases",
            """
            handlers:
              first: &steps
                - reply: hello
              second: *steps
            """, []),
        Case(
            "a handler with every step kind",
            """
            handlers:
              all:
                - id: draft
                  run: [./draft.sh, "${{ message.id }}"]
                  timeout: 1m
                - if: steps.draft.exit-code == 0
                  reply: ${{ steps.draft.stdout }}
                - send: { to: ms:channel/releases, text: "new: ${{ message.text }}", json: { id: "${{ message.id }}", n: 1 } }
                - forward: { to: tb:agent/deployer, note: "from ${{ message.sender }}" }
                - notify: { channel: ops, text: hi }
                - id: ack
                  wait: { reply-from: tb:agent/deployer, match: "contains(message.text, 'ok')", timeout: 30m }
                - set: { verdict: "${{ steps.ack.timed-out }}" }
                - if: ${{ vars.verdict }}
                  escalate: { to: ops, text: "no answer to ${{ message.id }}" }
                - stop: done
            """, []),
    ]

    static let invalid: [Case] = [
        Case("unknown top-level key", "sorces: []\n", ["workflows/main.yaml:9:1 error unknown-key"]),
        Case("unknown account setting", "", []).with(
            "workflows/main.yaml",
            "version: 1\naccounts:\n  nx: { protocol: nexus, agent-id: bot, servr: https://x.example }\n",
            ["workflows/main.yaml:3:41 error unknown-key"]),
        Case(
            "duplicate keys", "handlers:\n  h:\n    - reply: a\nhandlers:\n  g: []\n",
            ["workflows/main.yaml:12:1 error duplicate-key"]),
        Case(
            "tabs for indentation", "handlers:\n\th:\n\t\t- reply: a\n",
            ["workflows/main.yaml:10:1 error yaml-tab-indentation"]),
        Case(
            "missing version", files: ["workflows/main.yaml": "name: x\n"],
            ["workflows/main.yaml:1:1 error missing-key"]),
        Case(
            "unsupported version", files: ["workflows/main.yaml": "version: 2\n"],
            ["workflows/main.yaml:1:10 error unsupported-version"]),
        Case(
            "bad duration", "sources:\n  - { from: ms:inbox, every: 5 }\n",
            ["workflows/main.yaml:10:30 error invalid-duration"]),
        Case(
            "every and cron together", "sources:\n  - { from: ms:inbox, every: 5m, cron: \"* * * * *\" }\n",
            ["workflows/main.yaml:10:34 error conflicting-keys"]),
        Case(
            "bad cron field", "sources:\n  - { from: ms:inbox, cron: \"0 25 * * *\" }\n",
            ["workflows/main.yaml:10:32 error invalid-cron"]),
        Case(
            "unknown time zone", "sources:\n  - { from: ms:inbox, cron: \"0 1 * * *\", timezone: Europe/Berln }\n",
            ["workflows/main.yaml:10:52 error invalid-timezone"]),
        Case(
            "cron that never fires",
            "schedules:\n  s: { cron: \"0 0 30 2 *\", handler: h }\nhandlers:\n  h: [ { reply: x } ]\n",
            ["workflows/main.yaml:10:14 error never-fires"]),
        Case(
            "unknown account in a target", "sources:\n  - { from: mx:inbox, every: 5m }\n",
            ["workflows/main.yaml:10:13 error unknown-account"]),
        Case("channel on nexus", "channels2: 1\n", ["workflows/main.yaml:9:1 error unknown-key"]),
        Case(
            "a session only on nexus", "sources:\n  - { from: ms:session/abc, every: 5m }\n",
            ["workflows/main.yaml:10:13 error target-kind"]),
        Case(
            "unknown session label", "sources:\n  - { from: nx:session/release-room, every: 5m }\n",
            ["workflows/main.yaml:10:13 error unknown-session"]),
        Case(
            "polling slower than the TTL",
            "sources:\n  - { from: nx:session/4670cde8a96a4d6eacca4185abb1e8aebdcb319f6eca5bb9, every: 2h }\n",
            ["workflows/main.yaml:10:81 error poll-slower-than-ttl"]),
        Case(
            "cron slower than the TTL",
            "sources:\n  - { from: nx:session/4670cde8a96a4d6eacca4185abb1e8aebdcb319f6eca5bb9, cron: \"0 */2 * * *\" }\n",
            ["workflows/main.yaml:10:80 error poll-slower-than-ttl"]),
        Case(
            "unknown channel", "handlers:\n  h:\n    - notify: opz\n",
            ["workflows/main.yaml:11:15 error unknown-channel"]),
        Case(
            "unknown handler in a schedule", "schedules:\n  s: { every: 1h, handler: hx }\n",
            ["workflows/main.yaml:10:28 error unknown-handler"]),
        Case(
            "a step with two actions", "handlers:\n  h:\n    - { reply: a, notify: ops }\n",
            ["workflows/main.yaml:11:19 error conflicting-keys"]),
        Case(
            "a step with no action", "handlers:\n  h:\n    - { id: a }\n",
            ["workflows/main.yaml:11:7 error missing-key"]),
        Case(
            "duplicate step ids", "handlers:\n  h:\n    - { id: a, reply: x }\n    - { id: a, reply: y }\n",
            ["workflows/main.yaml:12:13 error duplicate-step-id"]),
        Case(
            "a step that reads a later one",
            "handlers:\n  h:\n    - reply: ${{ steps.b.stdout }}\n    - { id: b, run: [x] }\n",
            ["workflows/main.yaml:11:24 error step-runs-later"]),
        Case(
            "a step that does not exist", "handlers:\n  h:\n    - reply: ${{ steps.nope.stdout }}\n",
            ["workflows/main.yaml:11:24 error unknown-step"]),
        Case(
            "unknown function", "handlers:\n  h:\n    - reply: ${{ lowr(message.text) }}\n",
            ["workflows/main.yaml:11:18 error unknown-function"]),
        Case(
            "wrong number of arguments", "handlers:\n  h:\n    - reply: ${{ truncate(message.text) }}\n",
            ["workflows/main.yaml:11:18 error wrong-arity"]),
        Case(
            "argument of the wrong type", "handlers:\n  h:\n    - reply: ${{ truncate(message.text, 'ten') }}\n",
            ["workflows/main.yaml:11:41 error expression-type"]),
        Case(
            "unknown context", "handlers:\n  h:\n    - reply: ${{ mesage.text }}\n",
            ["workflows/main.yaml:11:18 error unknown-context"]),
        Case(
            "unknown property", "handlers:\n  h:\n    - if: message.txt == 'x'\n      reply: y\n",
            ["workflows/main.yaml:11:19 error unknown-property"]),
        Case(
            "expression syntax", "handlers:\n  h:\n    - reply: \"${{ message.text = 'x' }}\"\n",
            ["workflows/main.yaml:11:32 error expression-syntax"]),
        Case(
            "unclosed expression", "handlers:\n  h:\n    - reply: \"${{ message.text\"\n",
            ["workflows/main.yaml:11:15 error expression-syntax"]),
        Case("handler contexts in a channel", "channels2: x\n", ["workflows/main.yaml:9:1 error unknown-key"]).with(
            "workflows/main.yaml",
            "version: 1\nchannels:\n  hook: { webhook: \"https://x.example/${{ message.id }}\" }\n",
            ["workflows/main.yaml:3:43 error unknown-context"]),
        Case("plain http to a remote host", "", []).with(
            "workflows/main.yaml",
            "version: 1\naccounts:\n  nx: { protocol: nexus, agent-id: bot, server: http://nexus.example }\n",
            ["workflows/main.yaml:3:49 error insecure-server"]),
        Case(
            "forbidden masumi command",
            "handlers:\n  h:\n    - run: [masumi-agent-messenger, thread, delete, \"42\"]\n",
            ["workflows/main.yaml:11:13 error forbidden-command"]),
        Case("escalation nowhere", "", []).with(
            "workflows/main.yaml", "version: 1\nhandlers:\n  h:\n    - escalate: help\n",
            ["workflows/main.yaml:4:17 error missing-escalation"]),
        Case(
            "duplicate definitions across files",
            files: [
                "workflows/a.yaml": "version: 1\naccounts:\n  nx: { protocol: nexus, agent-id: a }\n",
                "workflows/b.yaml": "version: 1\naccounts:\n  nx: { protocol: nexus, agent-id: b }\n",
            ], ["workflows/b.yaml:3:3 error duplicate-definition"]),
        Case(
            "a rules file that is missing", "rules: ../RULES.md\n", ["workflows/main.yaml:9:8 error rules-file-missing"]
        ),
    ]

    @Test(arguments: valid)
    func validWorkflowsHaveNoFindings(_ testCase: Case) throws {
        let workspace = try TestWorkspace(testCase.files)
        #expect(workspace.findings() == testCase.expected)
    }

    @Test(arguments: invalid)
    func invalidWorkflowsHaveExactlyTheseFindings(_ testCase: Case) throws {
        let workspace = try TestWorkspace(testCase.files)
        #expect(workspace.findings(.warning) == testCase.expected)
    }
}

extension WorkflowFindingsTests.Case {
    /// The same case with one file replaced.
    func with(_ path: String, _ contents: String, _ expected: [String]) -> Self {
        var copy = self
        copy.files = [path: contents]
        copy.expected = expected
        return copy
    }
}

@Suite struct YAMLFeatureTests {
    @Test func mergeKeysBringInAnAnchorsKeysAndOwnKeysWin() throws {
        let (workflow, diagnostics) = WorkspaceLoader.workflow(
            from: """
                version: 1
                x-defaults: &defaults { protocol: masumi, agent: base, timeout: 30s }
                accounts:
                  a: { <<: *defaults, agent: alpha }
                  b:
                    <<: [*defaults]
                """, file: "w.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")  // top-level x- keys are extension fields
        let accounts = try #require(workflow?.accounts)
        #expect(accounts.map(\.name) == ["a", "b"])
        guard case .masumi(let alpha) = accounts[0].settings, case .masumi(let base) = accounts[1].settings else {
            Issue.record("expected masumi accounts")
            return
        }
        #expect(alpha.agent.value == "alpha")
        #expect(base.agent.value == "base")
        #expect(alpha.timeout.seconds == 30)
    }
}
