import Engine
import Foundation
import Logging
import Transport
import Workflow

/// The workspace's `heartbeat:` URL, pinged as healthchecks.io expects: `URL/start` when a tick begins, `URL`
/// when it ends well (exit 0, 3 lease held, 4 nothing due), `URL/fail` with the exit code and summary in the
/// body when it fails, so a cron job that stops running, or runs and fails, is noticed. A ping that fails is
/// reported on stderr and never changes the tick's outcome.
struct Heartbeat {
    let url: String
    let http: HTTPClient

    /// The rendered URL (secrets and env), or nil when the workspace has none.
    init?(engine: Engine) {
        guard let template = engine.configuration.workspace.heartbeat else { return nil }
        guard let url = try? engine.renderConfiguration(template.value), !url.isEmpty else {
            Log.cli.warning("heartbeat: cannot render the URL; no pings")
            return nil
        }
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        http = HTTPClient(connections: 1)
    }

    func start() async {
        await ping(url + "/start", body: nil)
    }

    /// Success for 0, 3 and 4; `/fail` otherwise.
    func finish(exitCode: Int32, summary: String) async {
        if [0, 3, 4].contains(exitCode) {
            await ping(url, body: summary)
        } else {
            await ping(url + "/fail", body: "exit \(exitCode): \(summary)")
        }
    }

    private func ping(_ address: String, body: String?) async {
        let request = HTTPRequest(
            .post, address, headers: [("Content-Type", "text/plain")], body: Data((body ?? "").utf8), timeout: 10)
        do {
            let response = try await http.send(request)
            if !(200..<300).contains(response.status) {
                Log.cli.warning("heartbeat: \(originOnly(address)) answered HTTP \(response.status)")
            }
        } catch {
            Log.cli.warning("heartbeat: \(error)")
        }
    }

    /// Heartbeat URLs carry their check's key in the path: errors name the host only.
    private func originOnly(_ address: String) -> String {
        guard let components = URLComponents(string: address), let host = components.host else { return "the URL" }
        return "\(components.scheme ?? "https")://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}
