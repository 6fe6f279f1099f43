internal import Foundation
internal import Journal
internal import Workflow

/// What a run's expressions can see, kept across steps and (as JSON) across a durable wait.
struct RunState {
    var message: Value
    var rule: Value
    var steps: [String: Value] = [:]
    var vars: [String: Value] = [:]
    var trigger: Value
    var workflow: Value
    var conversation: String?
    /// The steps run so far in this process, written with the run's end (not part of the snapshot).
    var stepLog: [StepDraft] = []

    init(message: InboundMessage?, rule: Rule?, workflow: String, trigger: Value? = nil) {
        self.message = message.map(Self.value) ?? .null
        self.rule = rule.map(Self.value) ?? .null
        self.trigger = trigger ?? ["kind": "message"]
        self.workflow = ["name": .string(workflow)]
        conversation = message?.conversation
    }

    static func value(_ message: InboundMessage) -> Value {
        let target = try? Target.parse(message.conversation).get()
        return [
            "id": .string(message.id), "text": .string(message.text), "json": message.json ?? .null,
            "sender": .string(message.sender), "conversation": .string(message.conversation),
            "account": target.map { .string($0.account) } ?? .null, "target": .string(message.conversation),
            "cursor": message.cursor.map { .string($0) } ?? .null, "verified": .bool(message.verified),
        ]
    }

    static func value(_ rule: Rule) -> Value {
        [
            "name": .string(rule.label), "purpose": rule.purpose.map { .string($0.value) } ?? .null,
            "instructions": rule.onMessage.map { .string($0.value) } ?? .null,
            "session": rule.session.map { .string($0.value) } ?? .null,
            "auto-reply": .bool(rule.autoReply?.value ?? false),
            "strikes": .number(Double(rule.strikes?.value ?? 2)),
            "notify": .array(rule.notify.map { .string($0.value) }),
            "forward-to": .array(rule.forwardTo.map { .string($0.value) }),
            "escalate-to": rule.escalateTo.map { .string($0.value) } ?? .null,
        ]
    }

    /// The run's contexts on top of the engine's `secrets` and `env`.
    func evaluator(adding configuration: [String: Value]) -> ExpressionEvaluator {
        ExpressionEvaluator(
            contexts: configuration.merging([
                "message": message, "rule": rule, "steps": .object(steps), "vars": .object(vars), "trigger": trigger,
                "workflow": workflow,
            ]) { _, run in run })
    }

    var snapshot: Value {
        [
            "message": message, "rule": rule, "steps": .object(steps), "vars": .object(vars), "trigger": trigger,
            "workflow": workflow, "conversation": conversation.map { .string($0) } ?? .null,
        ]
    }

    init?(snapshot: Value) {
        guard case .object(let fields) = snapshot else { return nil }
        message = fields["message"] ?? .null
        rule = fields["rule"] ?? .null
        if case .object(let steps)? = fields["steps"] { self.steps = steps }
        if case .object(let vars)? = fields["vars"] { self.vars = vars }
        trigger = fields["trigger"] ?? .null
        workflow = fields["workflow"] ?? .null
        if case .string(let conversation)? = fields["conversation"] { self.conversation = conversation }
    }
}
