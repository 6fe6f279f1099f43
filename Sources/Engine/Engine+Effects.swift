internal import Foundation
internal import Journal
internal import Logging
internal import Secrets
internal import Transport
internal import Workflow

/// Effects: every one is an intent journaled before it happens and settled after (DESIGN.md §3), at most
/// `maxStrikes` attempts, then blocked and escalated with the network's exact code and message (§4).
extension Engine {
    /// Sends a message to a network target as an intent. Its text is masked: a secret is passed in a webhook's
    /// URL or headers or a command's environment, never in a message (a responder that echoes its input
    /// cannot leak one to a peer).
    func send(
        key: String, kind: String, run: RunHandle?, stepID: String?, text: String, json: Value?, to target: Target,
        maxStrikes: Int, escalateTo: String?, report: inout TickReport
    ) async -> RunOutcome {
        let text = Redactor.shared.redact(text)
        guard let messenger = messengers[target.account] else {
            report.failures.append("no messenger for account \(target.account)")
            return .failed(retryable: false)
        }
        return await intent(
            key: key, record: EffectRecord(kind: kind, target: target.description, text: text, json: json), run: run,
            stepID: stepID, target: target.description, digest: PayloadDigest.of(text, json: json),
            maxStrikes: maxStrikes, escalateTo: escalateTo, report: &report,
            reconcile: { digest, since throws(NetworkError) in
                try await messenger.reconcile(digest: digest, to: target, since: since)
            },
            effect: { () throws(NetworkError) in _ = try await messenger.send(text: text, json: json, to: target) })
    }

    /// Delivers a notification to a named channel as an intent.
    func deliver(
        key: String, run: RunHandle?, stepID: String?, channelName: String, text: String, message: InboundMessage?,
        maxStrikes: Int, escalateTo: String?, kind: String = "notify", report: inout TickReport
    ) async -> RunOutcome {
        guard let channel = configuration.channels[channelName] else {
            report.failures.append("no channel named \(channelName)")
            return .failed(retryable: false)
        }
        let text = Redactor.shared.redact(text)
        let payload: Value = [
            "kind": .string(kind), "text": .string(text), "workflow": .string(configuration.workflowName),
            "message": message.map(RunState.value) ?? .null,
        ]
        // The notification's JSON, masked as a whole (the message it carries may quote a secret).
        let body = Data(Redactor.shared.redact(JSONText.encode(payload)).utf8)
        let digest = PayloadDigest.of(text)
        let record = EffectRecord(kind: kind, target: "channel:\(channelName)", text: text)
        let effects = self.effects
        switch channel.kind {
        case .to(let to):
            guard let target = configuration.target(to.value) else { return .failed(retryable: false) }
            return await send(
                key: key, kind: kind, run: run, stepID: stepID, text: text, json: nil, to: target,
                maxStrikes: maxStrikes, escalateTo: escalateTo, report: &report)
        case .webhook(let url, let headers):
            let evaluator = ExpressionEvaluator(contexts: configurationContexts)
            guard let address = try? evaluator.render(url.value) else { return .failed(retryable: false) }
            var fields: [(name: String, value: String)] = [("Content-Type", "application/json")]
            for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
                if let rendered = try? evaluator.render(value.value) { fields.append((name, rendered)) }
            }
            let request = HTTPRequest(
                .post, address, headers: fields, body: body, timeout: 10)
            return await intent(
                key: key, record: record, run: run, stepID: stepID, target: record.target, digest: digest,
                maxStrikes: maxStrikes, escalateTo: escalateTo, report: &report, reconcile: nil,
                effect: { () throws(NetworkError) in
                    let response = try await effects.post(request)
                    guard (200..<300).contains(response.status) else {
                        throw NetworkError(
                            network: "webhook", code: "http_\(response.status)",
                            message: "the webhook answered HTTP \(response.status)", status: response.status,
                            isTransient: response.status >= 500 || response.status == 429)
                    }
                })
        case .command(let argv):
            let directory = configuration.directory
            return await intent(
                key: key, record: record, run: run, stepID: stepID, target: record.target, digest: digest,
                maxStrikes: maxStrikes, escalateTo: escalateTo, report: &report, reconcile: nil,
                effect: { () throws(NetworkError) in
                    let result = try await effects.command(
                        argv.map(\.value), stdin: body, timeout: 60,
                        directory: directory, environment: CommandRunner.environment(adding: [:]),
                        purpose: .channel(channelName), proceed: nil)
                    guard result.exitCode == 0 else {
                        throw NetworkError(
                            network: "command", code: "exit_\(result.exitCode)",
                            message: Self.truncate(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines), 500),
                            isTransient: false)
                    }
                })
        }
    }

    /// Escalations go to the rule's channel, else the workspace's `escalation.to`; they are journaled and
    /// delivered once (an escalation that fails is recorded, not escalated again).
    /// Its text is masked first: it often quotes a network's error message, which may echo a request.
    /// `once`: not again when an escalation about `subject` was delivered before (a step run again after a
    /// stop, a crash or a retried run).
    func escalate(
        subject: String, code: String?, text: String, channel: String?, once: Bool = false, report: inout TickReport
    ) async {
        if once, (try? journal.escalationSent(subject: subject)) == true { return }
        let text = Redactor.shared.redact(text)
        report.escalations += 1
        log.notice("escalation: \(text)", metadata: ["subject": "\(subject)"])
        guard let record = try? journal.recordEscalation(subject: subject, code: code, message: text, now: now()) else {
            return
        }
        guard let name = channel ?? configuration.escalation?.to.value else {
            report.failures.append("escalation with nowhere to go: \(text)")
            return
        }
        // Delivered with `deliveringEscalation` set, so its own failure cannot escalate again.
        var local = report
        let outcome = await Self.$deliveringEscalation.withValue(true) {
            await deliver(
                key: "escalation:\(record.id)", run: nil, stepID: "escalation", channelName: name, text: text,
                message: nil, maxStrikes: 1, escalateTo: nil, kind: "escalation", report: &local)
        }
        report = local
        if outcome == .completed { try? journal.markEscalationSent(record.id, now: now()) }
    }

    /// The two-strike core: journal before effect, outcome after, reconcile what is unknown.
    func intent(
        key: String, record: EffectRecord, run: RunHandle?, stepID: String?, target: String, digest: String,
        maxStrikes: Int,
        escalateTo: String?, report: inout TickReport,
        reconcile: ((String, Date) async throws(NetworkError) -> Bool?)?,
        effect: () async throws(NetworkError) -> Void
    ) async -> RunOutcome {
        for _ in 0..<2 {
            let decision: Journal.AttemptDecision
            do {
                // A run started in this tick is written with its first intent, in one transaction.
                decision = try await journal.beginAttempt(
                    key: key, runHandle: run, stepID: stepID, target: target, payloadDigest: digest,
                    maxStrikes: maxStrikes, now: now())
            } catch {
                report.failures.append("journal: \(error.message)")
                return .failed(retryable: true)
            }
            switch decision {
            case .alreadySent: return .completed
            case .blocked: return .failed(retryable: false)
            case .interrupted(let intent):
                // Its outcome is unknown: ask the network, never resend blindly.
                var found: Bool?
                if let reconcile { found = try? await reconcile(intent.payloadDigest, intent.createdAt) }
                _ = try? journal.reconcile(intent: key, sent: found ?? true, now: now())
                if found != false { return .completed }  // sent, or at least once (visibly: strike and code stay)
                continue  // not delivered: attempt again
            case .attempt:
                do {
                    try await effect()
                    // With the next transaction: a crash before it leaves the intent pending, reconciled next tick.
                    journal.recordSentLater(intent: key, now: now())
                    log.debug(
                        "sent to \(target)",
                        metadata: [
                            "intent": "\(key)", "run": "\(run?.writtenID.map(String.init) ?? "-")",
                            "step": "\(stepID ?? "-")",
                        ])
                    report.sent += 1
                    observer?(record)
                    return .completed
                } catch {
                    let outcome: Journal.Outcome =
                        error.mayHaveArrived
                        ? .unknown(code: error.code, message: error.message)
                        : .failed(code: error.code, message: error.message)
                    let settled = try? journal.recordOutcome(outcome, forIntent: key, now: now())
                    report.failures.append("\(target): \(error)")
                    log.debug(
                        "\(target) failed (strike \(settled?.strikes ?? 0) of \(maxStrikes)): \(error)",
                        metadata: [
                            "intent": "\(key)", "run": "\(run?.writtenID.map(String.init) ?? "-")",
                            "step": "\(stepID ?? "-")",
                        ])
                    if settled?.status == .blocked {
                        if !Self.deliveringEscalation {
                            await escalate(
                                subject: "intent:\(key)", code: error.code,
                                text:
                                    "\(target) failed \(settled?.strikes ?? maxStrikes) times: \(error.code): \(error.message); blocked until `switchboard resolve \(settled?.id ?? 0)`",
                                channel: escalateTo, report: &report)
                        }
                        return .failed(retryable: false)
                    }
                    return .failed(retryable: true)
                }
            }
        }
        return .failed(retryable: true)
    }

    // MARK: - Responder

    /// The workspace's responder: message, rule and recent history as JSON on stdin, the reply on stdout.
    func respond(message: InboundMessage, row: InboxMessage, rule: Rule) async throws(NetworkError) -> String {
        guard let responder = configuration.responder else {
            throw NetworkError(
                network: "command", code: "no_responder", message: "no responder is configured", isTransient: false)
        }
        // The conversation's latest messages up to this one (later ones, journaled in the same poll, are not
        // history yet), as the journal holds them.
        let rows =
            (try? journal.recentMessages(
                account: row.account, conversation: message.conversation, limit: 10, through: row.id)) ?? []
        let history: [Value] = rows.compactMap { Self.decode($0.payload).map(RunState.value) }
        let input: Value = [
            "message": RunState.value(message), "rule": RunState.value(rule),
            "instructions": rule.onMessage.map { .string($0.value) } ?? .null, "history": .array(history),
        ]
        var environment: [String: String] = [:]
        let evaluator = ExpressionEvaluator(contexts: configurationContexts)
        for (name, value) in responder.env { environment[name] = try? evaluator.render(value.value) }
        let result = try await effects.command(
            responder.argv.map(\.value), stdin: Data(JSONText.encode(input).utf8),
            timeout: TimeInterval(responder.timeout.seconds), directory: configuration.directory,
            environment: CommandRunner.environment(adding: environment), purpose: .responder,
            proceed: mayStartChild)
        guard result.exitCode == 0 else {
            throw NetworkError(
                network: "command", code: "exit_\(result.exitCode)",
                message:
                    "the responder failed: \(Self.truncate(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines), 300))",
                isTransient: true)
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
