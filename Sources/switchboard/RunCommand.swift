import ArgumentParser
import Engine
import Foundation
import Journal
import Logging
import Workflow

extension Switchboard {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "The daemon: the tick's scheduler, long-running.",
            discussion: """
                Ticks whenever something is due (a source, a schedule, a wait's deadline), sleeping in between \
                (at most --max-sleep). When workflows/*.yaml or MESSAGING.md change it reloads them; a change that \
                does not validate is reported and the last good configuration keeps running. SIGTERM or SIGINT \
                lets the step in flight finish and be journaled, then exits 0; what the tick had not started \
                yet is left for the next start.
                """)

        @Option(help: "The workspace directory.", completion: .directory) var workspace = "."
        @Option(help: JournalOptions.journalHelp, completion: .file()) var journal: String?
        @Option(help: "The longest sleep between ticks, in seconds.") var maxSleep = 60
        @Option(
            help: ArgumentHelp(
                "Serve Prometheus metrics at http://ADDRESS/metrics (e.g. 127.0.0.1:9464).", valueName: "host:port"))
        var metrics: String?
        @OptionGroup var logs: LogOptions

        func validate() throws {
            guard maxSleep >= 1 else { throw ValidationError("--max-sleep must be at least 1") }
            if let metrics, MetricsServer.parse(metrics) == nil {
                throw ValidationError("--metrics takes HOST:PORT, like 127.0.0.1:9464")
            }
        }

        func run() async throws {
            logs.bootstrap()
            let stop = LockedFlag()
            var (engine, heartbeat) = try EngineLoader.engineWithHeartbeat(workspace: workspace, journal: journal)
            let running = LockedBox<Engine?>(engine)
            TerminationSignals.install {
                stop.set()
                running.value?.requestStop()  // the tick in flight stops after the step in flight
            }
            var signature = Self.signature(of: workspace)
            let registry = MetricsRegistry()
            var server: MetricsServer?
            if let metrics, let (host, port) = MetricsServer.parse(metrics) {
                let journal = engine.journal
                server = try await MetricsServer.start(host: host, port: port) {
                    registry.render(journal: try? journal.metrics())
                }
                log("metrics on http://\(host):\(server?.port ?? port)/metrics")
            }
            log(
                "running \(engine.configuration.sources.count) sources, \(engine.configuration.workspace.schedules.count) schedules"
            )
            while !stop.isSet {
                do {
                    let report = try await engine.tick()
                    registry.record(report)
                    if report.leaseHeld {
                        log("another tick holds the lease; waiting")
                    } else if !report.nothingDue {
                        log("tick: \(report.summary)")
                        for failure in report.failures { Log.cli.warning("  \(failure)") }
                    }
                    // One ping per cycle: the daemon is alive, and says whether this cycle went well.
                    await heartbeat?.finish(
                        exitCode: report.failures.isEmpty ? 0 : ExitStatus.findings,
                        summary: ([report.summary] + report.failures).joined(separator: "\n"))
                } catch {
                    log("journal: \(error.message) (\(error.hint))")
                    await heartbeat?.finish(exitCode: ExitStatus.findings, summary: "journal: \(error.message)")
                }
                let sleep = Self.sleep(engine: engine, maximum: TimeInterval(maxSleep))
                let deadline = Date().addingTimeInterval(sleep)
                while !stop.isSet, Date() < deadline {
                    try? await Task.sleep(for: .milliseconds(200))
                    let current = Self.signature(of: workspace)
                    if current != signature {
                        signature = current
                        do {
                            (engine, heartbeat) = try EngineLoader.engineWithHeartbeat(
                                workspace: workspace, journal: journal)
                            running.value = engine
                            log("reloaded the workspace")
                            break
                        } catch {
                            log(
                                "the changed workspace does not validate; keeping the last good configuration\n\(error)"
                            )
                        }
                    }
                }
            }
            await server?.stop()
            log("stopped")
        }

        func log(_ line: String) {
            Log.cli.info("\(line)")
        }

        /// Until the next due job or wait deadline, within 1 s and `maximum`.
        static func sleep(engine: Engine, maximum: TimeInterval) -> TimeInterval {
            let now = Date()
            guard let next = try? engine.nextWake(now: now) else { return 1 }
            return min(maximum, max(1, next.timeIntervalSince(now)))
        }

        /// The workspace's files and their modification times: a change means reload.
        static func signature(of workspace: String) -> [String: Date] {
            var files = [(workspace as NSString).appendingPathComponent("MESSAGING.md")]
            let folder = (workspace as NSString).appendingPathComponent("workflows")
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                files.append((folder as NSString).appendingPathComponent(name))
            }
            var signature: [String: Date] = [:]
            for file in files {
                if let date = (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date {
                    signature[file] = date
                }
            }
            return signature
        }
    }
}

/// SIGINT and SIGTERM turned into a call, for commands that stop cleanly: their default actions, which
/// would kill the process mid-write, are switched off.
enum TerminationSignals {
    /// Kept for the life of the process.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func install(_ handler: @escaping @Sendable () -> Void) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
    }
}

final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
