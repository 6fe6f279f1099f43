/// Everything `switchboard` reads: the workflow files and the MESSAGING.md-format rule files they use.
public struct Workspace: Sendable {
    public var workflows: [Workflow] = []
    public var messaging: [MessagingDocument] = []

    /// Every `secrets.NAME` the workflows read, where it is written.
    public var secretReferences: [Located<String>] { workflows.flatMap(\.secretReferences) }

    public init(workflows: [Workflow] = [], messaging: [MessagingDocument] = []) {
        self.workflows = workflows
        self.messaging = messaging
    }

    public var accounts: [Account] { workflows.flatMap(\.accounts) }
    public var channels: [Channel] { workflows.flatMap(\.channels) }
    public var handlers: [Handler] { workflows.flatMap(\.handlers) }
    public var sources: [Source] { workflows.flatMap(\.sources) }
    public var schedules: [Schedule] { workflows.flatMap(\.schedules) }

    /// Rules in the order they are matched: MESSAGING.md files first, in the order they were read, then
    /// inline rules in workflow order. The first matching rule applies.
    public var rules: [Rule] { messaging.flatMap(\.rules) + workflows.flatMap(\.rules) }

    public var responder: Responder? { workflows.lazy.compactMap(\.responder).first }
    public var escalation: Escalation? { workflows.lazy.compactMap(\.escalation).first }
    public var heartbeat: Located<Template>? { workflows.lazy.compactMap(\.heartbeat).first }
}

/// The result of loading and checking a workspace.
public struct ValidationReport: Sendable {
    public var workspace: Workspace
    /// Sorted by file, line and column.
    public var diagnostics: [Diagnostic]
    /// How many files were read.
    public var fileCount: Int

    public func count(_ severity: Diagnostic.Severity) -> Int {
        diagnostics.count { $0.severity == severity }
    }
}
