/// A named list of steps, run once per trigger.
public struct Handler: Sendable {
    public var name: String
    public var location: SourceLocation
    public var steps: [Step]
}

public struct Step: Sendable {
    public var location: SourceLocation
    public var id: Located<String>?
    /// Run the step only when this is truthy.
    public var condition: Located<Template>?
    public var timeout: Located<Interval>?
    public var action: Action

    public enum Action: Sendable {
        /// Run a command with an explicit argv (no shell); its stdout is the step's output.
        case run(argv: [Located<Template>])
        /// Answer in the conversation the trigger came from.
        case reply(Located<Template>)
        case send(to: Located<String>, text: Located<Template>?, json: Located<TemplateValue>?)
        /// The triggering message, with provenance, to another target.
        case forward(to: Located<String>, note: Located<Template>?)
        case notify(channel: Located<String>, text: Located<Template>?)
        /// To a channel (default: the workspace's `escalation.to`).
        case escalate(to: Located<String>?, text: Located<Template>)
        /// Suspend the run until a matching message arrives or the timeout passes.
        case wait(replyFrom: Located<String>?, match: Located<Template>?, timeout: Located<Interval>)
        case set([(name: Located<String>, value: Located<Template>)])
        case stop(reason: Located<Template>?)
    }

    /// The action's key as users write it.
    public var kind: String {
        switch action {
        case .run: "run"
        case .reply: "reply"
        case .send: "send"
        case .forward: "forward"
        case .notify: "notify"
        case .escalate: "escalate"
        case .wait: "wait"
        case .set: "set"
        case .stop: "stop"
        }
    }

    static let actionKeys = ["run", "reply", "send", "forward", "notify", "escalate", "wait", "set", "stop"]
}

/// A YAML value whose strings may hold expressions (a `send` step's `json:` payload).
public indirect enum TemplateValue: Sendable {
    case literal(Value)
    case template(Template)
    case array([TemplateValue])
    case object([String: TemplateValue])
}
