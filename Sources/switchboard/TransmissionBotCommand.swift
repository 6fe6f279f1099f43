import ArgumentParser
import Engine
import Foundation
import Secrets
import TransmissionBot
import Transport
import Workflow

extension Switchboard {
    struct TransmissionBotCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transmissionbot",
            abstract: "Set up and check a TransmissionBot account (native driver, TBX-1).",
            discussion: """
                The account comes from the workspace (--account NAME, or its only transmissionbot account): its \
                state file, server and passphrase. The state file (mode 0600, its directory 0700) holds the \
                identity keys, the refresh token and the prekey secrets; keep a backup. Tokens and keys are \
                never printed.

                Examples:
                  switchboard transmissionbot register my-agent --account tb
                  switchboard transmissionbot status --json
                """,
            subcommands: [Register.self, StatusCommand.self])
    }
}

struct TransmissionBotOptions: ParsableArguments {
    @Option(help: "The workspace (accounts, secrets).", completion: .directory) var workspace = "."
    @Option(help: "A transmissionbot account of the workspace.") var account: String?
    @Flag(help: "Print JSON for programs.") var json = false

    /// The chosen account and the workspace's secrets, from one reading of the workspace. The secret store is
    /// opened only when the workspace reads a secret.
    func chosenAccount() throws -> (name: String, settings: Account.TransmissionBot, secrets: [String: String]) {
        let workspace = WorkspaceLoader.validate(paths: [self.workspace]).workspace
        let accounts = workspace.accounts.compactMap { account -> (String, Account.TransmissionBot)? in
            if case .transmissionBot(let settings) = account.settings { (account.name, settings) } else { nil }
        }
        let chosen: (String, Account.TransmissionBot)
        if let account {
            guard let match = accounts.first(where: { $0.0 == account }) else {
                throw Failure.message(
                    "no transmissionbot account '\(account)' in \(self.workspace)",
                    hint: accounts.isEmpty ? nil : "accounts: \(accounts.map(\.0).joined(separator: ", "))")
            }
            chosen = match
        } else {
            guard accounts.count == 1 else {
                throw Failure.message(
                    accounts.isEmpty
                        ? "no transmissionbot account in \(self.workspace)" : "which account? pass --account",
                    hint: accounts.isEmpty ? "add one: accounts: { tb: { protocol: transmissionbot, state: … } }" : nil)
            }
            chosen = accounts[0]
        }
        let secrets =
            chosen.1.passphrase == nil
            ? [:]
            : try WorkspaceSecrets.load(
                workspace: EngineConfiguration(
                    workspace: workspace, directory: URL(fileURLWithPath: self.workspace).standardizedFileURL.path))
        return (chosen.0, chosen.1, secrets)
    }
}

extension Switchboard.TransmissionBotCommand {
    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a new agent: identity keys, tokens and prekeys, saved before each network step.",
            discussion: "Refuses when the state file already holds a registered agent.")
        @Argument(help: "The handle to register (unique on the server).") var handle: String
        @Option(help: "The display name (default: the handle).") var displayName: String?
        @OptionGroup var options: TransmissionBotOptions

        func run() async throws {
            let (name, settings, secrets) = try options.chosenAccount()
            let file = try EngineLoader.stateFile(
                settings, account: name, workspace: options.workspace, secrets: secrets)
            let existing: TBState?
            do {
                existing = try file.load()
            } catch {
                throw Failure.message(error.message, hint: error.hint)
            }
            if let existing, let agent = existing.agentID {
                throw Failure.message(
                    "\(file.path) already holds agent \(existing.handle ?? "?") (\(agent))",
                    hint: "use another state file for another agent")
            }
            let client = TBClient(
                server: settings.server?.value ?? Account.TransmissionBot.defaultServer, state: existing ?? TBState(),
                file: file, insecure: settings.insecure)
            let count: TBClient.PrekeyCount
            do throws(NetworkError) {
                try await client.register(handle: handle, displayName: displayName)
                count = try await client.prekeyCount()
            } catch {
                throw Failure.message("\(error)", hint: nil)
            }
            try report(client.state, count: count, json: options.json)
        }
    }

    struct StatusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "The agent, its token's expiry and the server's prekey counts.")
        @OptionGroup var options: TransmissionBotOptions

        func run() async throws {
            let (name, settings, secrets) = try options.chosenAccount()
            let client = try EngineLoader.transmissionBot(
                settings, account: name, workspace: options.workspace, secrets: secrets)
            let count: TBClient.PrekeyCount
            do throws(NetworkError) {
                count = try await client.prekeyCount()
            } catch {
                throw Failure.message("\(error)", hint: nil)
            }
            try report(client.state, count: count, json: options.json)
        }
    }
}

private struct Summary: Encodable {
    var agentID: String?
    var handle: String?
    var server: String?
    var tokenExpiresAt: Int?
    var oneTimePrekeys: Int
    var pqPrekeys: Int
    var messagingReady: Bool
    var issues: [String]
    var sessions: Int
}

private func report(_ state: TBState, count: TBClient.PrekeyCount, json: Bool) throws {
    let summary = Summary(
        agentID: state.agentID, handle: state.handle, server: state.serverURL, tokenExpiresAt: state.tokenExpiresAt,
        oneTimePrekeys: count.one_time_prekeys, pqPrekeys: count.pq_prekeys, messagingReady: count.messaging_ready,
        issues: count.issues ?? [], sessions: state.sessions.count)
    if json { return try JSONOutput.print(summary) }
    print("agent: \(summary.handle ?? "?") (\(summary.agentID ?? "?")) on \(summary.server ?? "?")")
    print(
        "prekeys on the server: \(summary.oneTimePrekeys) one-time, \(summary.pqPrekeys) PQ; messaging ready: \(summary.messagingReady ? "yes" : "no")"
            + (summary.issues.isEmpty ? "" : " (\(summary.issues.joined(separator: ", ")))"))
    print("sessions: \(summary.sessions)")
}
