import ArgumentParser
import Foundation
import Journal
import Workflow

extension Switchboard {
    struct JournalCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "journal",
            abstract: "Read and maintain the run journal (SQLite, .switchboard/journal.sqlite3).",
            discussion: """
                The journal records every run, step, intent (effect), inbox message, source checkpoint, session, \
                schedule, wait, escalation and lease. It is plain SQLite: `sqlite3 .switchboard/journal.sqlite3` \
                works too (the README documents the tables).
                """,
            subcommands: [List.self, Show.self, Tail.self, Prune.self, Check.self]
        )
    }
}

extension Switchboard.JournalCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent runs, newest first.")

        @OptionGroup var journal: JournalOptions
        @Option(help: "How many runs to show.") var limit = 20

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() throws {
            let runs = try Failure.reporting { try journal.open().runs(limit: limit) }
            if journal.json { return try JSONOutput.print(runs) }
            guard !runs.isEmpty else { return print("no runs yet") }
            var table = TextTable("ID", "STARTED", "WORKFLOW", "HANDLER", "TRIGGER", "STATUS", "TOOK")
            for run in runs {
                let took = run.finishedAt.map { TimeText.span($0.timeIntervalSince(run.startedAt)) } ?? "-"
                table.add(
                    String(run.id), TimeText.utc(run.startedAt), run.workflow, run.handler ?? "-", run.triggerKind,
                    run.status.rawValue, took)
            }
            print(table.rendered, terminator: "")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run with its steps and intents.")

        @OptionGroup var journal: JournalOptions
        @Argument(help: "The run's id (from `journal list`).") var id: Int64

        struct Detail: Encodable {
            var run: RunRecord
            var steps: [StepRecord]
            var intents: [IntentRecord]
        }

        func run() throws {
            let detail = try Failure.reporting { () throws -> Detail in
                let store = try journal.open()
                guard let run = try store.run(id) else {
                    throw Failure.message(
                        "\(journal.path): no run \(id)", hint: "`switchboard journal list` shows run ids")
                }
                return Detail(run: run, steps: try store.steps(ofRun: id), intents: try store.intents(ofRun: id))
            }
            if journal.json { return try JSONOutput.print(detail) }
            let run = detail.run
            print("run \(run.id): \(run.workflow) / \(run.handler ?? "-"), \(run.status.rawValue)")
            print("  trigger:  \(run.triggerKind)\(run.triggerRef.map { " \($0)" } ?? "")")
            print("  started:  \(TimeText.utc(run.startedAt))")
            print("  finished: \(TimeText.utc(run.finishedAt))")
            if let hash = run.definitionHash { print("  definition: \(hash)") }
            if !detail.steps.isEmpty {
                var table = TextTable("#", "STEP", "ATTEMPT", "STATUS", "ERROR")
                for step in detail.steps {
                    table.add(
                        String(step.position + 1), step.stepID ?? "-", String(step.attempt), step.status.rawValue,
                        TextTable.error(step.errorCode, step.errorMessage))
                }
                print("\nsteps:\n" + table.rendered, terminator: "")
            }
            if !detail.intents.isEmpty {
                var table = TextTable("ID", "TARGET", "STATUS", "ATTEMPTS", "STRIKES", "ERROR")
                for intent in detail.intents {
                    table.add(
                        String(intent.id), intent.target, intent.status.rawValue, String(intent.attempts),
                        "\(intent.strikes)/\(intent.maxStrikes)",
                        TextTable.error(intent.lastErrorCode, intent.lastErrorMessage))
                }
                print("\nintents:\n" + table.rendered, terminator: "")
            }
        }
    }

    struct Tail: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The latest journal events (runs, steps, intents, escalations), oldest first.",
            discussion: "With --follow, keeps printing new events every second until interrupted.")

        @OptionGroup var journal: JournalOptions
        @Option(name: [.customShort("n"), .long], help: "How many events to show first.") var lines = 20
        @Flag(name: .shortAndLong, help: "Keep printing new events.") var follow = false

        func validate() throws {
            guard lines > 0 else { throw ValidationError("-n/--lines must be at least 1") }
        }

        func run() throws {
            let store = try Failure.reporting { try journal.open() }
            var shown = try Failure.reporting { try store.events(limit: lines) }
            emit(shown)
            while follow {
                Thread.sleep(forTimeInterval: 1)
                let since = shown.last?.time ?? Date(timeIntervalSince1970: 0)
                let fresh = try Failure.reporting { try store.events(since: since, limit: 1000) }.filter {
                    !shown.contains($0)
                }
                emit(fresh)
                shown = Array((shown + fresh).suffix(1000))
            }
        }

        private func emit(_ events: [Journal.Event]) {
            for event in events {
                if journal.json {
                    // One JSON object per line, so a follower can stream them.
                    try? JSONOutput.print(event, lines: true)
                } else {
                    let run = event.runID.map { "run \($0)" } ?? "-"
                    print(
                        "\(TimeText.utc(event.time))  \(event.kind.padding(toLength: 10, withPad: " ", startingAt: 0)) \(run.padding(toLength: 9, withPad: " ", startingAt: 0)) \(event.status.padding(toLength: 9, withPad: " ", startingAt: 0)) \(event.summary)"
                    )
                }
            }
            fflush(nil)
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete history older than a duration, in small transactions.",
            discussion: """
                Deletes finished runs (with their steps and waits), done intents, handled inbox messages and \
                resolved escalations older than the duration; blocked intents, paused sources, unhandled messages \
                and running or waiting runs are kept whatever their age. Prints the file and WAL sizes before and \
                after.

                Example: switchboard journal prune --older-than 30d
                """)

        @OptionGroup var journal: JournalOptions
        @Option(help: ArgumentHelp("Age of the history to delete: 90s, 12h, 30d.", valueName: "duration"))
        var olderThan: String

        func validate() throws {
            guard Interval(parsing: olderThan) != nil else {
                throw ValidationError("'\(olderThan)' is not a duration; write 30d, 12h or 1h30m")
            }
        }

        func run() throws {
            let age = TimeInterval(Interval(parsing: olderThan)!.seconds)
            let report = try Failure.reporting {
                try journal.open(migrate: true).prune(olderThan: Date().addingTimeInterval(-age))
            }
            if journal.json { return try JSONOutput.print(report) }
            print(
                "deleted \(report.runs) runs, \(report.intents) intents, \(report.inbox) inbox messages, \(report.escalations) escalations older than \(TimeText.utc(report.cutoff))"
            )
            print(
                "file: \(report.before.file.byteCountDescription) -> \(report.after.file.byteCountDescription); WAL: \(report.before.wal.byteCountDescription) -> \(report.after.wal.byteCountDescription)"
            )
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the journal: SQLite's integrity and foreign-key checks and the schema version.",
            discussion: "Writes nothing. Exit codes: 0 healthy, 1 problems found or the file cannot be read.")

        @OptionGroup var journal: JournalOptions

        struct Result: Encodable {
            var path: String
            var ok: Bool
            var problems: [String]
            var schema: [String]
            var sizes: Journal.Sizes
        }

        func run() throws {
            let result = try Failure.reporting { () throws -> Result in
                let (problems, schema) = try Journal.check(path: journal.path)
                return Result(
                    path: journal.path, ok: problems.isEmpty, problems: problems, schema: schema,
                    sizes: Journal.sizes(path: journal.path))
            }
            if journal.json {
                try JSONOutput.print(result)
            } else {
                print(
                    "\(result.path): \(result.ok ? "ok" : "\(result.problems.count) problem\(result.problems.count == 1 ? "" : "s")")"
                )
                for problem in result.problems { print("  \(problem)") }
                print(
                    "schema: \(result.schema.joined(separator: ", ")); file \(result.sizes.file.byteCountDescription), WAL \(result.sizes.wal.byteCountDescription)"
                )
            }
            if !result.ok { throw ExitCode(ExitStatus.findings) }
        }
    }
}
