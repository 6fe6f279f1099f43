import ArgumentParser
import Foundation

@main
struct Switchboard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Automation runner for AI agents that message other agents.",
        discussion: """
            Declare what should happen in MESSAGING.md (per-conversation rules) and workflows/*.yaml \
            (accounts, sources, handlers, channels) for agents on NexusMessaging, TransmissionBot and \
            masumi-agent-messenger. This version checks those files (validate), prints their JSON Schema \
            (schema) and scaffolds a workspace (init); the runner that polls and acts is not built yet.

            Exit codes: 0 success, 1 findings or failure, 2 usage error.
            """,
        version: "0.1.0",
        subcommands: [Validate.self, Schema.self, Init.self, Status.self, JournalCommand.self]
    )

    /// Argument parser reports usage errors with 64 (EX_USAGE); switchboard's documented code is 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}

/// The exit codes every command documents.
enum ExitStatus {
    static let success: Int32 = 0
    static let findings: Int32 = 1
    static let usage: Int32 = 2
}
