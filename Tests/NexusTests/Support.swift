import Foundation
import Nexus
import Sandbox
import TestSupport
import Transport

/// A sandbox on a loopback port the OS picks, stopped when the body returns (or throws).
func withSandbox<T>(
    _ configure: (inout NexusSandbox.Options) -> Void = { _ in },
    _ body: (_ url: String, _ sandbox: NexusSandbox, _ faults: FaultPlan) async throws -> T
) async throws -> T {
    var options = NexusSandbox.Options()
    options.rateLimit = nil
    configure(&options)
    let sandbox = NexusSandbox(
        options: options, clock: SandboxClock(frozenAt: Date(timeIntervalSince1970: 1_800_000_000)))
    let faults = FaultPlan()
    let server = try await SandboxServer.start(nexus: sandbox, faults: faults)
    do {
        let result = try await body(server.url, sandbox, faults)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

func keyStore() -> SessionKeyStore {
    SessionKeyStore(
        directory: testTemporaryDirectory.appendingPathComponent("nexus-keys-\(UUID().uuidString)").path
    )
}

func client(
    _ url: String, _ agent: String, keys: SessionKeyStore? = nil, http: HTTPClient = .shared, timeout: TimeInterval = 10
)
    -> NexusClient
{
    NexusClient(server: url, agentID: agent, keys: keys ?? keyStore(), http: http, timeout: timeout)
}

/// The error a call throws, or nil when it succeeds.
func networkError<T>(_ body: () async throws -> T) async -> NetworkError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error as? NetworkError
    }
}
