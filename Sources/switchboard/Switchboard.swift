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
            masumi-agent-messenger. Check them (validate, plan, test: no network), run them (tick from cron, \
            run as a daemon), look at what happened (status, journal) and clear what is blocked (resolve). \
            Keep credentials sealed (secrets), try things against local servers (sandbox) and talk to \
            NexusMessaging by hand (nexus).

            Exit codes: 0 success, 1 findings or failure, 2 usage error; `tick` also 3 (another tick holds \
            the lease) and 4 (nothing was due).
            """,
        version: "0.1.0 (\(BuildInfo.revision))",
        subcommands: [
            Validate.self, Schema.self, Init.self, Plan.self, Test.self, Tick.self, Run.self, Resolve.self, Status.self,
            JournalCommand.self,
            SecretsCommand.self,
            Sandbox.self,
            NexusCommand.self,
            TransmissionBotCommand.self,
            Doctor.self,
        ]
    )

    /// Argument parser reports usage errors with 64 (EX_USAGE); switchboard's documented code is 2.
    static func main() async {
        let arguments = CommandLine.arguments
        if arguments.count >= 3, arguments[1] == MasumiSandboxCLI.command {
            await MasumiSandboxCLI.run(server: arguments[2], argv: Array(arguments.dropFirst(3)))
        }
        if arguments.count >= 3, arguments[1] == TransmissionBotSandboxCLI.command {
            await TransmissionBotSandboxCLI.run(server: arguments[2], argv: Array(arguments.dropFirst(3)))
        }
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let failure as Failure {
            // Runtime failures carry network and file messages: printed through the redactor.
            Console.error("Error: \(failure)\n")
            Foundation.exit(ExitStatus.findings)
        } catch {
            if exitCode(for: error) == .validationFailure {
                Console.error((fullMessage(for: error) + "\n"))
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
