import Foundation

/// Builds a ``Workflow`` from a YAML node tree, reporting every problem it meets.
struct WorkflowDecoder {
    static let topLevelKeys = [
        "version", "name", "accounts", "rules", "responder", "sources", "channels", "escalation", "handlers",
        "schedules", "heartbeat",
    ]

    var reader: NodeReader
    var workflow: Workflow

    init(file: String) {
        reader = NodeReader(file: file)
        workflow = Workflow(file: file)
    }

    /// Only `secrets` and `env` outside handlers.
    static let configurationScope = ExpressionChecker.Scope(handlerContexts: false)

    mutating func decode(_ root: YAMLNode) {
        guard let fields = reader.fields(root, "a workflow file", keys: Self.topLevelKeys, extensions: true) else {
            return
        }
        if let node = fields["version"] {
            if let version = reader.int(node, "version", in: 1...Int.max) {
                workflow.version = version
                if version.value != Workflow.supportedVersion {
                    reader.error(
                        .unsupportedVersion, at: node.location,
                        "workflow format version \(version.value) is not supported by this switchboard",
                        hint: "this switchboard reads version \(Workflow.supportedVersion)")
                }
            }
        } else {
            reader.error(
                .missingKey, at: root.location, "a workflow file needs 'version'",
                hint: "add 'version: \(Workflow.supportedVersion)' at the top")
        }
        if let node = fields["name"] { workflow.name = reader.string(node, "name") }
        if let node = fields["accounts"] { decodeAccounts(node) }
        if let node = fields["rules"] { decodeRules(node) }
        if let node = fields["responder"] { workflow.responder = decodeResponder(node) }
        if let node = fields["sources"] {
            for (index, item) in reader.sequence(node, "sources").enumerated() {
                if let source = decodeSource(item, "sources[\(index)]") { workflow.sources.append(source) }
            }
        }
        if let node = fields["channels"] { decodeChannels(node) }
        if let node = fields["escalation"] { workflow.escalation = decodeEscalation(node) }
        if let node = fields["handlers"] { decodeHandlers(node) }
        if let node = fields["schedules"] { decodeSchedules(node) }
        if let node = fields["heartbeat"] {
            workflow.heartbeat = reader.template(node, "heartbeat", scope: Self.configurationScope)
            if let url = workflow.heartbeat, url.value.isLiteral { _ = serverURL(node, insecure: false) }
        }
    }

    // MARK: - Accounts

    static let accountKeys: [Network: [String]] = [
        .nexus: ["protocol", "server", "agent-id", "ttl", "insecure"],
        .transmissionbot: [
            "protocol", "state", "server", "driver", "executable", "passphrase", "insecure", "accept-contacts-from",
        ],
        .masumi: ["protocol", "profile", "agent", "executable", "timeout"],
    ]

    mutating func decodeAccounts(_ node: YAMLNode) {
        guard let accounts = reader.fields(node, "accounts", keys: nil) else { return }
        for (name, value) in accounts.entries where reader.name(name, "account") {
            let what = "account '\(name.value)'"
            guard case .mapping(let pairs) = value.kind else {
                reader.typeMismatch(value, expected: "a mapping", what)
                continue
            }
            guard let protocolNode = pairs.first(where: { $0.key.scalar?.text == "protocol" })?.value else {
                reader.error(
                    .missingKey, at: value.location, "\(what) needs 'protocol'",
                    hint: "protocol is one of \(Network.allCases.map(\.rawValue).joined(separator: ", "))")
                continue
            }
            guard let network = reader.choice(protocolNode, "protocol", as: Network.self),
                let fields = reader.fields(value, what, keys: Self.accountKeys[network])
            else { continue }
            let settings: Account.Settings?
            switch network {
            case .nexus: settings = decodeNexus(fields, what)
            case .transmissionbot: settings = decodeTransmissionBot(fields, what)
            case .masumi: settings = decodeMasumi(fields, what)
            }
            if let settings {
                workflow.accounts.append(Account(name: name.value, location: name.location, settings: settings))
            }
        }
    }

    mutating func decodeNexus(_ fields: NodeReader.Fields, _ what: String) -> Account.Settings? {
        let insecure = fields["insecure"].flatMap { reader.bool($0, "insecure")?.value } ?? false
        let server = fields["server"].flatMap { serverURL($0, insecure: insecure) }
        var ttl = Account.Nexus.defaultTTL
        if let node = fields["ttl"], let value = reader.interval(node, "ttl", minimum: 60) {
            if value.value.seconds > 86_400 {
                reader.error(.invalidValue, at: node.location, "ttl must be at most 24h (the server's MAX_TTL_SECONDS)")
            }
            ttl = value.value
        }
        guard let agentNode = fields["agent-id"] else {
            reader.error(
                .missingKey, at: fields.location, "\(what) needs 'agent-id'", hint: "the id this agent uses in sessions"
            )
            return nil
        }
        guard let agentID = reader.string(agentNode, "agent-id") else { return nil }
        if agentID.value.count > 128
            || !agentID.value.unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
            })
        {
            reader.error(
                .invalidValue, at: agentID.location, "'\(agentID.value)' is not a valid Nexus agent id",
                hint: "letters, digits, '-' and '_', at most 128 (nexus.md §1)")
        }
        if agentID.value == "system" {
            reader.error(.invalidValue, at: agentID.location, "'system' is the id the server uses for its own messages")
        }
        return .nexus(Account.Nexus(server: server, agentID: agentID, ttl: ttl, insecure: insecure))
    }

    mutating func decodeTransmissionBot(_ fields: NodeReader.Fields, _ what: String) -> Account.Settings? {
        let insecure = fields["insecure"].flatMap { reader.bool($0, "insecure")?.value } ?? false
        let server = fields["server"].flatMap { serverURL($0, insecure: insecure) }
        let driver =
            fields["driver"].flatMap { reader.choice($0, "driver", as: Account.TransmissionBot.Driver.self) } ?? .native
        let executable = fields["executable"].flatMap { reader.string($0, "executable") }
        let passphrase = fields["passphrase"].flatMap {
            reader.template($0, "passphrase", scope: Self.configurationScope)
        }
        if let passphrase, passphrase.value.isLiteral {
            reader.error(
                .invalidValue, at: passphrase.location, "a passphrase must not be written into the workflow",
                hint: "refer to a secret: passphrase: ${{ secrets.TB_PASSPHRASE }}")
        }
        guard let stateNode = fields["state"] else {
            reader.error(
                .missingKey, at: fields.location, "\(what) needs 'state'", hint: "the path of the agent's state file")
            return nil
        }
        guard let state = reader.string(stateNode, "state") else { return nil }
        let acceptFrom = fields["accept-contacts-from"].map { reader.strings($0, "accept-contacts-from") } ?? []
        return .transmissionBot(
            Account.TransmissionBot(
                state: state, server: server, driver: driver, executable: executable, passphrase: passphrase,
                insecure: insecure, acceptContactsFrom: acceptFrom))
    }

    mutating func decodeMasumi(_ fields: NodeReader.Fields, _ what: String) -> Account.Settings? {
        let profile = fields["profile"].flatMap { reader.string($0, "profile") }
        if let profile,
            !profile.value.unicodeScalars.allSatisfy({
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
            })
        {
            reader.error(
                .invalidValue, at: profile.location, "'\(profile.value)' is not a valid masumi profile name",
                hint: "letters, digits, '.', '_' and '-' (masumi.md §2.1)")
        }
        let executable = fields["executable"].flatMap { reader.string($0, "executable") }
        let timeout = fields["timeout"].flatMap { reader.interval($0, "timeout")?.value } ?? .minutes(1)
        guard let agentNode = fields["agent"] else {
            reader.error(
                .missingKey, at: fields.location, "\(what) needs 'agent'",
                hint: "the agent slug; the CLI's own default agent is never assumed (masumi.md §7.8)")
            return nil
        }
        guard let agent = reader.string(agentNode, "agent") else { return nil }
        return .masumi(Account.Masumi(profile: profile, agent: agent, executable: executable, timeout: timeout))
    }

    /// An http(s) URL; plain http only to loopback unless the account says `insecure: true`.
    mutating func serverURL(_ node: YAMLNode, insecure: Bool) -> Located<String>? {
        guard let url = reader.string(node, "server") else { return nil }
        guard let host = Self.host(of: url.value) else {
            reader.error(
                .invalidValue, at: node.location, "'\(url.value)' is not an http(s) URL",
                hint: "for example https://messaging.md")
            return nil
        }
        if url.value.lowercased().hasPrefix("http://"), !Self.isLoopback(host), !insecure {
            reader.error(
                .insecureServer, at: node.location, "plain http to \(host) would send credentials unencrypted",
                hint: "use https, or set 'insecure: true' on the account if this is really wanted")
        }
        return url
    }

    static func host(of url: String) -> String? {
        let lowered = url.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lowered.hasPrefix($0) }) else { return nil }
        let rest = lowered.dropFirst(scheme.count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }.split(separator: "@").last ?? ""
        let host: Substring
        if authority.hasPrefix("[") {
            host = authority.dropFirst().prefix { $0 != "]" }
        } else {
            host = authority.prefix { $0 != ":" }
        }
        return host.isEmpty ? nil : String(host)
    }

    /// `localhost`, `::1` or a dotted-quad address in 127.0.0.0/8 (not `127.example.com`).
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127"
            && octets.allSatisfy { $0.count <= 3 && UInt8($0) != nil }
    }

    // MARK: - Rules

    static let ruleKeys = [
        "name", "session", "purpose", "on-message", "auto-reply", "notify", "forward-to", "escalate-to", "strikes",
        "account",
    ]

    mutating func decodeRules(_ node: YAMLNode) {
        let items: [YAMLNode]
        if case .sequence(let list) = node.kind { items = list } else { items = [node] }
        for (index, item) in items.enumerated() {
            switch item.kind {
            case .scalar:
                if let path = reader.string(item, "a rules file") { workflow.ruleFiles.append(path) }
            case .mapping:
                if let rule = decodeRule(item, index: index) { workflow.rules.append(rule) }
            case .sequence:
                reader.typeMismatch(item, expected: "a MESSAGING.md path or a rule", "each item of rules")
            }
        }
    }

    mutating func decodeRule(_ node: YAMLNode, index: Int) -> Rule? {
        guard let fields = reader.fields(node, "rule", keys: Self.ruleKeys, required: ["session"]) else { return nil }
        let label = fields["name"].flatMap { reader.string($0, "name")?.value } ?? "rules[\(index)]"
        var rule = Rule(label: label, location: node.location, origin: .inline)
        rule.session = fields["session"].flatMap { reader.string($0, "session") }
        rule.purpose = fields["purpose"].flatMap { reader.string($0, "purpose") }
        rule.onMessage = fields["on-message"].flatMap { reader.string($0, "on-message") }
        rule.autoReply = fields["auto-reply"].flatMap { reader.bool($0, "auto-reply") }
        rule.notify = fields["notify"].map { reader.strings($0, "notify") } ?? []
        rule.forwardTo = fields["forward-to"].map { reader.strings($0, "forward-to") } ?? []
        rule.escalateTo = fields["escalate-to"].flatMap { reader.string($0, "escalate-to") }
        rule.strikes = fields["strikes"].flatMap { reader.int($0, "strikes", in: 1...10) }
        rule.account = fields["account"].flatMap { reader.string($0, "account") }
        return rule
    }

    // MARK: - Responder, sources, channels, escalation

    mutating func decodeResponder(_ node: YAMLNode) -> Responder? {
        var argvNode = node
        var timeout = Responder.defaultTimeout
        var env: [String: Located<Template>] = [:]
        if case .mapping = node.kind {
            guard let fields = reader.fields(node, "responder", keys: ["run", "timeout", "env"], required: ["run"]),
                let run = fields["run"]
            else { return nil }
            argvNode = run
            if let value = fields["timeout"], let interval = reader.interval(value, "timeout") {
                timeout = interval.value
            }
            if let value = fields["env"] { env = decodeEnvironment(value) }
        }
        let argv = reader.argv(argvNode, "responder run")
        guard !argv.isEmpty else { return nil }
        return Responder(location: node.location, argv: argv, timeout: timeout, env: env)
    }

    mutating func decodeEnvironment(_ node: YAMLNode) -> [String: Located<Template>] {
        guard let fields = reader.fields(node, "env", keys: nil) else { return [:] }
        var env: [String: Located<Template>] = [:]
        for (key, value) in fields.entries {
            if let template = reader.template(value, "env \(key.value)", scope: Self.configurationScope) {
                env[key.value] = template
            }
        }
        return env
    }

    mutating func decodeTiming(_ fields: NodeReader.Fields, _ what: String) -> Timing? {
        let every = fields["every"].flatMap { reader.interval($0, "every") }
        let cron = fields["cron"].flatMap { node -> Located<CronExpression>? in
            guard let text = reader.string(node, "cron") else { return nil }
            do {
                return Located(try CronExpression(parsing: text.value), at: node.location)
            } catch let failure as CronExpression.ParseError {
                reader.error(
                    .invalidCron, at: node.location(ofScalarOffset: failure.offset), failure.message, hint: failure.hint
                )
                return nil
            } catch {
                return nil
            }
        }
        var timezone: Located<String>?
        if let node = fields["timezone"], let zone = reader.string(node, "timezone") {
            if TimeZone(identifier: zone.value) == nil {
                reader.error(
                    .invalidTimezone, at: node.location, "unknown time zone '\(zone.value)'",
                    hint: Suggestion.hint(for: zone.value, in: TimeZone.knownTimeZoneIdentifiers)
                        ?? "use an IANA name like Europe/Berlin or UTC")
            } else {
                timezone = zone
            }
            if fields.has("every") {
                reader.warning(
                    .conflictingKeys, at: node.location, "timezone applies to cron schedules; 'every' ignores it")
            }
        }
        let jitter = fields["jitter"].flatMap { reader.interval($0, "jitter", minimum: 0) }
        let catchUp = fields["catch-up"].flatMap { reader.choice($0, "catch-up", as: Timing.CatchUp.self) } ?? .last
        switch (fields.has("every"), fields.has("cron")) {
        case (true, true):
            reader.error(
                .conflictingKeys, at: fields.keyLocation("cron") ?? fields.location,
                "\(what) has both 'every' and 'cron'",
                hint: "keep one of them")
            return nil
        case (false, false):
            reader.error(
                .missingKey, at: fields.location, "\(what) needs 'every' or 'cron'", hint: "for example every: 5m")
            return nil
        default: break
        }
        if let every { return Timing(rhythm: .every(every), jitter: jitter, catchUp: catchUp) }
        if let cron { return Timing(rhythm: .cron(cron, timezone: timezone), jitter: jitter, catchUp: catchUp) }
        return nil
    }

    mutating func decodeSource(_ node: YAMLNode, _ what: String) -> Source? {
        guard
            let fields = reader.fields(
                node, "a source", keys: ["from", "every", "cron", "timezone", "jitter", "catch-up"], required: ["from"]),
            let from = fields["from"].flatMap({ reader.string($0, "from") }),
            let timing = decodeTiming(fields, "source \(from.value)")
        else { return nil }
        return Source(location: node.location, from: from, timing: timing)
    }

    mutating func decodeChannels(_ node: YAMLNode) {
        guard let channels = reader.fields(node, "channels", keys: nil) else { return }
        for (name, value) in channels.entries where reader.name(name, "channel") {
            let what = "channel '\(name.value)'"
            guard let fields = reader.fields(value, what, keys: ["webhook", "headers", "command", "to"]) else {
                continue
            }
            let kinds = ["webhook", "command", "to"].filter { fields.has($0) }
            guard kinds.count == 1 else {
                reader.error(
                    kinds.isEmpty ? .missingKey : .conflictingKeys, at: value.location,
                    "\(what) needs exactly one of webhook, command or to"
                        + (kinds.isEmpty ? "" : "; found \(kinds.joined(separator: " and "))"))
                continue
            }
            if fields.has("headers"), kinds[0] != "webhook" {
                reader.error(.conflictingKeys, at: fields.keyLocation("headers")!, "headers go with a webhook channel")
            }
            let kind: Channel.Kind?
            switch kinds[0] {
            case "webhook":
                let url = reader.template(fields["webhook"]!, "webhook", scope: Self.configurationScope)
                if let url, url.value.isLiteral {
                    _ = serverURL(fields["webhook"]!, insecure: false)
                }
                var headers: [String: Located<Template>] = [:]
                if let node = fields["headers"], let headerFields = reader.fields(node, "headers", keys: nil) {
                    for (header, value) in headerFields.entries {
                        if let template = reader.template(
                            value, "header \(header.value)", scope: Self.configurationScope)
                        {
                            headers[header.value] = template
                        }
                    }
                }
                kind = url.map { .webhook(url: $0, headers: headers) }
            case "command":
                let argv = reader.argv(fields["command"]!, "command")
                kind = argv.isEmpty ? nil : .command(argv: argv)
            default:
                kind = reader.string(fields["to"]!, "to").map { .to($0) }
            }
            if let kind { workflow.channels.append(Channel(name: name.value, location: name.location, kind: kind)) }
        }
    }

    mutating func decodeEscalation(_ node: YAMLNode) -> Escalation? {
        guard let fields = reader.fields(node, "escalation", keys: ["to", "after"], required: ["to"]),
            let to = fields["to"].flatMap({ reader.string($0, "escalation to") })
        else { return nil }
        let after = fields["after"].flatMap { reader.int($0, "after", in: 1...10) }
        return Escalation(location: node.location, to: to, after: after)
    }

    // MARK: - Handlers and schedules

    mutating func decodeHandlers(_ node: YAMLNode) {
        guard let handlers = reader.fields(node, "handlers", keys: nil) else { return }
        for (name, value) in handlers.entries where reader.name(name, "handler") {
            let items = reader.sequence(value, "handler '\(name.value)'")
            if items.isEmpty, !value.isNull, case .sequence = value.kind {
                reader.warning(.invalidValue, at: value.location, "handler '\(name.value)' has no steps")
            }
            var steps = StepDecoder(handler: name.value, items: items)
            let decoded = steps.decode(with: &reader)
            workflow.handlers.append(Handler(name: name.value, location: name.location, steps: decoded))
        }
    }

    mutating func decodeSchedules(_ node: YAMLNode) {
        guard let schedules = reader.fields(node, "schedules", keys: nil) else { return }
        for (name, value) in schedules.entries where reader.name(name, "schedule") {
            let what = "schedule '\(name.value)'"
            guard
                let fields = reader.fields(
                    value, what, keys: ["every", "cron", "timezone", "jitter", "catch-up", "handler"],
                    required: ["handler"]),
                let handler = fields["handler"].flatMap({ reader.string($0, "handler") }),
                let timing = decodeTiming(fields, what)
            else { continue }
            workflow.schedules.append(
                Schedule(name: name.value, location: name.location, timing: timing, handler: handler))
        }
    }
}
