internal import ChildProcess
public import Foundation
public import Transport
public import Workflow

/// Runs `masumi-agent-messenger … --json --profile P` (masumi.md §2) and reads its envelope.
///
/// Each call is a child process with an explicit argv (no shell), an empty working directory (the CLI loads
/// `.env` files from there, §2.3), an explicit environment, a timeout after which the whole process group
/// is stopped, and at most one call at a time per configuration directory (the CLI rewrites `config.json`
/// without a lock, §2.5).
public struct MasumiCLI: Sendable {
    public var executable: String
    public var profile: String
    /// `XDG_CONFIG_HOME` for the child; nil keeps the caller's (or the CLI's own default).
    public var configHome: String?
    public var timeout: Duration
    /// Variables the child gets besides PATH, HOME, LANG and XDG_CONFIG_HOME (none of the caller's others).
    public var environment: [String: String]

    public init(
        executable: String = "masumi-agent-messenger", profile: String = "default", configHome: String? = nil,
        timeout: Duration = .seconds(60), environment: [String: String] = [:]
    ) {
        self.executable = executable
        self.profile = profile
        self.configHome = configHome
        self.timeout = timeout
        self.environment = environment
    }

    /// The network name in errors.
    static let network = "masumi"
    /// Bytes of stdout kept; the envelope of one page is far smaller.
    static let outputLimit = 16 << 20

    /// Runs one command: `arguments` are the command words, positionals and flags; `--json --profile P` are
    /// appended. Returns the envelope's `data`, or throws the CLI's exact `error.code` and message (exit 1: a
    /// user error; exit 2: connectivity, transient), `usage_error` for Commander's non-JSON errors,
    /// `invalid_output` for anything else unreadable, `timeout` when it ran too long.
    /// `trailing` positionals (a message text) go after `--`, where no word can be read as an option.
    public func run<T: Decodable>(
        _ arguments: [String], trailing: [String] = [], as type: T.Type
    ) async throws(NetworkError) -> T {
        let argv = arguments + ["--json", "--profile", profile] + (trailing.isEmpty ? [] : ["--"] + trailing)
        let directory = configDirectory
        let result = await ConfigLocks.shared.withLock(directory) {
            () async -> Result<(Int32, String, String), NetworkError> in
            // Other processes (an overlapping cron tick, a second workspace on the same profile) take the
            // same file lock beside the CLI's config.
            let file = await ConfigFileLock.acquire(directory: directory)
            defer { file?.release() }
            do throws(NetworkError) {
                return .success(try await spawn(argv))
            } catch {
                return .failure(error)
            }
        }
        let (status, stdout, stderr) = try result.get()
        let wrapped = try Self.envelope(status: status, stdout: stdout, stderr: stderr)
        do {
            let bytes = Data(stdout.utf8)
            return wrapped
                ? try JSONDecoder().decode(Envelope<T>.self, from: bytes).data
                : try JSONDecoder().decode(T.self, from: bytes)
        } catch {
            throw NetworkError(
                network: Self.network, code: "invalid_output",
                message: "\(arguments.prefix(2).joined(separator: " ")): unexpected data: \(Self.describe(error))",
                isTransient: false)
        }
    }

    struct Envelope<T: Decodable>: Decodable {
        var data: T
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// The CLI's configuration directory's parent, `$XDG_CONFIG_HOME/masumi-agent-messenger` (else
    /// `~/.config/masumi-agent-messenger`), as masumi.md §3 resolves it on Linux.
    public var configDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        let base =
            configHome ?? environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        return base + "/masumi-agent-messenger"
    }

    /// The child's environment: nothing inherited but what a Node program needs to start.
    var childEnvironment: [String: String] {
        let parent = ProcessInfo.processInfo.environment
        var env: [String: String] = ["PATH": parent["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", "NO_COLOR": "1"]
        for name in ["HOME", "LANG", "XDG_CONFIG_HOME"] { env[name] = parent[name] }
        if let configHome { env["XDG_CONFIG_HOME"] = configHome }
        env.merge(environment) { _, new in new }
        return env
    }

    private func spawn(_ argv: [String]) async throws(NetworkError) -> (Int32, String, String) {
        let output = try await ChildProcess.run(
            executable, argv, environment: childEnvironment, timeout: timeout, network: Self.network,
            outputLimit: Self.outputLimit)
        return (output.status, output.stdout, output.stderr)
    }

    /// Checks stdout is the CLI's success envelope (§2.2); throws its error (or the legacy flat error) with the
    /// error classes told apart. False when stdout is a bare success object without the envelope.
    @discardableResult
    static func envelope(status: Int32, stdout: String, stderr: String) throws(NetworkError) -> Bool {
        let trimmed = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let document = try? JSONDecoder().decode(Value.self, from: Data(trimmed.utf8))
        guard case .object(let object)? = document else {
            // Commander's own argument errors: `error: …` on stderr, exit 1, no JSON (§2.2).
            let firstLine = stderr.split(separator: "\n").first.map(String.init) ?? ""
            if status == 1, firstLine.hasPrefix("error:") {
                throw NetworkError(network: network, code: "usage_error", message: firstLine, isTransient: false)
            }
            let shown = trimmed.isEmpty ? "no output" : "output that is not the JSON envelope"
            throw NetworkError(
                network: network, code: "invalid_output",
                message: "exit \(status) with \(shown)" + (firstLine.isEmpty ? "" : "; stderr: \(firstLine)"),
                isTransient: status == 2)
        }
        if object["ok"] == .bool(true), status == 0, object["data"] != nil { return true }
        if case .object(let error)? = object["error"] {
            let code = error["code"]?.text ?? (status == 2 ? "CONNECTIVITY_ERROR" : "CLI_ERROR")
            let message = error["message"]?.text ?? "no message"
            try fail(code: code, message: message, status: status)
        }
        // The docs' older flat form `{"error": "…", "code": "…"}`.
        if let message = object["error"]?.text {
            try fail(code: object["code"]?.text ?? "CLI_ERROR", message: message, status: status)
        }
        if status == 0, object["ok"] == nil { return false }
        throw NetworkError(
            network: network, code: "invalid_output", message: "exit \(status) with an envelope that has no error",
            isTransient: status == 2)
    }

    private static func fail(code: String, message: String, status: Int32) throws(NetworkError) -> Never {
        // Exit 2 is connectivity (§2.2): worth another try, after reconciling when it was a write.
        throw NetworkError(network: network, code: code, message: message, isTransient: status == 2)
    }
}

extension Value {
    fileprivate var text: String? {
        if case .string(let text) = self { text } else { nil }
    }
}

/// One CLI call at a time per configuration directory, in this process (masumi.md §2.5); ``ConfigFileLock``
/// extends it to other processes.
actor ConfigLocks {
    static let shared = ConfigLocks()
    private var busy: Set<String> = []
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async -> T) async -> T {
        while busy.contains(key) {
            await withCheckedContinuation { waiters[key, default: []].append($0) }
        }
        busy.insert(key)
        let result = await body()
        busy.remove(key)
        if var queue = waiters[key], !queue.isEmpty {
            queue.removeFirst().resume()
            waiters[key] = queue.isEmpty ? nil : queue
        }
        return result
    }
}

/// `flock` on `.switchboard-cli.lock` in the CLI's configuration directory, so calls from several switchboard
/// processes sharing one directory take turns too. Nothing is locked while the directory does not exist
/// (the CLI has no configuration there to lose). The lock goes with the open file, so a killed process
/// never leaves it held.
public struct ConfigFileLock: Sendable {
    public static let name = ".switchboard-cli.lock"
    let descriptor: Int32

    /// Waits for the lock, polling every 20 ms so no thread blocks; nil when there is nothing to lock.
    public static func acquire(directory: String) async -> ConfigFileLock? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else { return nil }
        let descriptor = open(directory + "/" + name, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, !Task.isCancelled else {
                close(descriptor)
                return nil
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return ConfigFileLock(descriptor: descriptor)
    }

    /// Unlocks and closes.
    public func release() {
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
