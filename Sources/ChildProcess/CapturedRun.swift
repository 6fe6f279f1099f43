public import Foundation
internal import _ChildProcessCShims

/// One short-lived child with its input given and its output captured: what a responder, a `run:` step and a
/// command channel are. Straight on `posix_spawn`, which glibc runs without copying the parent's page tables,
/// and one `poll` loop that feeds stdin, drains stdout and stderr and keeps the deadline.
///
/// Why not swift-subprocess, which the networks' CLIs go through: it starts a child with `clone`, a copy of the
/// parent's address space, and Foundation's `Process` walks `/proc/self/fd` and spins a run loop. For the
/// responder's shell script that was 0.9 to 1.0 ms of the parent's CPU per child against 0.27 ms here (README,
/// Performance), a third of the engine's whole budget per auto-replied message.
public enum CapturedRun {
    public struct Output: Sendable, Equatable {
        /// The exit status, or 128 + the signal that ended it.
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
        /// The deadline passed: the child's process group got SIGTERM, and SIGKILL two seconds later.
        public var timedOut: Bool
    }

    /// `posix_spawn` refused (the errno and what it means).
    public struct SpawnError: Error, Sendable {
        public var code: Int32
        public var message: String
    }

    /// Runs `executable` (a path) with `arguments` in `directory` with exactly `environment`, writes `stdin`
    /// to it and keeps up to `outputLimit` bytes of each of its outputs (the rest is read and dropped, so a
    /// chatty child never blocks). Blocks the calling thread: call it off the cooperative pool.
    public static func run(
        executable: String, arguments: [String], environment: [String: String], directory: String, stdin: Data,
        timeout: TimeInterval, outputLimit: Int
    ) throws(SpawnError) -> Output {
        _ = ignoreBrokenPipes
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        for index in 0..<3 {
            let code =
                switch index {
                case 0: child_process_pipe(&input)
                case 1: child_process_pipe(&output)
                default: child_process_pipe(&errors)
                }
            if code != 0 {
                for descriptor in input + output + errors where descriptor >= 0 { close(descriptor) }
                throw SpawnError(code: code, message: String(cString: strerror(code)))
            }
        }
        var pid: pid_t = 0
        let code = withCStrings([executable] + arguments) { argv in
            withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envp in
                child_process_spawn(&pid, executable, argv, envp, directory, input[0], output[1], errors[1])
            }
        }
        close(input[0])
        close(output[1])
        close(errors[1])
        guard code == 0 else {
            close(input[1])
            close(output[0])
            close(errors[0])
            throw SpawnError(code: code, message: String(cString: strerror(code)))
        }
        for descriptor in [input[1], output[0], errors[0]] {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        var exchange = Exchange(
            stdin: stdin.isEmpty ? nil : input[1], stdout: output[0], stderr: errors[0], pending: stdin,
            limit: outputLimit)
        if stdin.isEmpty { close(input[1]) }
        var deadline = ContinuousClock.now + .milliseconds(Int64(max(0, timeout) * 1000))
        var timedOut = false
        var killed = false
        // Pipes first: they close when the child (and anything it left holding them) is gone.
        while exchange.isOpen || exchange.stdin != nil {
            let left = deadline - ContinuousClock.now
            if left <= .zero {
                if killed { break }  // the group ignored SIGKILL's pipes: stop waiting for them
                timedOut = true
                stop(pid, deadline: &deadline)
                killed = true
                continue
            }
            exchange.step(waitingAtMost: left)
        }
        exchange.closeAll()
        // Then the child itself.
        var status: Int32 = 0
        var reapedOK = false
        var pause: UInt32 = 50
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                reapedOK = true
                break
            }
            if reaped == -1, errno != EINTR { break }  // not ours to wait for (SIGCHLD ignored): status unknown
            if ContinuousClock.now >= deadline {
                if killed {
                    kill(-pid, SIGKILL)
                    kill(pid, SIGKILL)  // in case it left its process group
                    while true {
                        let last = waitpid(pid, &status, 0)
                        if last == pid { reapedOK = true }
                        if last != -1 || errno != EINTR { break }
                    }
                    break
                }
                timedOut = true
                stop(pid, deadline: &deadline)
                killed = true
            }
            usleep(pause)
            pause = min(pause * 2, 5_000)
        }
        // Unknown (it could not be waited for) counts as a failure, never as success.
        let exit: Int32 =
            !reapedOK ? 255 : (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Output(status: exit, stdout: exchange.stdout, stderr: exchange.stderr, timedOut: timedOut)
    }

    /// SIGTERM to the child's process group, and a new deadline two seconds on for SIGKILL.
    private static func stop(_ pid: pid_t, deadline: inout ContinuousClock.Instant) {
        kill(-pid, SIGTERM)
        deadline = ContinuousClock.now + .seconds(2)
    }

    /// Writing to a child that has stopped reading must fail with EPIPE, not end this process.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// The parent's ends of the three pipes, and what has gone through them.
    private struct Exchange {
        var stdin: Int32?
        var stdoutDescriptor: Int32?
        var stderrDescriptor: Int32?
        var pending: Data
        var written = 0
        let limit: Int
        var stdout = Data()
        var stderr = Data()

        init(stdin: Int32?, stdout: Int32, stderr: Int32, pending: Data, limit: Int) {
            self.stdin = stdin
            stdoutDescriptor = stdout
            stderrDescriptor = stderr
            self.pending = pending
            self.limit = limit
        }

        var isOpen: Bool { stdoutDescriptor != nil || stderrDescriptor != nil }

        /// One `poll` and what it allows: a write to stdin, reads from stdout and stderr.
        mutating func step(waitingAtMost left: Duration) {
            var descriptors: [pollfd] = []
            if let stdin { descriptors.append(pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0)) }
            if let stdoutDescriptor {
                descriptors.append(pollfd(fd: stdoutDescriptor, events: Int16(POLLIN), revents: 0))
            }
            if let stderrDescriptor {
                descriptors.append(pollfd(fd: stderrDescriptor, events: Int16(POLLIN), revents: 0))
            }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            guard poll(&descriptors, nfds_t(descriptors.count), milliseconds) > 0 else { return }
            for entry in descriptors where entry.revents != 0 {
                if entry.fd == stdin {
                    writeInput()
                } else if entry.fd == stdoutDescriptor {
                    if !Self.drain(entry.fd, into: &stdout, limit: limit) {
                        close(entry.fd)
                        stdoutDescriptor = nil
                    }
                } else if entry.fd == stderrDescriptor {
                    if !Self.drain(entry.fd, into: &stderr, limit: limit) {
                        close(entry.fd)
                        stderrDescriptor = nil
                    }
                }
            }
        }

        /// As much of stdin as the pipe takes; closed when all is written or the child stopped reading.
        mutating func writeInput() {
            guard let descriptor = stdin else { return }
            let count = pending.withUnsafeBytes { bytes in
                write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            }
            if count > 0 { written += count }
            if written == pending.count || (count < 0 && errno != EAGAIN && errno != EINTR) {
                close(descriptor)
                stdin = nil
            }
        }

        /// Reads what is there; false at end of file (or an error). Beyond `limit` bytes are dropped.
        static func drain(_ descriptor: Int32, into data: inout Data, limit: Int) -> Bool {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count > 0 {
                    let room = limit - data.count
                    if room > 0 { data.append(contentsOf: buffer[0..<min(count, room)]) }
                    continue
                }
                if count < 0, errno == EAGAIN || errno == EINTR { return true }
                return false
            }
        }

        mutating func closeAll() {
            for descriptor in [stdin, stdoutDescriptor, stderrDescriptor].compactMap({ $0 }) { close(descriptor) }
            stdin = nil
            stdoutDescriptor = nil
            stderrDescriptor = nil
        }
    }

    /// `strings` as a NULL-terminated array of C strings, for `argv` and `envp`.
    private static func withCStrings<Result>(
        _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result
    ) -> Result {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
