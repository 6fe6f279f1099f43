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

    /// `switchboard tick …`, parsed as the tick command alone: the root parser reflects every subcommand's
    /// options, and each first dynamic cast scans every protocol conformance of a binary that links NIO,
    /// GRDB and swift-crypto (a third of an idle cron tick's time). Help and anything that does not parse
    /// go through the root parser, which words its messages as `switchboard tick`.
    nonisolated static func fastTick(_ arguments: [String]) -> sending (any ParsableCommand)? {
        guard arguments.count >= 2, arguments[1] == "tick" else { return nil }
        let rest = Array(arguments.dropFirst(2))
        guard !rest.contains(where: { $0 == "--help" || $0 == "-h" || $0 == "help" }) else { return nil }
        return try? Tick.parse(rest)
    }

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
            var command: any ParsableCommand
            if let fast = fastTick(arguments) {
                command = fast
            } else {
                command = try parseAsRoot()
            }
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            // A documented exit status (tick's 3 and 4, findings): no message, and no help text built to say
            // nothing (ArgumentParser's error path reflects every command to word one).
            Foundation.exit(code.rawValue)
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
