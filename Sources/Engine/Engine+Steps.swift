internal import Foundation
internal import Journal
internal import Synchronization
internal import Transport
internal import Workflow

/// The interpreter: a handler's steps in order, with `if`, outputs and durable waits.
extension Engine {
    /// `interruptible`: a stop may end the run between steps (a message's run, which the next tick starts
    /// again from its message). A resumed wait or a schedule's fire has nothing to start it again: it runs
    /// to its end.
    func execute(
        _ handler: Handler, from start: Int, run: RunHandle, state: inout RunState, keyPrefix: String, maxStrikes: Int,
        escalateTo: String?, interruptible: Bool = false, report: inout TickReport
    ) async -> RunOutcome {
        var outcome = RunOutcome.completed
        var position = start
        while position < handler.steps.count {
            // A stop lets the step in flight finish; the next one is for the next tick.
            if interruptible, isStopping, position > start { return outcome.merged(.interrupted) }
            let step = handler.steps[position]
            defer { position += 1 }
            let evaluator = state.evaluator(adding: configurationContexts)
            if let condition = step.condition {
                guard let value = try? evaluator.value(of: condition.value), value.isTruthy else { continue }
            }
            let stepID = step.id?.value
            let started = now()
            let key = "\(keyPrefix)/\(handler.name)/\(position)"
            func render(_ template: Located<Template>?) -> String? {
                template.flatMap { try? evaluator.render($0.value) }
            }
            var result = RunOutcome.completed
            var output: Value = .null
            switch step.action {
            case .run(let argv):
                let arguments = argv.compactMap { try? evaluator.render($0.value) }
                let timeout = TimeInterval(step.timeout?.value.seconds ?? 60)
                do throws(NetworkError) {
                    let ran = try await effects.command(
                        arguments, stdin: Data(JSONText.encode(state.snapshot).utf8), timeout: timeout,
                        directory: configuration.directory, environment: CommandRunner.environment(adding: [:]),
                        purpose: .step(stepID ?? "\(handler.name)[\(position)]"),
                        proceed: interruptible ? mayStartChild : nil)
                    output = [
                        "stdout": .string(ran.stdout), "stderr": .string(ran.stderr),
                        "exit-code": .number(Double(ran.exitCode)), "output": .string(ran.stdout),
                        "status": ran.exitCode == 0 ? "succeeded" : "failed",
                    ]
                } catch  where error.code == CommandRunner.stoppedCode {
                    // A stop came while it waited for a slot: not started, the run ends here for the next tick.
                    result = .interrupted
                } catch {
                    output = [
                        "status": "failed", "error": ["code": .string(error.code), "message": .string(error.message)],
                    ]
                }
            case .reply(let text):
                guard let conversation = state.conversation, let target = try? Target.parse(conversation).get() else {
                    break
                }
                let body = render(text) ?? ""
                result = await send(
                    key: key, kind: "reply", run: run, stepID: stepID, text: body, json: nil, to: target,
                    maxStrikes: maxStrikes,
                    escalateTo: escalateTo, report: &report)
                output = ["reply": .string(body)]
            case .send(let to, let text, let json):
                guard let target = destination(to.value, state: state) else { break }
                let payload = json.map { Self.render($0.value, evaluator) }
                result = await send(
                    key: key, kind: "send", run: run, stepID: stepID, text: render(text) ?? "", json: payload,
                    to: target,
                    maxStrikes: maxStrikes, escalateTo: escalateTo, report: &report)
            case .forward(let to, let note):
                guard let target = destination(to.value, state: state), case .object = state.message,
                    let message = Self.inbound(from: state.message)
                else { break }
                result = await send(
                    key: key, kind: "forward", run: run, stepID: stepID,
                    text: Self.forwardText(message, note: render(note)),
                    json: message.json, to: target, maxStrikes: maxStrikes, escalateTo: escalateTo, report: &report)
            case .notify(let channel, let text):
                let body = render(text) ?? Self.inbound(from: state.message).map { "\($0.sender): \($0.text)" } ?? ""
                result = await deliver(
                    key: key, run: run, stepID: stepID, channelName: channel.value, text: body,
                    message: Self.inbound(from: state.message), maxStrikes: maxStrikes, escalateTo: escalateTo,
                    report: &report)
            case .escalate(let to, let text):
                // Named after the step (its message or fire, handler and position), not the run: a run started
                // again for the same message escalates once.
                await escalate(
                    subject: "step:\(keyPrefix)/\(handler.name)/\(position)", code: nil, text: render(text) ?? "",
                    channel: to?.value, once: true, report: &report)
            case .set(let assignments):
                for (name, value) in assignments {
                    state.vars[name.value] = (try? evaluator.value(of: value.value)) ?? .null
                }
            case .stop:
                result = .stopped
            case .wait(let replyFrom, let match, let timeout):
                let deadline = now().addingTimeInterval(TimeInterval(timeout.value.seconds))
                let matcher: Value = [
                    "handler": .string(handler.name), "position": .number(Double(position)),
                    "step": stepID.map { .string($0) } ?? .null,
                    "reply-from": replyFrom.flatMap { configuration.target($0.value) }.map { .string($0.description) }
                        ?? .null,
                    "match": match.map { .string($0.value.source) } ?? .null, "key-prefix": .string(keyPrefix),
                    "max-strikes": .number(Double(maxStrikes)), "escalate-to": escalateTo.map { .string($0) } ?? .null,
                    "state": state.snapshot,
                ]
                waitsMayBeOpen.store(true, ordering: .relaxed)
                do throws(JournalError) {
                    _ = try journal.createWait(
                        run: try journal.id(of: run), stepID: stepID, matcher: JSONText.encode(matcher),
                        deadline: deadline)
                    result = .waiting
                } catch {
                    // No wait row, so nothing would resume it: the run fails, and its message comes round again.
                    report.failures.append("journal: \(error.message)")
                    result = .failed(retryable: true)
                }
            }
            if let stepID, output != .null { state.steps[stepID] = output }
            let status: StepRecord.Status =
                switch result {
                case .completed, .stopped: .succeeded
                case .waiting: .waiting
                case .interrupted: .skipped
                case .failed: .failed
                }
            state.stepLog.append(
                StepDraft(
                    stepID: stepID, position: position, status: status,
                    outputJSON: output == .null ? nil : JSONText.encode(output), startedAt: started, finishedAt: now()))
            outcome = outcome.merged(result)
            switch result {
            case .waiting, .stopped, .failed, .interrupted: return outcome
            case .completed: continue
            }
        }
        return outcome
    }

    /// `reply` means the conversation the trigger came from.
    func destination(_ text: String, state: RunState) -> Target? {
        if text == "reply" { return state.conversation.flatMap { try? Target.parse($0).get() } }
        return configuration.target(text)
    }

    static func inbound(from value: Value) -> InboundMessage? {
        guard case .object(let fields) = value, case .string(let id)? = fields["id"],
            case .string(let conversation)? = fields["conversation"]
        else { return nil }
        func string(_ key: String) -> String { if case .string(let text)? = fields[key] { text } else { "" } }
        let json: Value? = fields["json"].flatMap { $0 == .null ? nil : $0 }
        return InboundMessage(
            id: id, conversation: conversation, sender: string("sender"), text: string("text"), json: json)
    }

    static func render(_ value: TemplateValue, _ evaluator: ExpressionEvaluator) -> Value {
        switch value {
        case .literal(let literal): literal
        case .template(let template): (try? evaluator.value(of: template)) ?? .null
        case .array(let items): .array(items.map { render($0, evaluator) })
        case .object(let members): .object(members.mapValues { render($0, evaluator) })
        }
    }

    // MARK: - Waits

    /// A message that matches an open wait resumes its run instead of starting a new one.
    func resumeWait(
        for message: InboundMessage, row: InboxMessage, report: inout TickReport
    ) async throws(JournalError)
        -> Bool
    {
        guard waitsMayBeOpen.load(ordering: .relaxed), !isStopping else { return false }
        for wait in try journal.openWaits() {
            guard let matcher = try? JSONText.decode(wait.matcher), case .object(let fields) = matcher else { continue }
            if case .string(let from)? = fields["reply-from"] {
                let target = try? Target.parse(from).get()
                let matches = from == message.conversation || (target?.id == message.sender)
                if !matches { continue }
            }
            if case .string(let source)? = fields["match"], let template = try? Template.parse(source),
                let expression = template.singleExpression
            {
                var probe = ExpressionEvaluator(contexts: [:])
                probe.contexts["message"] = RunState.value(message)
                guard (try? probe.evaluate(expression))?.isTruthy == true else { continue }
            }
            guard try journal.resolveWait(wait.id, resolution: "message", now: now()) else { continue }
            let (outcome, steps) = await resume(fields, wait: wait, message: message, timedOut: false, report: &report)
            guard let run = try journal.run(wait.runID) else { return true }
            try finishResumed(run: RunHandle(id: run.id), outcome: outcome, steps: steps, rows: [row.id])
            return true
        }
        return false
    }

    func resumeExpiredWaits(_ report: inout TickReport) async throws(JournalError) {
        let current = now()
        for wait in try journal.openWaits() where wait.deadline <= current {
            if isStopping { return }  // the next tick finds it still open
            guard try journal.resolveWait(wait.id, resolution: "timeout", now: current),
                let matcher = try? JSONText.decode(wait.matcher), case .object(let fields) = matcher,
                let run = try journal.run(wait.runID)
            else { continue }
            let (outcome, steps) = await resume(fields, wait: wait, message: nil, timedOut: true, report: &report)
            try finishResumed(run: RunHandle(id: run.id), outcome: outcome, steps: steps, rows: [])
        }
    }

    private func resume(
        _ fields: [String: Value], wait: WaitRecord, message: InboundMessage?, timedOut: Bool, report: inout TickReport
    ) async -> (RunOutcome, [StepDraft]) {
        guard case .string(let handlerName)? = fields["handler"], let handler = configuration.handlers[handlerName],
            case .number(let position)? = fields["position"], let snapshot = fields["state"],
            var state = RunState(snapshot: snapshot), let run = try? journal.run(wait.runID)
        else { return (.failed(retryable: false), []) }
        report.runs += 1
        if let stepID = wait.stepID {
            state.steps[stepID] = [
                "timed-out": .bool(timedOut), "message": message.map(RunState.value) ?? .null,
                "status": timedOut ? "timed-out" : "succeeded",
            ]
        }
        let prefix: String = if case .string(let text)? = fields["key-prefix"] { text } else { "run:\(run.id)" }
        let strikes: Int = if case .number(let number)? = fields["max-strikes"] { Int(number) } else { 2 }
        let escalateTo: String? = if case .string(let text)? = fields["escalate-to"] { text } else { nil }
        let outcome = await execute(
            handler, from: Int(position) + 1, run: RunHandle(id: run.id), state: &state, keyPrefix: prefix,
            maxStrikes: strikes,
            escalateTo: escalateTo, report: &report)
        return (outcome, state.stepLog)
    }

    /// A resumed or scheduled run ends with its trigger handled whatever the outcome: the wait is resolved and
    /// a schedule's fire is recorded, so nothing would run it again.
    private func finishResumed(
        run: RunHandle, outcome: RunOutcome, steps: [StepDraft], rows: [Int64]
    )
        throws(JournalError)
    {
        try journal.finishRun(run, status: outcome.runStatus, steps: steps, handled: rows, now: now())
    }

    // MARK: - Schedules

    func runDueSchedules(_ report: inout TickReport) async throws(JournalError) {
        let current = now()
        let jobs = try journal.schedules()
        for schedule in configuration.workspace.schedules {
            if isStopping { return }  // not fired: still due for the next tick
            let key = "schedule:\(schedule.name)"
            let job = jobs.first { $0.jobKey == key }
            guard let handler = configuration.handlers[schedule.handler.value] else { continue }
            guard let due = job?.nextDue else {
                // First sight: schedule it, do not fire it now.
                try journal.recordSchedule(key, nextDue: EngineConfiguration.nextDue(schedule.timing, after: current))
                continue
            }
            guard due <= current else { continue }
            // Catch-up after downtime: skip (none), last (one), all (one per missed fire).
            var fires = [due]
            if schedule.timing.catchUp == .all {
                var next = due
                while let following = EngineConfiguration.nextDue(schedule.timing, after: next), following <= current,
                    fires.count < 1000
                {
                    fires.append(following)
                    next = following
                }
            }
            // `skip`: fires missed in downtime do not run. Downtime is when a later fire is due as well; a fire
            // late by less than its period (a cron tick every few minutes) is not missed.
            let missedMore = EngineConfiguration.nextDue(schedule.timing, after: due).map { $0 <= current } ?? false
            let count = schedule.timing.catchUp == .skip && missedMore ? 0 : fires.count
            for fire in fires.prefix(count) {
                let trigger: Value = [
                    "kind": "schedule", "schedule": .string(schedule.name),
                    "at": .string(Timestamp.format(fire, fractional: false)),
                ]
                let run = RunHandle(
                    id: try journal.beginRun(
                        trigger: "schedule", reference: "\(key)@\(Int(fire.timeIntervalSince1970))",
                        workflow: configuration.workflowName, handler: handler.name, now: current
                    ).id)
                report.runs += 1
                var state = RunState(message: nil, rule: nil, workflow: configuration.workflowName, trigger: trigger)
                let outcome = await execute(
                    handler, from: 0, run: run, state: &state, keyPrefix: "\(key)@\(Int(fire.timeIntervalSince1970))",
                    maxStrikes: configuration.escalation?.after?.value ?? 2, escalateTo: nil, report: &report)
                try finishResumed(run: run, outcome: outcome, steps: state.stepLog, rows: [])
            }
            try journal.recordSchedule(
                key, nextDue: EngineConfiguration.nextDue(schedule.timing, after: current), lastFired: current)
        }
    }
}
