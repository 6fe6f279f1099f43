import ArgumentParser
import Engine
import Foundation
import Journal
import Nexus
import Secrets
import TransmissionBot
import Transport
import Workflow

extension Switchboard {
    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that a workspace can run: files, journal, secrets, accounts, the masumi CLI, the clock.",
            discussion: """
                Each check says ok, warn or fail with what it found; credentials are checked, never printed. \
                The accounts' servers are asked for /health (a few seconds each at most); nothing is sent.

                Exit codes: 0 nothing failed (warnings allowed), 1 a check failed.
                """)

        @Option(help: "The workspace directory.", completion: .directory) var workspace = "."
        @Option(help: JournalOptions.journalHelp, completion: .file()) var journal: String?
        @Flag(help: "Print JSON for programs.") var json = false

        struct Check: Encodable {
            var check: String
            var status: String
            var detail: String
        }

        func run() async throws {
            var checks: [Check] = []
            func add(_ name: String, _ status: String, _ detail: String) {
                checks.append(Check(check: name, status: status, detail: detail))
            }
            // The workspace.
            let report = WorkspaceSecrets.validate(paths: [workspace])
            let errors = report.count(.error)
            let warnings = report.count(.warning)
            add(
                "workspace", errors > 0 ? "fail" : warnings > 0 ? "warn" : "ok",
                "\(report.fileCount) files, \(errors) errors, \(warnings) warnings"
                    + (errors > 0 ? " (switchboard validate shows them)" : ""))
            let configuration = EngineConfiguration(
                workspace: report.workspace, directory: URL(fileURLWithPath: workspace).standardizedFileURL.path)

            // The journal.
            let journalPath = JournalOptions.path(journal: journal, workspace: workspace)
            if FileManager.default.fileExists(atPath: journalPath) {
                var options = Journal.Options()
                options.create = false
                options.migrate = false
                do {
                    let store = try Journal(path: journalPath, options: options)
                    let problems = try store.check()
                    let sizes = store.sizes()
                    let size = "\(sizes.file.byteCountDescription) + \(sizes.wal.byteCountDescription) WAL"
                    add(
                        "journal", problems.isEmpty ? "ok" : "fail",
                        problems.isEmpty ? "\(journalPath): intact, \(size)" : problems.joined(separator: "; "))
                    if let lease = try store.lease("tick"), lease.expiresAt > Date() {
                        add("lease", "warn", "held by \(lease.holder) until \(Timestamp.format(lease.expiresAt))")
                    } else {
                        add("lease", "ok", "free")
                    }
                    let blocked = try store.blockedIntents().count
                    let paused = try store.pausedSources().count
                    add(
                        "blocked work", blocked + paused > 0 ? "warn" : "ok",
                        "\(blocked) blocked intents, \(paused) paused sources"
                            + (blocked + paused > 0 ? " (switchboard status; switchboard resolve ID)" : ""))
                } catch {
                    add("journal", "fail", "\(error.path): \(error.message)")
                }
            } else {
                add("journal", "ok", "none yet at \(journalPath): nothing has run")
            }

            // Secrets: the store, and whether the key opens it.
            var secrets: [String: String] = [:]
            if !report.workspace.secretReferences.isEmpty {
                do {
                    secrets = try WorkspaceSecrets.load(workspace: configuration)
                    add("secrets", "ok", "\(secrets.count) secrets open with the key")
                } catch {
                    add("secrets", "fail", "\(error)")
                }
            }

            // Accounts.
            let http = HTTPClient(connections: 2)
            var serverDates: [(String, Date)] = []
            for account in report.workspace.accounts {
                switch account.settings {
                case .nexus(let settings):
                    let server = settings.server?.value ?? Account.Nexus.defaultServer
                    let (status, detail, date) = await Self.health(server, http: http, insecure: settings.insecure)
                    if let date { serverDates.append((server, date)) }
                    let keys = Self.countKeys(in: SessionKeyStore.workspace(workspace).directory)
                    add("account \(account.name)", status, "\(detail); \(keys) session keys stored")
                case .masumi(let settings):
                    var executable = settings.executable?.value ?? Account.Masumi.defaultExecutable
                    if executable.contains("/"), !executable.hasPrefix("/") {
                        executable =
                            URL(fileURLWithPath: workspace).appendingPathComponent(executable).standardizedFileURL.path
                    }
                    let (status, detail) = Self.version(of: executable)
                    add("account \(account.name)", status, detail)
                case .transmissionBot(let settings):
                    let path = EngineLoader.statePath(settings.state.value, workspace: workspace)
                    do {
                        let client = try EngineLoader.transmissionBot(
                            settings, account: account.name, workspace: workspace, secrets: secrets)
                        let expires = client.state.tokenExpiresAt.map {
                            Timestamp.format(Date(timeIntervalSince1970: TimeInterval($0)))
                        }
                        let (status, detail, date) = await Self.health(
                            client.server, http: http, insecure: settings.insecure)
                        if let date { serverDates.append((client.server, date)) }
                        add(
                            "account \(account.name)", status,
                            "agent \(client.state.handle ?? "?") in \(path), token until \(expires ?? "?"); \(detail)")
                    } catch {
                        add("account \(account.name)", "fail", "\(error)")
                    }
                }
            }

            // The clock, against the servers' Date headers.
            if serverDates.isEmpty {
                add("clock", "ok", "\(Timestamp.format(Date())) (no server to compare with)")
            } else {
                let worst = serverDates.map { ($0.0, Date().timeIntervalSince($0.1)) }.max { abs($0.1) < abs($1.1) }!
                let skew = Int(worst.1.rounded())
                add(
                    "clock", abs(skew) > 120 ? "fail" : abs(skew) > 10 ? "warn" : "ok",
                    "\(skew) s off \(worst.0)" + (abs(skew) > 10 ? " (sessions and tokens expire by the clock)" : ""))
            }

            if json {
                try JSONOutput.print(checks)
            } else {
                for check in checks {
                    print(
                        "\(check.status.padding(toLength: 5, withPad: " ", startingAt: 0)) \(check.check): \(check.detail)"
                    )
                }
            }
            if checks.contains(where: { $0.status == "fail" }) { throw ExitCode(ExitStatus.findings) }
        }

        /// GET SERVER/health: reachable or not, and the server's clock from its Date header.
        static func health(
            _ server: String, http: HTTPClient, insecure: Bool
        ) async -> (status: String, detail: String, date: Date?) {
            let base = server.hasSuffix("/") ? String(server.dropLast()) : server
            do {
                let response = try await http.send(
                    HTTPRequest(.get, base + "/health", timeout: 5, allowsInsecure: insecure))
                let date = response.headers["date"].flatMap(Self.httpDate)
                return (
                    (200..<300).contains(response.status) ? "ok" : "fail",
                    "\(server) answers /health with \(response.status)", date
                )
            } catch {
                return ("fail", "\(server): \(error)", nil)
            }
        }

        static func httpDate(_ text: String) -> Date? {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            return formatter.date(from: text)
        }

        static func countKeys(in directory: String) -> Int {
            guard let names = FileManager.default.enumerator(atPath: directory) else { return 0 }
            return names.compactMap { $0 as? String }.filter { $0.hasSuffix(".key") }.count
        }

        /// `EXECUTABLE -v`, with a 10 s limit.
        static func version(of executable: String) -> (status: String, detail: String) {
            let process = Process()
            if executable.contains("/") {
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = ["-v"]
            } else {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = [executable, "-v"]
            }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                return ("fail", "\(executable) cannot be run: \(error.localizedDescription)")
            }
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning {
                process.terminate()
                return ("fail", "\(executable) -v did not answer within 10 s")
            }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard process.terminationStatus == 0, !text.isEmpty else {
                return ("fail", "\(executable) not found or not working (exit \(process.terminationStatus))")
            }
            return (
                text.hasPrefix("0.0.22") ? "ok" : "warn",
                "\(executable) version \(text)"
                    + (text.hasPrefix("0.0.22") ? "" : " (switchboard follows 0.0.22; check masumi.md §10's renames)")
            )
        }
    }
}
