import ArgumentParser
import Foundation
import Sandbox

extension Switchboard {
    struct Sandbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sandbox",
            abstract: "Run local servers that speak the networks' protocols, for trying workflows safely.",
            discussion: """
                Starts a NexusMessaging server on 127.0.0.1 (nothing else can reach it), prints its URL and runs \
                until interrupted (Ctrl-C, SIGTERM), then stops cleanly. State lives in memory and is gone when it \
                stops. Point an account at it with `server: http://127.0.0.1:PORT`.

                Example:
                  switchboard sandbox --port 8787 &
                  switchboard nexus create --server http://127.0.0.1:8787 --agent-id me
                """
        )

        @Option(help: "The port to listen on (default: one the OS picks).") var port = 0
        @Option(help: "Requests a client may make per minute, as messaging.md allows (0: no limit).") var rateLimit =
            100
        @Flag(help: "Print the URLs as JSON.") var json = false

        func validate() throws {
            guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
            guard rateLimit >= 0 else { throw ValidationError("--rate-limit must be 0 or more") }
        }

        func run() async throws {
            // Signals are caught from the start, so a script that stops the sandbox right after reading its
            // URL still gets a clean stop.
            let (termination, stop) = AsyncStream.makeStream(of: Void.self)
            TerminationSignals.install { stop.yield() }
            let server: SandboxServer
            do {
                var options = NexusSandbox.Options()
                options.rateLimit = rateLimit == 0 ? nil : rateLimit
                server = try await SandboxServer.start(nexus: NexusSandbox(options: options), port: port)
            } catch {
                throw Failure.message(
                    "cannot start the sandbox on 127.0.0.1:\(port): \(error)", hint: "pick another --port")
            }
            // Written unbuffered: a script reading the URL must see it while the server runs.
            let line = json ? "{\"nexus\":\"\(server.url)\"}\n" : "nexus: \(server.url)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
            var signals = termination.makeAsyncIterator()
            _ = await signals.next()
            await server.stop()
            FileHandle.standardError.write(Data("sandbox stopped\n".utf8))
        }
    }
}
