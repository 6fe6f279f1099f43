import ArgumentParser
import Engine
import Foundation
import Journal
import Logging
import Masumi
import Nexus
import Secrets
import TransmissionBot
import Transport
import Workflow

extension Switchboard {
    struct Tick: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One cron tick: poll what is due, act on the rules, journal everything, exit.",
            discussion: """
                Takes the journal's lease (a second tick on the same workspace exits at once with 3), polls the \
                sources that are due (concurrently), stores new messages before moving any cursor, runs the rules \
                and handlers, sends through the networks (each effect journaled before and after, at most two \
                attempts, then blocked and escalated), renews sessions before they expire, and runs due schedules.

                Exit codes: 0 work done, 1 a failure happened (or the workspace does not validate), 3 the lease is \
                held so the tick was skipped, 4 nothing was due.
                Crontab: */2 * * * * cd /srv/agent && switchboard tick; [ $? -eq 1 ] && echo failed
                """)

        @OptionGroup var journal: JournalOptions
        @Option(
            help: ArgumentHelp(
                "Also write Prometheus metrics to this file (atomically), for node_exporter's textfile collector.",
                valueName: "path"), completion: .file())
        var metricsFile: String?
        @OptionGroup var logs: LogOptions

        func run() async throws {
            logs.bootstrap()
            let journalPath = journal.path
            // Nothing due and nothing changed since the last tick: done before any file is parsed.
            if !journal.json, metricsFile == nil, IdleCheck.isIdle(journal: journalPath) {
                Log.cli.info("tick: \(TickReport().summary)")
                throw ExitCode(4)
            }
            IdleCheck.invalidate(journal: journalPath)
            let (engine, heartbeat) = try EngineLoader.engineWithHeartbeat(
                workspace: journal.workspace, journal: journal.journal)
            await heartbeat?.start()
            let report: TickReport
            do throws(JournalError) {
                report = try await engine.tick()
            } catch {
                await heartbeat?.finish(exitCode: ExitStatus.findings, summary: "journal: \(error.message)")
                throw Failure.journal(error)
            }
            if journal.json { try JSONOutput.print(report) }
            if let metricsFile { Switchboard.writeMetrics(report, engine: engine, to: metricsFile) }
            let code: Int32 =
                report.leaseHeld ? 3 : !report.failures.isEmpty ? ExitStatus.findings : report.nothingDue ? 4 : 0
            await heartbeat?.finish(
                exitCode: code,
                summary: ([report.summary] + report.failures).joined(separator: "\n"))
            if report.leaseHeld {
                Log.cli.notice("tick: another tick holds the lease; skipped")
                throw ExitCode(3)
            }
            Log.cli.info("tick: \(report.summary)")
            for failure in report.failures { Log.cli.warning("  \(failure)") }
            // A workspace with a heartbeat pings on every tick, so it never takes the shortcut.
            if report.failures.isEmpty, heartbeat == nil {
                IdleCheck.record(engine: engine, journal: journalPath)
            } else {
                // Another tick may have left a wake file while this one ran: this one's retries must not wait.
                IdleCheck.invalidate(journal: journalPath)
            }
            if code != 0 { throw ExitCode(code) }
        }
    }

    /// The tick's counters and the journal's totals, written to a temporary file renamed over `path`.
    static func writeMetrics(_ report: TickReport, engine: Engine, to path: String) {
        let registry = MetricsRegistry()
        registry.record(report)
        let text = registry.render(journal: try? engine.journal.metrics())
        let temporary = path + ".\(getpid()).tmp"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            Log.cli.warning("metrics: cannot write \(path): \(error.localizedDescription)")
        }
    }
}

extension Switchboard {
    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An operator clears a blocked intent or a paused source.",
            discussion: """
                ID is a blocked intent's id or key, or a paused source (its target, e.g. nx:session/…), as \
                `switchboard status` lists them. The intent's strikes start over (the next tick may try it \
                again); the source is polled again. Their open escalations are closed.
                """)

        @OptionGroup var journal: JournalOptions
        @Argument(help: "The intent id or key, or the source.") var id: String

        struct Output: Encodable {
            /// `intent` or `source`.
            var resolved: String
            var id: String
            var target: String?
        }
        @Option(help: "Who resolves it (recorded in the journal).") var by =
            ProcessInfo.processInfo.environment["USER"] ?? "operator"

        func run() async throws {
            let store = try journal.open(migrate: true)
            // The next tick must look: there is work again (removed again once the resolve is written, in case a
            // tick wrote one in between).
            IdleCheck.invalidate(journal: journal.path)
            defer { IdleCheck.invalidate(journal: journal.path) }
            do {
                let output: Output
                if try store.pausedSources().contains(where: { $0.source == id }) {
                    _ = try store.resolveSource(id, by: by)
                    output = Output(resolved: "source", id: id, target: id)
                    if !journal.json { print("source \(id) resumed") }
                } else {
                    let intent = try store.resolveIntent(id, by: by)
                    output = Output(resolved: "intent", id: String(intent.id), target: intent.target)
                    if !journal.json {
                        print("intent \(intent.id) (\(intent.target)) cleared; the next tick may try it again")
                    }
                }
                if journal.json { try JSONOutput.print(output) }
            } catch let error as JournalError {
                throw Failure.journal(error)
            }
        }
    }
}

extension TickReport {
    /// One line for people, as `tick` and `run` print it.
    var summary: String {
        "\(sourcesPolled) polled, \(messagesReceived) new messages, \(runs) runs, \(sent) sent, \(renewals) renewed, \(escalations) escalated, \(failures.count) failures"
    }
}

/// Builds an engine for a workspace: validated configuration, journal, one messenger per supported account.
enum EngineLoader {
    /// The workspace, validated: any error is a failure that lists them (nothing runs on an invalid workspace).
    static func configuration(_ workspace: String) throws -> EngineConfiguration {
        let report = WorkspaceSecrets.validate(paths: [workspace])
        let errors = report.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else {
            let text = DiagnosticPrinter(format: .text, colors: false).render(errors)
            throw Failure.message(
                "the workspace does not validate; nothing was run\n" + text,
                hint: "fix the errors (`switchboard validate`)")
        }
        return EngineConfiguration(
            workspace: report.workspace, directory: URL(fileURLWithPath: workspace).standardizedFileURL.path)
    }

    /// The engine and the workspace's heartbeat, if it has one.
    static func engineWithHeartbeat(workspace: String, journal: String?) throws -> (Engine, Heartbeat?) {
        let engine = try engine(workspace: workspace, journal: journal)
        return (engine, Heartbeat(engine: engine))
    }

    static func engine(workspace: String, journal: String?) throws -> Engine {
        let configuration = try configuration(workspace)
        let store: Journal
        do {
            store = try Journal(path: JournalOptions.path(journal: journal, workspace: workspace))
        } catch {
            throw Failure.journal(error)
        }
        let keys = SessionKeyStore.workspace(workspace)
        keys.maskStoredKeys()
        let secrets = try WorkspaceSecrets.load(workspace: configuration)
        var messengers: [String: any Messenger] = [:]
        for account in configuration.workspace.accounts {
            if case .nexus(let settings) = account.settings {
                let client = NexusClient(
                    server: settings.server?.value ?? Account.Nexus.defaultServer, agentID: settings.agentID.value,
                    insecure: settings.insecure, keys: keys)
                messengers[account.name] = NexusMessenger(account: account.name, client: client)
            }
            if case .masumi(let settings) = account.settings {
                var executable = settings.executable?.value ?? Account.Masumi.defaultExecutable
                // A relative path is the workspace's (the CLI itself runs in an empty directory).
                if executable.contains("/"), !executable.hasPrefix("/") {
                    executable =
                        URL(fileURLWithPath: workspace).appendingPathComponent(executable).standardizedFileURL
                        .path
                }
                let cli = MasumiCLI(
                    executable: executable, profile: settings.profile?.value ?? "default",
                    timeout: .milliseconds(Int(settings.timeout.seconds * 1000)))
                messengers[account.name] = MasumiMessenger(
                    account: account.name, client: MasumiClient(cli: cli, agent: settings.agent.value))
            }
        }
        for account in configuration.workspace.accounts {
            guard case .transmissionBot(let settings) = account.settings else { continue }
            if settings.driver == .cli {
                var executable = settings.executable?.value ?? "transmissionbot"
                if executable.contains("/"), !executable.hasPrefix("/") {
                    executable =
                        URL(fileURLWithPath: workspace).appendingPathComponent(executable).standardizedFileURL.path
                }
                let spool = URL(fileURLWithPath: JournalOptions.path(journal: journal, workspace: workspace))
                    .deletingLastPathComponent().appendingPathComponent("tb-spool-\(account.name).json").path
                messengers[account.name] = TransmissionBotCLIMessenger(
                    account: account.name,
                    cli: TBCLI(
                        executable: executable, statePath: statePath(settings.state.value, workspace: workspace)),
                    spool: spool, acceptContactsFrom: settings.acceptContactsFrom.map(\.value))
                continue
            }
            messengers[account.name] = TransmissionBotMessenger(
                account: account.name,
                client: try transmissionBot(settings, account: account.name, workspace: workspace, secrets: secrets),
                acceptContactsFrom: settings.acceptContactsFrom.map(\.value))
        }
        return Engine(configuration: configuration, journal: store, messengers: messengers, secrets: secrets)
    }

    /// A native TransmissionBot account's client, from its state file (relative paths are the workspace's,
    /// `~/` the home directory), its passphrase rendered from `secrets`.
    static func transmissionBot(
        _ settings: Account.TransmissionBot, account: String, workspace: String, secrets: [String: String]
    ) throws -> TBClient {
        let file = try stateFile(settings, account: account, workspace: workspace, secrets: secrets)
        let path = file.path
        let state: TBState?
        do {
            state = try file.load()
        } catch {
            throw Failure.message("account \(account): \(error.message)", hint: error.hint)
        }
        guard let state, state.agentID != nil else {
            throw Failure.message(
                "account \(account): no registered agent in \(path)",
                hint: "register one: switchboard transmissionbot register HANDLE --account \(account)")
        }
        return TBClient(
            server: settings.server?.value ?? state.serverURL ?? Account.TransmissionBot.defaultServer, state: state,
            file: file, insecure: settings.insecure)
    }

    /// An account's state file, its passphrase (if any) rendered with `secrets` and the environment.
    static func stateFile(
        _ settings: Account.TransmissionBot, account: String, workspace: String, secrets: [String: String]
    ) throws -> TBStateFile {
        var passphrase: String?
        if let template = settings.passphrase {
            do throws(ExpressionEvaluator.Failure) {
                passphrase = try ExpressionEvaluator(contexts: Engine.configurationContexts(secrets: secrets))
                    .render(template.value)
            } catch {
                throw Failure.message("account \(account): its passphrase: \(error)", hint: nil)
            }
        }
        return TBStateFile(path: statePath(settings.state.value, workspace: workspace), passphrase: passphrase)
    }

    static func statePath(_ path: String, workspace: String) -> String {
        if path.hasPrefix("~/") { return NSHomeDirectory() + String(path.dropFirst(1)) }
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: workspace).appendingPathComponent(path).standardizedFileURL.path
    }
}
