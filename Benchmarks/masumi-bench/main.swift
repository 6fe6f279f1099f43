import Engine
import Foundation
import Masumi
import Sandbox
import Transport
import Workflow

// Benchmark (not a test) for scripts/bench-masumi: the masumi client's overhead around one CLI call, and an
// unread sweep of 60 threads, against the sandbox's stand-in for the CLI (STANDIN: the `switchboard` binary
// that answers `__masumi-sandbox-cli`). Prints one JSON object.
//
//   masumi-bench SWITCHBOARD [CALLS]

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: masumi-bench SWITCHBOARD [CALLS]\n".utf8))
    exit(2)
}
let switchboard = arguments[1]
let calls = arguments.count > 2 ? Int(arguments[2]) ?? 50 : 50

let sandbox = MasumiSandbox()
sandbox.addInbox(profile: "default", email: "bot@bench.invalid", agents: ["bot"])
var peers: [String] = []
for index in 0..<60 {
    let slug = "agent-\(index)"
    sandbox.addInbox(profile: "p\(index)", email: "\(slug)@bench.invalid", agents: [slug])
    let thread = sandbox.directThread("bot", slug)
    sandbox.deliver(from: slug, toThread: thread, text: "hello from \(slug)")
    peers.append(thread)
}
let server = try await SandboxServer.start(nexus: NexusSandbox(), masumi: sandbox)
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("masumi-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }
let script = directory.appendingPathComponent("masumi-agent-messenger")
try Data("#!/bin/sh\nexec '\(switchboard)' __masumi-sandbox-cli '\(server.url)' \"$@\"\n".utf8).write(to: script)
try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func median(_ samples: [Double]) -> Double { samples.sorted()[samples.count / 2] }

// The same command, the bare way: the script run by Process, output read, nothing parsed.
let thread = peers[0]
var raw: [Double] = []
for _ in 0..<calls {
    raw.append(
        await seconds {
            let process = Process()
            process.executableURL = script
            process.arguments = ["thread", "count", thread, "--agent", "bot", "--json", "--profile", "default"]
            let output = Pipe()
            process.standardOutput = output
            try? process.run()
            _ = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
        })
}
// Through MasumiClient: argv, working directory, environment, lock, timeout race, envelope, decoding.
let client = MasumiClient(cli: MasumiCLI(executable: script.path, profile: "default"), agent: "bot")
var wrapped: [Double] = []
for _ in 0..<calls {
    wrapped.append(await seconds { _ = try? await client.count(thread: thread) })
}
// The complete unread sweep of `ms:inbox`.
let before = sandbox.invocations()
let messenger = MasumiMessenger(account: "ms", client: client)
var found = 0
let sweep = try await seconds {
    found = try await messenger.poll(Target(account: "ms", kind: .inbox, id: nil), after: nil).messages.count
}
let after = sandbox.invocations()
let invocations = after.reduce(0) { $0 + $1.value } - before.reduce(0) { $0 + $1.value }
await server.stop()

let result: [String: Any] = [
    "calls": calls,
    "raw_ms_median": median(raw) * 1000,
    "client_ms_median": median(wrapped) * 1000,
    "overhead_ms": (median(wrapped) - median(raw)) * 1000,
    "sweep_threads": 60,
    "sweep_messages": found,
    "sweep_ms": sweep * 1000,
    "sweep_invocations": invocations,
    "sweep_list_calls": after["thread list", default: 0] - before["thread list", default: 0],
    "sweep_show_calls": after["thread show", default: 0] - before["thread show", default: 0],
]
let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
print(String(decoding: data, as: UTF8.self))
