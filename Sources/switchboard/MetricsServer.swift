import Foundation
import Sandbox

/// `GET /metrics` for `switchboard run --metrics HOST:PORT`, on the sandbox's listener; anything else is 404.
struct MetricsServer {
    let server: SandboxServer
    var port: Int { server.port }

    /// Listens on `host:port` (port 0: one the OS picks) and returns once bound.
    static func start(host: String, port: Int, render: @escaping @Sendable () -> String) async throws -> MetricsServer {
        do {
            return MetricsServer(
                server: try await SandboxServer.serve(host: host, port: port, serverName: "switchboard-metrics") {
                    method, path in
                    guard path == "/metrics", method == "GET" else { return (404, "text/plain", "not found\n") }
                    return (200, "text/plain; version=0.0.4; charset=utf-8", render())
                })
        } catch {
            throw Failure.message("cannot listen on \(host):\(port) for metrics", hint: "pick another --metrics port")
        }
    }

    func stop() async {
        await server.stop()
    }

    /// `HOST:PORT` (an IPv6 host in brackets).
    static func parse(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65_535).contains(port)
        else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}
