import ChildProcess
import Synchronization
import Testing

/// The process-wide bound on child processes: never more than the limit at once, every waiter served.
@Suite struct ChildSlotsTests {
    @Test func neverMoreThanTheLimitRunAtOnceAndEveryWaiterRuns() async throws {
        final class Counts: Sendable {
            let running = Atomic<Int>(0)
            let most = Atomic<Int>(0)
        }
        let slots = ChildSlots(limit: 3)
        let counts = Counts()
        let finished = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await slots.run { () async throws -> Int in
                        let now = counts.running.add(1, ordering: .relaxed).newValue
                        _ = counts.most.max(now, ordering: .relaxed)
                        try await Task.sleep(for: .milliseconds(10))
                        counts.running.subtract(1, ordering: .relaxed)
                        return index
                    }
                }
            }
            return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        #expect(finished == Set(0..<20))
        #expect(counts.most.load(ordering: .relaxed) == 3)
        #expect(slots.running == 0)
    }

    @Test func aFailingBodyFreesItsSlot() async {
        let slots = ChildSlots(limit: 1)
        struct Failure: Error {}
        for _ in 0..<3 {
            await #expect(throws: Failure.self) { try await slots.run { () throws(Failure) in throw Failure() } }
        }
        #expect(slots.running == 0)
        #expect(await slots.run { () async -> Int in 7 } == 7)
    }
}
