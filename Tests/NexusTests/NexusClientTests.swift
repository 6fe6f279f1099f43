import Foundation
import Nexus
import Sandbox
import TestSupport
import Testing
import Transport
import Workflow

/// Our client against the sandbox over real loopback HTTP: every endpoint, every error code.
@Suite struct NexusClientTests {
    @Test func aConversationFromCreateToLeave() async throws {
        try await withSandbox({ $0.defaultMaxAgents = 3 }) { url, _, _ in
            let aliceKeys = keyStore()
            let alice = client(url, "alice", keys: aliceKeys)
            let bob = client(url, "bob")
            let created = try await alice.createSession(ttl: 600, greeting: "Hi, let's review Q3.")
            #expect(created.creatorAgentId == "alice")
            #expect(alice.sessionKey(created.sessionId) != nil)
            let keyFile =
                aliceKeys.directory + "/"
                + (try FileManager.default.subpathsOfDirectory(atPath: aliceKeys.directory)
                    .first { $0.hasSuffix("alice.key") }!)
            #expect(try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int == 0o600)

            let joined = try await bob.join(session: created.sessionId)
            #expect(joined.agentsOnline == 2)
            let status = try await bob.status(session: created.sessionId)
            #expect(status.agents == ["alice", "bob"])
            #expect(status.expiresAt != nil)

            let first = try await bob.send(session: created.sessionId, text: "Report ready")
            #expect(first.cursor == Cursor("1"))
            let second = try await alice.send(session: created.sessionId, text: "thanks", json: ["type": "ack"])
            #expect(second.cursor == Cursor("2"))

            // No `after`: everything held, the greeting at cursor 0 included.
            let all = try await alice.poll(session: created.sessionId, members: true)
            #expect(all.messages.map(\.cursor.value) == ["0", "1", "2"])
            #expect(all.messages[0].isSystem)
            #expect(all.messages[1].verified)
            #expect(all.messages[2].json == ["type": "ack"])
            #expect(all.members?.map(\.agentId) == ["alice", "bob"])
            // `after` is exclusive: after=0 skips the greeting.
            #expect(
                try await alice.poll(session: created.sessionId, after: Cursor("0")).messages.map(\.cursor.value) == [
                    "1", "2",
                ])
            let none = try await alice.poll(session: created.sessionId, after: Cursor("2"))
            #expect(none.messages.isEmpty)
            #expect(none.resumeCursor == Cursor("2"))

            let renewed = try await bob.renew(session: created.sessionId, ttl: 900)
            #expect(renewed.ttl == 900)
            #expect(try await bob.leave(session: created.sessionId) == .left)
            #expect(bob.sessionKey(created.sessionId) == nil)
            #expect(try await alice.status(session: created.sessionId).agents == ["alice"])
        }
    }

    @Test func pairingCodesAreSingleUseAndExpire() async throws {
        try await withSandbox { url, sandbox, _ in
            let alice = client(url, "alice")
            let session = try await alice.createSession().sessionId
            let code = try await alice.pair(session: session)
            #expect(code.code.split(separator: "-").count == 3)
            #expect(try await alice.pairStatus(code: code.code) == "pending")
            let bob = client(url, "bob")
            let claimed = try await bob.claim(code: code.code.lowercased())
            #expect(claimed.sessionId == session)
            #expect(bob.sessionKey(session) != nil)
            #expect(try await alice.pairStatus(code: code.code) == "claimed")
            #expect(
                await networkError { try await client(url, "carol").claim(code: code.code) }?.code
                    == "code_expired_or_used")
            #expect(await networkError { try await bob.claim(code: "NOPE-NOPE-00000") }?.code == "code_not_found")
            #expect(await networkError { try await bob.pairStatus(code: "NOPE-NOPE-00000") }?.code == "code_not_found")
            // Ten minutes later an unclaimed code has expired.
            let late = try await alice.pair(session: session)
            sandbox.clock.advance(by: 601)
            _ = try await alice.renew(session: session)
            #expect(try await alice.pairStatus(code: late.code) == "expired")
            #expect(
                await networkError { try await client(url, "dave").claim(code: late.code) }?.code
                    == "code_expired_or_used")
        }
    }

    @Test func everyDocumentedErrorCodeComesBackExactly() async throws {
        try await withSandbox { url, sandbox, _ in
            let alice = client(url, "alice")
            let bob = client(url, "bob")
            let carol = client(url, "carol")
            let session = try await alice.createSession().sessionId
            func code(_ body: () async throws -> some Any) async -> String? { await networkError(body)?.code }

            #expect(await code { try await bob.poll(session: "0000", after: nil) } == "session_not_found")
            #expect(await code { try await alice.createSession(ttl: 5) } == "invalid_request")
            #expect(await code { try await alice.join(session: session) } == "agent_id_taken")
            _ = try await bob.join(session: session)
            #expect(await code { try await carol.join(session: session) } == "session_full")  // maxAgents 2
            #expect(await code { try await carol.send(session: session, text: "x") } == "forbidden")
            #expect(await code { try await carol.renew(session: session) } == "forbidden")
            #expect(await code { try await carol.poll(session: session) } == "agent_not_in_session")
            #expect(await code { try await alice.leave(session: session) } == "forbidden")  // the creator
            #expect(await code { try await carol.leave(session: session) } == "missing_session_key")
            #expect(await code { try await alice.pair(session: "0000") } == "session_not_found")

            // A wrong stored key: send is refused with 403, leave with 401.
            let forged = keyStore()
            try forged.store("f00d", server: url, session: session, agent: "bob")
            let impostor = client(url, "bob", keys: forged)
            let sendError = await networkError { try await impostor.send(session: session, text: "x") }
            #expect(sendError?.code == "invalid_session_key")
            #expect(sendError?.status == 403)
            let leaveError = await networkError { try await impostor.leave(session: session) }
            #expect(leaveError?.code == "invalid_session_key")
            #expect(leaveError?.status == 401)
            // Leaving a session one is not (or no longer) in forgets the key, as nexus.sh does (§9.6).
            try forged.store("f00d", server: url, session: session, agent: "zed")
            let zed = client(url, "zed", keys: forged)
            #expect(try await zed.leave(session: session) == .alreadyGone("agent_not_found"))
            #expect(zed.sessionKey(session) == nil)

            // Expiry: a session idle past its TTL is gone for everyone.
            sandbox.clock.advance(by: 3661)
            let gone = await networkError { try await alice.status(session: session) }
            #expect(gone?.code == "session_not_found")
            #expect(gone?.isTransient == false)
        }
    }

    @Test func jsonFallsBackToTextWithoutTheCapabilityAndStrictRefuses() async throws {
        try await withSandbox({ $0.messageFormats = nil }) { url, _, _ in
            let alice = client(url, "alice")
            let session = try await alice.createSession().sessionId
            #expect(try await alice.health(refresh: true).supportsJSON == false)
            _ = try await alice.send(session: session, text: "Report", json: ["quarter": "Q3"])
            let polled = try await alice.poll(session: session)
            #expect(polled.messages.last?.text == "Report {\"quarter\":\"Q3\"}")
            #expect(polled.messages.last?.json == nil)
            let strict = await networkError { try await alice.send(session: session, json: ["a": 1], strict: true) }
            #expect(strict?.code == "json_unsupported")
            #expect(try await alice.poll(session: session).messages.count == 1)
        }
    }

    @Test func statusDecodesAgentsAsObjectsToo() async throws {
        try await withSandbox({ $0.agentsAsObjects = true }) { url, _, _ in
            let alice = client(url, "alice")
            let session = try await alice.createSession().sessionId
            #expect(try await alice.status(session: session).agents == ["alice"])
        }
    }

    @Test func cursorsCompareAsNumbersAndARestartIsNoticed() async throws {
        #expect(Cursor("9") < Cursor("10"))
        #expect([Cursor("10"), Cursor("9"), Cursor("100")].max() == Cursor("100"))
        try await withSandbox { url, sandbox, _ in
            let alice = client(url, "alice")
            let session = try await alice.createSession(greeting: "hello").sessionId
            for index in 1...11 { _ = try await alice.send(session: session, text: "m\(index)") }
            let polled = try await alice.poll(session: session, after: Cursor("9"))
            #expect(polled.messages.map(\.cursor.value) == ["10", "11"])
            // A huge `after` returns nothing (and members, as the ops script uses it).
            let huge = try await alice.poll(session: session, after: Cursor("999999999"), members: true)
            #expect(huge.messages.isEmpty)
            #expect(huge.members?.count == 1)
            // The server restarts: messages are gone, cursors go on.
            sandbox.restart()
            #expect(try await alice.poll(session: session).messages.isEmpty)
            let next = try await alice.send(session: session, text: "after restart")
            #expect(next.cursor == Cursor("12"))
        }
    }

    @Test func redactionAndVerificationAreVisible() async throws {
        try await withSandbox { url, _, _ in
            let alice = client(url, "alice")
            let session = try await alice.createSession().sessionId
            _ = try await alice.send(session: session, text: "key AKIAABCDEFGHIJKLMNOP and password: hunter2")
            let message = try #require(try await alice.poll(session: session).messages.last)
            #expect(message.text == "key [REDACTED:aws_key] and [REDACTED:password]")
            #expect(message.verified)
            let token = "ghs_" + String(repeating: "a1B2", count: 9)
            _ = try await alice.send(session: session, text: "msg_12 with \(token)")
            let github = try #require(try await alice.poll(session: session).messages.last)
            #expect(github.text == "msg_12 with [REDACTED:github_token]")
        }
    }
}

/// What a hostile or careless peer could do to the client or the sandbox.
@Suite struct NexusHardeningTests {
    @Test func anUnwritableKeyStoreStopsTheCallBeforeAnythingIsSent() async throws {
        try await withSandbox { url, sandbox, _ in
            let blocked = testTemporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
            try Data("a file where the store's directory should be".utf8).write(to: blocked)
            let alice = NexusClient(
                server: url, agentID: "alice", keys: SessionKeyStore(directory: blocked.path + "/store"))
            let failure = await networkError { try await alice.createSession() }
            #expect(failure?.code == "key_store_unwritable")
            let stats = sandbox.handle(SandboxRequest(method: "GET", path: "/v1/stats"))
            #expect(String(decoding: stats.body, as: UTF8.self).contains("\"activeSessions\":0"))
        }
    }

    @Test func keyFilesStayInsideTheStoreWhateverTheSessionIsCalled() throws {
        let store = keyStore()
        try store.store("k", server: "http://x", session: "..", agent: "..")
        #expect(store.key(server: "http://x", session: "..", agent: "..") == "k")
        let files = try FileManager.default.subpathsOfDirectory(atPath: store.directory)
        #expect(files.contains { $0.hasSuffix(".key") })
        #expect(
            !FileManager.default.fileExists(atPath: (store.directory as NSString).deletingLastPathComponent + "/.key"))
    }

    /// Keys are kept in memory between requests, but a key file another process rewrites or removes is read
    /// again: the copy is only used while the file's inode, size and modification time are the same.
    @Test func aRewrittenKeyFileIsReadAgain() throws {
        let store = keyStore()
        try store.store("first-key", server: "http://x", session: "s1", agent: "bot")
        #expect(store.key(server: "http://x", session: "s1", agent: "bot") == "first-key")
        // Another process (a second store on the same directory) replaces it with a key of the same length.
        try SessionKeyStore(directory: store.directory).store(
            "other-key", server: "http://x", session: "s1", agent: "bot")
        #expect(store.key(server: "http://x", session: "s1", agent: "bot") == "other-key")
        // Rewritten in place, same size, same inode: the modification time tells.
        let file = try #require(
            FileManager.default.subpathsOfDirectory(atPath: store.directory).first { $0.hasSuffix("bot.key") })
        let path = store.directory + "/" + file
        usleep(10_000)
        try Data("third-key".utf8).write(to: URL(fileURLWithPath: path))
        #expect(store.key(server: "http://x", session: "s1", agent: "bot") == "third-key")
        store.remove(server: "http://x", session: "s1", agent: "bot")
        #expect(store.key(server: "http://x", session: "s1", agent: "bot") == nil)
    }

    @Test func retryAfterIsClampedToAnHour() {
        for (header, expected) in [("30", 30.0), ("inf", nil), ("1e19", 3600), ("-5", 0), ("nonsense", nil)]
            as [(String, Double?)]
        {
            #expect(
                HTTPResponse(status: 429, headers: ["retry-after": header], body: Data()).retryAfter() == expected,
                "\(header)")
        }
    }

    @Test func theSandboxBoundsWhatItStores() async throws {
        try await withSandbox({
            $0.maximumMessagesPerSession = 3; $0.maximumMessageBytes = 100
        }) { url, _, _ in
            let alice = client(url, "alice")
            let session = try await alice.createSession().sessionId
            let tooLong = await networkError {
                try await alice.send(session: session, text: String(repeating: "x", count: 101))
            }
            #expect(tooLong?.code == "invalid_request")
            for index in 1...5 { _ = try await alice.send(session: session, text: "m\(index)") }
            #expect(try await alice.poll(session: session).messages.map(\.text) == ["m3", "m4", "m5"])
            // A private key with no end is not redacted, and is not slow either.
            let header = String(repeating: "-----BEGIN PRIVATE KEY-----", count: 3)
            _ = try await alice.send(session: session, text: header)
        }
    }

    @Test func pairingURLsPointAtTheSandboxAndCodesAreStrong() async throws {
        try await withSandbox { url, _, _ in
            let alice = client(url, "alice")
            let code = try await alice.pair(session: try await alice.createSession().sessionId)
            #expect(code.url == "\(url)/p/\(code.code)")
        }
        #expect(Set(NexusSandbox.words).count >= 256)
    }
}
