public import Foundation
internal import Subprocess
public import Transport

#if canImport(System)
    internal import System
#else
    internal import SystemPackage
#endif

/// One run of a network's command-line tool (the masumi CLI, the TransmissionBot CLI) through swift-subprocess:
/// an explicit argv (no shell), an empty working directory of its own (such tools load `.env` files from
/// there), only the environment given, and a timeout after which the whole process group is stopped.
public enum ChildProcess {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `executable` (a path, or a name looked up in PATH) with `arguments`; throws `timeout` (transient:
    /// the tool may have done its work) or `spawn_failed` as the `network`'s error.
    /// It waits for a free ``ChildSlots`` slot first; the timeout counts from the start of the child.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration,
        network: String, outputLimit: Int = 16 << 20
    ) async throws(NetworkError) -> Output {
        try await ChildSlots.shared.run { () throws(NetworkError) in
            try await runNow(
                executable, arguments, environment: environment, timeout: timeout, network: network,
                outputLimit: outputLimit)
        }
    }

    private static func runNow(
        _ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration,
        network: String, outputLimit: Int
    ) async throws(NetworkError) -> Output {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "switchboard-child-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw NetworkError(
                network: network, code: "spawn_failed", message: "cannot create a working directory: \(error)",
                isTransient: true)
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = PlatformOptions()
        options.createSession = true
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(2))]
        let program: Executable = executable.contains("/") ? .path(FilePath(executable)) : .name(executable)
        let childEnvironment = Environment.custom(
            Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, $0.value) }))
        let workingDirectory = FilePath(directory.path)
        let platformOptions = options
        let outcome: Result<Output, NetworkError>? = await withTaskGroup(of: Result<Output, NetworkError>?.self) {
            group in
            group.addTask {
                do {
                    let result = try await Subprocess.run(
                        program, arguments: Arguments(arguments), environment: childEnvironment,
                        workingDirectory: workingDirectory, platformOptions: platformOptions, input: .none,
                        output: .string(limit: outputLimit), error: .string(limit: 1 << 20))
                    let status: Int32 =
                        switch result.terminationStatus {
                        case .exited(let code): code
                        case .signaled(let signal): 128 + signal
                        }
                    return .success(
                        Output(status: status, stdout: result.standardOutput ?? "", stderr: result.standardError ?? ""))
                } catch is CancellationError {
                    return nil
                } catch {
                    if Task.isCancelled { return nil }
                    return .failure(
                        NetworkError(
                            network: network, code: "spawn_failed", message: "cannot run \(executable): \(error)",
                            isTransient: false))
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let outcome else {
            throw NetworkError(
                network: network, code: "timeout",
                message:
                    "\(arguments.prefix(2).joined(separator: " ")) did not finish within \(timeout); it was stopped",
                isTransient: true)
        }
        return try outcome.get()
    }
}
