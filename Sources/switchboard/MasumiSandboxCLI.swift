import Foundation
import Sandbox
import Transport

/// The sandbox's stand-in for the `masumi-agent-messenger` executable: `switchboard sandbox` writes a
/// two-line script that runs `switchboard __masumi-sandbox-cli URL ARGS…`, and this forwards ARGS to the
/// sandbox server, which keeps every agent's state, then prints what the real CLI would (masumi.md §2.2).
enum MasumiSandboxCLI {
    static let command = "__masumi-sandbox-cli"

    static func run(server: String, argv: [String]) async -> Never {
        struct Call: Encodable { var argv: [String] }
        let http = HTTPClient(connections: 1)
        do {
            let request = HTTPRequest(
                .post, server + "/masumi/cli", headers: [("content-type", "application/json")],
                body: try JSONEncoder().encode(Call(argv: argv)), timeout: 600)
            let response = try await http.send(request)
            let output = try JSONDecoder().decode(MasumiSandbox.Output.self, from: response.body)
            FileHandle.standardOutput.write(Data(output.stdout.utf8))
            FileHandle.standardError.write(Data(output.stderr.utf8))
            exit(output.status)
        } catch {
            // What the real CLI does when its backend is unreachable: a connectivity error, exit 2.
            let envelope = """
                {
                  "schemaVersion": 1,
                  "ok": false,
                  "error": {
                    "message": "Could not reach the sandbox at \(server)",
                    "code": "SPACETIMEDB_CONNECT_FAILED",
                    "try": "masumi-agent-messenger --help",
                    "exitCode": 2
                  }
                }

                """
            FileHandle.standardOutput.write(Data(envelope.utf8))
            exit(2)
        }
    }

    /// Writes the executable script into `directory` and returns its path.
    static func install(in directory: URL, server: String) throws -> String {
        try installStandIn(named: "masumi-agent-messenger", command: command, server: server, in: directory)
    }
}

/// A sandbox stand-in for a network's CLI: a script named like the real tool that runs this very binary's
/// hidden `COMMAND URL ARGS…`. Returns the script's path.
func installStandIn(named name: String, command: String, server: String, in directory: URL) throws -> String {
    let script = directory.appendingPathComponent(name)
    let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    try Data("#!/bin/sh\nexec '\(binary)' \(command) '\(server)' \"$@\"\n".utf8).write(to: script)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
    return script.path
}
