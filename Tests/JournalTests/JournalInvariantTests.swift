import Foundation
import GRDB
import Journal
import Testing

/// DESIGN.md §3's invariants, as far as they live in the journal.
@Suite struct JournalInvariantTests {
    func message(_ id: String, conversation: String = "room") -> NewInboxMessage {
        NewInboxMessage(
            account: "nx", conversation: conversation, messageID: id, cursor: id, payload: "{\"id\":\"\(id)\"}")
    }

    @Test func inboxBeforeCursorAndRedeliveriesAreRecognised() throws {
        let journal = try openJournal()
        let first = try journal.recordPoll(
            source: "nx:session/room", messages: [message("1"), message("2")], cursor: "2")
        #expect(first.new.map(\.messageID) == ["1", "2"])
        #expect(first.checkpoint.cursor == "2")
        // The server replays 2 and sends 3: only 3 is new.
        let second = try journal.recordPoll(
            source: "nx:session/room", messages: [message("2"), message("3")], cursor: "3")
        #expect(second.new.map(\.messageID) == ["3"])
        #expect(try journal.unhandledMessages().map(\.messageID) == ["1", "2", "3"])
        // The same id in another conversation is another message.
        #expect(
            try journal.recordPoll(source: "x", messages: [message("1", conversation: "other")], cursor: nil).new.count
                == 1)
    }

    @Test func aBatchAndItsCursorAreStoredTogetherOrNotAtAll() throws {
        let path = temporaryJournalPath()
        let journal = try openJournal(path)
        _ = try journal.recordPoll(source: "s", messages: [message("1")], cursor: "1")
        // A trigger that rejects one message makes the second batch fail half-way.
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(
                sql:
                    "CREATE TRIGGER poison BEFORE INSERT ON inbox WHEN NEW.message_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poison'); END"
            )
        }
        #expect(throws: JournalError.self) {
            try journal.recordPoll(source: "s", messages: [message("2"), message("poison")], cursor: "poison")
        }
        #expect(try journal.unhandledMessages().map(\.messageID) == ["1"])
        #expect(try journal.checkpoint(source: "s")?.cursor == "1")
    }

    @Test func anIntentIsJournaledBeforeItsEffectAndAnInterruptedOneIsFoundAgain() throws {
        let path = temporaryJournalPath()
        do {
            let journal = try openJournal(path)
            guard
                case .attempt(let intent) = try journal.beginAttempt(
                    key: "k1", run: nil, stepID: "s", target: "nx:session/a", payloadDigest: "d")
            else { Issue.record("expected an attempt"); return }
            #expect(intent.status == .pending)
            #expect(intent.attempts == 1)
            // The process dies here, before the outcome is written.
        }
        let journal = try openJournal(path)
        #expect(try journal.interruptedIntents().map(\.key) == ["k1"])
        guard
            case .interrupted = try journal.beginAttempt(
                key: "k1", run: nil, stepID: "s", target: "nx:session/a", payloadDigest: "d")
        else { Issue.record("an interrupted intent must be reconciled, not re-sent"); return }
        let unknown = try journal.recordOutcome(.unknown(code: "timeout", message: "no answer"), forIntent: "k1")
        #expect(unknown.status == .unknown)
        #expect(unknown.strikes == 1)
    }

    @Test func aSentIntentIsNeverAttemptedAgain() throws {
        let journal = try openJournal()
        _ = try journal.beginAttempt(key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d")
        try journal.recordOutcome(.sent, forIntent: "k")
        for _ in 0..<3 {
            guard
                case .alreadySent(let intent) = try journal.beginAttempt(
                    key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d")
            else { Issue.record("expected alreadySent"); return }
            #expect(intent.attempts == 1)
        }
    }

    @Test func twoStrikesBlockAcrossTicksUntilResolved() throws {
        let path = temporaryJournalPath()
        for tick in 1...2 {
            // Each tick is a new process: a new Journal on the same file.
            let journal = try openJournal(path)
            guard
                case .attempt = try journal.beginAttempt(
                    key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d")
            else { Issue.record("tick \(tick) should attempt"); return }
            let after = try journal.recordOutcome(.failed(code: "session_not_found", message: "gone"), forIntent: "k")
            #expect(after.strikes == tick)
            #expect(after.status == (tick == 2 ? .blocked : .failed))
        }
        let journal = try openJournal(path)
        guard
            case .blocked(let blocked) = try journal.beginAttempt(
                key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d")
        else { Issue.record("a third attempt must be refused"); return }
        #expect(blocked.lastErrorCode == "session_not_found")
        #expect(try journal.blockedIntents().map(\.key) == ["k"])
        let escalation = try journal.recordEscalation(subject: "intent:k", code: "session_not_found", message: "gone")
        try journal.markEscalationSent(escalation.id)
        let resolved = try journal.resolveIntent(String(blocked.id), by: "alice")
        #expect(resolved.strikes == 0)
        #expect(try journal.blockedIntents().isEmpty)
        #expect(try journal.openEscalations().isEmpty)
        guard
            case .attempt(let retried) = try journal.beginAttempt(
                key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d")
        else { Issue.record("a resolved intent may be attempted again"); return }
        #expect(retried.attempts == 3)
    }

    @Test func theStrikeLimitIsPerIntent() throws {
        let journal = try openJournal()
        for attempt in 1...3 {
            guard
                case .attempt = try journal.beginAttempt(
                    key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d", maxStrikes: 3)
            else { Issue.record("attempt \(attempt) should be allowed"); return }
            try journal.recordOutcome(.failed(code: "E", message: "m"), forIntent: "k")
        }
        #expect(try journal.intent(key: "k")?.status == .blocked)
    }

    @Test func aSourceFailingTwiceInARowIsPausedUntilResolved() throws {
        let journal = try openJournal()
        #expect(try journal.recordPollFailure(source: "ms:inbox", code: "NETWORK", message: "down").isPaused == false)
        // A success in between starts the count again.
        _ = try journal.recordPoll(source: "ms:inbox", messages: [], cursor: nil)
        #expect(try journal.recordPollFailure(source: "ms:inbox", code: "NETWORK", message: "down").isPaused == false)
        let paused = try journal.recordPollFailure(source: "ms:inbox", code: "AUTH_REQUIRED", message: "log in")
        #expect(paused.isPaused)
        #expect(paused.lastErrorCode == "AUTH_REQUIRED")
        #expect(try journal.pausedSources().map(\.source) == ["ms:inbox"])
        let resumed = try journal.resolveSource("ms:inbox", by: "alice")
        #expect(!resumed.isPaused)
        #expect(resumed.consecutiveFailures == 0)
    }

    @Test func theLeaseAdmitsOneHolderAndExpires() throws {
        let journal = try openJournal()
        let now = Date()
        guard case .acquired = try journal.acquireLease("tick", holder: "a", for: 60, now: now) else {
            Issue.record("a free lease is taken"); return
        }
        guard case .held(let lease) = try journal.acquireLease("tick", holder: "b", for: 60, now: now + 1) else {
            Issue.record("a held lease is refused"); return
        }
        #expect(lease.holder == "a")
        // The holder may take it again (a daemon renewing).
        guard case .acquired = try journal.acquireLease("tick", holder: "a", for: 60, now: now + 2) else {
            Issue.record("the holder keeps it"); return
        }
        #expect(try journal.renewLease("tick", holder: "a", for: 60, now: now + 3))
        #expect(try !journal.renewLease("tick", holder: "b", for: 60, now: now + 3))
        try journal.releaseLease("tick", holder: "b")  // not b's to release
        guard case .held = try journal.acquireLease("tick", holder: "b", for: 60, now: now + 4) else {
            Issue.record("still held"); return
        }
        // After expiry (a holder killed without releasing) anyone may take it.
        guard case .acquired = try journal.acquireLease("tick", holder: "b", for: 60, now: now + 64) else {
            Issue.record("an expired lease is free"); return
        }
        try journal.releaseLease("tick", holder: "b")
        #expect(try journal.lease("tick") == nil)
    }

    @Test func waitsResolveOnce() throws {
        let journal = try openJournal()
        let run = try journal.beginRun(trigger: "message", workflow: "w", handler: "h")
        let wait = try journal.createWait(run: run.id, stepID: "ack", matcher: "{}", deadline: Date() + 1800)
        #expect(try journal.openWaits().map(\.id) == [wait.id])
        #expect(try journal.resolveWait(wait.id, resolution: "message"))
        #expect(try !journal.resolveWait(wait.id, resolution: "timeout"))
        #expect(try journal.openWaits().isEmpty)
    }

    @Test func pruneDeletesOldHistoryAndKeepsWhatStillMatters() throws {
        let journal = try openJournal()
        let old = Date(timeIntervalSinceNow: -90 * 86_400)
        var finished: [Int64] = []
        for _ in 0..<30 {
            let run = try journal.beginRun(trigger: "schedule", workflow: "w", handler: "h", now: old)
            let step = try journal.beginStep(run: run.id, stepID: nil, position: 0, now: old)
            try journal.finishStep(
                step.id, status: .succeeded, outputJSON: String(repeating: "x", count: 2000), now: old)
            try journal.updateRun(run.id, status: .succeeded, now: old)
            finished.append(run.id)
        }
        let waiting = try journal.beginRun(trigger: "message", workflow: "w", handler: "h", now: old)
        try journal.updateRun(waiting.id, status: .waiting, now: old)
        // Intents: blocked and failed ones keep their strikes; a sent one of a finished run goes; a sent one of
        // the waiting run stays with it.
        _ = try journal.beginAttempt(
            key: "blocked", run: nil, stepID: nil, target: "t", payloadDigest: "d", maxStrikes: 1, now: old)
        try journal.recordOutcome(.failed(code: "E", message: "m"), forIntent: "blocked", now: old)
        _ = try journal.beginAttempt(key: "failed", run: nil, stepID: nil, target: "t", payloadDigest: "d", now: old)
        try journal.recordOutcome(.failed(code: "E", message: "m"), forIntent: "failed", now: old)
        _ = try journal.beginAttempt(
            key: "done", run: finished[0], stepID: nil, target: "t", payloadDigest: "d", now: old)
        try journal.recordOutcome(.sent, forIntent: "done", now: old)
        _ = try journal.beginAttempt(
            key: "waiting-sent", run: waiting.id, stepID: nil, target: "t", payloadDigest: "d", now: old)
        try journal.recordOutcome(.sent, forIntent: "waiting-sent", now: old)
        // Inbox: 60 handled messages in one conversation (the latest 50 stay for dedup), one handled by the
        // waiting run, one not handled yet.
        let many = (0..<60).map { message("m\($0)") }
        let polled = try journal.recordPoll(source: "s", messages: many, cursor: "59", now: old)
        try journal.markHandled(polled.new.map(\.id), by: finished[1])
        let other = try journal.recordPoll(
            source: "o", messages: [message("w", conversation: "other"), message("u", conversation: "other")],
            cursor: "u", now: old)
        try journal.markHandled([other.new[0].id], by: waiting.id)

        let report = try journal.prune(olderThan: Date(timeIntervalSinceNow: -30 * 86_400), chunk: 7)
        #expect(report.inbox == 10)
        #expect(report.intents == 1)
        // Run 2 still handles the 50 kept messages; the other 29 finished runs go.
        #expect(report.runs == 29)
        #expect(report.after.wal == 0)
        #expect(report.after.file < report.before.file + report.before.wal)
        #expect(Set(try journal.runs().map(\.id)) == [waiting.id, finished[1]])
        #expect(try journal.intent(key: "blocked")?.status == .blocked)
        #expect(try journal.intent(key: "failed")?.strikes == 1)
        #expect(try journal.intent(key: "waiting-sent")?.status == .sent)
        #expect(try journal.intent(key: "done") == nil)
        #expect(try journal.unhandledMessages().map(\.messageID) == ["u"])
        #expect(try journal.check().isEmpty)
        // A re-listed recent message is still recognised.
        #expect(try journal.recordPoll(source: "s", messages: [message("m59")], cursor: "59").new.isEmpty)
    }

    @Test func onlyABlockedIntentCanBeResolved() throws {
        let journal = try openJournal()
        _ = try journal.beginAttempt(key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d")
        try journal.recordOutcome(.sent, forIntent: "k")
        #expect {
            try journal.resolveIntent("k", by: "alice")
        } throws: { ($0 as? JournalError)?.kind == .conflict }
        guard
            case .alreadySent = try journal.beginAttempt(
                key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d")
        else { Issue.record("still sent"); return }
    }

    @Test func anUnknownOutcomeIsReconciledBeforeAnyNewAttempt() throws {
        let journal = try openJournal()
        _ = try journal.beginAttempt(key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d", maxStrikes: 3)
        try journal.recordOutcome(
            .unknown(code: "SPACETIMEDB_MESSAGE_TIMEOUT", message: "no row in 10 s"), forIntent: "k")
        guard
            case .interrupted = try journal.beginAttempt(
                key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d")
        else { Issue.record("an unknown outcome must be reconciled first"); return }
        // The network shows it was not stored: one more attempt is allowed, the strike and its code stay.
        let reconciled = try journal.reconcile(intent: "k", sent: false)
        #expect(reconciled.status == .failed)
        #expect(reconciled.strikes == 1)
        #expect(reconciled.lastErrorCode == "SPACETIMEDB_MESSAGE_TIMEOUT")
        guard case .attempt = try journal.beginAttempt(key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d")
        else { Issue.record("after reconciling, attempt again"); return }
        // The network shows it was stored after all.
        _ = try journal.recordOutcome(.unknown(code: "TIMEOUT", message: "again"), forIntent: "k")
        #expect(try journal.reconcile(intent: "k", sent: true).status == .sent)
    }

    @Test func aLateOrRepeatedOutcomeIsRefused() throws {
        let journal = try openJournal()
        _ = try journal.beginAttempt(key: "k", run: nil, stepID: nil, target: "t", payloadDigest: "d")
        try journal.recordOutcome(.sent, forIntent: "k")
        #expect {
            try journal.recordOutcome(.failed(code: "E", message: "late"), forIntent: "k")
        } throws: { ($0 as? JournalError)?.kind == .conflict }
        #expect(try journal.intent(key: "k")?.status == .sent)
        #expect {
            try journal.recordOutcome(.sent, forIntent: "nope")
        } throws: { ($0 as? JournalError)?.kind == .notFound }
    }

    @Test func aPollWithoutACursorKeepsTheStoredOne() throws {
        let journal = try openJournal()
        _ = try journal.recordPoll(source: "s", messages: [message("1")], cursor: "1")
        try journal.recordAck(source: "s", ackState: "acked-1")
        let quiet = try journal.recordPoll(source: "s", messages: [], cursor: nil)
        #expect(quiet.checkpoint.cursor == "1")
        #expect(quiet.checkpoint.ackState == "acked-1")
    }

    @Test func leaseHoldersAreUniquePerProcess() {
        #expect(Journal.processHolder.contains("@"))
        #expect(Journal.processHolder.contains("#"))
    }

    @Test func eventsReadInOrder() throws {
        let journal = try openJournal()
        let now = Date()
        let run = try journal.beginRun(trigger: "schedule", workflow: "w", handler: "h", now: now)
        let step = try journal.beginStep(run: run.id, stepID: "a", position: 0, now: now)
        try journal.finishStep(step.id, status: .failed, errorCode: "E1", errorMessage: "boom", now: now)
        try journal.updateRun(run.id, status: .failed, now: now)
        let events = try journal.events()
        #expect(events.map(\.kind) == ["step", "run"])
        #expect(events[0].summary == "step 1 a attempt 1: E1 boom")
    }

    @Test func theFileAndDirectoryArePrivate() throws {
        let path = temporaryJournalPath()
        _ = try openJournal(path)
        let file = try FileManager.default.attributesOfItem(atPath: path)
        let directory = try FileManager.default.attributesOfItem(atPath: (path as NSString).deletingLastPathComponent)
        #expect(file[.posixPermissions] as? Int == 0o600)
        #expect(directory[.posixPermissions] as? Int == 0o700)
    }

    @Test func settingsAreWALWithNormalSyncAndIncrementalVacuum() throws {
        let path = temporaryJournalPath()
        _ = try openJournal(path)
        let queue = try DatabaseQueue(path: path)
        let (mode, vacuum) = try queue.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA auto_vacuum"))
        }
        #expect(mode == "wal")
        #expect(vacuum == 2)
    }

    @Test func closingLeavesTheWALForTheNextCheckpointInsteadOfSyncing() throws {
        let path = temporaryJournalPath()
        do {
            let journal = try openJournal(path)
            _ = try journal.beginRun(trigger: "schedule", workflow: "w", handler: "h")
        }
        // SQLite's default would checkpoint and delete the WAL when the last connection closes.
        let wal = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int
        #expect((wal ?? 0) > 0)
        // The next process reads it back.
        #expect(try openJournal(path).runs().count == 1)
    }
}

extension JournalInvariantTests {
    @Test func finishingARunWritesItsStepsStatusAndMessagesTogether() throws {
        let journal = try openJournal()
        let polled = try journal.recordPoll(source: "s", messages: [message("1"), message("2")], cursor: "2")
        let run = try journal.beginRun(trigger: "message", workflow: "w", handler: "h")
        let now = Date()
        try journal.finishRun(
            run.id, status: .succeeded,
            steps: [
                StepDraft(
                    stepID: "a", position: 0, status: .succeeded, outputJSON: "{\"x\":1}", startedAt: now,
                    finishedAt: now),
                StepDraft(
                    stepID: nil, position: 1, status: .succeeded, outputJSON: nil, startedAt: now, finishedAt: now),
            ], handled: [polled.new[0].id], now: now)
        #expect(try journal.run(run.id)?.status == .succeeded)
        #expect(try journal.steps(ofRun: run.id).map(\.stepID) == ["a", nil])
        #expect(try journal.unhandledMessages().map(\.messageID) == ["2"])
    }
}
