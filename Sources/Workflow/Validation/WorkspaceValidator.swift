import Foundation

/// The checks that need the whole workspace: references between files, what rules and sources cover, and
/// mistakes no single file shows (forward loops, shadowed rules, polls slower than a session's TTL).
struct WorkspaceValidator {
    let workspace: Workspace
    private var diagnostics: [Diagnostic] = []
    private var accounts: [String: Account] = [:]
    private var channels: [String: Channel] = [:]
    private var handlers: [String: Handler] = [:]
    /// MESSAGING.md labels (`### release-room`) and the session each one names.
    private var labels: [String: Target] = [:]
    /// Whether there are workflow files to check references against (a lone MESSAGING.md has none).
    private var hasConfiguration: Bool

    init(workspace: Workspace) {
        self.workspace = workspace
        hasConfiguration = !workspace.workflows.isEmpty
    }

    mutating func validate() -> [Diagnostic] {
        indexDefinitions()
        guard hasConfiguration else { return diagnostics }
        let resolvedRules = workspace.rules.map { ($0, resolveRuleSession($0)) }
        for (rule, target) in resolvedRules where target != nil && !target!.isWildcard {
            labels[rule.label] = labels[rule.label] ?? target
        }
        for (rule, target) in resolvedRules { checkRule(rule, target: target) }
        checkDefaultBehavior()
        checkSources()
        checkChannelsAndEscalation()
        checkHandlers()
        checkSchedules()
        checkShadowing(resolvedRules)
        checkForwardLoops(resolvedRules)
        checkUnpolledSessions(resolvedRules)
        return diagnostics
    }

    private mutating func add(
        _ severity: Diagnostic.Severity, _ code: Diagnostic.Code, at location: SourceLocation, _ message: String,
        hint: String? = nil
    ) {
        diagnostics.append(Diagnostic(severity, code, at: location, message, hint: hint))
    }

    // MARK: - Definitions

    private mutating func indexDefinitions() {
        func index<Item>(
            _ items: [Item], _ kind: String, name: (Item) -> String, location: (Item) -> SourceLocation
        )
            -> [String: Item]
        {
            var result: [String: Item] = [:]
            for item in items {
                if let first = result[name(item)] {
                    let firstLocation = location(first)
                    add(
                        .error, .duplicateDefinition, at: location(item),
                        "\(kind) '\(name(item))' is already defined at \(firstLocation)",
                        hint: "names are shared by every workflow file in the workspace")
                } else {
                    result[name(item)] = item
                }
            }
            return result
        }
        accounts = index(workspace.accounts, "account", name: \.name, location: \.location)
        channels = index(workspace.channels, "channel", name: \.name, location: \.location)
        handlers = index(workspace.handlers, "handler", name: \.name, location: \.location)
        _ = index(workspace.schedules, "schedule", name: \.name, location: \.location)
        for (kind, locations) in [
            ("responder", workspace.workflows.compactMap { $0.responder?.location }),
            ("escalation", workspace.workflows.compactMap { $0.escalation?.location }),
            ("heartbeat", workspace.workflows.compactMap { $0.heartbeat?.location }),
        ] where locations.count > 1 {
            for location in locations.dropFirst() {
                add(
                    .error, .duplicateDefinition, at: location, "\(kind) is already defined at \(locations[0])",
                    hint: "a workspace has one \(kind); per-rule settings override it")
            }
        }
    }

    // MARK: - Targets

    private enum Use {
        /// A destination for send, forward or a channel.
        case send
        /// Something a source polls.
        case poll
        /// The conversation a rule matches (wildcards allowed).
        case rule

        func kinds(_ network: Network) -> [Target.Kind] {
            switch self {
            case .send: network.sendKinds
            case .poll: network.pollKinds
            case .rule: network.sendKinds
            }
        }
    }

    /// Parses and checks a target against the accounts; nil (with a finding) when it does not hold.
    private mutating func resolve(_ text: Located<String>, as use: Use, what: String) -> Target? {
        let target: Target
        switch Target.parse(text.value) {
        case .failure(let error):
            add(.error, .invalidTarget, at: text.location, "\(what): \(error.description)", hint: error.hint)
            return nil
        case .success(let parsed): target = parsed
        }
        guard let account = accounts[target.account] else {
            add(
                .error, .unknownAccount, at: text.location, "\(what): no account named '\(target.account)'",
                hint: Suggestion.hint(for: target.account, in: accounts.keys)
                    ?? "accounts: \(accounts.keys.sorted().joined(separator: ", "))")
            return nil
        }
        let kinds = use.kinds(account.network)
        guard kinds.contains(target.kind) else {
            let verb = use == .poll ? "poll" : "send to"
            add(
                .error, .targetKindMismatch, at: text.location,
                "\(what): \(account.network.rawValue) account '\(account.name)' cannot \(verb) a \(target.kind.rawValue)",
                hint: "\(account.network.rawValue) \(use == .poll ? "sources" : "targets") are: "
                    + kinds.map { $0 == .inbox ? "\(account.name):inbox" : "\(account.name):\($0.rawValue)/ID" }.joined(
                        separator: ", "))
            return nil
        }
        if target.isWildcard, use != .rule {
            add(.error, .invalidTarget, at: text.location, "\(what): '*' matches conversations; it is not an address")
            return nil
        }
        // A Nexus session is a 48-hex id or a MESSAGING.md label; anything else is a typo.
        if target.kind == .session, let id = target.id, !target.isWildcard, !Self.looksLikeSessionID(id) {
            guard let labelled = labels[id] else {
                add(
                    .error, .unknownSession, at: text.location,
                    "\(what): '\(id)' is neither a session id nor a session label in MESSAGING.md",
                    hint: Suggestion.hint(for: id, in: labels.keys)
                        ?? "label a session with a '### \(id)' entry in MESSAGING.md, or use the session id")
                return nil
            }
            return labelled
        }
        return target
    }

    /// Session ids are opaque, but the live server's are 48 hex characters (nexus.md §1); accept hex or UUIDs.
    static func looksLikeSessionID(_ id: String) -> Bool {
        id.count >= 16
            && id.unicodeScalars.allSatisfy {
                ("0"..."9").contains($0) || ("a"..."f").contains($0) || ("A"..."F").contains($0) || $0 == "-"
            }
    }

    // MARK: - Rules

    /// The conversation a rule matches. A bare id (seed 001's `- **Session:** <id>`) belongs to the rule's
    /// `Account`, or to the only Nexus account.
    private mutating func resolveRuleSession(_ rule: Rule) -> Target? {
        guard let session = rule.session else { return nil }
        if session.value.contains(":") {
            let target = resolve(session, as: .rule, what: "Session of '\(rule.label)'")
            if let target, let account = rule.account, account.value != target.account {
                add(
                    .error, .conflictingKeys, at: account.location,
                    "Account '\(account.value)' disagrees with the session's account '\(target.account)'")
            }
            return target
        }
        let accountName: String
        if let account = rule.account {
            accountName = account.value
        } else {
            let nexus = accounts.values.filter { $0.network == .nexus }.map(\.name).sorted()
            guard nexus.count == 1 else {
                add(
                    .error, .invalidTarget, at: session.location,
                    "Session '\(session.value)' does not say which account it belongs to",
                    hint: nexus.isEmpty
                        ? "write the full target, like nx:session/\(session.value)"
                        : "write the full target (\(nexus.map { "\($0):session/\(session.value)" }.joined(separator: " or "))) or add an Account bullet"
                )
                return nil
            }
            accountName = nexus[0]
        }
        guard let account = accounts[accountName] else {
            add(
                .error, .unknownAccount, at: rule.account?.location ?? session.location,
                "no account named '\(accountName)'",
                hint: Suggestion.hint(for: accountName, in: accounts.keys))
            return nil
        }
        guard let kind = account.network.sendKinds.first, account.network.sendKinds.count == 1 else {
            add(
                .error, .invalidTarget, at: session.location,
                "on \(account.network.rawValue), say what '\(session.value)' is: \(account.network.sendKinds.map { "\(accountName):\($0.rawValue)/\(session.value)" }.joined(separator: ", "))"
            )
            return nil
        }
        return Target(account: accountName, kind: kind, id: session.value)
    }

    private mutating func checkRule(_ rule: Rule, target: Target?) {
        let what = "rule '\(rule.label)'"
        if let account = rule.account, accounts[account.value] == nil, rule.session?.value.contains(":") ?? false {
            add(
                .error, .unknownAccount, at: account.location, "no account named '\(account.value)'",
                hint: Suggestion.hint(for: account.value, in: accounts.keys))
        }
        for channel in rule.notify { checkChannel(channel, what: "Notify of \(what)") }
        if let channel = rule.escalateTo { checkChannel(channel, what: "Escalate to of \(what)") }
        for forward in rule.forwardTo { _ = resolve(forward, as: .send, what: "Forward to of \(what)") }
        let handler = rule.onMessage.flatMap { handlers[$0.value] }
        if let onMessage = rule.onMessage, handler == nil {
            if Target.isName(onMessage.value), !onMessage.value.contains(" "),
                let suggestion = Suggestion.closest(to: onMessage.value, in: handlers.keys)
            {
                add(
                    .error, .unknownHandler, at: onMessage.location, "no handler named '\(onMessage.value)'",
                    hint: "did you mean '\(suggestion)'?")
            } else {
                add(
                    .note, .responderInstructions, at: onMessage.location,
                    "'On message' names no handler; it is passed to the responder as the rule's instructions",
                    hint: handlers.isEmpty ? nil : "handlers: \(handlers.keys.sorted().joined(separator: ", "))")
                if workspace.responder == nil {
                    add(
                        .warning, .missingResponder, at: onMessage.location,
                        "instructions for a responder, but no responder is configured",
                        hint: "add 'responder: { run: [./agents/reply.sh] }' to a workflow, or name a handler")
                }
            }
        }
        if rule.autoReply?.value == true, handler == nil, workspace.responder == nil {
            add(
                .error, .missingResponder, at: rule.autoReply!.location,
                "\(what) auto-replies but no responder is configured",
                hint: "add 'responder: { run: [./agents/reply.sh] }' to a workflow, or set On message to a handler")
        }
        if rule.escalateTo == nil, workspace.escalation == nil, target != nil {
            add(
                .warning, .missingEscalation, at: rule.location,
                "\(what) has no escalation target: after its last strike an intent is blocked and nobody is told",
                hint: "add 'escalation: { to: CHANNEL }' to a workflow, or an 'Escalate to' bullet")
        }
    }

    private mutating func checkChannel(_ name: Located<String>, what: String) {
        guard channels[name.value] == nil else { return }
        add(
            .error, .unknownChannel, at: name.location, "\(what): no channel named '\(name.value)'",
            hint: Suggestion.hint(for: name.value, in: channels.keys)
                ?? (channels.isEmpty
                    ? "define it under 'channels:' in a workflow"
                    : "channels: \(channels.keys.sorted().joined(separator: ", "))"))
    }

    private mutating func checkDefaultBehavior() {
        for document in workspace.messaging {
            for channel in document.defaultBehavior?.notify ?? [] { checkChannel(channel, what: "Default Behavior") }
        }
    }

    // MARK: - Sources, channels, handlers, schedules

    private mutating func checkSources() {
        let reference = 1_767_225_600  // 2026-01-01T00:00:00Z: a fixed start keeps findings reproducible
        for source in workspace.sources {
            guard let target = resolve(source.from, as: .poll, what: "source"),
                case .nexus(let nexus)? = accounts[target.account]?.settings
            else {
                checkNeverFires(source.timing)
                continue
            }
            // The session expires when nobody touches it for a TTL; polling less often loses it (nexus.md §5).
            let ttl = nexus.ttl.seconds
            switch source.timing.rhythm {
            case .every(let every) where every.value.seconds >= ttl:
                add(
                    .error, .pollSlowerThanTTL, at: every.location,
                    "polling every \(every.value) lets session \(target.id ?? "") expire (its TTL is \(nexus.ttl))",
                    hint: "poll more often than the TTL, or raise the account's ttl")
            case .cron(let cron, let zone):
                let timeZone = Timing.timeZone(zone)
                guard let gap = cron.value.longestGap(from: reference, in: timeZone) else {
                    checkNeverFires(source.timing)
                    continue
                }
                if gap >= ttl {
                    add(
                        .error, .pollSlowerThanTTL, at: cron.location,
                        "this schedule leaves up to \(Interval(seconds: gap)) between polls; session \(target.id ?? "") expires after \(nexus.ttl)",
                        hint: "poll more often than the TTL, or raise the account's ttl")
                }
            default: break
            }
        }
    }

    private mutating func checkNeverFires(_ timing: Timing) {
        guard case .cron(let cron, let zone) = timing.rhythm else { return }
        let timeZone = Timing.timeZone(zone)
        if cron.value.nextFire(after: 1_767_225_600, in: timeZone) == nil {
            add(
                .error, .neverFires, at: cron.location, "cron schedule '\(cron.value)' never fires",
                hint: "check the day of month against the month (there is no 30 February)")
        }
    }

    private mutating func checkChannelsAndEscalation() {
        for channel in channels.values {
            if case .to(let target) = channel.kind { _ = resolve(target, as: .send, what: "channel '\(channel.name)'") }
        }
        if let escalation = workspace.escalation { checkChannel(escalation.to, what: "escalation") }
    }

    private mutating func checkHandlers() {
        for handler in workspace.handlers {
            for step in handler.steps {
                let what = "\(step.kind) in handler '\(handler.name)'"
                switch step.action {
                case .send(let to, _, _): checkDestination(to, what: what)
                case .forward(let to, _): checkDestination(to, what: what)
                case .notify(let channel, _): checkChannel(channel, what: what)
                case .escalate(let to, let text):
                    if let to {
                        checkChannel(to, what: what)
                    } else if workspace.escalation == nil {
                        add(
                            .error, .missingEscalation, at: text.location, "\(what) has nowhere to go",
                            hint: "add 'escalation: { to: CHANNEL }' to a workflow, or 'to:' on the step")
                    }
                case .wait(let replyFrom, _, _):
                    if let replyFrom { _ = resolve(replyFrom, as: .send, what: "reply-from") }
                case .run, .reply, .set, .stop: break
                }
            }
        }
    }

    private mutating func checkDestination(_ text: Located<String>, what: String) {
        if text.value != "reply" { _ = resolve(text, as: .send, what: what) }
    }

    private mutating func checkSchedules() {
        for schedule in workspace.schedules {
            if handlers[schedule.handler.value] == nil {
                add(
                    .error, .unknownHandler, at: schedule.handler.location,
                    "no handler named '\(schedule.handler.value)'",
                    hint: Suggestion.hint(for: schedule.handler.value, in: handlers.keys))
            }
            checkNeverFires(schedule.timing)
        }
    }

    // MARK: - Across rules

    /// The first rule matching a conversation wins; a later rule for the same conversation, or one that an
    /// earlier wildcard covers, never applies. Indexed, so a large MESSAGING.md costs linear time.
    private mutating func checkShadowing(_ rules: [(Rule, Target?)]) {
        var exact: [Target: Rule] = [:]
        var wildcards: [Target: Rule] = [:]
        for (later, laterTarget) in rules {
            guard let laterTarget else { continue }
            let family = Target(account: laterTarget.account, kind: laterTarget.kind, id: "*")
            let earlier = laterTarget.isWildcard ? wildcards[family] : exact[laterTarget] ?? wildcards[family]
            guard let earlier else {
                if laterTarget.isWildcard { wildcards[family] = later } else { exact[laterTarget] = later }
                continue
            }
            if exact[laterTarget] != nil, earlier.autoReply?.value == true, later.autoReply?.value == true {
                add(
                    .error, .duplicateAutoReply, at: later.session?.location ?? later.location,
                    "rules '\(earlier.label)' (\(earlier.location)) and '\(later.label)' both auto-reply to \(laterTarget)",
                    hint: "keep one rule per conversation")
            } else {
                add(
                    .warning, .shadowedRule, at: later.session?.location ?? later.location,
                    "rule '\(later.label)' never applies: rule '\(earlier.label)' at \(earlier.location) matches \(laterTarget) first",
                    hint: "the first matching rule wins; remove one, or move the specific rule first")
            }
        }
    }

    /// A rule that forwards A to B and a rule that forwards B to A bounce every message forever. One depth-first
    /// walk over the forward graph finds each cycle through its back edge.
    private mutating func checkForwardLoops(_ rules: [(Rule, Target?)]) {
        var edges: [Target: [(to: Target, location: SourceLocation)]] = [:]
        var seenRules: Set<Target> = []
        for (rule, target) in rules {
            guard let target, !target.isWildcard, seenRules.insert(target).inserted else { continue }
            var destinations = rule.forwardTo
            if let handler = rule.onMessage.flatMap({ handlers[$0.value] }) {
                for step in handler.steps {
                    if case .forward(let to, _) = step.action { destinations.append(to) }
                }
            }
            for destination in destinations {
                guard case .success(var parsed) = Target.parse(destination.value) else { continue }
                if parsed.kind == .session, let id = parsed.id, let labelled = labels[id] { parsed = labelled }
                edges[target, default: []].append((parsed, destination.location))
            }
        }
        enum Mark { case onPath, done }
        var marks: [Target: Mark] = [:]
        for start in edges.keys.sorted(by: { $0.description < $1.description }) where marks[start] == nil {
            // An explicit stack of (node, index of its next edge) and the current path.
            var stack: [(node: Target, next: Int)] = [(start, 0)]
            var path: [Target] = [start]
            marks[start] = .onPath
            while let (node, next) = stack.last {
                let outgoing = edges[node] ?? []
                guard next < outgoing.count else {
                    marks[node] = .done
                    stack.removeLast()
                    path.removeLast()
                    continue
                }
                stack[stack.count - 1].next += 1
                let edge = outgoing[next]
                switch marks[edge.to] {
                case .onPath?:
                    let cycle = path[path.lastIndex(of: edge.to)!...] + [edge.to]
                    add(
                        .error, .forwardLoop, at: edge.location,
                        "forward loop: \(cycle.map(\.description).joined(separator: " → "))",
                        hint: "a message forwarded into a conversation that forwards it back bounces forever")
                case .done?: break
                case nil:
                    marks[edge.to] = .onPath
                    stack.append((edge.to, 0))
                    path.append(edge.to)
                }
            }
        }
    }

    /// A rule for a conversation nothing polls never sees a message.
    private mutating func checkUnpolledSessions(_ rules: [(Rule, Target?)]) {
        var polled: Set<Target> = []
        var polledFamilies: Set<Target> = []
        var polledInboxes: Set<String> = []
        for source in workspace.sources {
            guard case .success(var target) = Target.parse(source.from.value) else { continue }
            if target.kind == .session, let id = target.id, let labelled = labels[id] { target = labelled }
            if target.kind == .inbox { polledInboxes.insert(target.account) }
            polled.insert(target)
            polledFamilies.insert(Target(account: target.account, kind: target.kind, id: "*"))
        }
        for (rule, target) in rules {
            guard let target else { continue }
            // An inbox brings direct threads and agents' messages; sessions and channels are polled one by one.
            let covered =
                ((target.kind == .agent || target.kind == .thread) && polledInboxes.contains(target.account))
                || (target.isWildcard ? polledFamilies.contains(target) : polled.contains(target))
            if !covered {
                add(
                    .warning, .unpolledSession, at: rule.session?.location ?? rule.location,
                    "no source polls \(target), so rule '\(rule.label)' never sees a message",
                    hint:
                        "add '- { from: \(target.isWildcard ? "\(target.account):\(target.kind.rawValue)/ID" : target.description), every: 2m }' under sources:"
                )
            }
        }
    }
}
