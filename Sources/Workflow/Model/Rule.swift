/// What to do with messages in a conversation: one MESSAGING.md `###` entry or one inline `rules:` item.
public struct Rule: Sendable {
    /// Who wrote the rule: a MESSAGING.md section or a workflow file.
    public enum Origin: Sendable, Equatable {
        case messaging
        case inline
    }

    public var label: String
    public var location: SourceLocation
    public var origin: Origin
    /// The conversation the rule matches; an `ACCOUNT:KIND/ID` string as written (checked with the accounts).
    public var session: Located<String>?
    public var purpose: Located<String>?
    /// A handler name, or free text that becomes the responder's instructions.
    public var onMessage: Located<String>?
    public var autoReply: Located<Bool>?
    public var notify: [Located<String>]
    public var forwardTo: [Located<String>]
    public var escalateTo: Located<String>?
    public var strikes: Located<Int>?
    public var account: Located<String>?

    public init(label: String, location: SourceLocation, origin: Origin) {
        self.label = label
        self.location = location
        self.origin = origin
        notify = []
        forwardTo = []
    }
}

/// The `## Default Behavior` of MESSAGING.md: what happens to messages no rule matches.
public struct DefaultBehavior: Sendable {
    public var location: SourceLocation
    /// The numbered steps as written, for the responder and for `plan`.
    public var steps: [Located<String>]
    /// Channels named in the steps (`Notify the user in their preferred channel (operator)`).
    public var notify: [Located<String>]
}
