public import Foundation
internal import Journal
public import Workflow

/// `plan` and `test`: the engine with fixture messengers and recording effects, on a throwaway journal, so
/// nothing can reach a network, post a webhook or start a command.
public enum DryRun {
    public enum Step: Sendable {
        /// These messages arrive; every source is polled.
        case messages([InboundMessage])
        /// Time passes (waits time out, schedules come due); then a tick.
        case advance(TimeInterval)
    }

    /// The effects the engine would have, in order.
    public static func run(
        _ configuration: EngineConfiguration, steps: [Step], responderOutputs: [String] = [],
        stepOutputs: [String: [String]] = [:], secrets: [String: String] = [:], start: Date
    ) async throws -> [EffectRecord] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "switchboard-dry-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = try Journal(path: directory.appendingPathComponent("journal.sqlite3").path)
        var messengers: [String: FixtureMessenger] = [:]
        for account in configuration.workspace.accounts {
            messengers[account.name] = FixtureMessenger(account: account.name, messages: [])
        }
        let recorded = LockedBox<[EffectRecord]>([])
        let clock = LockedBox(start)
        let engine = Engine(
            configuration: configuration, journal: journal, messengers: messengers,
            effects: RecordingEffects(responderOutputs: responderOutputs, stepOutputs: stepOutputs),
            observer: { record in recorded.value.append(record) }, secrets: secrets, holder: "dry-run",
            now: { clock.value })
        for step in steps {
            switch step {
            case .messages(let messages):
                for (account, messenger) in messengers {
                    messenger.add(messages.filter { (try? Target.parse($0.conversation).get())?.account == account })
                }
                for source in configuration.sources { try journal.recordSchedule(source.jobKey, nextDue: nil) }
            case .advance(let seconds):
                clock.value = clock.value.addingTimeInterval(seconds)
            }
            _ = try await engine.tick()
        }
        return recorded.value
    }

    /// Messages from a fixture list: `{conversation, sender, text, json?, id?}`; conversations may use labels.
    public static func messages(
        from value: Value, configuration: EngineConfiguration, startIndex: Int = 0
    ) throws
        -> [InboundMessage]
    {
        guard case .array(let items) = value else { throw FixtureError(message: "messages must be a list") }
        return try items.enumerated().map { index, item in
            guard case .object(let fields) = item else {
                throw FixtureError(message: "message \(index + 1) must be a mapping")
            }
            func text(_ key: String) -> String? { if case .string(let value)? = fields[key] { value } else { nil } }
            guard let conversation = text("conversation") ?? text("to"),
                let target = configuration.target(conversation)
            else {
                throw FixtureError(
                    message: "message \(index + 1) needs a conversation: ACCOUNT:KIND/ID or a session label")
            }
            let number = startIndex + index + 1
            return InboundMessage(
                id: text("id") ?? "m\(number)", conversation: target.description, sender: text("sender") ?? "peer",
                text: text("text") ?? "", json: fields["json"], cursor: String(number), verified: true)
        }
    }

    public struct FixtureError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}

/// A value behind a lock, for state closures on other threads share.
public final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    public init(_ value: Value) {
        stored = value
    }

    public var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
