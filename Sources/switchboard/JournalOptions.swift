import ArgumentParser
import Foundation
import Journal

/// Where the journal is: `--journal`, else `$SWITCHBOARD_JOURNAL`, else the workspace's `.switchboard/journal.sqlite3`.
struct JournalOptions: ParsableArguments {
    @Option(name: .customLong("workspace"), help: "The workspace directory.", completion: .directory)
    var workspace = "."

    @Option(name: .customLong("journal"), help: Self.journalHelp, completion: .file())
    var journal: String?

    static let journalHelp = ArgumentHelp(
        "The journal file (default: $SWITCHBOARD_JOURNAL, else WORKSPACE/.switchboard/journal.sqlite3).",
        valueName: "path")

    @Flag(help: "Print JSON for programs instead of tables.")
    var json = false

    var path: String { Self.path(journal: journal, workspace: workspace) }

    static func path(journal: String?, workspace: String) -> String {
        journal ?? ProcessInfo.processInfo.environment["SWITCHBOARD_JOURNAL"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Journal.defaultPath(workspace: workspace)
    }

    /// Opens an existing journal; a missing or unusable one is reported on stderr and exits 1. Readers do not
    /// migrate: an older switchboard's cron ticks must keep working after someone runs a newer `status`.
    func open(migrate: Bool = false) throws -> Journal {
        var options = Journal.Options()
        options.create = false
        options.migrate = migrate
        do {
            return try Journal(path: path, options: options)
        } catch {
            throw Failure.journal(error)
        }
    }
}

/// A failure reported once, at the edge, as `switchboard: …` plus a hint, with exit code 1.
enum Failure: Error, CustomStringConvertible {
    case journal(JournalError)
    case message(String, hint: String?)

    var description: String {
        switch self {
        case .journal(let error): "\(error.path): \(error.message)\nhint: \(error.hint)"
        case .message(let text, let hint): text + (hint.map { "\nhint: \($0)" } ?? "")
        }
    }
}

extension Failure {
    /// Runs `body`, turning journal errors into a `Failure` the command prints.
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as JournalError {
            throw Failure.journal(error)
        }
    }
}
