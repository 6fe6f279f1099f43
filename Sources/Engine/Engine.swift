public import Foundation
public import Journal
internal import Logging
internal import Synchronization
internal import Transport
public import Workflow

/// What a tick did, for the exit code and the summary.
public struct TickReport: Sendable, Equatable, Encodable {
    public var leaseHeld = false
    public var sourcesPolled = 0
    public var messagesReceived = 0
    public var runs = 0
    public var sent = 0
    public var failures: [String] = []
    public var escalations = 0
    public var renewals = 0
    /// How long each poll took, in seconds (for the latency histogram).
    public var pollSeconds: [Double] = []

    public init() {}

    mutating func merge(_ other: TickReport) {
        sourcesPolled += other.sourcesPolled
        messagesReceived += other.messagesReceived
        runs += other.runs
        sent += other.sent
        failures += other.failures
        escalations += other.escalations
        renewals += other.renewals
        pollSeconds += other.pollSeconds
    }

    /// Nothing was due: no poll, no run, no renewal.
    public var nothingDue: Bool { sourcesPolled == 0 && runs == 0 && renewals == 0 && failures.isEmpty }
}

/// An effect as a dry run reports it: what kind, to where, saying what.
public struct EffectRecord: Sendable, Equatable, Codable {
    /// `reply`, `send`, `forward`, `notify`, `digest` or `escalation`.
    public var kind: String
    /// A network target, or `channel:NAME`.
    public var target: String
    public var text: String
    public var json: Value?
}

/// One tick of the scheduler (DESIGN.md §3): take the lease, poll what is due, journal the messages, run the
/// rules and handlers for each, act through the messengers, renew what expires, release the lease.
public final class Engine: @unchecked Sendable {
    public let configuration: EngineConfiguration
    public let journal: Journal
    let messengers: [String: any Messenger]
    let effects: any LocalEffects
    let observer: (@Sendable (EffectRecord) -> Void)?
    let now: @Sendable () -> Date
    let holder: String
    /// Values for `${{ secrets.NAME }}`: the sealed store's for a real run, placeholders for `plan` and `test`.
    let secrets: [String: String]
    /// `secrets` and the process environment: what an expression outside a handler reads (a channel's
    /// webhook, the heartbeat URL, an account's passphrase).
    public static func configurationContexts(secrets: [String: String]) -> [String: Value] {
        [
            "secrets": .object(secrets.mapValues { .string($0) }),
            "env": .object(ProcessInfo.processInfo.environment.mapValues { .string($0) }),
        ]
    }

    /// A template outside handlers, rendered with this engine's secrets and the environment.
    public func renderConfiguration(_ template: Template) throws(ExpressionEvaluator.Failure) -> String {
        try ExpressionEvaluator(contexts: configurationContexts).render(template)
    }
    /// `secrets` and `env`, the contexts every expression may read, built once.
    let configurationContexts: [String: Value]
    /// Where the engine says what it does (swift-log; the command line picks the format and level). Metadata
    /// keys: `workflow`, `run`, `step`, `intent`, `source`.
    static let logger = Logger(label: "switchboard.engine")
    /// ``logger`` with this workspace's `workflow` metadata, made once.
    let log: Logger
    /// Set by ``requestStop()``: the step in flight finishes and is journaled; nothing new starts.
    let stopRequested = Atomic<Bool>(false)

    /// Asks a tick under way to stop after the step in flight (a daemon's SIGTERM): each run stops there,
    /// journaled as `cancelled` with its steps so far, and its messages stay unhandled, so the next tick runs
    /// them again (what was sent is not sent twice). No new message, wait or schedule is started.
    public func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    /// Set when this tick finds its lease lost; cleared when the next tick starts.
    let leaseLost = Atomic<Bool>(false)

    var isStopping: Bool { stopRequested.load(ordering: .relaxed) || leaseLost.load(ordering: .relaxed) }

    /// For a child that waited for a slot: whether it may still start (no stop was asked meanwhile).
    var mayStartChild: @Sendable () -> Bool { { [self] in !self.isStopping } }

    /// False when no wait is open, so a message need not read the waits to see whether it resumes one.
    let waitsMayBeOpen = Atomic<Bool>(true)
    /// Set while an escalation is being delivered: its failure must not escalate again.
    @TaskLocal static var deliveringEscalation = false

    /// `effects` and `messengers` are every way out: a dry run passes recording and fixture ones. `observer`
    /// hears of each effect as it is done.
    public init(
        configuration: EngineConfiguration, journal: Journal, messengers: [String: any Messenger],
        effects: any LocalEffects = LiveEffects(), observer: (@Sendable (EffectRecord) -> Void)? = nil,
        secrets: [String: String] = [:], holder: String = Journal.processHolder,
        lease: TimeInterval = Engine.leaseDuration, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.lease = lease
        self.configuration = configuration
        self.journal = journal
        self.messengers = messengers
        self.effects = effects
        self.observer = observer
        self.secrets = secrets
        configurationContexts = Self.configurationContexts(secrets: secrets)
        self.holder = holder
        self.now = now
        var log = Self.logger
        log[metadataKey: "workflow"] = "\(configuration.workflowName)"
        self.log = log
    }

    /// How long a tick's lease lasts unless renewed (a killed tick's lease expires after it); a live tick
    /// renews it every third of that, so a tick longer than this is never overlapped.
    public static let leaseDuration: TimeInterval = 300
    let lease: TimeInterval

    public func tick() async throws(JournalError) -> TickReport {
        var report = TickReport()
        var acquisition = try journal.acquireLease("tick", holder: holder, for: lease, now: now())
        if case .held(let lease) = acquisition, Journal.holderIsDead(lease.holder) {
            // A tick on this host killed with SIGKILL: its lease would block until it expires.
            try journal.breakLease("tick", heldBy: lease.holder)
            acquisition = try journal.acquireLease("tick", holder: holder, for: self.lease, now: now())
        }
        guard case .acquired = acquisition else {
            report.leaseHeld = true
            return report
        }
        defer { try? journal.releaseLease("tick", holder: holder) }
        leaseLost.store(false, ordering: .relaxed)
        let renewal = renewLeaseWhileRunning()
        let outcome: Result<Void, JournalError>
        do throws(JournalError) {
            if !isStopping { try await pollDueSources(&report) }
            if !isStopping { try await handleInbox(&report) }
            if !isStopping { try await resumeExpiredWaits(&report) }
            if !isStopping { try await runDueSchedules(&report) }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        // No renewal may land after the release (it would find no lease and call it lost).
        renewal.cancel()
        await renewal.value
        // What rode along waiting for a commit is committed now, failure or not.
        let flushed = Result { () throws(JournalError) in try journal.flush() }
        try outcome.get()
        try flushed.get()
        // Best effort: a reader in the way, or a failure here, only leaves it to the next tick.
        try? journal.checkpointIfOverBudget()
        return report
    }

    /// Renews the tick's lease every third of its duration until cancelled. A lease found lost (this tick
    /// stalled past its expiry and another took over) stops this tick after its steps in flight; the next
    /// tick starts afresh.
    private func renewLeaseWhileRunning() -> Task<Void, Never> {
        Task.detached { [journal, holder, lease, now, log] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(lease * 1000 / 3)))
                if Task.isCancelled { return }
                do {
                    if try !journal.renewLease("tick", holder: holder, for: lease, now: now()) {
                        log.error("the tick's lease was lost to another tick; stopping after the steps in flight")
                        self.leaseLost.store(true, ordering: .relaxed)
                        return
                    }
                } catch {
                    log.warning("renewing the tick's lease failed: \(error)")
                }
            }
        }
    }

    // MARK: - Sources

    private func pollDueSources(_ report: inout TickReport) async throws(JournalError) {
        let current = now()
        let jobs = try journal.schedules()
        let checkpoints = Dictionary(try journal.checkpoints().map { ($0.source, $0) }) { first, _ in first }
        var due: [EngineConfiguration.ResolvedSource] = []
        for source in configuration.sources where messengers[source.target.account] != nil {
            if checkpoints[source.checkpointKey]?.isPaused == true { continue }
            let job = jobs.first { $0.jobKey == source.jobKey }
            if (job?.nextDue ?? .distantPast) <= current { due.append(source) }
        }
        guard !due.isEmpty else { return }
        let sessions = try journal.sessions()
        // Polls run concurrently, and each batch is journaled as soon as its poll answers (its inbox before
        // its cursor), in commits shared with the other polls answering at the same moment.
        let results = await withTaskGroup(of: SourcePoll.self) { group in
            for (index, source) in due.enumerated() {
                let messenger = messengers[source.target.account]!
                let cursor = checkpoints[source.checkpointKey]?.cursor
                let expiry = sessions.first { $0.account == source.target.account && $0.session == source.target.id }?
                    .expiresAt
                let interval = EngineConfiguration.interval(source.source.timing, now: current)
                group.addTask {
                    await self.poll(
                        source, index: index, messenger: messenger, cursor: cursor, expiry: expiry,
                        interval: interval, now: current)
                }
            }
            var collected: [SourcePoll] = []
            for await result in group { collected.append(result) }
            return collected.sorted { $0.index < $1.index }
        }
        var polled: [(source: EngineConfiguration.ResolvedSource, batch: PollBatch, record: Journal.PollRecord)] = []
        var failed: [(source: EngineConfiguration.ResolvedSource, error: NetworkError)] = []
        var journalFailure: JournalError?
        for result in results {
            let source = due[result.index]
            report.sourcesPolled += 1
            report.pollSeconds.append(result.seconds)
            // With the next transaction: a crash before it only means polling again.
            try journal.recordSchedule(
                source.jobKey, nextDue: EngineConfiguration.nextDue(source.source.timing, after: current),
                lastFired: current, deferred: true)
            if let maintenance = result.maintenance {
                try journal.recordSession(
                    account: source.target.account, session: maintenance.session, expiresAt: maintenance.expiresAt,
                    renewedAt: maintenance.renewed ? current : nil, deferred: true)
                if maintenance.renewed { report.renewals += 1 }
            }
            if let error = result.maintenanceError { report.failures.append("renew \(source.target): \(error)") }
            switch result.outcome {
            case .success(let (batch, .success(record))): polled.append((source, batch, record))
            case .success(let (_, .failure(error))): journalFailure = journalFailure ?? error
            case .failure(let error): failed.append((source, error))
            }
        }
        // A source whose batch the journal refused is polled again by the next tick.
        if let journalFailure { throw journalFailure }
        for (source, batch, record) in polled {
            report.messagesReceived += record.new.count
            log.debug(
                "polled: \(batch.messages.count) messages, \(record.new.count) new",
                metadata: ["source": "\(source.target)"])
            // Only a poll that brought messages is acknowledged: an empty one, or one that only moved past
            // our own messages (whose read state moves on send), has nothing to tell the network; for masumi
            // each acknowledgement is a CLI call per thread. A failed acknowledgement comes round again,
            // because its messages come back on the next poll.
            if !batch.messages.isEmpty {
                do throws(NetworkError) {
                    try await messengers[source.target.account]!.acknowledge(source.target, through: batch.cursor)
                } catch {
                    // Its messages come again on the next poll (journaled already, they are not repeated).
                    log.warning("acknowledging failed: \(error)", metadata: ["source": "\(source.target)"])
                }
            }
        }
        for (source, error) in failed {
            report.failures.append("poll \(source.target): \(error)")
            log.debug("poll failed: \(error)", metadata: ["source": "\(source.target)"])
            let maxStrikes = configuration.escalation?.after?.value ?? 2
            let before = try journal.checkpoint(source: source.checkpointKey)?.isPaused ?? false
            let checkpoint = try journal.recordPollFailure(
                source: source.checkpointKey, code: error.code, message: error.message, maxStrikes: maxStrikes,
                now: current)
            if checkpoint.isPaused, !before {
                await escalate(
                    subject: "source:\(source.checkpointKey)", code: error.code,
                    text:
                        "polling \(source.target) failed \(checkpoint.consecutiveFailures) times in a row: \(error.code): \(error.message); the source is paused until `switchboard resolve \(source.checkpointKey)`",
                    channel: nil, report: &report)
            }
        }
    }

    /// One source's poll: the batch and what the journal made of it (a refusal fails the tick), or the
    /// network's error; and the source's upkeep after a poll that answered.
    private struct SourcePoll: Sendable {
        var index: Int
        var seconds: Double
        var outcome: Result<(PollBatch, Result<Journal.PollRecord, JournalError>), NetworkError>
        var maintenance: SessionExpiry?
        var maintenanceError: NetworkError?
    }

    /// Polls one source and journals its batch at once (its inbox before its cursor), while the other polls
    /// are still out; then keeps the source alive. Polling comes first: it joins a session the agent is not in
    /// yet.
    private func poll(
        _ source: EngineConfiguration.ResolvedSource, index: Int, messenger: any Messenger, cursor: String?,
        expiry: Date?, interval: TimeInterval, now current: Date
    ) async -> SourcePoll {
        let started = ContinuousClock.now
        let batch: PollBatch
        do throws(NetworkError) {
            batch = try await messenger.poll(source.target, after: cursor)
        } catch {
            return SourcePoll(index: index, seconds: Self.seconds(since: started), outcome: .failure(error))
        }
        let seconds = Self.seconds(since: started)
        let stored = Journal.PolledBatch(
            source: source.checkpointKey,
            messages: batch.messages.map {
                NewInboxMessage(
                    account: source.target.account, conversation: $0.conversation, messageID: $0.id,
                    cursor: $0.cursor, payload: Self.encode($0))
            }, cursor: batch.cursor)
        let record: Journal.PollRecord
        do throws(JournalError) {
            record = try await journal.recordPollTogether(stored)
        } catch {
            return SourcePoll(index: index, seconds: seconds, outcome: .success((batch, .failure(error))))
        }
        var result = SourcePoll(index: index, seconds: seconds, outcome: .success((batch, .success(record))))
        do throws(NetworkError) {
            result.maintenance = try await messenger.maintain(
                source.target, knownExpiry: expiry, pollInterval: interval, now: current)
        } catch {
            result.maintenanceError = error
        }
        return result
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Runs `body` with ``nextWake(now:)`` while holding the tick lease, so no other tick changes the journal
    /// between the reading and what `body` records of it; false (and `body` not run) when another tick holds it.
    public func withNextWake(now: Date, _ body: (Date?) -> Void) -> Bool {
        guard case .acquired? = try? journal.acquireLease("tick", holder: holder, for: lease, now: now)
        else { return false }
        defer { try? journal.releaseLease("tick", holder: holder) }
        body(try? nextWake(now: now))
        return true
    }

    /// When a tick next has something to do: the earliest due source or schedule, or wait deadline. Nil when
    /// something is due already, a job has never run, or messages wait to be handled (a run to retry).
    public func nextWake(now: Date) throws(JournalError) -> Date? {
        guard try journal.unhandledMessages(limit: 1).isEmpty else { return nil }
        var due: [String: Date?] = [:]
        for job in try journal.schedules() { due[job.jobKey] = job.nextDue }
        var next = Date.distantFuture
        let keys =
            configuration.sources.map(\.jobKey) + configuration.workspace.schedules.map { "schedule:\($0.name)" }
        for key in keys {
            guard let known = due[key], let date = known else { return nil }
            next = min(next, date)
        }
        for wait in try journal.openWaits() { next = min(next, wait.deadline) }
        return next > now ? next : nil
    }

    static func encode(_ message: InboundMessage) -> String {
        String(decoding: (try? payloadEncoder.encode(message)) ?? Data(), as: UTF8.self)
    }

    static func decode(_ payload: String) -> InboundMessage? {
        try? payloadDecoder.decode(InboundMessage.self, from: Data(payload.utf8))
    }

    /// Made once: their settings never change, and encoding and decoding are safe from any thread.
    private static let payloadEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
    private static let payloadDecoder = JSONDecoder()

    // MARK: - Messages

    /// Every message no run has handled, oldest first: new ones, and those a crashed or failed tick left.
    private func handleInbox(_ report: inout TickReport) async throws(JournalError) {
        // Conversations are independent: up to `conversationsAtOnce` are handled at once, each one's messages in
        // order. Rows are grouped by the conversation the inbox row names (the one its payload holds), and each
        // conversation's task decodes its own payloads, so that the decoding is shared out too.
        var conversations: [String: [InboxMessage]] = [:]
        var order: [String] = []
        for row in try journal.unhandledMessages() {
            if conversations[row.conversation] == nil { order.append(row.conversation) }
            conversations[row.conversation, default: []].append(row)
        }
        guard !order.isEmpty else { return }
        // Only this tick creates waits (it holds the lease): with none open, no message needs to look.
        waitsMayBeOpen.store(try !journal.openWaits().isEmpty, ordering: .relaxed)
        let results = await withTaskGroup(of: (Int, ConversationResult).self) { group in
            var next = 0
            var collected: [(Int, ConversationResult)] = []
            func start(_ index: Int) {
                let rows = conversations[order[index]]!
                group.addTask {
                    // A payload this switchboard cannot read is left alone (not handled, not dropped).
                    let messages = rows.compactMap { row in Self.decode(row.payload).map { (row, $0) } }
                    return (index, await self.handleConversation(messages))
                }
            }
            while next < min(Self.conversationsAtOnce, order.count) {
                start(next)
                next += 1
            }
            var checkpointing = false
            for await result in group {
                collected.append(result)
                if next < order.count {
                    start(next)
                    next += 1
                } else if !checkpointing, next - collected.count <= Self.conversationsAtOnce / 8 {
                    // The last few conversations: the WAL's checkpoint overlaps with them.
                    checkpointing = true
                    journal.checkpointSoon()
                }
            }
            return collected.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var unmatched: [(InboxMessage, InboundMessage)] = []
        for result in results {
            report.merge(result.report)
            unmatched += result.unmatched
            if let error = result.error { throw error }
        }
        if !unmatched.isEmpty, !isStopping {
            try await defaultBehavior(unmatched.sorted { $0.0.id < $1.0.id }, report: &report)
        }
        // Runs' ends and `sent` outcomes have ridden along with other transactions; commit what is left.
        try journal.flush()
    }

    /// How many conversations a tick handles at once. The more wait together for their intents' commit, the
    /// fewer commits a message costs (group commit): on the benchmark, 64 took a third less CPU per message than
    /// 16. What they start is bounded elsewhere: requests by the HTTP client's connections, children by
    /// `ChildSlots`.
    static let conversationsAtOnce = 64

    struct ConversationResult: Sendable {
        var report = TickReport()
        var unmatched: [(InboxMessage, InboundMessage)] = []
        var error: JournalError?
    }

    /// One conversation's unhandled messages, in order.
    private func handleConversation(_ messages: [(InboxMessage, InboundMessage)]) async -> ConversationResult {
        var result = ConversationResult()
        do throws(JournalError) {
            for (row, message) in messages {
                if isStopping { break }  // left unhandled, for the next tick
                if try await resumeWait(for: message, row: row, report: &result.report) { continue }
                guard let resolved = configuration.rule(for: message.conversation) else {
                    result.unmatched.append((row, message))
                    continue
                }
                let handlerName = resolved.rule.onMessage.flatMap {
                    configuration.handlers[$0.value] != nil ? $0.value : nil
                }
                let run = journal.beginRunLater(
                    trigger: "message", reference: "inbox:\(row.id)", workflow: configuration.workflowName,
                    handler: handlerName ?? (resolved.rule.autoReply?.value == true ? "(responder)" : nil), now: now())
                result.report.runs += 1
                var state = RunState(message: message, rule: resolved.rule, workflow: configuration.workflowName)
                let outcome = await applyPolicy(
                    resolved.rule, message: message, row: row, run: run, state: &state, report: &result.report)
                try finish(run: run, outcome: outcome, steps: state.stepLog, rows: [row.id])
            }
        } catch {
            result.error = error
        }
        return result
    }

    /// A rule's policy: notify and forward bullets, then its handler, or the responder when it auto-replies.
    private func applyPolicy(
        _ rule: Rule, message: InboundMessage, row: InboxMessage, run: RunHandle, state: inout RunState,
        report: inout TickReport
    ) async -> RunOutcome {
        let maxStrikes = rule.strikes?.value ?? configuration.escalation?.after?.value ?? 2
        let prefix = "inbox:\(row.id)"
        var outcome = RunOutcome.completed
        for channel in rule.notify {
            let result = await deliver(
                key: "\(prefix)/notify/\(channel.value)", run: run, stepID: "notify", channelName: channel.value,
                text: "New message from \(message.sender) in \(message.conversation): \(message.text)",
                message: message,
                maxStrikes: maxStrikes, escalateTo: rule.escalateTo?.value, report: &report)
            outcome = outcome.merged(result)
        }
        for forward in rule.forwardTo {
            guard let target = configuration.target(forward.value) else { continue }
            let result = await send(
                key: "\(prefix)/forward/\(target)", kind: "forward", run: run, stepID: "forward",
                text: Self.forwardText(message, note: nil),
                json: message.json, to: target, maxStrikes: maxStrikes, escalateTo: rule.escalateTo?.value,
                report: &report)
            outcome = outcome.merged(result)
        }
        if isStopping, !rule.notify.isEmpty || !rule.forwardTo.isEmpty { return outcome.merged(.interrupted) }
        if let name = rule.onMessage?.value, let handler = configuration.handlers[name] {
            return outcome.merged(
                await execute(
                    handler, from: 0, run: run, state: &state, keyPrefix: prefix, maxStrikes: maxStrikes,
                    escalateTo: rule.escalateTo?.value, interruptible: true, report: &report))
        }
        if rule.autoReply?.value == true, let target = try? Target.parse(message.conversation).get() {
            let reply: String
            do {
                reply = try await respond(message: message, row: row, rule: rule)
            } catch  where error.code == CommandRunner.stoppedCode {
                return outcome.merged(.interrupted)  // not started: the message waits for the next tick
            } catch {
                report.failures.append("responder: \(error)")
                return .failed(retryable: error.isTransient)
            }
            guard !reply.isEmpty else { return outcome }
            return outcome.merged(
                await send(
                    key: "\(prefix)/auto-reply", kind: "reply", run: run, stepID: "auto-reply", text: reply, json: nil,
                    to: target,
                    maxStrikes: maxStrikes, escalateTo: rule.escalateTo?.value, report: &report))
        }
        return outcome
    }

    /// No rule matched: a digest of the new messages to the Default Behavior's channels, no reply (seed 001).
    private func defaultBehavior(
        _ messages: [(InboxMessage, InboundMessage)], report: inout TickReport
    )
        async throws(JournalError)
    {
        let run = journal.beginRunLater(
            trigger: "message", reference: "inbox:\(messages[0].0.id)-\(messages.last!.0.id)",
            workflow: configuration.workflowName, handler: nil, now: now())
        report.runs += 1
        let lines = messages.map { "- \($0.1.conversation) \($0.1.sender): \(Self.truncate($0.1.text, 200))" }
        let digest =
            "\(messages.count) new message\(messages.count == 1 ? "" : "s") with no rule:\n"
            + lines.joined(separator: "\n")
        var outcome = RunOutcome.completed
        for channel in configuration.defaultNotify {
            outcome = outcome.merged(
                await deliver(
                    key: "digest:\(messages[0].0.id)-\(messages.last!.0.id)/\(channel)", run: run, stepID: "digest",
                    channelName: channel, text: digest, message: nil,
                    maxStrikes: configuration.escalation?.after?.value ?? 2, escalateTo: nil, kind: "digest",
                    report: &report))
        }
        try finish(run: run, outcome: outcome, steps: [], rows: messages.map(\.0.id))
    }

    /// Marks the run's status and, unless a failure may clear on a later tick, its messages handled.
    private func finish(run: RunHandle, outcome: RunOutcome, steps: [StepDraft], rows: [Int64]) throws(JournalError) {
        // A failure with strikes left is tried again next tick (sent intents are not repeated), and so is a
        // run interrupted by a stop; a blocked one waits for an operator.
        let handled = outcome == .failed(retryable: true) || outcome == .interrupted ? [] : rows
        // With the next transaction: a crash before it leaves the messages unhandled, for the next tick.
        try journal.finishRun(
            run, status: outcome.runStatus, steps: steps, handled: handled, now: now(), deferred: true)
        log.debug(
            "run \(outcome.runStatus.rawValue)",
            metadata: ["run": "\(run.writtenID.map(String.init) ?? "-")", "messages": "\(rows)"])
    }

    static func forwardText(_ message: InboundMessage, note: String?) -> String {
        "Forwarded from \(message.sender) in \(message.conversation)"
            + (note.map { " (\($0))" } ?? "") + ": \(message.text)"
    }

    static func truncate(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }
}

/// How a run ended.
enum RunOutcome: Equatable {
    case completed
    case stopped
    case waiting
    /// Stopped after a step by ``Engine/requestStop()``: journaled as cancelled, run again by the next tick.
    case interrupted
    /// `retryable`: a later tick may succeed (strikes left); otherwise blocked.
    case failed(retryable: Bool)

    func merged(_ other: RunOutcome) -> RunOutcome {
        switch (self, other) {
        case (.failed(let a), .failed(let b)): .failed(retryable: a && b)
        case (.failed, _): self
        case (_, .failed): other
        case (.interrupted, _), (_, .interrupted): .interrupted
        case (.waiting, _), (_, .waiting): .waiting
        case (.stopped, _), (_, .stopped): .stopped
        default: .completed
        }
    }

    /// The run's status in the journal.
    var runStatus: RunRecord.Status {
        switch self {
        case .completed, .stopped: .succeeded
        case .waiting: .waiting
        case .interrupted: .cancelled
        case .failed: .failed
        }
    }
}
