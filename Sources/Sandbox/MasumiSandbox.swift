public import Foundation
internal import Workflow

/// A stand-in for the masumi-agent-messenger backend and CLI, written from protocols/masumi.md (§2.2, §6, §7,
/// §11's test-double list), never from the client's code. One instance holds every inbox, agent, thread and
/// channel, so several agents driven through several CLI processes talk to each other; ``run(argv:)`` is one CLI
/// invocation: argv in, stdout, stderr and the exit code out, with the envelope and quirks of 0.0.22.
public final class MasumiSandbox: @unchecked Sendable {
    public struct Options: Sendable {
        /// The 25-thread view and 25-message pages of §7.1 and §7.3 (off: every thread is visible).
        public var recentThreadView = true
        public var version = "0.0.22"
        public init() {}
    }

    /// An injected failure for one CLI command (`thread reply`, `channel send`, …), on its nth call from now.
    public struct Fault: Sendable {
        public enum Effect: Sendable {
            /// The envelope error `code` with `exitCode`; when `persist` is set the write happens first (the
            /// "stored but timed out" case of §7.4).
            case error(code: String, exitCode: Int32, persist: Bool)
            /// Output that is not the envelope.
            case garbage
            /// Half an envelope.
            case truncated
            /// Sleeps this long before answering.
            case latency(Double)
        }
        public var command: String
        public var effect: Effect
        /// 1: the next call of `command`.
        public var nth: Int
        public init(command: String, effect: Effect, nth: Int = 1) {
            self.command = command
            self.effect = effect
            self.nth = nth
        }
    }

    public struct Output: Sendable, Codable {
        public var stdout: String
        public var stderr: String
        public var status: Int32
        /// Seconds the caller should wait before answering (an injected latency).
        public var delay: Double?
    }

    public var options: Options {
        get { lock.withLock { state.options } }
        set { lock.withLock { state.options = newValue } }
    }

    private let lock = NSLock()
    private var state: State
    private let clock: @Sendable () -> Date

    public init(options: Options = Options(), clock: @escaping @Sendable () -> Date = { Date() }) {
        state = State(options: options)
        self.clock = clock
    }

    /// A profile (one login: one inbox) with its agents; the first agent is the inbox's default.
    public func addInbox(profile: String, email: String, agents: [String]) {
        lock.withLock {
            state.profiles[profile] = email
            for (index, slug) in agents.enumerated() {
                let id = state.newID()
                state.agents[slug] = Agent(id: id, slug: slug, email: email, isDefault: index == 0)
            }
        }
    }

    /// A channel with members (read-write).
    public func addChannel(slug: String, members: [String]) {
        lock.withLock {
            state.nextID += 1
            state.channels[slug] = Channel(id: String(state.nextID), slug: slug, members: Set(members))
        }
    }

    public func inject(_ fault: Fault) {
        lock.withLock { state.faults.append(fault) }
    }

    /// How many CLI invocations it answered, per command (`thread show` → 60).
    public func invocations() -> [String: Int] {
        lock.withLock { state.invocations }
    }

    /// A message as another agent would send it, without a CLI call (for tests and the demo).
    @discardableResult
    public func deliver(from sender: String, toThread thread: String, text: String) -> String? {
        lock.withLock {
            guard state.threads[thread] != nil else { return nil }
            return state.append(thread: thread, sender: sender, text: text, now: clock()).id
        }
    }

    /// A direct thread between two agents, created as `thread start` would (no approval).
    public func directThread(_ first: String, _ second: String) -> String {
        lock.withLock {
            state.approved.insert(State.pair(first, second))
            return state.directThread(first, second, now: clock())
        }
    }

    public func threadMessages(_ thread: String) -> [(sender: String, text: String)] {
        lock.withLock { state.threads[thread]?.messages.map { ($0.sender, $0.text) } ?? [] }
    }

    // MARK: - The CLI

    /// One invocation of the CLI: argv without the program name.
    public func run(argv: [String]) -> Output {
        lock.withLock {
            var invocation = Invocation(argv: argv)
            return invocation.execute(&state, now: clock())
        }
    }

    // MARK: - State

    struct Agent {
        var id: String
        var slug: String
        var email: String
        var isDefault: Bool
    }

    struct Message {
        var id: String
        var seq: Int
        var sender: String
        var text: String
        var createdAt: Date
        var secretVersion: Int
    }

    struct Thread {
        var id: String
        var kind: String
        var title: String?
        var participants: [String]
        var messages: [Message] = []
        var lastRead: [String: Int] = [:]
        var archived: Set<String> = []
        var lastMessageAt: Date
        var label: String { title ?? "Thread \(id)" }
        var lastSeq: Int { messages.last?.seq ?? 0 }
    }

    struct ContactRequest {
        var id: String
        var threadID: String
        var from: String
        var to: String
        var text: String
        var status: String
        var createdAt: Date
    }

    struct Channel {
        var id: String
        var slug: String
        var members: Set<String>
        var messages: [(id: String, seq: Int, sender: String, text: String, createdAt: Date)] = []
    }

    struct State {
        var options: Options
        var profiles: [String: String] = [:]
        var agents: [String: Agent] = [:]
        var threads: [String: Thread] = [:]
        var requests: [ContactRequest] = []
        var approved: Set<String> = []
        var channels: [String: Channel] = [:]
        var faults: [Fault] = []
        var invocations: [String: Int] = [:]
        var nextID = 1000
        var nextRequestThread: UInt64 = 9_223_372_036_854_775_808

        static func pair(_ a: String, _ b: String) -> String { [a, b].sorted().joined(separator: "\u{0}") }

        mutating func newID() -> String {
            nextID += 1
            return String(nextID)
        }

        mutating func append(thread: String, sender: String, text: String, now: Date) -> Message {
            let seq = (threads[thread]?.lastSeq ?? 0) + 1
            let message = Message(id: newID(), seq: seq, sender: sender, text: text, createdAt: now, secretVersion: seq)
            threads[thread]?.messages.append(message)
            threads[thread]?.lastMessageAt = now
            // The sender's own read state moves forward on send (§11).
            threads[thread]?.lastRead[sender] = seq
            return message
        }

        mutating func directThread(_ first: String, _ second: String, now: Date) -> String {
            if let existing = threads.values.filter({
                $0.kind == "direct" && Set($0.participants) == Set([first, second])
            }).max(by: { $0.lastMessageAt < $1.lastMessageAt }) {
                return existing.id
            }
            let id = newID()
            threads[id] = Thread(id: id, kind: "direct", participants: [first, second], lastMessageAt: now)
            return id
        }

        /// §7.1: the 25 most recently active threads of the whole inbox (all its agents).
        func visibleThreads(of agent: String) -> Set<String> {
            let email = agents[agent]?.email
            let mine = threads.values.filter { thread in
                thread.participants.contains { agents[$0]?.email == email }
            }
            let sorted = mine.sorted { ($0.lastMessageAt, $0.id) > ($1.lastMessageAt, $1.id) }
            return Set((options.recentThreadView ? Array(sorted.prefix(25)) : sorted).map(\.id))
        }
    }
}

// MARK: - Ordered JSON, as JSON.stringify(value, null, 2) writes it

indirect enum OrderedJSON {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([OrderedJSON])
    case object([(String, OrderedJSON)])

    static func optional(_ text: String?) -> OrderedJSON { text.map { .string($0) } ?? .null }
    static func stamp(_ date: Date) -> OrderedJSON { .string(Timestamp.format(date)) }

    func render(indent: String = "") -> String {
        switch self {
        case .string(let text): return Self.quote(text)
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .array(let items):
            if items.isEmpty { return "[]" }
            let inner = indent + "  "
            return "[\n" + items.map { inner + $0.render(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            let inner = indent + "  "
            return "{\n"
                + members.map { inner + Self.quote($0.0) + ": " + $0.1.render(indent: inner) }.joined(separator: ",\n")
                + "\n\(indent)}"
        }
    }

    static func quote(_ text: String) -> String {
        JSONText.encode(.string(text))
    }
}
