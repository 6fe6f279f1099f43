// Exercises the journal from a process of its own, for the benchmarks (scripts/bench-journal) and for the
// tests that need a second process: one killed mid-write, several contending for the lease.
//
//   journal-harness open PATH                 open and close (the baseline of a cron tick)
//   journal-harness tick PATH                 open, lease, 1 run and 3 steps, release, close
//   journal-harness inserts PATH ROWS BATCH   ROWS inbox rows and ROWS intents, BATCH per transaction
//   journal-harness hammer PATH               write 200-row transactions until killed
//   journal-harness lease PATH NAME SECONDS   try to take the lease once; prints acquired or held
//   journal-harness block PATH KEY SOURCE     a blocked intent KEY and a paused SOURCE, as two strikes leave them
import Foundation
import Journal

/// Unbuffered, so a parent reading the pipe sees each line at once.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

let arguments = CommandLine.arguments.dropFirst()
guard let command = arguments.first, let path = arguments.dropFirst().first else {
    fail("usage: journal-harness open|tick|inserts|hammer|lease PATH [...]")
}
let rest = Array(arguments.dropFirst(2))

do {
    let journal = try Journal(path: path)
    switch command {
    case "open":
        break
    case "tick":
        let holder = Journal.processHolder
        guard case .acquired = try journal.acquireLease("tick", holder: holder, for: 300) else { exit(3) }
        let run = try journal.beginRun(trigger: "schedule", reference: "bench", workflow: "bench", handler: "h")
        for position in 0..<3 {
            let step = try journal.beginStep(run: run.id, stepID: "s\(position)", position: position)
            try journal.finishStep(step.id, status: .succeeded, outputJSON: "{\"ok\":true}")
        }
        try journal.updateRun(run.id, status: .succeeded)
        try journal.releaseLease("tick", holder: holder)
    case "inserts":
        guard rest.count == 2, let rows = Int(rest[0]), let batch = Int(rest[1]), rows > 0, batch > 0 else {
            fail("usage: journal-harness inserts PATH ROWS BATCH")
        }
        let started = Date()
        var written = 0
        while written < rows {
            let count = min(batch, rows - written)
            let messages = (written..<written + count).map {
                NewInboxMessage(
                    account: "bench", conversation: "c\($0 % 10)", messageID: "m\($0)-\(UUID().uuidString)",
                    cursor: String($0), payload: "{\"text\":\"message \($0)\"}")
            }
            _ = try journal.recordPoll(source: "bench", messages: messages, cursor: String(written + count))
            written += count
        }
        let inboxSeconds = Date().timeIntervalSince(started)
        let intentsStarted = Date()
        try journal.recordIntents(
            (0..<rows).map { "bench-\($0)-\(UUID().uuidString)" }, target: "bench:agent/x", batch: batch)
        let intentSeconds = Date().timeIntervalSince(intentsStarted)
        say(
            "{\"rows\":\(rows),\"batch\":\(batch),\"inbox_per_second\":\(Int(Double(rows) / inboxSeconds)),\"intents_per_second\":\(Int(Double(rows) / intentSeconds))}"
        )
    case "hammer":
        var batch = 0
        while true {
            let messages = (0..<200).map {
                NewInboxMessage(
                    account: "hammer", conversation: "batch-\(batch)", messageID: String($0), cursor: String(batch),
                    payload: String(repeating: "x", count: 512))
            }
            _ = try journal.recordPoll(source: "hammer", messages: messages, cursor: String(batch))
            if batch == 0 { say("ready") }
            batch += 1
        }
    case "lease":
        guard rest.count == 2, let seconds = TimeInterval(rest[1]) else {
            fail("usage: journal-harness lease PATH NAME SECONDS")
        }
        switch try journal.acquireLease(rest[0], holder: Journal.processHolder, for: seconds) {
        case .acquired: say("acquired")
        case .held(let lease): say("held by \(lease.holder)")
        }
    case "block":
        guard rest.count == 2 else { fail("usage: journal-harness block PATH KEY SOURCE") }
        _ = try journal.beginAttempt(
            key: rest[0], run: nil, stepID: nil, target: "nx:session/x", payloadDigest: "d", maxStrikes: 1)
        try journal.recordOutcome(.failed(code: "session_not_found", message: "gone"), forIntent: rest[0])
        for _ in 0..<2 { try journal.recordPollFailure(source: rest[1], code: "internal_error", message: "down") }
    default:
        fail("unknown command '\(command)'")
    }
} catch {
    fail("\(error)")
}
