public import Foundation
public import Workflow

/// A validated workspace resolved for running: every rule and source with its target, labels replaced by
/// session ids, names indexed.
public struct EngineConfiguration: Sendable {
    public struct ResolvedRule: Sendable {
        public var rule: Rule
        public var target: Target
    }

    public struct ResolvedSource: Sendable {
        public var source: Source
        public var target: Target
        /// `source:<from>` in the journal's schedules and checkpoints.
        public var jobKey: String { "source:\(source.from.value)" }
        public var checkpointKey: String { target.description }
    }

    public var workspace: Workspace
    /// The workspace directory (key store, journal, relative commands).
    public var directory: String
    public var rules: [ResolvedRule]
    public var sources: [ResolvedSource]
    public var channels: [String: Channel]
    public var handlers: [String: Handler]
    public var defaultNotify: [String]
    public var workflowName: String

    public var responder: Responder? { workspace.responder }
    public var escalation: Escalation? { workspace.escalation }

    public init(workspace: Workspace, directory: String) {
        self.workspace = workspace
        self.directory = directory
        channels = Dictionary(workspace.channels.map { ($0.name, $0) }) { first, _ in first }
        handlers = Dictionary(workspace.handlers.map { ($0.name, $0) }) { first, _ in first }
        defaultNotify = workspace.messaging.flatMap { $0.defaultBehavior?.notify.map(\.value) ?? [] }
        workflowName = workspace.workflows.first?.name?.value ?? "workspace"
        // A bare session id belongs to the rule's account, or to the only nexus account there is.
        let nexus = workspace.accounts.filter { $0.network == .nexus }
        let soleNexus = nexus.count == 1 ? nexus[0].name : nil
        var labels: [String: Target] = [:]
        var rules: [ResolvedRule] = []
        for rule in workspace.rules {
            guard let session = rule.session?.value else { continue }
            var target: Target?
            if session.contains(":") {
                target = try? Target.parse(session).get()
            } else {
                target = (rule.account?.value ?? soleNexus).map { Target(account: $0, kind: .session, id: session) }
            }
            guard let target else { continue }
            if labels[rule.label] == nil, !target.isWildcard { labels[rule.label] = target }
            rules.append(ResolvedRule(rule: rule, target: target))
        }
        self.labels = labels
        self.rules = rules.map { ResolvedRule(rule: $0.rule, target: Self.resolve($0.target, labels)) }
        sources = workspace.sources.compactMap { source in
            (try? Target.parse(source.from.value).get()).map {
                ResolvedSource(source: source, target: Self.resolve($0, labels))
            }
        }
    }

    let labels: [String: Target]

    /// `nx:session/LABEL` → the labelled rule's target.
    private static func resolve(_ target: Target, _ labels: [String: Target]) -> Target {
        if target.kind == .session, let id = target.id, let labelled = labels[id] { return labelled }
        return target
    }

    /// A target string with labels resolved (`nx:session/release-room` → `nx:session/4670…`); a bare rule
    /// label (`release-room`) names its conversation too.
    public func target(_ text: String) -> Target? {
        if !text.contains(":") { return labels[text] }
        return (try? Target.parse(text).get()).map { Self.resolve($0, labels) }
    }

    /// The first rule whose session matches the conversation (MESSAGING.md rules first, then inline).
    public func rule(for conversation: String) -> ResolvedRule? {
        guard let target = try? Target.parse(conversation).get() else { return nil }
        // By index: `first(where:)` would copy every rule it looks at (a message checks them all).
        guard let index = rules.indices.first(where: { rules[$0].target.covers(target) }) else { return nil }
        return rules[index]
    }

    /// When a job with this timing is due next, after `now`.
    public static func nextDue(_ timing: Timing, after now: Date) -> Date? {
        let jitter = timing.jitter.map { TimeInterval.random(in: 0...TimeInterval($0.value.seconds)) } ?? 0
        switch timing.rhythm {
        case .every(let every):
            return now.addingTimeInterval(TimeInterval(every.value.seconds) + jitter)
        case .cron(let cron, let zone):
            return cron.value.nextFire(after: now, in: Timing.timeZone(zone)).map { $0.addingTimeInterval(jitter) }
        }
    }

    /// The interval between polls, for renewal margins (a cron's longest gap).
    public static func interval(_ timing: Timing, now: Date) -> TimeInterval {
        switch timing.rhythm {
        case .every(let every): return TimeInterval(every.value.seconds)
        case .cron(let cron, let zone):
            let gap = cron.value.longestGap(from: Int(now.timeIntervalSince1970), in: Timing.timeZone(zone))
            return TimeInterval(gap ?? 3600)
        }
    }
}
