import Testing
import Workflow

@Suite struct MessagingTests {
    /// Seed 001's template, verbatim: the example entry sits in an HTML comment and must be ignored.
    static let seedTemplate = """
        # MESSAGING.md
        ## Default Behavior
        When receiving NexusMessaging messages from any session without specific rules below:
        1. Summarize the message(s)
        2. Notify the user in their preferred channel (e.g., Telegram)
        3. Do NOT auto-reply unless explicitly configured below
        ## Sessions
        <!-- Add per-session rules here when you join/create sessions -->
        <!-- Example:
        ### research-partner
        - **Session:** <session-id>
        - **Purpose:** Collaborative research on topic X
        - **On message:** Read context with nexus_history, draft a response, reply in session
        - **Auto-reply:** yes
        -->
        """

    @Test func theSeedTemplateParsesWithNoRulesAndNoFindings() {
        let (document, diagnostics) = MessagingDocument.parse(Self.seedTemplate, file: "MESSAGING.md")
        #expect(diagnostics.isEmpty)
        #expect(document.rules.isEmpty)
        #expect(
            document.defaultBehavior?.steps.map(\.value) == [
                "Summarize the message(s)", "Notify the user in their preferred channel (e.g., Telegram)",
                "Do NOT auto-reply unless explicitly configured below",
            ])
        #expect(document.defaultBehavior?.notify.isEmpty == true)
    }

    @Test func everyBulletKeepsItsLineAndColumn() throws {
        let text = """
            ## Sessions
            ### release-room
            - **Session:** nx:session/4670cde8a96a4d6eacca4185abb1e8aebdcb319f6eca5bb9
            - **Purpose:** Release coordination
            - **On message:** handoff
            - **Auto-reply:** no
            - **Notify:** operator, pager
            * **Forward to**: `tb:agent/deployer`
            - **Escalate to:** oncall
            - **Strikes:** 3
            - **Account:** nx
            """
        let (document, diagnostics) = MessagingDocument.parse(text, file: "M.md")
        #expect(diagnostics.isEmpty)
        let rule = try #require(document.rules.first)
        #expect(rule.label == "release-room")
        #expect(rule.location.description == "M.md:2:1")
        #expect(rule.session?.location.description == "M.md:3:16")
        #expect(rule.purpose?.value == "Release coordination")
        #expect(rule.onMessage?.location.description == "M.md:5:19")
        #expect(rule.autoReply?.value == false)
        #expect(rule.notify.map(\.value) == ["operator", "pager"])
        #expect(rule.notify.map(\.location.column) == [15, 25])
        #expect(rule.forwardTo.map(\.value) == ["tb:agent/deployer"])
        #expect(rule.escalateTo?.value == "oncall")
        #expect(rule.strikes?.value == 3)
        #expect(rule.account?.value == "nx")
    }

    @Test(
        arguments: [
            (
                "## Sessions\n### a\n- **Session:** x\n- **Notfy:** ops\n", "4:3 error unknown-bullet",
                "did you mean 'Notify'?"
            ),
            ("## Sessions\n### a\n- **Session:** x\n- **Session:** y\n", "4:3 error duplicate-bullet", nil),
            ("## Sessions\n### a\n- **Purpose:** x\n", "2:1 error missing-session-bullet", nil),
            ("## Sessions\n### a\n- **Session:** x\n- **Auto-reply:** maybe\n", "4:19 error invalid-value", nil),
            ("## Sessions\n### a\n- **Session:** x\n- **Strikes:** 0\n", "4:16 error invalid-value", nil),
            ("## Sessions\n### a\n- **Session:** x\n- just prose\n", "4:1 warning unknown-bullet", nil),
            ("# MESSAGING.md\n## Default Behavior\n1. Summarize\n", "1:1 error missing-sessions-section", nil),
        ] as [(String, String, String?)])
    func malformedEntriesAreFindings(text: String, expected: String, hint: String?) {
        let (_, diagnostics) = MessagingDocument.parse(text, file: "M.md")
        #expect(
            diagnostics.map { "\($0.location.line):\($0.location.column) \($0.severity.rawValue) \($0.code.rawValue)" }
                == [expected])
        if let hint { #expect(diagnostics.first?.hint == hint) }
    }

    static let accounts = """
        version: 1
        accounts:
          nx: { protocol: nexus, agent-id: bot }
          ms: { protocol: masumi, agent: bot }
        channels:
          ops: { command: [./notify.sh] }
        escalation: { to: ops }
        responder: { run: [./reply.sh] }
        handlers:
          handoff: [ { forward: nx:session/room-b } ]

        """

    @Test func crossFileChecks() throws {
        let workspace = try TestWorkspace([
            "workflows/main.yaml": Self.accounts + """
                sources:
                  - { from: nx:session/room-a, every: 2m }
                  - { from: nx:session/room-b, every: 2m }
                """,
            "MESSAGING.md": """
            ## Default Behavior
            1. Notify the user in their preferred channel (opps)
            ## Sessions
            ### room-a
            - **Session:** 4670cde8a96a4d6eacca4185abb1e8aebdcb319f6eca5bb9
            - **On message:** handoff
            ### room-b
            - **Session:** nx:session/9999cde8a96a4d6eacca4185abb1e8aebdcb319f6eca5bb9
            - **Forward to:** nx:session/room-a
            - **Auto-reply:** yes
            ### room-b-again
            - **Session:** nx:session/9999cde8a96a4d6eacca4185abb1e8aebdcb319f6eca5bb9
            - **Auto-reply:** yes
            ### all-threads
            - **Session:** ms:thread/*
            - **On message:** handof
            ### one-thread
            - **Session:** ms:thread/42
            - **On message:** Summarise and reply politely
            ### misc
            - **Session:** ms:channel/news
            - **Notify:** pager
            """,
        ])
        #expect(
            workspace.findings() == [
                "MESSAGING.md:2:48 error unknown-channel",
                "MESSAGING.md:9:19 error forward-loop",
                "MESSAGING.md:12:16 error duplicate-auto-reply",
                "MESSAGING.md:15:16 warning unpolled-session",
                "MESSAGING.md:16:19 error unknown-handler",
                "MESSAGING.md:18:16 warning shadowed-rule",
                "MESSAGING.md:18:16 warning unpolled-session",
                "MESSAGING.md:19:19 note responder-instructions",
                "MESSAGING.md:21:16 warning unpolled-session",
                "MESSAGING.md:22:15 error unknown-channel",
            ])
    }

    @Test func aBareSessionIDNeedsAnAccountWhenThereAreSeveralNexusAccounts() throws {
        let workspace = try TestWorkspace([
            "workflows/main.yaml": """
            version: 1
            accounts:
              a: { protocol: nexus, agent-id: bot }
              b: { protocol: nexus, agent-id: bot }
            """,
            "MESSAGING.md": "## Sessions\n### x\n- **Session:** 4670cde8a96a4d6eacca4185abb1e8aebdcb319f6eca5bb9\n",
        ])
        let report = workspace.validate()
        #expect(report.diagnostics.map(\.code) == [.invalidTarget])
        #expect(report.diagnostics.first?.hint?.contains("a:session/4670") == true)
    }
}
