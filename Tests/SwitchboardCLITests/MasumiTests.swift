import Engine
import Foundation
import Masumi
import Sandbox
import TestSupport
import Testing
import Transport
import Workflow

/// The masumi client through real child processes: the sandbox's stand-in for masumi-agent-messenger (the
/// built `switchboard` behind a two-line script) against an in-process sandbox server.
@Suite struct MasumiTests {
    struct Fixture {
        let sandbox: MasumiSandbox
        let server: SandboxServer
        let directory: URL
        let executable: String

        func client(_ agent: String, profile: String = "default", timeout: Duration = .seconds(30)) -> MasumiClient {
            MasumiClient(cli: MasumiCLI(executable: executable, profile: profile, timeout: timeout), agent: agent)
        }

        func stop() async {
            await server.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func start() async throws -> Fixture {
        let sandbox = MasumiSandbox()
        sandbox.addInbox(profile: "default", email: "bot@example.invalid", agents: ["bot"])
        sandbox.addInbox(profile: "peer", email: "peer@example.invalid", agents: ["peer"])
        sandbox.addChannel(slug: "ops", members: ["bot", "peer"])
        let server = try await SandboxServer.start(nexus: NexusSandbox(), masumi: sandbox)
        let directory = testTemporaryDirectory.appendingPathComponent("masumi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = directory.appendingPathComponent("masumi-agent-messenger")
        try Data("#!/bin/sh\nexec '\(Binary.url.path)' __masumi-sandbox-cli '\(server.url)' \"$@\"\n".utf8)
            .write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return Fixture(sandbox: sandbox, server: server, directory: directory, executable: script.path)
    }

    static func failure(_ body: () async throws -> String?) async -> NetworkError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? NetworkError
        }
    }

    @Test func firstContactApprovalRepliesReadStateAndCount() async throws {
        let fixture = try await Self.start()
        let bot = fixture.client("bot")
        let peer = fixture.client("peer", profile: "peer")
        let first = try await bot.send(toAgent: "peer", text: "-hello, a text that starts with a dash")
        #expect(first.sent == false)
        #expect(first.approvalRequired == true)
        // The first-contact thread id does not fit in an Int64: it stays a string.
        let threadID = try #require(first.threadId)
        #expect(UInt64(threadID)! >= UInt64(Int64.max))
        await #expect(throws: NetworkError.self) { try await bot.send(toAgent: "peer", text: "again") }
        let requests = try await peer.approvals()
        #expect(requests.map(\.direction) == ["incoming"])
        #expect(try await peer.approve(request: requests[0].id) == "approved")

        let unread = try await peer.messages(thread: threadID, after: nil)
        #expect(unread.messages.map(\.text) == ["-hello, a text that starts with a dash"])
        _ = try await peer.reply(thread: threadID, text: "hi bot")
        _ = try await peer.reply(thread: threadID, text: "and again")
        try await peer.markRead(thread: threadID, through: 1)
        let mine = try await bot.messages(thread: threadID, after: nil)
        #expect(mine.messages.map(\.text) == ["hi bot", "and again"])
        #expect(try await bot.count(thread: threadID).lastMessageSeq == "3")
        // Read state moves only as far as asked (never the CLI's default of "everything").
        try await bot.markRead(thread: threadID, through: 2)
        #expect(try await bot.messages(thread: threadID, after: nil).messages.map(\.seq) == [3])
        await fixture.stop()
    }

    @Test func everyErrorClassIsTold() async throws {
        let fixture = try await Self.start()
        let bot = fixture.client("bot")
        func code(_ body: () async throws -> Void) async -> NetworkError? {
            do {
                try await body()
                return nil
            } catch {
                return error as? NetworkError
            }
        }
        // Exit 1 with the envelope: the exact code, not transient.
        let missing = await code { _ = try await bot.history(thread: "424242", page: 1) }
        #expect(missing?.code == "THREAD_NOT_FOUND")
        #expect(missing?.isTransient == false)
        // Commander's own error: no JSON, stderr, exit 1.
        let usage = await code {
            _ = try await bot.cli.run(["thread", "frobnicate"], as: MasumiClient.ThreadList.self)
        }
        #expect(usage?.code == "usage_error")
        // Exit 2: connectivity, transient.
        fixture.sandbox.inject(
            .init(command: "thread list", effect: .error(code: "SPACETIMEDB_TIMEOUT", exitCode: 2, persist: false)))
        let connectivity = await code { _ = try await bot.threads(filter: "latest", after: nil) }
        #expect(connectivity?.code == "SPACETIMEDB_TIMEOUT")
        #expect(connectivity?.isTransient == true)
        fixture.sandbox.inject(.init(command: "thread list", effect: .garbage))
        #expect(await code { _ = try await bot.threads(filter: "latest", after: nil) }?.code == "invalid_output")
        fixture.sandbox.inject(.init(command: "thread list", effect: .truncated))
        #expect(await code { _ = try await bot.threads(filter: "latest", after: nil) }?.code == "invalid_output")
        // A CLI that hangs is stopped at the timeout.
        fixture.sandbox.inject(.init(command: "thread list", effect: .latency(5)))
        let slow = fixture.client("bot", timeout: .milliseconds(800))
        let hung = await code { _ = try await slow.threads(filter: "latest", after: nil) }
        #expect(hung?.code == "timeout")
        #expect(hung?.mayHaveArrived == true)
        // A page size above 25 is the CLI's own error.
        let big = await code {
            _ = try await bot.cli.run(["thread", "list", "--page-size", "50"], as: MasumiClient.ThreadList.self)
        }
        #expect(big?.code == "INVALID_PAGE_SIZE")
        await fixture.stop()
    }

    @Test func theSweepFindsEveryMessageOfSixtyThreads() async throws {
        let fixture = try await Self.start()
        var peers: [String] = []
        for index in 0..<60 {
            let slug = "agent-\(index)"
            fixture.sandbox.addInbox(profile: "p\(index)", email: "\(slug)@example.invalid", agents: [slug])
            let thread = fixture.sandbox.directThread("bot", slug)
            fixture.sandbox.deliver(from: slug, toThread: thread, text: "hello from \(slug)")
            peers.append(slug)
        }
        let bot = fixture.client("bot")
        // The CLI's own `thread unread` sees only the 25 most recent threads (masumi.md §7.1).
        struct Unread: Decodable { var totalMessages: Int }
        let shallow = try await bot.cli.run(["thread", "unread", "--agent", "bot"], as: Unread.self)
        #expect(shallow.totalMessages == 25)
        let messenger = MasumiMessenger(account: "ms", client: bot)
        let source = Target(account: "ms", kind: .inbox, id: nil)
        let batch = try await messenger.poll(source, after: nil)
        #expect(Set(batch.messages.map(\.sender)) == Set(peers))
        #expect(batch.messages.count == 60)
        let calls = fixture.sandbox.invocations()
        #expect(calls["thread list"] == 3)
        #expect(calls["thread show"] == 60)
        await fixture.stop()
    }

    @Test func aSendThatTimedOutAfterStoringIsReconciledNotRepeated() async throws {
        let fixture = try await Self.start()
        let thread = fixture.sandbox.directThread("bot", "peer")
        let messenger = MasumiMessenger(account: "ms", client: fixture.client("bot"))
        let target = Target(account: "ms", kind: .thread, id: thread)
        fixture.sandbox.inject(
            .init(
                command: "thread reply", effect: .error(code: "SPACETIMEDB_MESSAGE_TIMEOUT", exitCode: 2, persist: true)
            ))
        let started = Date()
        let failure = await Self.failure { try await messenger.send(text: "deploy done", json: nil, to: target) }
        #expect(failure?.code == "SPACETIMEDB_MESSAGE_TIMEOUT")
        #expect(failure?.mayHaveArrived == true)
        let digest = PayloadDigest.of("deploy done")
        #expect(try await messenger.reconcile(digest: digest, to: target, since: started) == true)
        #expect(try await messenger.reconcile(digest: PayloadDigest.of("other"), to: target, since: started) == false)
        #expect(fixture.sandbox.threadMessages(thread).map(\.text) == ["deploy done"])
        await fixture.stop()
    }

    @Test func anotherProcessHoldingTheConfigLockMakesCallsWait() async throws {
        let fixture = try await Self.start()
        let home = fixture.directory.appendingPathComponent("config")
        let cli = MasumiCLI(executable: fixture.executable, profile: "default", configHome: home.path)
        try FileManager.default.createDirectory(
            atPath: cli.configDirectory, withIntermediateDirectories: true)
        // flock(1) holds the lock file in its own process until told to go.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [cli.configDirectory + "/" + ConfigFileLock.name, "sh", "-c", "echo held; read line"]
        let output = Pipe()
        let input = Pipe()
        holder.standardOutput = output
        holder.standardInput = input
        try holder.run()
        #expect(try output.fileHandleForReading.read(upToCount: 5) == Data("held\n".utf8))
        let client = MasumiClient(cli: cli, agent: "bot")
        let call = Task { try await client.threads(filter: "latest", after: nil) }
        try await Task.sleep(for: .milliseconds(400))
        #expect(fixture.sandbox.invocations()["thread list"] == nil, "the call ran while another process held the lock")
        try input.fileHandleForWriting.write(contentsOf: Data("go\n".utf8))
        holder.waitUntilExit()
        _ = try await call.value
        #expect(fixture.sandbox.invocations()["thread list"] == 1)
        await fixture.stop()
    }

    /// `channel send` and `channel messages`: a channel source pages back past 25 to its cursor, skips our own
    /// messages, and an empty poll keeps the cursor.
    @Test func channelsAreSentToAndPolledPastOnePage() async throws {
        let fixture = try await Self.start()
        let bot = fixture.client("bot")
        let peer = fixture.client("peer", profile: "peer")
        try await bot.sendChannel("ops", text: "bot says hi")
        let messenger = MasumiMessenger(account: "ms", client: bot)
        let source = Target(account: "ms", kind: .channel, id: "ops")
        let first = try await messenger.poll(source, after: nil)
        #expect(first.messages.isEmpty)  // only our own
        let cursor = try #require(first.cursor)
        for index in 1...27 { try await peer.sendChannel("ops", text: "update \(index)") }
        let batch = try await messenger.poll(source, after: cursor)
        #expect(batch.messages.map(\.text) == (1...27).map { "update \($0)" })
        #expect(batch.messages.allSatisfy { $0.sender == "peer" && $0.conversation == "ms:channel/ops" })
        #expect(fixture.sandbox.invocations()["channel messages"] == 3)  // the first poll, then two pages back
        let again = try await messenger.poll(source, after: batch.cursor)
        #expect(again.messages.isEmpty)
        #expect(again.cursor == batch.cursor)
        // A channel the agent is not in is the CLI's own error.
        let outsider = await Self.failure {
            try await bot.sendChannel("nowhere", text: "x")
            return nil
        }
        #expect(outsider?.code == "CHANNEL_NOT_FOUND")
        await fixture.stop()
    }
}
