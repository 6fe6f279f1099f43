public import Foundation
public import Transport
public import Workflow

/// What a command is run for: dry runs answer each kind from fixtures.
public enum CommandPurpose: Sendable, Equatable {
    case responder
    case step(String)
    case channel(String)
}

/// The effects that stay on this machine or go to a webhook: the other half of "every effect goes through
/// one interface" (DESIGN.md §3.5), with ``Messenger`` for the networks. `plan` and `test` swap in
/// ``RecordingEffects``, so a dry run cannot post a webhook or start a command.
public protocol LocalEffects: Sendable {
    func post(_ request: HTTPRequest) async throws(NetworkError) -> HTTPResponse
    /// `proceed`: see ``CommandRunner/run(_:stdin:timeout:directory:environment:proceed:)``.
    func command(
        _ argv: [String], stdin: Data, timeout: TimeInterval, directory: String, environment: [String: String],
        purpose: CommandPurpose, proceed: (@Sendable () -> Bool)?
    ) async throws(NetworkError) -> CommandRunner.Output
}

/// The real thing: libcurl and child processes.
public struct LiveEffects: LocalEffects {
    let http: HTTPClient

    public init(http: HTTPClient = .shared) {
        self.http = http
    }

    public func post(_ request: HTTPRequest) async throws(NetworkError) -> HTTPResponse {
        do throws(TransportError) {
            return try await http.send(request)
        } catch {
            throw NetworkError(network: "webhook", transport: error)
        }
    }

    public func command(
        _ argv: [String], stdin: Data, timeout: TimeInterval, directory: String, environment: [String: String],
        purpose: CommandPurpose, proceed: (@Sendable () -> Bool)?
    ) async throws(NetworkError) -> CommandRunner.Output {
        try await CommandRunner.run(
            argv, stdin: stdin, timeout: timeout, directory: directory, environment: environment, proceed: proceed)
    }
}

/// Dry runs: webhooks answer 200 and commands succeed without running; the responder and `run` steps answer
/// from fixtures (in order), or with a placeholder that names what would have run.
public final class RecordingEffects: LocalEffects, @unchecked Sendable {
    private let lock = NSLock()
    private var responderOutputs: [String]
    private var stepOutputs: [String: [String]]

    public init(responderOutputs: [String] = [], stepOutputs: [String: [String]] = [:]) {
        self.responderOutputs = responderOutputs
        self.stepOutputs = stepOutputs
    }

    public func post(_ request: HTTPRequest) async throws(NetworkError) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [:], body: Data())
    }

    public func command(
        _ argv: [String], stdin: Data, timeout: TimeInterval, directory: String, environment: [String: String],
        purpose: CommandPurpose, proceed: (@Sendable () -> Bool)?
    ) async throws(NetworkError) -> CommandRunner.Output {
        let text: String = lock.withLock {
            switch purpose {
            case .responder:
                if !responderOutputs.isEmpty { return responderOutputs.removeFirst() }
                return "(responder reply)"
            case .step(let name):
                if var outputs = stepOutputs[name], !outputs.isEmpty {
                    let first = outputs.removeFirst()
                    stepOutputs[name] = outputs
                    return first
                }
                return "(output of \(argv.joined(separator: " ")))"
            case .channel: return ""
            }
        }
        return CommandRunner.Output(exitCode: 0, stdout: text, stderr: "")
    }
}

/// A ``Messenger`` for dry runs: polls return the fixture messages of each source once, sends succeed and
/// reach nothing.
public final class FixtureMessenger: Messenger, @unchecked Sendable {
    public let account: String
    private let lock = NSLock()
    private var pending: [InboundMessage]
    private var sent = 0

    public init(account: String, messages: [InboundMessage]) {
        self.account = account
        pending = messages
    }

    public func add(_ messages: [InboundMessage]) {
        lock.withLock { pending += messages }
    }

    public func poll(_ source: Target, after cursor: String?) async throws(NetworkError) -> PollBatch {
        lock.withLock {
            let covered: (InboundMessage) -> Bool = { message in
                guard let target = try? Target.parse(message.conversation).get() else { return false }
                if source.kind == .inbox { return target.account == source.account }
                return source.covers(target) || source == target
            }
            let batch = pending.filter(covered)
            pending.removeAll(where: covered)
            return PollBatch(messages: batch, cursor: batch.last?.cursor ?? cursor)
        }
    }

    public func acknowledge(_ source: Target, through cursor: String?) async throws(NetworkError) {}

    public func send(text: String, json: Value?, to target: Target) async throws(NetworkError) -> String? {
        lock.withLock {
            sent += 1
            return "fixture-\(sent)"
        }
    }

    public func maintain(
        _ source: Target, knownExpiry: Date?, pollInterval: TimeInterval, now: Date
    )
        async throws(NetworkError) -> SessionExpiry?
    { nil }

    public func reconcile(digest: String, to target: Target, since: Date) async throws(NetworkError) -> Bool? { false }
}
