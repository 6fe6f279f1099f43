import ArgumentParser
import Foundation
import Journal

extension Switchboard {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What the journal knows now: sources, sessions, schedules, strikes, blocked work.",
            discussion: """
                Sources with their cursor, failures and pause; sessions with the time left before they expire; \
                when each job is next due; intents that have used strikes; blocked intents and paused sources \
                (resolve them with `switchboard resolve ID`); open waits and escalations; who holds the lease.
                """)

        @OptionGroup var journal: JournalOptions

        struct Snapshot: Encodable {
            var journal: String
            var lease: LeaseRecord?
            var sources: [Checkpoint]
            var sessions: [SessionRecord]
            var schedules: [ScheduleRecord]
            var strikes: [IntentRecord]
            var blockedIntents: [IntentRecord]
            var pausedSources: [Checkpoint]
            var waits: [WaitRecord]
            var escalations: [EscalationRecord]
        }

        func run() throws {
            guard FileManager.default.fileExists(atPath: journal.path) else {
                // A workspace that has not run yet is not an error.
                if journal.json {
                    Console.out("{\"journal\":null}\n")
                } else {
                    print("no journal yet at \(journal.path): nothing has run")
                }
                return
            }
            let snapshot = try Failure.reporting { () throws -> Snapshot in
                let store = try journal.open()
                let strikes = try store.struckIntents()
                let sources = try store.checkpoints()
                return Snapshot(
                    journal: store.path, lease: try store.lease("tick"), sources: sources,
                    sessions: try store.sessions(), schedules: try store.schedules(),
                    strikes: strikes.filter { $0.status != .blocked }, blockedIntents: try store.blockedIntents(),
                    pausedSources: sources.filter(\.isPaused), waits: try store.openWaits(),
                    escalations: try store.openEscalations())
            }
            if journal.json { return try JSONOutput.print(snapshot) }
            print(render(snapshot, now: Date()), terminator: "")
        }

        func render(_ snapshot: Snapshot, now: Date) -> String {
            var output = "journal: \(snapshot.journal)\n"
            if let lease = snapshot.lease, lease.expiresAt > now {
                output += "lease: held by \(lease.holder) until \(TimeText.utc(lease.expiresAt))\n"
            } else {
                output += "lease: free\n"
            }
            func section(_ title: String, _ table: TextTable) {
                output += "\n\(title):\n" + (table.rows.isEmpty ? "  none\n" : table.rendered)
            }
            var sources = TextTable("SOURCE", "CURSOR", "FAILURES", "STATE", "LAST ERROR")
            for source in snapshot.sources {
                sources.add(
                    source.source, source.cursor ?? "-", String(source.consecutiveFailures),
                    source.pausedAt.map { "paused since \(TimeText.utc($0))" } ?? "polling",
                    TextTable.error(source.lastErrorCode, source.lastErrorMessage))
            }
            section("sources", sources)
            var sessions = TextTable("ACCOUNT", "SESSION", "EXPIRES", "LEFT")
            for session in snapshot.sessions {
                sessions.add(
                    session.account, session.session, TimeText.utc(session.expiresAt),
                    session.expiresAt > now ? TimeText.span(session.expiresAt.timeIntervalSince(now)) : "expired")
            }
            section("sessions", sessions)
            var schedules = TextTable("JOB", "NEXT DUE", "LAST FIRED")
            for job in snapshot.schedules {
                schedules.add(
                    job.jobKey, job.nextDue.map { "\(TimeText.utc($0)) (\(TimeText.relative($0, now: now)))" } ?? "-",
                    TimeText.utc(job.lastFired))
            }
            section("schedules", schedules)
            var strikes = TextTable("ID", "TARGET", "STRIKES", "STATUS", "LAST ERROR")
            for intent in snapshot.strikes {
                strikes.add(
                    String(intent.id), intent.target, "\(intent.strikes)/\(intent.maxStrikes)", intent.status.rawValue,
                    TextTable.error(intent.lastErrorCode, intent.lastErrorMessage))
            }
            section("strikes", strikes)
            var blocked = TextTable("ID", "TARGET", "KEY", "LAST ERROR")
            for intent in snapshot.blockedIntents {
                blocked.add(
                    String(intent.id), intent.target, intent.key,
                    TextTable.error(intent.lastErrorCode, intent.lastErrorMessage))
            }
            for source in snapshot.pausedSources {
                blocked.add(
                    "-", source.source, "source:\(source.source)",
                    TextTable.error(source.lastErrorCode, source.lastErrorMessage))
            }
            section("blocked", blocked)
            var waits = TextTable("ID", "RUN", "STEP", "DEADLINE")
            for wait in snapshot.waits {
                waits.add(
                    String(wait.id), String(wait.runID), wait.stepID ?? "-",
                    "\(TimeText.utc(wait.deadline)) (\(TimeText.relative(wait.deadline, now: now)))")
            }
            section("waits", waits)
            var escalations = TextTable("ID", "SUBJECT", "SENT", "MESSAGE")
            for escalation in snapshot.escalations {
                escalations.add(
                    String(escalation.id), escalation.subject, TimeText.utc(escalation.sentAt), escalation.message)
            }
            section("open escalations", escalations)
            return output
        }
    }
}
