import Engine
import Foundation
import Journal
import Nexus
import Testing

/// A tick longer than its lease keeps the lease: it renews it every third of its duration, so another tick
/// cannot take over while it still works.
@Suite struct LeaseRenewalTests {
    @Test func aLongTickRenewsItsLease() async throws {
        let scenario = try await Scenario()
        let room = try await scenario.session()
        try scenario.script("slow.sh", "cat >/dev/null; sleep 1.5")
        try scenario.writeRoom(
            room,
            handlers: """
                  slow:
                    - run: [./agents/slow.sh]
                      timeout: 10s
                    - reply: "done"

                """,
            bullets: "- **On message:** slow\n")
        _ = try await scenario.peer.send(session: room, text: "work")
        // A lease of 0.6 s on the real clock, while the tick's one step takes 1.5 s.
        let engine = try scenario.engine(lease: 0.6, now: { Date() })
        let tick = Task { try await engine.tick() }
        try await Task.sleep(for: .milliseconds(1100))
        // Another process comes along after the first lease would have expired.
        let other = try Journal(path: scenario.journalPath)
        let attempt = try other.acquireLease("tick", holder: "intruder", for: 10, now: Date())
        guard case .held(let lease) = attempt else {
            Issue.record("the lease was free to take during the tick: \(attempt)")
            _ = try await tick.value
            await scenario.stop()
            return
        }
        #expect(lease.holder != "intruder")
        let report = try await tick.value
        #expect(report.failures == [])
        #expect(report.sent == 1)
        #expect(try await scenario.botMessages(in: room) == ["done"])
        // Released at the end: free for the next tick.
        if case .acquired = try other.acquireLease("tick", holder: "next", for: 10, now: Date()) {
        } else {
            Issue.record("the lease was not released")
        }
        await scenario.stop()
    }
}
