import Foundation
import Nexus
import TestSupport
import Transport

/// Runs the built `switchboard` executable, as a user or a CI job would.
struct Binary {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The executable sits next to the test bundle in the build's products directory.
    static let url = product("switchboard")

    /// An executable of this package, from the build's products directory next to the test bundle.
    static func product(_ name: String) -> URL {
        let testExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = testExecutable.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        fatalError("\(name) executable not found near \(testExecutable.path)")
    }

    /// The repository's root, for the shipped examples.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `input` is written to its standard input (closed after; none: the null device). `executable` is switchboard
    /// unless another program (a recipe's script, a checker) is given.
    static func run(
        _ arguments: [String], executable: URL = url, in directory: URL? = nil, environment: [String: String] = [:],
        input: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory ?? repository
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            try stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Drain stdout on another thread while this one drains stderr, so neither pipe can fill and block.
        let stdoutData = LockedData()
        let reader = Thread { stdoutData.set(out.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !stdoutData.isSet { usleep(1000) }
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdoutData.value, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// `run` for async tests: the wait happens on a thread of its own, never on one of the few threads of the
    /// cooperative pool, which the in-process sandbox servers need to answer the very process being waited for.
    static func run(
        async arguments: [String], in directory: URL? = nil, environment: [String: String] = [:],
        input: String? = nil
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Swift.Result { try run(arguments, in: directory, environment: environment, input: input) })
            }.start()
        }
    }

    /// Writes files under a fresh temporary directory and returns it.
    static func workspace(_ files: [String: String]) throws -> URL {
        let root = testTemporaryDirectory.appendingPathComponent(
            "switchboard-test-\(UUID().uuidString)")
        for (path, contents) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root
    }
}

private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?

    func set(_ value: Data) { lock.withLock { data = value } }
    var isSet: Bool { lock.withLock { data != nil } }
    var value: Data { lock.withLock { data ?? Data() } }
}

extension NexusClient {
    /// The other side of a conversation in a test: agent `peer` on `server`, keys in a fresh directory.
    static func testPeer(server: String) -> NexusClient {
        NexusClient(
            server: server, agentID: "peer",
            keys: SessionKeyStore(
                directory: testTemporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString)")
                    .path),
            http: HTTPClient(connections: 1))
    }
}
