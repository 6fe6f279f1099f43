import ArgumentParser
import Foundation

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Automation runner for AI agents that message other agents.",
        discussion: """
            Declare what should happen in MESSAGING.md (per-conversation rules) and workflows/*.yaml \
            (accounts, sources, handlers, channels) for agents on NexusMessaging, TransmissionBot and \
            masumi-agent-messenger. This version checks those files (validate), prints their JSON Schema \
            (schema), scaffolds a workspace (init), reads the run journal (status, journal), runs local \
            sandbox servers (sandbox) and talks to NexusMessaging by hand (nexus); the runner that polls and \
            acts is not built yet.

            Exit codes: 0 success, 1 findings or failure, 2 usage error.
            """,
        version: "0.1.0",
        subcommands: [
            Validate.self, Schema.self, Init.self, Plan.self, Test.self, Tick.self, Run.self, Resolve.self, Status.self,
            JournalCommand.self,
            Sandbox.self,
            NexusCommand.self,
        ]
    )

    /// Argument parser reports usage errors with 64 (EX_USAGE); switchboard's documented code is 2.
    static func main() async {
        let arguments = CommandLine.arguments
        if arguments.count >= 3, arguments[1] == MasumiSandboxCLI.command {
            await MasumiSandboxCLI.run(server: arguments[2], argv: Array(arguments.dropFirst(3)))
        }
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
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
