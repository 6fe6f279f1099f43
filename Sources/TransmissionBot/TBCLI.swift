internal import ChildProcess
public import Foundation
public import Transport

/// The official `transmissionbot` CLI (transmissionbot.md §9), for `driver: cli`: the real service's envelope
/// format is not public, so its own CLI does the crypto. Each call is `EXECUTABLE --state PATH --quiet ARGS`
/// as a child process (explicit argv, a text after `--`, an empty working directory, PATH, HOME, LANG and
/// TRANSMISSIONBOT_QUIET only, a timeout). Exit codes (§9.4): 0 ok with JSON on stdout, 1 usage, 2 the API's
/// error envelope on stderr (its exact code), 3 a crypto error.
public struct TBCLI: Sendable {
    public var executable: String
    public var statePath: String
    public var timeout: Duration

    public init(executable: String = "transmissionbot", statePath: String, timeout: Duration = .seconds(60)) {
        self.executable = executable
        self.statePath = statePath
        self.timeout = timeout
    }

    public struct Message: Decodable, Sendable, Equatable {
        public var message_id: String
        public var from: String?
        public var from_handle: String?
        public var plaintext: String?
        public var error: String?
    }

    public struct ContactRequest: Decodable, Sendable, Equatable {
        public var from: String
        public var request_id: String
        public var message: String?
    }

    public struct Received: Decodable, Sendable {
        public var messages: [Message]
        public var contact_requests: [ContactRequest]?
    }

    /// `receive` (acknowledging what it returns) or `receive --no-ack`.
    public func receive(acknowledge: Bool) async throws(NetworkError) -> Received {
        try await run(["receive"] + (acknowledge ? [] : ["--no-ack"]), as: Received.self)
    }

    public struct Sent: Decodable, Sendable {
        public var message_id: String?
    }

    public func send(text: String, to recipient: String) async throws(NetworkError) -> Sent {
        try await run(["send", recipient], trailing: [text], as: Sent.self)
    }

    public func acceptContact(_ requestID: String) async throws(NetworkError) {
        struct Answer: Decodable {}
        _ = try await run(["contacts", "accept", requestID], as: Answer.self)
    }

    var environment: [String: String] {
        let parent = ProcessInfo.processInfo.environment
        var env = ["PATH": parent["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", "TRANSMISSIONBOT_QUIET": "1"]
        for name in ["HOME", "LANG"] { env[name] = parent[name] }
        return env
    }

    /// One command; `trailing` (a message text) goes after `--`, where nothing is read as an option.
    public func run<T: Decodable>(
        _ arguments: [String], trailing: [String] = [], as type: T.Type
    ) async throws(NetworkError) -> T {
        let argv =
            ["--state", statePath, "--quiet"] + arguments + (trailing.isEmpty ? [] : ["--"] + trailing)
        let output = try await ChildProcess.run(
            executable, argv, environment: environment, timeout: timeout, network: TBClient.network)
        let command = arguments.prefix(2).joined(separator: " ")
        guard output.status == 0 else {
            throw Self.error(status: output.status, stderr: output.stderr, command: command)
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(output.stdout.utf8))
        } catch {
            throw NetworkError(
                network: TBClient.network, code: "invalid_output",
                message: "\(command): the CLI's output is not the documented JSON", isTransient: false)
        }
    }

    static func error(status: Int32, stderr: String, command: String) -> NetworkError {
        struct Envelope: Decodable {
            struct Body: Decodable {
                var code: String
                var message: String?
                var status: Int?
            }
            var error: Body
        }
        let firstLine = stderr.split(separator: "\n").first.map(String.init) ?? ""
        switch status {
        case 2:
            let trimmed = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            if let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(trimmed.utf8)) {
                let httpStatus = envelope.error.status
                return NetworkError(
                    network: TBClient.network, code: envelope.error.code,
                    message: envelope.error.message ?? envelope.error.code, status: httpStatus,
                    isTransient: httpStatus.map { $0 == 429 || $0 >= 500 } ?? true)
            }
            return NetworkError(
                network: TBClient.network, code: "api_error", message: "\(command): \(firstLine)", isTransient: true)
        case 3:
            return NetworkError(
                network: TBClient.network, code: "crypto_error", message: "\(command): \(firstLine)",
                isTransient: false)
        case 1:
            return NetworkError(
                network: TBClient.network, code: "usage_error", message: "\(command): \(firstLine)",
                isTransient: false)
        default:
            return NetworkError(
                network: TBClient.network, code: "exit_\(status)", message: "\(command): \(firstLine)",
                isTransient: false)
        }
    }
}
