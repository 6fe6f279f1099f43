import Foundation
import Testing
import Transport

/// `tick --metrics-file` and `run --metrics`: Prometheus text, scraped and parsed.
@Suite struct MetricsTests {
    /// Parses the text format (0.0.4): every sample belongs to a declared family and has a number.
    static func parse(_ text: String) throws -> [String: Double] {
        var types: [String: String] = [:]
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                try #require(parts.count == 4, "\(line)")
                #expect(["counter", "gauge", "histogram"].contains(parts[3]), "\(line)")
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            let match = try #require(line.wholeMatch(of: /([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/), "\(line)")
            let name = String(match.1)
            let family = types.keys.first { name == $0 || name.hasPrefix($0 + "_") }
            #expect(family != nil, "\(name) has no # TYPE")
            let value = match.3 == "+Inf" ? Double.infinity : try #require(Double(String(match.3)), "\(line)")
            samples[name + String(match.2 ?? "")] = value
        }
        return samples
    }

    static let failing = """
        version: 1
        accounts:
          nx: { protocol: nexus, server: "http://127.0.0.1:9", agent-id: bot }
        sources:
          - { from: nx:session/abcdef0123456789abcdef0123456789abcdef0123456789, every: 1s }
        """

    @Test func aTickWritesTheTextfile() throws {
        let workspace = try Binary.workspace(["workflows/main.yaml": Self.failing, "MESSAGING.md": "## Sessions\n"])
        let file = workspace.appendingPathComponent("switchboard.prom").path
        let result = try Binary.run(["tick", "--workspace", workspace.path, "--metrics-file", file])
        #expect(result.status == 1)
        let samples = try Self.parse(try String(contentsOfFile: file, encoding: .utf8))
        #expect(samples["switchboard_ticks_total"] == 1)
        #expect(samples["switchboard_polls_total"] == 1)
        #expect(samples["switchboard_failures_total"] == 1)
        #expect(samples["switchboard_poll_duration_seconds_count"] == 1)
        #expect(samples["switchboard_poll_duration_seconds_bucket{le=\"+Inf\"}"] == 1)
        #expect(samples["switchboard_intents{status=\"blocked\"}"] == 0)
        #expect(samples["switchboard_paused_sources"] == 0)
        // Written by rename: no temporary file is left beside it.
        let names = try FileManager.default.contentsOfDirectory(atPath: workspace.path)
        #expect(names.filter { $0.hasSuffix(".tmp") } == [])
    }

    @Test func theDaemonServesMetrics() async throws {
        let workspace = try Binary.workspace(["workflows/main.yaml": Self.failing, "MESSAGING.md": "## Sessions\n"])
        let daemon = Process()
        daemon.executableURL = Binary.url
        daemon.arguments = ["run", "--workspace", workspace.path, "--metrics", "127.0.0.1:0", "--max-sleep", "1"]
        let errors = Pipe()
        daemon.standardError = errors
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        var output = ""
        while !output.contains("/metrics\n"),
            let chunk = try errors.fileHandleForReading.read(upToCount: 1), !chunk.isEmpty
        {
            output += String(decoding: chunk, as: UTF8.self)
        }
        let url = try #require(output.firstMatch(of: /http:\/\/127\.0\.0\.1:\d+\/metrics/)).0
        let http = HTTPClient(connections: 1)
        var samples: [String: Double] = [:]
        for _ in 0..<50 where (samples["switchboard_polls_total"] ?? 0) < 2 {
            let response = try await http.send(HTTPRequest(.get, String(url)))
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            samples = try Self.parse(String(decoding: response.body, as: UTF8.self))
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect((samples["switchboard_polls_total"] ?? 0) >= 2)
        // Failing twice in a row paused the source: the journal says so.
        #expect(samples["switchboard_paused_sources"] == 1)
        #expect((samples["switchboard_ticks_total"] ?? 0) >= 2)
        #expect(
            try await http.send(HTTPRequest(.get, String(url).replacingOccurrences(of: "/metrics", with: "/x"))).status
                == 404)
        daemon.terminate()
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
    }
}
