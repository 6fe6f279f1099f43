import ChildProcess
import Foundation
import TestSupport
import Testing

/// The child runner behind responders, `run:` steps and command channels, against real processes.
@Suite struct CapturedRunTests {
    func run(
        _ script: String, stdin: Data = Data(), environment: [String: String] = ["PATH": "/usr/bin:/bin"],
        directory: String = "/", timeout: TimeInterval = 20, limit: Int = 1 << 20
    ) throws -> CapturedRun.Output {
        try CapturedRun.run(
            executable: "/bin/sh", arguments: ["-c", script], environment: environment, directory: directory,
            stdin: stdin, timeout: timeout, outputLimit: limit)
    }

    @Test func inputOutputAndExitStatus() throws {
        let output = try run("tr a-z A-Z; echo oops >&2; exit 3", stdin: Data("hello".utf8))
        #expect(output.status == 3)
        #expect(String(decoding: output.stdout, as: UTF8.self) == "HELLO")
        #expect(String(decoding: output.stderr, as: UTF8.self) == "oops\n")
        #expect(!output.timedOut)
    }

    @Test func exactlyTheEnvironmentAndDirectoryGiven() throws {
        let directory = testTemporaryDirectory.appendingPathComponent("captured-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try CapturedRun.run(
            executable: "/usr/bin/env", arguments: [], environment: ["ONLY": "this"], directory: directory.path,
            stdin: Data(), timeout: 20, outputLimit: 4096)
        #expect(String(decoding: output.stdout, as: UTF8.self) == "ONLY=this\n")
        let pwd = try run("pwd -P", directory: directory.path)
        #expect(
            String(decoding: pwd.stdout, as: UTF8.self)
                == directory.resolvingSymlinksInPath().path + "\n")
    }

    /// Only 0, 1 and 2 reach the child: not the journal, not another child's pipes.
    @Test func noOtherDescriptorIsInherited() throws {
        let leaked = open("/dev/null", O_RDONLY)  // without O_CLOEXEC, as a careless library would
        defer { close(leaked) }
        #expect(leaked > 3)
        // `ls` lists its own descriptors: the three given, and the one it reads the directory through.
        let output = try run("exec ls /proc/self/fd")
        let descriptors = String(decoding: output.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(Set(descriptors) == ["0", "1", "2", "3"], "\(descriptors)")
    }

    /// A child that exits without reading a large input: the write fails with EPIPE, and this process lives.
    @Test func aChildThatIgnoresItsInput() throws {
        let output = try run("echo done", stdin: Data(repeating: 0x61, count: 4 << 20))
        #expect(output.status == 0)
        #expect(String(decoding: output.stdout, as: UTF8.self) == "done\n")
    }

    /// A child that closes its outputs first still gets all of its input.
    @Test func inputReachesAChildThatClosedItsOutputs() throws {
        let file = testTemporaryDirectory.appendingPathComponent("stdin-\(UUID())").path
        defer { unlink(file) }
        let input = Data(repeating: 0x62, count: 300_000)
        let output = try run("exec >/dev/null 2>&1; cat > \(file)", stdin: input)
        #expect(output.status == 0)
        #expect(FileManager.default.contents(atPath: file) == input)
    }

    /// Input larger than a pipe holds, echoed back while it is still being written: no deadlock.
    @Test func largeInputAndOutputAtOnce() throws {
        let input = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) })
        let output = try run("cat", stdin: input, limit: 8 << 20)
        #expect(output.status == 0)
        #expect(output.stdout == input)
    }

    /// Output past the limit is read and dropped: the child finishes, memory stays bounded.
    @Test func outputBeyondTheLimitIsCut() throws {
        let output = try run("head -c 3000000 /dev/zero; echo tail >&2", limit: 1000)
        #expect(output.status == 0)
        #expect(output.stdout.count == 1000)
        #expect(String(decoding: output.stderr, as: UTF8.self) == "tail\n")
    }

    /// The deadline stops the child with SIGTERM, whatever this process does with SIGTERM itself (signals are
    /// reset to their defaults in the child).
    @Test func timeoutStopsTheChild() throws {
        let output = try run("exec sleep 30", timeout: 0.3)
        #expect(output.timedOut)
        #expect(output.status == 128 + SIGTERM)
    }

    /// A child that ignores SIGTERM gets SIGKILL two seconds later.
    @Test func aChildIgnoringSIGTERMIsKilled() throws {
        let output = try run("trap '' TERM; echo ready; while :; do sleep 0.05; done", timeout: 0.3)
        #expect(output.timedOut)
        #expect(String(decoding: output.stdout, as: UTF8.self) == "ready\n")
        #expect(output.status == 128 + SIGKILL)
    }

    /// A grandchild left holding the output is in the child's process group, and is stopped with it.
    @Test func theWholeProcessGroupIsStopped() throws {
        let marker = testTemporaryDirectory.appendingPathComponent("grandchild-\(UUID())").path
        defer { unlink(marker) }
        let output = try run("sleep 30 & echo $! > \(marker); echo started", timeout: 0.5)
        #expect(output.timedOut)
        #expect(String(decoding: output.stdout, as: UTF8.self) == "started\n")
        let pid = try #require(
            Int32(String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // Gone, or a zombie waiting for whoever adopted it.
        var alive = kill(pid, 0) == 0
        for _ in 0..<100 where alive {
            let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?
                .split(separator: ")").last?.split(separator: " ").first
            alive = state != nil && state != "Z"
            if alive { usleep(20_000) }
        }
        #expect(!alive)
    }

    @Test func aMissingProgramIsASpawnError() {
        #expect(throws: CapturedRun.SpawnError.self) {
            try CapturedRun.run(
                executable: "/nonexistent/program", arguments: [], environment: [:], directory: "/", stdin: Data(),
                timeout: 5, outputLimit: 10)
        }
    }
}
