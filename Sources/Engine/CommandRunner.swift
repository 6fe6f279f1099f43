internal import ChildProcess
public import Foundation
public import Transport

/// Runs responders, `run:` steps and command channels: an explicit argv (no shell), JSON on stdin, a
/// timeout, a working directory and only the environment given. A non-zero exit is a normal result here;
/// callers decide what it means.
public enum CommandRunner {
    public struct Output: Sendable {
        public var exitCode: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The code of the error a child not started because of a stop throws (`proceed` said no).
    public static let stoppedCode = "stopped"

    /// Output beyond this is cut: a runaway child cannot fill memory.
    static let outputLimit = 1 << 20

    /// `argv[0]` relative to `directory` when it has a slash, else searched in `PATH`. Failures to start,
    /// and timeouts, are ``NetworkError``s of network `command` (codes `not_found`, `timeout`). It waits for a
    /// free ``ChildSlots`` slot first; the timeout counts from the start of the child.
    ///
    /// `proceed` is asked once the slot is granted: false leaves the child unstarted and throws `stopped` (a
    /// stop was asked while it waited for a slot).
    public static func run(
        _ argv: [String], stdin: Data, timeout: TimeInterval, directory: String, environment: [String: String],
        proceed: (@Sendable () -> Bool)? = nil
    ) async throws(NetworkError) -> Output {
        guard let program = argv.first, !program.isEmpty else {
            throw NetworkError(
                network: "command", code: "empty_command", message: "no program to run", isTransient: false)
        }
        let executable: String
        if program.contains("/") {
            executable = program.hasPrefix("/") ? program : (directory as NSString).appendingPathComponent(program)
        } else {
            let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            executable =
                path.split(separator: ":").map { "\($0)/\(program)" }.first {
                    FileManager.default.isExecutableFile(atPath: $0)
                }
                ?? program
        }
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw NetworkError(
                network: "command", code: "not_found", message: "\(program) is not an executable file",
                isTransient: false)
        }
        let output = try await ChildSlots.shared.run { () throws(NetworkError) -> CapturedRun.Output in
            if let proceed, !proceed() {
                throw NetworkError(
                    network: "command", code: stoppedCode,
                    message: "\(program) was not started: switchboard is stopping",
                    isTransient: true)
            }
            do throws(CapturedRun.SpawnError) {
                return try await withCheckedContinuation { continuation in
                    // It blocks in `poll` and `waitpid` for as long as the child runs: on a thread of its own.
                    // Not a dispatch worker: on Linux those are the threads Swift's tasks run on too, and eight
                    // children blocking them held every conversation up until dispatch added threads.
                    Thread {
                        continuation.resume(
                            returning: Result { () throws(CapturedRun.SpawnError) in
                                try CapturedRun.run(
                                    executable: executable, arguments: Array(argv.dropFirst()),
                                    environment: environment, directory: directory, stdin: stdin, timeout: timeout,
                                    outputLimit: outputLimit)
                            })
                    }.start()
                }.get()
            } catch {
                throw NetworkError(
                    network: "command", code: "not_found", message: "\(program) could not start: \(error.message)",
                    isTransient: false)
            }
        }
        if output.timedOut {
            throw NetworkError(
                network: "command", code: "timeout", message: "\(program) did not finish within \(Int(timeout)) s",
                isTransient: true)
        }
        return Output(
            exitCode: output.status, stdout: String(decoding: output.stdout, as: UTF8.self),
            stderr: String(decoding: output.stderr, as: UTF8.self))
    }

    /// The environment a child gets: a few basics from ours, then what the workflow sets.
    public static func environment(adding extra: [String: String]) -> [String: String] {
        let inherited = ProcessInfo.processInfo.environment
        var environment: [String: String] = [:]
        for name in ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"] { environment[name] = inherited[name] }
        environment.merge(extra) { _, new in new }
        return environment
    }
}
