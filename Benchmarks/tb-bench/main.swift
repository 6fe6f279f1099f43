import Foundation
import Sandbox
import TransmissionBot
import Transport

// Benchmark (not a test) for scripts/bench-transmissionbot: TBX-1 through the sandbox TransmissionBot server.
// Encrypt+send and receive+decrypt messages per second between two agents, and the cost of a session's first
// message (bundle fetch, PQXDH, ML-KEM encapsulation) against later ones. Every send and receive saves the
// state file (atomic, fsync) before going on, as the client always does. Prints one JSON object.
//
//   tb-bench [MESSAGES] [FIRST_CONTACTS]

let arguments = CommandLine.arguments
let count = arguments.count > 1 ? Int(arguments[1]) ?? 500 : 500
let firsts = arguments.count > 2 ? Int(arguments[2]) ?? 20 : 20

var options = TransmissionBotSandbox.Options()
options.requestsPerMinute = nil
options.bundleFetchesPerHour = nil
let server = try await SandboxServer.start(transmissionBot: TransmissionBotSandbox(options: options))
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tb-bench-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: directory) }
let http = HTTPClient(connections: 4)

func agent(_ handle: String) async throws -> TBClient {
    let file = TBStateFile(path: directory.appendingPathComponent("\(handle).json").path)
    let client = TBClient(server: server.url, state: TBState(), file: file, http: http)
    try await client.register(handle: handle, oneTimePrekeys: 100, pqPrekeys: 100)
    return client
}

func connect(_ a: TBClient, _ b: TBClient) async throws {
    _ = try await a.requestContact(b.state.agentID!, message: "bench")
    let pending = try await b.contacts(state: "pending_incoming")
    _ = try await b.respond(
        toRequest: pending.first { $0.other_agent_id == a.state.agentID }!.request_id!, action: "accept")
}

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

let alice = try await agent("alice")
let bob = try await agent("bob")
try await connect(alice, bob)
let bobID = bob.state.agentID!

// First messages: from fresh senders, each one a new session (bundle + PQXDH + send).
var senders: [TBClient] = []
for index in 0..<firsts {
    let sender = try await agent("sender\(index)")
    try await connect(sender, bob)
    senders.append(sender)
}
var firstTimes: [Double] = []
for sender in senders {
    firstTimes.append(try await seconds { try await sender.send(text: "first", to: bobID) })
}
var laterTimes: [Double] = []
for sender in senders {
    laterTimes.append(try await seconds { try await sender.send(text: "later", to: bobID) })
}
// Drain what the first-message round queued.
while true {
    let batch = try await bob.receive()
    if batch.isEmpty { break }
    try await bob.acknowledgeReceived(batch.map(\.messageID))
}

// Throughput on one established session.
try await alice.send(text: "warm-up", to: bobID)
let warm = try await bob.receive()
try await bob.acknowledgeReceived(warm.map(\.messageID))
let sendTime = try await seconds {
    for index in 0..<count { try await alice.send(text: "message \(index) of the benchmark", to: bobID) }
}
var received = 0
let receiveTime = try await seconds {
    while received < count {
        let batch = try await bob.receive(limit: 100)
        received += batch.filter(\.decrypted).count
        try await bob.acknowledgeReceived(batch.map(\.messageID))
        if batch.isEmpty { break }
    }
}
await server.stop()

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
let result: [String: Any] = [
    "messages": count, "received": received,
    "send_per_second": Double(count) / sendTime, "receive_per_second": Double(received) / receiveTime,
    "first_message_ms_median": median(firstTimes) * 1000, "later_message_ms_median": median(laterTimes) * 1000,
    "first_contacts": firsts,
]
print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
