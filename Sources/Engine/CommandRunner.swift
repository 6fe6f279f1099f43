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

    /// Output beyond this is cut: a runaway child cannot fill memory.
    static let outputLimit = 1 << 20

    /// `argv[0]` relative to `directory` when it has a slash, else searched in `PATH`. Failures to start,
    /// and timeouts, are ``NetworkError``s of network `command` (codes `not_found`, `timeout`).
    public static func run(
        _ argv: [String], stdin: Data, timeout: TimeInterval, directory: String, environment: [String: String]
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw NetworkError(
                network: "command", code: "not_found",
                message: "\(program) could not start: \(error.localizedDescription)",
                isTransient: false)
        }
        let result: (Output, Bool) = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let timer = DispatchSource.makeTimerSource()
                nonisolated(unsafe) var timedOut = false
                timer.schedule(deadline: .now() + timeout)
                timer.setEventHandler {
                    timedOut = true
                    process.terminate()
                    DispatchQueue.global().asyncAfter(deadline: .now() + 2) {
                        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                    }
                }
                timer.resume()
                // Feed stdin from another thread so a child that writes before reading cannot deadlock us.
                DispatchQueue.global().async {
                    try? input.fileHandleForWriting.write(contentsOf: stdin)
                    try? input.fileHandleForWriting.close()
                }
                let errorData = LockedBox(Data())
                let errorReader = DispatchGroup()
                errorReader.enter()
                DispatchQueue.global().async {
                    errorData.value = (try? errors.fileHandleForReading.read(upToCount: outputLimit)) ?? Data()
                    _ = try? errors.fileHandleForReading.readToEnd()
                    errorReader.leave()
                }
                let outputData = (try? output.fileHandleForReading.read(upToCount: outputLimit)) ?? Data()
                _ = try? output.fileHandleForReading.readToEnd()
                process.waitUntilExit()
                errorReader.wait()
                timer.cancel()
                continuation.resume(
                    returning: (
                        Output(
                            exitCode: process.terminationStatus,
                            stdout: String(decoding: outputData, as: UTF8.self),
                            stderr: String(decoding: errorData.value, as: UTF8.self)), timedOut
                    ))
            }
        }
        if result.1 {
            throw NetworkError(
                network: "command", code: "timeout", message: "\(program) did not finish within \(Int(timeout)) s",
                isTransient: true)
        }
        return result.0
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

final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) {
        stored = value
    }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
