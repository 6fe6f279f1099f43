// Polls many Nexus sessions with one new message each through NexusClient, for scripts/bench-nexus.
//
//   nexus-bench URL COUNT IDS_FILE
//
// Sets up COUNT sessions (created by "bench", one message each), writes their ids to IDS_FILE, then polls
// every session once (`after=0`: the one new message), all concurrently through one client, and prints
// {"requests", "seconds", "per_second", "p50_ms", "p99_ms"}.
import Foundation
import Nexus
import Transport

let arguments = CommandLine.arguments
guard arguments.count == 4, let count = Int(arguments[2]), count > 0 else {
    FileHandle.standardError.write(Data("usage: nexus-bench URL COUNT IDS_FILE\n".utf8))
    exit(2)
}
let keys = SessionKeyStore(directory: NSTemporaryDirectory() + "nexus-bench-\(UUID().uuidString)")
let client = NexusClient(server: arguments[1], agentID: "bench", keys: keys)

do {
    var sessions: [String] = []
    for index in 0..<count {
        let session = try await client.createSession().sessionId
        _ = try await client.send(session: session, text: "message \(index)")
        sessions.append(session)
    }
    try sessions.joined(separator: "\n").write(toFile: arguments[3], atomically: true, encoding: .utf8)

    let started = ContinuousClock.now
    let latencies = try await withThrowingTaskGroup(of: Double.self) { group in
        for session in sessions {
            group.addTask {
                let start = ContinuousClock.now
                let result = try await client.poll(session: session, after: Cursor("0"))
                precondition(result.messages.count == 1, "each session holds one new message")
                let elapsed = ContinuousClock.now - start
                return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            }
        }
        var all: [Double] = []
        for try await latency in group { all.append(latency) }
        return all.sorted()
    }
    let total = ContinuousClock.now - started
    let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
    func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
    print(
        String(
            format: "{\"requests\":%d,\"seconds\":%.4f,\"per_second\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f}",
            latencies.count, seconds, Double(latencies.count) / seconds, percentile(0.5), percentile(0.99)))
} catch {
    FileHandle.standardError.write(Data("nexus-bench: \(error)\n".utf8))
    exit(1)
}
