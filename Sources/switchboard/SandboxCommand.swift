import ArgumentParser
import Foundation
import Sandbox

extension Switchboard {
    struct Sandbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sandbox",
            abstract: "Run local servers that speak the networks' protocols, for trying workflows safely.",
            discussion: """
                Starts a NexusMessaging server and a TransmissionBot server on 127.0.0.1 (nothing else can reach \
                them; each on its own port, since both APIs use /health and /v1/…) and a stand-in for the \
                masumi-agent-messenger CLI, prints where they are and runs until interrupted (Ctrl-C, SIGTERM), \
                then stops cleanly. State lives in memory and is gone when it stops. Point a Nexus account at it \
                with `server: http://127.0.0.1:PORT`, a TransmissionBot account at the transmissionbot URL, a \
                masumi account with `executable: PATH` (the printed script). The masumi stand-in has the inboxes \
                given with --masumi-agent (default: profile `default` with agents `bot` and `helper`, profile \
                `peer` with agent `peer`) and a channel `ops` they all belong to.

                The TransmissionBot server follows protocols/transmissionbot.md: registration, JWT access tokens \
                for an hour and single-use refresh tokens, recovery, prekeys checked against the identity key, \
                bundles that consume one-time and PQ prekeys, contacts, and an offline queue of opaque envelopes \
                kept until acknowledged. Its rate limits (120 requests a minute per token, 60 bundles an hour, 5 \
                recoveries an hour) are on unless --no-transmissionbot-rate-limits.

                Faults make a network misbehave on purpose, to see what a workflow does then: give --fault at \
                start, or POST the same lines to URL/sandbox/faults while it runs (nexus and masumi faults to the \
                Nexus URL, transmissionbot faults to the TransmissionBot URL). A fault is \
                nexus:[METHOD ]PATH=EFFECT[*N] or transmissionbot:[METHOD ]PATH=EFFECT[*N] (the next N matching \
                requests; EFFECT status:CODE, proxy:CODE, rate-limit:SECONDS, latency:SECONDS, drop, malformed or \
                oversized:BYTES) or masumi:COMMAND=EFFECT[*N] (the next N calls of a CLI command; EFFECT \
                error:CODE[:EXIT], stored-timeout[:CODE] (stored, then a timeout error), garbage, truncated or \
                latency:SECONDS).

                Examples:
                  switchboard sandbox --port 8787 --transmissionbot-port 8788 &
                  switchboard nexus create --server http://127.0.0.1:8787 --agent-id me
                  switchboard sandbox --fault 'nexus:POST /v1/sessions=status:503*2' \
                    --fault 'masumi:thread reply=stored-timeout' \
                    --fault 'transmissionbot:GET /v1/messages/offline=status:401'
                  curl -d 'masumi:thread list=error:SPACETIMEDB_TIMEOUT:2' http://127.0.0.1:8787/sandbox/faults
                  curl -d 'transmissionbot:/v1/messages/send=drop' http://127.0.0.1:8788/sandbox/faults
                """
        )

        @Option(help: "The Nexus server's port (default: one the OS picks).") var port = 0
        @Option(help: "Requests a client may make per minute, as messaging.md allows (0: no limit).") var rateLimit =
            100
        @Option(help: "The TransmissionBot server's port (default: one the OS picks).") var transmissionbotPort = 0
        @Flag(
            inversion: .prefixedNo,
            help: "Enforce TransmissionBot's rate limits (requests per token, bundle fetches, recoveries).")
        var transmissionbotRateLimits = true
        @Option(
            name: .customLong("masumi-agent"),
            help: "A masumi sandbox inbox: PROFILE:SLUG[,SLUG…] (repeatable; the first slug is its default agent).")
        var masumiAgents: [String] = []
        @Option(help: "Where to write the masumi-agent-messenger stand-in (default: a temporary directory).")
        var masumiDirectory: String?
        @Option(
            name: .customLong("fault"),
            help: ArgumentHelp(
                "A fault to inject (repeatable): nexus:[METHOD ]PATH=EFFECT[*N], "
                    + "transmissionbot:[METHOD ]PATH=EFFECT[*N] or masumi:COMMAND=EFFECT[*N].",
                valueName: "spec"))
        var faults: [String] = []
        @Flag(help: "Print the URLs as JSON.") var json = false

        func validate() throws {
            guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
            guard (0...65_535).contains(transmissionbotPort) else {
                throw ValidationError("--transmissionbot-port must be 0 to 65535")
            }
            guard rateLimit >= 0 else { throw ValidationError("--rate-limit must be 0 or more") }
            for spec in masumiAgents {
                let parts = spec.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("--masumi-agent takes PROFILE:SLUG[,SLUG…], like default:bot,helper")
                }
            }
            for spec in faults {
                do throws(SandboxError) {
                    _ = try SandboxFaultSpec.parse(spec)
                } catch {
                    throw ValidationError(error.message)
                }
            }
        }

        func run() async throws {
            // Signals are caught from the start, so a script that stops the sandbox right after reading its
            // URL still gets a clean stop.
            let (termination, stop) = AsyncStream.makeStream(of: Void.self)
            TerminationSignals.install { stop.yield() }
            let server: SandboxServer
            let transmissionBotFaults = FaultPlan()
            do {
                var options = NexusSandbox.Options()
                options.rateLimit = rateLimit == 0 ? nil : rateLimit
                let masumi = MasumiSandbox()
                let inboxes = masumiAgents.isEmpty ? ["default:bot,helper", "peer:peer"] : masumiAgents
                var everyone: [String] = []
                for spec in inboxes {
                    let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
                    let slugs = parts[1].split(separator: ",").map(String.init)
                    masumi.addInbox(profile: parts[0], email: "\(parts[0])@sandbox.invalid", agents: slugs)
                    everyone += slugs
                }
                masumi.addChannel(slug: "ops", members: everyone)
                let plan = FaultPlan()
                for spec in faults {
                    try SandboxFaultSpec.parse(spec).apply(
                        nexus: plan, transmissionBot: transmissionBotFaults, masumi: masumi)
                }
                server = try await SandboxServer.start(
                    nexus: NexusSandbox(options: options), masumi: masumi, faults: plan, port: port)
            } catch {
                throw Failure.message(
                    "cannot start the sandbox on 127.0.0.1:\(port): \(error)", hint: "pick another --port")
            }
            let transmissionBot: SandboxServer
            do {
                var options = TransmissionBotSandbox.Options()
                if !transmissionbotRateLimits {
                    options.requestsPerMinute = nil
                    options.bundleFetchesPerHour = nil
                    options.recoveryAttemptsPerHour = nil
                }
                transmissionBot = try await SandboxServer.start(
                    transmissionBot: TransmissionBotSandbox(options: options), faults: transmissionBotFaults,
                    port: transmissionbotPort)
            } catch {
                await server.stop()
                throw Failure.message(
                    "cannot start the TransmissionBot sandbox on 127.0.0.1:\(transmissionbotPort): \(error)",
                    hint: "pick another --transmissionbot-port")
            }
            let directory: URL
            let temporary = masumiDirectory == nil
            do {
                directory =
                    masumiDirectory.map { URL(fileURLWithPath: $0) }
                    ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                        "switchboard-sandbox-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                await server.stop()
                await transmissionBot.stop()
                throw Failure.message(
                    "cannot create \(masumiDirectory ?? "a temporary directory"): \(error)", hint: nil)
            }
            defer { if temporary { try? FileManager.default.removeItem(at: directory) } }
            let cli: String
            let tbCLI: String
            do {
                cli = try MasumiSandboxCLI.install(in: directory, server: server.url)
                tbCLI = try TransmissionBotSandboxCLI.install(in: directory, server: transmissionBot.url)
            } catch {
                await server.stop()
                await transmissionBot.stop()
                throw Failure.message("cannot write the masumi stand-in to \(directory.path): \(error)", hint: nil)
            }
            // Written unbuffered: a script reading the URL must see it while the server runs.
            let line =
                json
                ? "{\"nexus\":\"\(server.url)\",\"masumi\":\"\(cli)\",\"transmissionbot\":\"\(transmissionBot.url)\",\"transmissionbot-cli\":\"\(tbCLI)\"}\n"
                : "nexus: \(server.url)\nmasumi: \(cli)\ntransmissionbot: \(transmissionBot.url)\ntransmissionbot-cli: \(tbCLI)\n"
            Console.out(line)
            var signals = termination.makeAsyncIterator()
            _ = await signals.next()
            await server.stop()
            await transmissionBot.stop()
            Console.error("sandbox stopped\n")
        }
    }
}
