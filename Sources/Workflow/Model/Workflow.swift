public import Foundation

/// One `workflows/*.yaml` file.
public struct Workflow: Sendable {
    public static let supportedVersion = 1

    public var file: String
    public var version: Located<Int>?
    public var name: Located<String>?
    public var accounts: [Account] = []
    /// MESSAGING.md-format files this workflow names, resolved against the workflow file's directory.
    public var ruleFiles: [Located<String>] = []
    public var rules: [Rule] = []
    public var responder: Responder?
    public var sources: [Source] = []
    public var channels: [Channel] = []
    public var escalation: Escalation?
    public var handlers: [Handler] = []
    public var schedules: [Schedule] = []
    /// Pinged after each tick or daemon cycle (healthchecks.io conventions: `/start`, the URL, `/fail`).
    public var heartbeat: Located<Template>?
    /// Every `secrets.NAME` its expressions read, where it is written (checked against the secret store).
    public var secretReferences: [Located<String>] = []

    public init(file: String) {
        self.file = file
    }
}

/// The command that writes replies: message and rule context as JSON on stdin, the reply on stdout.
public struct Responder: Sendable {
    public var location: SourceLocation
    public var argv: [Located<String>]
    public var timeout: Interval
    public var env: [String: Located<Template>]

    public static let defaultTimeout = Interval.minutes(2)
}

/// When something runs: every N, or on a cron schedule in a time zone; with jitter and a catch-up policy.
public struct Timing: Sendable {
    public enum Rhythm: Sendable {
        case every(Located<Interval>)
        case cron(Located<CronExpression>, timezone: Located<String>?)
    }

    /// What to do about the runs missed while nothing was running.
    public enum CatchUp: String, Sendable, CaseIterable {
        case skip, last, all
    }

    public var rhythm: Rhythm
    public var jitter: Located<Interval>?
    public var catchUp: CatchUp

    /// The wall clock a cron rhythm is read on: its `timezone` (checked when decoded), else UTC.
    public static func timeZone(_ name: Located<String>?) -> TimeZone {
        name.flatMap { TimeZone(identifier: $0.value) } ?? utc
    }

    static let utc = TimeZone(identifier: "UTC")!
}

/// Something polled on a schedule.
public struct Source: Sendable {
    public var location: SourceLocation
    public var from: Located<String>
    public var timing: Timing
}

/// Where notifications and escalations go.
public struct Channel: Sendable {
    public enum Kind: Sendable {
        case webhook(url: Located<Template>, headers: [String: Located<Template>])
        case command(argv: [Located<String>])
        case to(Located<String>)
    }

    public var name: String
    public var location: SourceLocation
    public var kind: Kind
}

/// Who is told when an intent fails its last strike.
public struct Escalation: Sendable {
    public static let defaultStrikes = 2

    public var location: SourceLocation
    public var to: Located<String>
    public var after: Located<Int>?
}

/// A handler run on a timer rather than by a message.
public struct Schedule: Sendable {
    public var name: String
    public var location: SourceLocation
    public var timing: Timing
    public var handler: Located<String>
}
