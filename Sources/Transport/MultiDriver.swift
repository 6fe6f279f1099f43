internal import CCurl
internal import Foundation
internal import Synchronization

/// One libcurl multi handle and the thread that drives it: every transfer of an ``HTTPClient`` runs here,
/// so a request costs a hand-over to this thread and back instead of a blocked worker thread of its own, and
/// one `poll` waits for every connection at once. The multi handle keeps the connections alive between
/// transfers (keep-alive). The thread ends when the client is gone.
final class MultiDriver: @unchecked Sendable {
    /// A transfer to run: a prepared handle, and what to call with libcurl's result when it ends (on the
    /// driver's thread; it must not block). `done` holds what the transfer needs until then.
    struct Job {
        var handle: EasyHandle
        var done: @Sendable (CURLcode) -> Void
    }

    private let multi: UnsafeMutableRawPointer
    private let incoming = Mutex<(jobs: [Job], closed: Bool)>(([], false))
    /// The transfers under way, by easy handle. Only the driver's thread touches it.
    private var running: [UnsafeMutableRawPointer: Job] = [:]
    private let finished = Atomic<Bool>(false)

    /// Whether the thread has ended (after ``close()``).
    var hasFinished: Bool { finished.load(ordering: .acquiring) }

    init?() {
        guard let multi = curl_multi_init() else { return nil }
        self.multi = multi
        let thread = Thread { [self] in loop() }
        thread.name = "switchboard-http"
        thread.start()
    }

    /// Hands a prepared transfer to the driver's thread.
    func submit(_ job: Job) {
        incoming.withLock { $0.jobs.append(job) }
        curl_multi_wakeup(multi)
    }

    /// The handle goes when neither the client nor the thread holds the driver: after `close()` has woken the
    /// thread, and after the thread has left its loop.
    deinit { curl_multi_cleanup(multi) }

    /// Ends the thread once the transfers under way have ended (the client is gone: no new ones come).
    func close() {
        incoming.withLock { $0.closed = true }
        curl_multi_wakeup(multi)
    }

    private func loop() {
        while true {
            let (jobs, closed) = incoming.withLock { state in
                defer { state.jobs = [] }
                return (state.jobs, state.closed)
            }
            for job in jobs {
                let added = curl_multi_add_handle(multi, job.handle.handle)
                if added == CURLM_OK {
                    running[job.handle.handle] = job
                } else {
                    job.done(CURLE_FAILED_INIT)
                }
            }
            if closed, running.isEmpty { break }
            var stillRunning: Int32 = 0
            _ = curl_multi_perform(multi, &stillRunning)
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                    let job = running.removeValue(forKey: easy)
                else { continue }
                let result = message.pointee.data.result
                curl_multi_remove_handle(multi, easy)
                job.done(result)
            }
            // libcurl's next timeout (a transfer's deadline, a connection's keep-alive), at most a second; a
            // submitted job or close() wakes the poll early.
            var timeout = -1
            _ = curl_multi_timeout(multi, &timeout)
            let wait = timeout < 0 ? 1000 : min(timeout, 1000)
            if wait > 0 { _ = curl_multi_poll(multi, nil, 0, Int32(wait), nil) }
        }
        finished.store(true, ordering: .releasing)
    }
}
