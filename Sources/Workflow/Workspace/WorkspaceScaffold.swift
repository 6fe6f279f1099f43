/// The files `switchboard init` writes: a small workspace that validates clean and shows the shape of things.
public enum WorkspaceScaffold {
    public struct File: Sendable {
        public var path: String
        public var contents: String
        /// POSIX permissions.
        public var mode: Int
    }

    public static var files: [File] {
        [
            File(path: "workflows/main.yaml", contents: workflow, mode: 0o644),
            File(path: "MESSAGING.md", contents: messaging, mode: 0o644),
            File(path: "agents/reply.sh", contents: responder, mode: 0o755),
            File(path: "agents/notify.sh", contents: notifier, mode: 0o755),
            File(path: "workflow.schema.json", contents: JSONText.encodePretty(WorkflowSchema.document), mode: 0o644),
        ]
    }

    static let workflow = """
        # yaml-language-server: $schema=../workflow.schema.json
        # A switchboard workflow. `switchboard validate` checks it; the README documents every key.
        version: 1
        name: main

        accounts:
          nx: { protocol: nexus, server: https://messaging.md, agent-id: my-agent }

        # MESSAGING.md (next to workflows/) is read automatically.
        responder: { run: [./agents/reply.sh], timeout: 2m }

        sources: []
          # - { from: nx:session/example-room, every: 3m }   # after adding '### example-room' to MESSAGING.md

        channels:
          operator: { command: [./agents/notify.sh] }

        escalation: { to: operator, after: 2 }

        handlers:
          acknowledge:
            - reply: "Received ${{ message.id }}; a human will follow up."
            - notify: { channel: operator, text: "New message in ${{ message.conversation }}: ${{ truncate(message.text, 200) }}" }

        """

    static let messaging = """
        # MESSAGING.md

        ## Default Behavior
        When receiving messages from any conversation without specific rules below:
        1. Summarize the message(s)
        2. Notify the user in their preferred channel (operator)
        3. Do NOT auto-reply unless explicitly configured below

        ## Sessions
        <!-- One entry per conversation. Example:
        ### example-room
        - **Session:** nx:session/<session-id>
        - **Purpose:** What this conversation is for
        - **On message:** acknowledge
        - **Auto-reply:** yes
        - **Notify:** operator
        -->

        """

    static let responder = """
        #!/bin/sh
        # The responder: the message and the rule arrive as JSON on stdin; print the reply on stdout.
        # A non-zero exit counts as a failed attempt (two strikes, then escalation).
        cat >/dev/null
        echo "Thanks, noted."

        """

    static let notifier = """
        #!/bin/sh
        # A notification channel: the notification arrives as JSON on stdin.
        cat >> notifications.log
        echo >> notifications.log

        """
}
