public import Foundation
internal import Synchronization

/// How many child processes this process runs at once: responders, `run:` steps, command channels and the
/// networks' command-line tools all take a slot, and wait in order for one when all are taken. A busy tick
/// handles many conversations at once; without this, each could start a child of its own (a masumi CLI is a
/// Node process), and a 2-core machine would run dozens.
public final class ChildSlots: Sendable {
    /// Four per core, at least eight.
    public static let shared = ChildSlots(limit: max(8, 4 * ProcessInfo.processInfo.activeProcessorCount))

    public let limit: Int
    private let state: Mutex<(running: Int, waiting: [CheckedContinuation<Void, Never>])>

    public init(limit: Int) {
        self.limit = max(1, limit)
        state = Mutex((0, []))
    }

    /// Runs `body` once a slot is free, and frees it after.
    public func run<T, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        let granted = state.withLock { state in
            guard state.running < limit else { return false }
            state.running += 1
            return true
        }
        if granted { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                // A slot freed between the two locks: take it at once.
                guard state.running < limit else {
                    state.waiting.append(continuation)
                    return false
                }
                state.running += 1
                return true
            }
            if now { continuation.resume() }
        }
    }

    /// Hands the slot to the longest waiter, or frees it.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }

    /// Children running now (for tests).
    public var running: Int { state.withLock { $0.running } }
}
