import Foundation
import GRDB
import Journal
import Testing
import Workflow

/// Dates bound as text without GRDB's formatter, writes let wait for the next transaction (``Journal/flush()``),
/// runs begun later and group commit. A second `Journal` on the same file stands for another process: what
/// it sees is what is committed, and so what a crash of the first would leave.
@Suite struct JournalDeferredTests {
    // MARK: - Helpers

    /// The text GRDB stores for a date.
    static func grdbText(_ date: Date) -> String? {
        String.fromDatabaseValue(date.databaseValue)
    }

    /// Whether a date read back is the one written, to the millisecond: within a millisecond of it, and in
    /// the millisecond the journal stored for it.
    static func isStored(_ read: Date?, as written: Date) -> Bool {
        guard let read else { return false }
        return abs(read.timeIntervalSince(written)) < 0.001 && grdbText(read) == Timestamp.sqlite(written)
    }

    /// A deterministic 64-bit linear congruential generator (Knuth's MMIX constants).
    struct LCG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
        /// A value in `0..<bound`, from the generator's better high bits.
        mutating func next(below bound: UInt64) -> UInt64 {
            (next() >> 11) % bound
        }
    }

    static func message(_ id: String) -> NewInboxMessage {
        NewInboxMessage(account: "nx", conversation: "room", messageID: id, cursor: id, payload: "{\"id\":\"\(id)\"}")
    }

    /// A journal with one committed run, one pending intent of that run and two unhandled messages.
    static func journalWithRunInFlight(
        _ path: String
    ) throws -> (journal: Journal, run: RunRecord, messages: [Int64]) {
        let journal = try openJournal(path)
        let run = try journal.beginRun(trigger: "message", reference: "m1", workflow: "w", handler: "reply")
        guard
            case .attempt = try journal.beginAttempt(
                key: "reply-1", run: run.id, stepID: "send", target: "nx:session/room", payloadDigest: "d")
        else { throw JournalError(.conflict, path: path, "expected an attempt", hint: "") }
        let polled = try journal.recordPoll(source: "nx", messages: [message("m1"), message("m2")], cursor: "m2")
        return (journal, run, polled.new.map(\.id))
    }

    // MARK: - Timestamp.sqlite matches GRDB

    // GRDB's DateFormatter rounds to the nearest millisecond (CoreFoundation adds half a millisecond before
    // ICU truncates); Timestamp.sqlite must do the same, or a date bound through GRDB (events(since:),
    // prune) misses a row written at the same instant.

    /// A date a quarter into the millisecond nearest to `date`, which rounding down and rounding to the nearest
    /// both put in that millisecond.
    static func middleOfNearestMillisecond(_ date: Date) -> Date {
        let nearest = (date.timeIntervalSince1970 * 1000 + 0.5).rounded(.down)
        return Date(timeIntervalSince1970: (nearest + 0.25) / 1000)
    }

    @Test func sqliteTextMatchesGRDBForPseudoRandomDatesFrom1970To2100() throws {
        var generator = LCG(state: 0x5EED_CAFE_F00D_2100)
        let span: UInt64 = 4_102_444_800  // 1970-01-01 to 2100-01-01, in seconds
        var mismatches: [String] = []
        var grdbNotNearest: [String] = []
        for index in 0..<4000 {
            let date: Date
            switch index % 4 {
            case 0:
                // Microsecond resolution anywhere in the span.
                let micro = generator.next(below: span * 1_000_000)
                date = Date(timeIntervalSince1970: Double(micro) / 1_000_000)
            case 1:
                // A whole millisecond (not exact in binary: may sit a hair below it).
                let milli = generator.next(below: span * 1000)
                date = Date(timeIntervalSince1970: Double(milli) / 1000)
            case 2:
                // The last fraction of a millisecond, where rounding down and rounding to nearest differ.
                let milli = generator.next(below: span * 1000)
                date = Date(timeIntervalSince1970: (Double(milli) + 0.9996) / 1000)
            default:
                // A whole second, or just before the next one.
                let second = generator.next(below: span)
                date = Date(timeIntervalSince1970: Double(second) + (index % 8 == 3 ? 0 : 0.9999))
            }
            let ours = Timestamp.sqlite(date)
            let grdb = Self.grdbText(date)
            if ours != grdb {
                mismatches.append("\(date.timeIntervalSince1970): ours \(ours), GRDB \(grdb ?? "nil")")
            }
            // What GRDB stores is the nearest millisecond (the reference any fix must meet).
            if grdb != Timestamp.sqlite(Self.middleOfNearestMillisecond(date)) {
                grdbNotNearest.append("\(date.timeIntervalSince1970): GRDB \(grdb ?? "nil")")
            }
        }
        let notNearest = grdbNotNearest.count
        #expect(notNearest == 0, "e.g. \(grdbNotNearest.prefix(5))")
        let differing = mismatches.count
        #expect(differing == 0, "of 4000, e.g. \(mismatches.prefix(5))")
    }

    /// Edges where rounding down and rounding to the nearest millisecond agree.
    @Test(
        arguments: [
            (0.0, "1970-01-01 00:00:00.000"),
            (0.000_4, "1970-01-01 00:00:00.000"),
            (86_399.999_2, "1970-01-01 23:59:59.999"),
            (951_782_400.0, "2000-02-29 00:00:00.000"),
            (951_868_799.999_3, "2000-02-29 23:59:59.999"),
            (951_868_800.0, "2000-03-01 00:00:00.000"),
            (1_709_208_000.5, "2024-02-29 12:00:00.500"),
            (4_107_542_399.999_2, "2100-02-28 23:59:59.999"),
            (4_107_542_400.0, "2100-03-01 00:00:00.000"),  // 2100 is not a leap year
            (946_684_799.999_3, "1999-12-31 23:59:59.999"),
            (946_684_800.0, "2000-01-01 00:00:00.000"),
            (4_102_444_799.999_2, "2099-12-31 23:59:59.999"),
            (2_147_483_647.999_2, "2038-01-19 03:14:07.999"),
            (2_147_483_648.0, "2038-01-19 03:14:08.000"),
            (1_795_248_000.123_2, "2026-11-21 08:00:00.123"),
        ])
    func sqliteTextMatchesGRDBAtEdges(seconds: Double, expected: String) throws {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(Self.grdbText(date) == expected)
        #expect(Timestamp.sqlite(date) == expected)
    }

    /// Edges where they do not: GRDB's text (checked here) is the nearest millisecond.
    @Test(
        arguments: [
            (0.999, "1970-01-01 00:00:00.999"),  // 0.999 * 1000 is 998.999…
            (0.999_5, "1970-01-01 00:00:01.000"),
            (59.999_9, "1970-01-01 00:01:00.000"),
            (86_399.999_9, "1970-01-02 00:00:00.000"),
            (951_868_799.999_9, "2000-03-01 00:00:00.000"),  // the end of 2000-02-29
            (4_107_542_399.999_9, "2100-03-01 00:00:00.000"),
            (946_684_799.999_9, "2000-01-01 00:00:00.000"),
            (4_102_444_799.999_9, "2100-01-01 00:00:00.000"),
            (2_147_483_647.999_9, "2038-01-19 03:14:08.000"),
            (1_795_248_000.123_9, "2026-11-21 08:00:00.124"),
            (2_168_079_300.285, "2038-09-14 12:15:00.285"),  // a whole millisecond stored a hair below it
        ])
    func sqliteTextRoundsAsGRDBDoes(seconds: Double, expected: String) throws {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(Self.grdbText(date) == expected)
        #expect(Timestamp.sqlite(date) == expected)
    }

    @Test func datesWrittenByTheJournalReadBackToTheMillisecond() throws {
        let path = temporaryJournalPath()
        let journal = try openJournal(path)
        let started = Date(timeIntervalSince1970: 951_868_799.999_7)  // 2000-02-29 23:59:59.999(7)
        let later = Date(timeIntervalSince1970: 1_795_248_000.123_9)
        let finished = Date(timeIntervalSince1970: 4_102_444_799.000_4)

        let run = try journal.beginRun(trigger: "manual", workflow: "w", handler: "h", now: started)
        let deferredRun = journal.beginRunLater(trigger: "manual", workflow: "w", handler: "h", now: later)
        let deferredID = try journal.id(of: deferredRun)
        guard
            case .attempt(let intent) = try journal.beginAttempt(
                key: "k", run: run.id, stepID: nil, target: "t", payloadDigest: "d", now: later)
        else {
            Issue.record("expected an attempt")
            return
        }
        #expect(Self.isStored(intent.createdAt, as: later))
        try journal.finishRun(
            run.id, status: .succeeded,
            steps: [
                StepDraft(
                    stepID: "s", position: 0, status: .succeeded, outputJSON: nil, startedAt: later,
                    finishedAt: finished)
            ],
            handled: [], now: finished, deferred: true)

        let other = try openJournal(path)
        #expect(try other.runs().count == 2)  // the id(of:) above wrote the deferred run
        #expect(Self.isStored(try other.run(run.id)?.startedAt, as: started))
        #expect(Self.isStored(try other.run(deferredID)?.startedAt, as: later))
        #expect(try other.run(run.id)?.finishedAt == nil)  // the deferred finish is not committed yet

        let read = try #require(try journal.run(run.id))
        #expect(read.status == .succeeded)
        #expect(Self.isStored(read.startedAt, as: started))
        #expect(Self.isStored(read.finishedAt, as: finished))
        let step = try #require(try journal.steps(ofRun: run.id).first)
        #expect(Self.isStored(step.startedAt, as: later))
        #expect(Self.isStored(step.finishedAt, as: finished))

        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let texts = try queue.read { db in
            try String.fetchAll(db, sql: "SELECT started_at FROM runs ORDER BY id")
                + String.fetchAll(db, sql: "SELECT finished_at FROM runs WHERE id = ?", arguments: [run.id])
        }
        try queue.close()
        #expect(texts == [Timestamp.sqlite(started), Timestamp.sqlite(later), "2099-12-31 23:59:59.000"])
        // The stored text is exactly GRDB's, so it compares with dates GRDB binds itself.
        #expect(
            texts.map { Optional($0) } == [Self.grdbText(started), Self.grdbText(later), Self.grdbText(finished)])
    }

    /// `events(since:)` binds its date through GRDB, and compares it with times the journal wrote itself.
    @Test func anEventIsFoundSinceTheInstantItHappened() throws {
        let journal = try openJournal()
        let agreeing = Date(timeIntervalSince1970: 1_795_248_000.123_2)
        let first = try journal.beginRun(trigger: "manual", workflow: "w", handler: "h", now: agreeing)
        #expect(try journal.events(since: agreeing).map(\.runID) == [first.id])

        let roundingUp = Date(timeIntervalSince1970: 1_795_248_100.123_9)
        let second = try journal.beginRun(trigger: "manual", workflow: "w", handler: "h", now: roundingUp)
        #expect(try journal.events(since: roundingUp - 0.001).map(\.runID) == [second.id])
        let found = try journal.events(since: roundingUp).map(\.runID)
        #expect(found == [second.id], "a run started at the instant given is not found since it")
    }

    // MARK: - Deferred writes and who sees them

    @Test func deferredWritesReachAnotherInstanceOnlyAfterFlush() throws {
        let path = temporaryJournalPath()
        let (journal, run, messages) = try Self.journalWithRunInFlight(path)
        let finished = Date(timeIntervalSince1970: 1_795_248_060.25)
        let steps = [
            StepDraft(
                stepID: "reply", position: 0, status: .succeeded, outputJSON: "{\"ok\":true}",
                startedAt: finished - 1, finishedAt: finished),
            StepDraft(
                stepID: "log", position: 1, status: .skipped, outputJSON: nil, startedAt: finished,
                finishedAt: finished),
        ]
        journal.recordSentLater(intent: "reply-1", now: finished)
        try journal.finishRun(
            run.id, status: .succeeded, steps: steps, handled: [messages[0]], now: finished, deferred: true)

        let other = try openJournal(path)
        #expect(try other.intent(key: "reply-1")?.status == .pending)
        #expect(try other.run(run.id)?.status == .running)
        #expect(try other.run(run.id)?.finishedAt == nil)
        #expect(try other.steps(ofRun: run.id).isEmpty)
        #expect(try other.unhandledMessages().map(\.messageID) == ["m1", "m2"])

        try journal.flush()

        let intent = try #require(try other.intent(key: "reply-1"))
        #expect(intent.status == .sent)
        #expect(intent.attempts == 1)
        #expect(Self.isStored(intent.updatedAt, as: finished))
        let after = try #require(try other.run(run.id))
        #expect(after.status == .succeeded)
        #expect(Self.isStored(after.finishedAt, as: finished))
        let written = try other.steps(ofRun: run.id)
        #expect(written.map(\.stepID) == ["reply", "log"])
        #expect(written.map(\.status) == [.succeeded, .skipped])
        #expect(written.map(\.outputJSON) == ["{\"ok\":true}", nil])
        #expect(written.map(\.position) == [0, 1])
        #expect(try other.unhandledMessages().map(\.messageID) == ["m2"])
        // Flushing again with nothing waiting changes nothing and reports nothing.
        try journal.flush()
        #expect(try other.steps(ofRun: run.id).count == 2)
    }

    @Test func theNextWriteTransactionCarriesDeferredWrites() throws {
        let path = temporaryJournalPath()
        let (journal, run, messages) = try Self.journalWithRunInFlight(path)
        journal.recordSentLater(intent: "reply-1")
        try journal.finishRun(
            run.id, status: .waiting, steps: [], handled: messages, deferred: true)
        let other = try openJournal(path)
        #expect(try other.intent(key: "reply-1")?.status == .pending)
        #expect(try other.run(run.id)?.status == .running)

        // Any write of the first journal commits what waited, before its own statements.
        guard
            case .attempt = try journal.beginAttempt(
                key: "reply-2", run: run.id, stepID: "send", target: "nx:session/room", payloadDigest: "d2")
        else {
            Issue.record("expected an attempt")
            return
        }
        #expect(try other.intent(key: "reply-1")?.status == .sent)
        #expect(try other.intent(key: "reply-2")?.status == .pending)
        #expect(try other.run(run.id)?.status == .waiting)
        #expect(try other.run(run.id)?.finishedAt == nil)  // waiting is not terminal
        #expect(try other.unhandledMessages().isEmpty)
    }

    @Test func aGroupCommitCarriesDeferredWrites() async throws {
        let path = temporaryJournalPath()
        let (journal, run, messages) = try Self.journalWithRunInFlight(path)
        journal.recordSentLater(intent: "reply-1")
        try journal.finishRun(
            run.id, status: .failed, steps: [], handled: [messages[1]], deferred: true)
        let other = try openJournal(path)
        #expect(try other.intent(key: "reply-1")?.status == .pending)

        let decision = try await journal.beginAttempt(
            key: "reply-2", runHandle: RunHandle(id: run.id), stepID: nil, target: "t", payloadDigest: "d")
        guard case .attempt(let intent) = decision else {
            Issue.record("expected an attempt, got \(decision)")
            return
        }
        #expect(intent.runID == run.id)
        #expect(try other.intent(key: "reply-1")?.status == .sent)
        #expect(try other.run(run.id)?.status == .failed)
        #expect(try other.run(run.id)?.finishedAt != nil)
        #expect(try other.unhandledMessages().map(\.messageID) == ["m1"])
    }

    @Test func theWritingJournalReadsItsOwnDeferredWritesAtOnce() throws {
        let path = temporaryJournalPath()
        let (journal, run, messages) = try Self.journalWithRunInFlight(path)
        let other = try openJournal(path)
        journal.recordSentLater(intent: "reply-1")
        #expect(try other.intent(key: "reply-1")?.status == .pending)
        #expect(try journal.intent(key: "reply-1")?.status == .sent)
        // That read committed it first, so everyone sees it now.
        #expect(try other.intent(key: "reply-1")?.status == .sent)

        try journal.finishRun(
            run.id, status: .succeeded,
            steps: [
                StepDraft(
                    stepID: "reply", position: 0, status: .succeeded, outputJSON: "{}", startedAt: Date(),
                    finishedAt: Date())
            ], handled: messages, deferred: true)
        #expect(try other.run(run.id)?.status == .running)
        #expect(try journal.steps(ofRun: run.id).map(\.stepID) == ["reply"])
        #expect(try journal.run(run.id)?.status == .succeeded)
        #expect(try journal.unhandledMessages().isEmpty)
        #expect(try other.run(run.id)?.status == .succeeded)
        #expect(try other.unhandledMessages().isEmpty)
    }

    @Test func aLateSentOutcomeChangesNothing() throws {
        let path = temporaryJournalPath()
        let (journal, _, _) = try Self.journalWithRunInFlight(path)
        let failed = try journal.recordOutcome(.failed(code: "E", message: "refused"), forIntent: "reply-1")
        #expect(failed.status == .failed)
        journal.recordSentLater(intent: "reply-1")
        journal.recordSentLater(intent: "no-such-intent")
        try journal.flush()
        let other = try openJournal(path)
        let intent = try #require(try other.intent(key: "reply-1"))
        #expect(intent.status == .failed)
        #expect(intent.strikes == 1)
        #expect(intent.lastErrorCode == "E")
        #expect(try other.intent(key: "no-such-intent") == nil)
    }

    // MARK: - Runs begun later

    @Test func aRunBegunLaterHasNoIDUntilATransactionCarriesIt() throws {
        let path = temporaryJournalPath()
        let journal = try openJournal(path)
        let other = try openJournal(path)
        #expect(RunHandle(id: 42).writtenID == 42)

        let started = Date(timeIntervalSince1970: 1_795_248_000.5)
        let handle = journal.beginRunLater(
            trigger: "message", reference: "inbox:7", workflow: "w", handler: "reply", now: started)
        #expect(handle.writtenID == nil)
        #expect(try other.runs().isEmpty)

        let id = try journal.id(of: handle)
        #expect(handle.writtenID == id)
        #expect(try journal.id(of: handle) == id)  // asking again writes nothing more
        let run = try #require(try other.run(id))
        #expect(run.triggerKind == "message")
        #expect(run.triggerRef == "inbox:7")
        #expect(run.workflow == "w")
        #expect(run.handler == "reply")
        #expect(run.status == .running)
        #expect(run.finishedAt == nil)
        #expect(Self.isStored(run.startedAt, as: started))
        #expect(try other.runs().map(\.id) == [id])

        // A second handle gets its own row.
        let second = journal.beginRunLater(trigger: "schedule", workflow: "w", handler: nil)
        #expect(second.writtenID == nil)
        #expect(try journal.id(of: second) != id)
        #expect(try other.runs().count == 2)
    }

    @Test func anAttemptWritesItsDeferredRunInTheSameTransaction() async throws {
        let path = temporaryJournalPath()
        let journal = try openJournal(path)
        let other = try openJournal(path)
        let handle = journal.beginRunLater(trigger: "message", reference: "inbox:1", workflow: "w", handler: "h")
        #expect(try other.runs().isEmpty)
        #expect(try other.intent(key: "k") == nil)

        let decision = try await journal.beginAttempt(
            key: "k", runHandle: handle, stepID: "send", target: "nx:session/a", payloadDigest: "d")
        guard case .attempt(let intent) = decision else {
            Issue.record("expected an attempt, got \(decision)")
            return
        }
        let id = try #require(handle.writtenID)
        #expect(intent.runID == id)
        #expect(intent.status == .pending)
        #expect(intent.attempts == 1)
        // Both committed: the other instance sees the run and its intent.
        #expect(try other.run(id)?.triggerRef == "inbox:1")
        #expect(try other.intent(key: "k")?.runID == id)
        #expect(try other.intents(ofRun: id).map(\.key) == ["k"])
        #expect(try journal.id(of: handle) == id)
        #expect(try other.runs().count == 1)
    }

    /// A transaction that rolls back after writing a deferred run leaves the run waiting: not in the file, so its
    /// handle has no id yet (`writtenID` is "nil while the run waits to be written").
    @Test func aRolledBackTransactionLeavesARunBegunLaterWaiting() throws {
        let path = temporaryJournalPath()
        let journal = try openJournal(path)
        let other = try openJournal(path)
        let handle = journal.beginRunLater(trigger: "message", reference: "inbox:9", workflow: "w", handler: "h")
        // An outcome for an intent that does not exist: the transaction that carried the run rolls back.
        #expect(throws: JournalError.self) { try journal.recordOutcome(.sent, forIntent: "missing") }
        #expect(try other.runs().isEmpty)
        let staleID = handle.writtenID
        #expect(staleID == nil)
        // It is written with the next transaction, whole.
        let id = try journal.id(of: handle)
        #expect(handle.writtenID == id)
        #expect(try other.run(id)?.triggerRef == "inbox:9")
        #expect(try other.runs().count == 1)
    }

    /// `id(of:)` flushes; a deferred write of someone else that SQLite refused is reported by that flush, as if
    /// this run had failed to be written, and is then gone from the next `flush()`.
    @Test func theIDOfARunWrittenAlongsideARefusedWriteIsStillReturned() throws {
        let path = temporaryJournalPath()
        let journal = try openJournal(path)
        let other = try openJournal(path)
        try journal.finishRun(
            RunHandle(id: 999_999), status: .failed,
            steps: [
                StepDraft(
                    stepID: "s", position: 0, status: .failed, outputJSON: nil, startedAt: Date(), finishedAt: Date())
            ], handled: [], deferred: true)
        let handle = journal.beginRunLater(trigger: "message", reference: "inbox:3", workflow: "w", handler: "h")
        let result = Result { () throws(JournalError) in try journal.id(of: handle) }
        // The run was written.
        let written = try #require(handle.writtenID)
        #expect(try other.run(written)?.triggerRef == "inbox:3")
        let refusal = Result { () throws(JournalError) in try journal.flush() }
        #expect((try? result.get()) == written, "id(of:) gave \(result)")
        #expect((try? refusal.get()) == nil, "flush() reported nothing")
    }

    // MARK: - Group commit

    @Test func fiftyConcurrentAttemptsEachGetTheirOwnRunAndIntent() async throws {
        let path = temporaryJournalPath()
        let journal = try openJournal(path)
        let count = 50
        let results = try await withThrowingTaskGroup(
            of: (index: Int, decision: Journal.AttemptDecision, run: Int64?).self
        ) { group in
            for index in 0..<count {
                group.addTask {
                    let handle = journal.beginRunLater(
                        trigger: "message", reference: "m\(index)", workflow: "w", handler: "h")
                    let decision = try await journal.beginAttempt(
                        key: "k\(index)", runHandle: handle, stepID: "send", target: "nx:session/\(index)",
                        payloadDigest: "d\(index)")
                    return (index, decision, handle.writtenID)
                }
            }
            var results: [(index: Int, decision: Journal.AttemptDecision, run: Int64?)] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(results.count == count)
        var intentIDs: Set<Int64> = []
        var runIDs: Set<Int64> = []
        for result in results {
            guard case .attempt(let intent) = result.decision else {
                Issue.record("k\(result.index): expected an attempt, got \(result.decision)")
                continue
            }
            #expect(intent.key == "k\(result.index)")
            #expect(intent.target == "nx:session/\(result.index)")
            #expect(intent.runID != nil)
            #expect(intent.runID == result.run)
            intentIDs.insert(intent.id)
            if let run = result.run { runIDs.insert(run) }
        }
        #expect(intentIDs.count == count)
        #expect(runIDs.count == count)

        let other = try openJournal(path)
        let runs = try other.runs(limit: 1000)
        #expect(runs.count == count)
        #expect(Set(runs.map(\.id)) == runIDs)
        for index in 0..<count {
            let intent = try #require(try other.intent(key: "k\(index)"))
            #expect(intent.status == .pending)
            #expect(intent.payloadDigest == "d\(index)")
            let runID = try #require(intent.runID)
            #expect(try other.run(runID)?.triggerRef == "m\(index)", "k\(index)")
        }
        #expect(try other.interruptedIntents().count == count)

        // The same keys again: each is in flight, to be reconciled, never attempted twice.
        let again = try await withThrowingTaskGroup(of: (Int, Journal.AttemptDecision).self) { group in
            for index in 0..<count {
                group.addTask {
                    let decision = try await journal.beginAttempt(
                        key: "k\(index)", runHandle: nil, stepID: "send", target: "nx:session/\(index)",
                        payloadDigest: "d\(index)")
                    return (index, decision)
                }
            }
            var results: [(Int, Journal.AttemptDecision)] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(again.count == count)
        for (index, decision) in again {
            guard case .interrupted(let intent) = decision else {
                Issue.record("k\(index): expected interrupted, got \(decision)")
                continue
            }
            #expect(intent.key == "k\(index)")
            #expect(intent.attempts == 1)
        }
        #expect(try other.runs(limit: 1000).count == count)
    }

    /// One attempt in a group names a run that does not exist (a foreign key SQLite refuses): it fails alone,
    /// and the others, which may have shared its transaction, are committed.
    @Test func aFailingAttemptInAGroupFailsAlone() async throws {
        let path = temporaryJournalPath()
        let journal = try openJournal(path)
        let count = 30
        let bad = 7
        let results = await withTaskGroup(
            of: (index: Int, result: Result<Journal.AttemptDecision, JournalError>, run: Int64?).self
        ) { group in
            for index in 0..<count {
                group.addTask {
                    let handle =
                        index == bad
                        ? RunHandle(id: 999_999)
                        : journal.beginRunLater(trigger: "message", reference: "m\(index)", workflow: "w", handler: "h")
                    do throws(JournalError) {
                        let decision = try await journal.beginAttempt(
                            key: "k\(index)", runHandle: handle, stepID: nil, target: "t", payloadDigest: "d")
                        return (index, .success(decision), handle.writtenID)
                    } catch {
                        return (index, .failure(error), handle.writtenID)
                    }
                }
            }
            var results: [(index: Int, result: Result<Journal.AttemptDecision, JournalError>, run: Int64?)] = []
            for await result in group { results.append(result) }
            return results
        }
        #expect(results.count == count)
        for entry in results {
            switch entry.result {
            case .failure(let error):
                #expect(entry.index == bad, "k\(entry.index) failed: \(error)")
                #expect(error.message.contains("FOREIGN KEY"), "\(error)")
            case .success(let decision):
                #expect(entry.index != bad, "the attempt naming a missing run must fail")
                guard case .attempt(let intent) = decision else {
                    Issue.record("k\(entry.index): expected an attempt, got \(decision)")
                    continue
                }
                #expect(intent.runID != nil)
                #expect(intent.runID == entry.run)
            }
        }
        let other = try openJournal(path)
        #expect(try other.intent(key: "k\(bad)") == nil)
        #expect(try other.runs(limit: 1000).count == count - 1)
        for index in 0..<count where index != bad {
            #expect(try other.intent(key: "k\(index)")?.status == .pending, "k\(index)")
        }
        // Nothing is left waiting or reported for later.
        try journal.flush()
    }

    // MARK: - A crash loses only deferred writes

    @Test func whatACrashLeavesIsEverythingButTheDeferredWrites() throws {
        let path = temporaryJournalPath()
        let (journal, run, messages) = try Self.journalWithRunInFlight(path)
        // Committed: the first run's intent. Deferred: its sent outcome and end, and a whole second run.
        journal.recordSentLater(intent: "reply-1")
        try journal.finishRun(run.id, status: .succeeded, steps: [], handled: [messages[0]], deferred: true)
        let later = journal.beginRunLater(trigger: "message", reference: "m2", workflow: "w", handler: "reply")
        try journal.finishRun(
            later, status: .succeeded,
            steps: [
                StepDraft(
                    stepID: "reply", position: 0, status: .succeeded, outputJSON: "{}", startedAt: Date(),
                    finishedAt: Date())
            ], handled: [messages[1]], deferred: true)
        #expect(later.writtenID == nil)

        // What the file holds now is what a crash would leave: as if the deferred writes never happened.
        let survivor = try openJournal(path)
        #expect(try survivor.runs().map(\.id) == [run.id])
        #expect(try survivor.run(run.id)?.status == .running)
        #expect(try survivor.steps(ofRun: run.id).isEmpty)
        #expect(try survivor.intent(key: "reply-1")?.status == .pending)
        #expect(try survivor.interruptedIntents().map(\.key) == ["reply-1"])
        #expect(try survivor.unhandledMessages().map(\.messageID) == ["m1", "m2"])

        try journal.flush()
        let id = try #require(later.writtenID)
        #expect(try survivor.runs().map(\.id) == [id, run.id])
        #expect(try survivor.run(run.id)?.status == .succeeded)
        #expect(try survivor.run(id)?.status == .succeeded)
        #expect(try survivor.run(id)?.triggerRef == "m2")
        #expect(try survivor.steps(ofRun: id).map(\.stepID) == ["reply"])
        #expect(try survivor.intent(key: "reply-1")?.status == .sent)
        #expect(try survivor.unhandledMessages().isEmpty)
    }

    @Test func aJournalGoneWithoutFlushingLeavesNoTraceOfItsDeferredWrites() throws {
        let path = temporaryJournalPath()
        let run: RunRecord
        do {
            let (journal, committed, messages) = try Self.journalWithRunInFlight(path)
            run = committed
            journal.recordSentLater(intent: "reply-1")
            let later = journal.beginRunLater(trigger: "message", reference: "m2", workflow: "w", handler: "reply")
            try journal.finishRun(later, status: .succeeded, steps: [], handled: messages, deferred: true)
            try journal.finishRun(run.id, status: .succeeded, steps: [], handled: [], deferred: true)
            // The process ends here without a flush or another write.
        }
        let next = try openJournal(path)
        #expect(try next.runs().map(\.id) == [run.id])
        #expect(try next.run(run.id)?.status == .running)
        #expect(try next.intent(key: "reply-1")?.status == .pending)
        #expect(try next.unhandledMessages().map(\.messageID) == ["m1", "m2"])
        // The next tick reconciles the interrupted intent instead of sending again.
        guard
            case .interrupted = try next.beginAttempt(
                key: "reply-1", run: run.id, stepID: "send", target: "nx:session/room", payloadDigest: "d")
        else {
            Issue.record("an intent whose sent outcome was lost is interrupted")
            return
        }
    }

    // MARK: - A deferred write SQLite refuses

    @Test func aDeferredWriteThatBreaksAConstraintIsDroppedAndReportedByFlush() throws {
        let path = temporaryJournalPath()
        let (journal, run, messages) = try Self.journalWithRunInFlight(path)
        let other = try openJournal(path)
        // Steps of a run that does not exist: the foreign key refuses them.
        try journal.finishRun(
            RunHandle(id: 999_999), status: .succeeded,
            steps: [
                StepDraft(
                    stepID: "s", position: 0, status: .succeeded, outputJSON: nil, startedAt: Date(),
                    finishedAt: Date())
            ], handled: [], deferred: true)
        journal.recordSentLater(intent: "reply-1")

        // A later write commits, carrying the good deferred write and dropping the bad one.
        guard
            case .attempt = try journal.beginAttempt(
                key: "reply-2", run: run.id, stepID: nil, target: "t", payloadDigest: "d")
        else {
            Issue.record("expected an attempt")
            return
        }
        #expect(try other.intent(key: "reply-1")?.status == .sent)
        #expect(try other.intent(key: "reply-2")?.status == .pending)
        #expect(try other.run(999_999) == nil)
        #expect(try other.steps(ofRun: 999_999).isEmpty)

        let error = #expect(throws: JournalError.self) { try journal.flush() }
        #expect(error?.message.contains("FOREIGN KEY") == true, "\(String(describing: error))")
        // Reported once: the next flush has nothing to say.
        try journal.flush()

        // A bad deferred write that flush itself carries: still reported, still alone.
        try journal.finishRun(
            RunHandle(id: 888_888), status: .failed, steps: [], handled: [messages[0]], deferred: true)
        journal.recordSentLater(intent: "reply-2")
        try journal.finishRun(run.id, status: .succeeded, steps: [], handled: [messages[1]], deferred: true)
        #expect(throws: JournalError.self) { try journal.flush() }
        #expect(try other.intent(key: "reply-2")?.status == .sent)
        #expect(try other.run(run.id)?.status == .succeeded)
        #expect(try other.unhandledMessages().map(\.messageID) == ["m1"])
        try journal.flush()

        // Later writes go on as usual.
        try journal.markHandled([messages[0]], by: run.id)
        #expect(try other.unhandledMessages().isEmpty)
    }

    // MARK: - The WAL's budget

    /// SQLite checkpoints only at sixteen times the budget; the engine's end-of-tick checkpoint brings a WAL
    /// grown past the budget back to it with the next write.
    @Test func aWALPastItsBudgetIsCheckpointedAndTruncatedBack() throws {
        let path = temporaryJournalPath()
        var options = Journal.Options()
        options.walBudget = 64 << 10
        let journal = try Journal(path: path, options: options)
        let payload = String(repeating: "x", count: 2000)
        for batch in 0..<20 {
            let messages = (0..<10).map {
                NewInboxMessage(
                    account: "nx", conversation: "room", messageID: "m\(batch)-\($0)", cursor: nil, payload: payload)
            }
            _ = try journal.recordPoll(source: "nx", messages: messages, cursor: nil)
        }
        let grown = Journal.sizes(path: path).wal
        #expect(grown > options.walBudget, "the WAL grew to \(grown) bytes only")
        try journal.checkpointIfOverBudget()
        _ = try journal.recordPoll(source: "nx", messages: [Self.message("after")], cursor: nil)
        let after = Journal.sizes(path: path).wal
        #expect(after <= options.walBudget, "the WAL is \(after) bytes after the checkpoint")
        // Nothing was lost on the way.
        #expect(try journal.unhandledMessages().count == 201)
    }

    /// A source's next poll and a session's expiry ride along with the poll's transaction: another process sees
    /// them once committed, this one at once.
    @Test func aSourcesScheduleAndSessionWaitForTheNextTransaction() throws {
        let path = temporaryJournalPath()
        let journal = try openJournal(path)
        let other = try openJournal(path)
        let due = Date(timeIntervalSince1970: 1_795_248_120)
        try journal.recordSchedule("source:nx:session/a", nextDue: due, lastFired: due, deferred: true)
        try journal.recordSession(account: "nx", session: "a", expiresAt: due, deferred: true)
        #expect(try other.schedules().isEmpty)
        #expect(try other.sessions().isEmpty)
        _ = try journal.recordPoll(source: "nx", messages: [Self.message("m1")], cursor: "m1")
        #expect(try other.schedules().map(\.jobKey) == ["source:nx:session/a"])
        #expect(try other.schedules().first?.nextDue == due)
        #expect(try other.sessions().map(\.expiresAt) == [due])
        try journal.recordSchedule("source:nx:session/b", nextDue: nil, deferred: true)
        #expect(try journal.schedules().count == 2)  // its own read commits it first
        #expect(try other.schedules().count == 2)
    }
}
