import Foundation
import Testing
import Workflow

/// What operating switchboard relies on: `--version` naming the build's commit, and the recipes in contrib/
/// (the cron wrapper, the systemd units, the GitHub Actions job) as they are shipped.
@Suite struct OperatingTests {
    static let contrib = Binary.repository.appendingPathComponent("contrib")
    static let cronWrapper = contrib.appendingPathComponent("cron/switchboard-cron")
    static let actionsJob = contrib.appendingPathComponent("github/switchboard.yml")
    static let units = ["switchboard-tick.service", "switchboard-tick.timer", "switchboard.service"]

    // MARK: - --version

    @Test func versionNamesTheCommitItWasBuiltFrom() throws {
        let git = try Self.program("git", ["-C", Binary.repository.path, "rev-parse", "--short", "HEAD"])
        let revision = git.status == 0 ? git.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : "unknown"
        let result = try Binary.run(["--version"])
        #expect(result.status == 0)
        // -dirty when the checkout had uncommitted changes to tracked files at build time.
        #expect(["0.1.0 (\(revision))\n", "0.1.0 (\(revision)-dirty)\n"].contains(result.stdout), "\(result.stdout)")
    }

    // MARK: - cron

    /// The tick's exit code and what the wrapper should exit with: 3 (lease held) and 4 (nothing due) are a
    /// normal minute; a failure, a usage error, a killed tick or a missing executable are not.
    @Test(arguments: [(0, 0), (3, 0), (4, 0), (1, 1), (2, 2), (5, 5), (127, 127), (137, 137)])
    func theCronWrapperPassesOnlyFailures(tick: Int32, wrapper: Int32) throws {
        let root = try Binary.workspace([:])
        let fake = try Self.fakeSwitchboard(in: root)
        let result = try Binary.run(
            ["/srv/agent", "--json"], executable: Self.cronWrapper, in: root,
            environment: ["SWITCHBOARD": fake.path, "FAKE_STATUS": String(tick)])
        #expect(result.status == wrapper)
        let arguments = try String(contentsOf: root.appendingPathComponent("arguments"), encoding: .utf8)
        #expect(arguments == "tick\n--workspace\n/srv/agent\n--json\n")
        if wrapper == 0 {
            // Nothing printed: cron mails any output.
            #expect(result.stdout.isEmpty && result.stderr.isEmpty, "\(result.stdout)\(result.stderr)")
        } else {
            #expect(result.stdout.contains("tick output") && result.stdout.contains("tick complaint"))
            #expect(result.stderr.contains("switchboard tick --workspace /srv/agent exited \(tick)"))
        }
    }

    @Test func theCronWrapperRunsTheSwitchboardInstalledBesideIt() throws {
        let root = try Binary.workspace([:])
        _ = try Self.fakeSwitchboard(in: root)
        let wrapper = root.appendingPathComponent("switchboard-cron")
        try FileManager.default.copyItem(at: Self.cronWrapper, to: wrapper)
        // cron's PATH, where no switchboard is.
        let result = try Binary.run(
            ["/srv/agent"], executable: wrapper, in: root,
            environment: ["SWITCHBOARD": "", "PATH": "/usr/bin:/bin", "FAKE_STATUS": "4"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("arguments").path))
    }

    @Test func theCronWrapperWithoutAWorkspaceIsAUsageError() throws {
        let result = try Binary.run([], executable: Self.cronWrapper)
        #expect(result.status == 2)
        #expect(result.stderr.contains("usage: switchboard-cron WORKSPACE"))
    }

    // MARK: - systemd

    @Test func theUnitsPassSystemdAnalyzeVerify() throws {
        let analyze = try #require(
            Self.onPath("systemd-analyze"), "systemd-analyze is missing (Debian's systemd package)")
        let root = try Binary.workspace([:])
        var paths: [String] = []
        for name in Self.units {
            // verify checks that ExecStart's program exists: the built one stands in for the installed one.
            let text = try String(contentsOf: Self.contrib.appendingPathComponent("systemd/\(name)"), encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/switchboard", with: Binary.url.path)
            let url = root.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            paths.append(url.path)
        }
        let result = try Binary.run(["verify", "--man=no"] + paths, executable: analyze, in: root)
        #expect(result.status == 0, "\(result.stderr)")
        // An unknown key or a bad value is only a warning, with the file's name.
        #expect(!result.stderr.contains(root.path), "\(result.stderr)")
        #expect(!Self.units.contains { result.stderr.contains($0) }, "\(result.stderr)")
    }

    @Test func theTimerTicksEveryMinuteAndThreeAndFourAreSuccess() throws {
        let service = try Self.unit("switchboard-tick.service")
        let timer = try Self.unit("switchboard-tick.timer")
        #expect(service["Service"]?["Type"] == ["oneshot"])
        #expect(
            Set(service["Service"]?["SuccessExitStatus"]?.flatMap { $0.split(separator: " ") } ?? []) == ["3", "4"])
        let execStart = try #require(service["Service"]?["ExecStart"]?.first).split(separator: " ")
        #expect(execStart.dropFirst().prefix(2) == ["tick", "--workspace"])
        #expect(timer["Timer"]?["OnCalendar"] == ["minutely"])
        #expect(timer["Timer"]?["Unit"] == ["switchboard-tick.service"])
        #expect(timer["Install"]?["WantedBy"] == ["timers.target"])
    }

    @Test func theDaemonRestartsOnFailureAndWaitsForTheStepInFlight() throws {
        let service = try Self.unit("switchboard.service")["Service"] ?? [:]
        let execStart = try #require(service["ExecStart"]?.first).split(separator: " ")
        #expect(execStart.dropFirst().prefix(2) == ["run", "--workspace"])
        #expect(service["Restart"] == ["on-failure"])
        // SIGTERM to the daemon only, so the responder it waits for is not cut off.
        #expect(service["KillMode"] == ["mixed"])
        // The responder's default timeout and 2 s to kill it, then a masumi send (1 min and 2 s).
        let stop = try #require(service["TimeoutStopSec"]?.first.flatMap { Int($0) })
        #expect(stop >= Responder.defaultTimeout.seconds + 2 + 60 + 2)
    }

    @Test(arguments: ["switchboard-tick.service", "switchboard.service"])
    func theServicesWriteOnlyTheirWorkspace(name: String) throws {
        let service = try Self.unit(name)["Service"] ?? [:]
        let execStart = try #require(service["ExecStart"]?.first).split(separator: " ").map(String.init)
        let workspace = try #require(execStart.firstIndex(of: "--workspace")).advanced(by: 1)
        #expect(service["ReadWritePaths"] == [execStart[workspace]])
        #expect(service["WorkingDirectory"] == [execStart[workspace]])
        #expect(service["ProtectSystem"] == ["strict"])
        #expect(service["NoNewPrivileges"] == ["yes"])
        #expect(service["PrivateTmp"] == ["yes"])
        #expect(service["EnvironmentFile"] == ["-/etc/switchboard/switchboard.env"])
        // The masumi CLI (Node.js) runs as a child and inherits the filter; its JIT needs writable code pages.
        #expect(service["MemoryDenyWriteExecute"] == nil)
    }

    // MARK: - GitHub Actions

    @Test func theActionsJobRunsOnPullRequestsAndChecksTheWorkspace() throws {
        let job = try Self.actionsDocument()
        #expect((job["on"] as? [String: Any])?.keys.contains("pull_request") == true)
        let commands = try Self.actionsSwitchboardSteps().map(\.script)
        #expect(commands.contains { $0.hasPrefix("switchboard validate ") && $0.contains("--format github") })
        #expect(commands.contains { $0.hasPrefix("switchboard test ") })
    }

    @Test func theActionsChecksPassOnTheShippedWorkspaceAndFailOnABrokenOne() throws {
        let steps = try Self.actionsSwitchboardSteps()
        for step in steps {
            let result = try Self.actionsStep(step.script, in: Binary.repository)
            #expect(result.status == 0, "\(step.name): \(result.stdout)\(result.stderr)")
        }
        let broken = try Binary.workspace(["workflows/main.yaml": "version: 1\nsorces: []\n"])
        let validate = try #require(steps.first { $0.script.hasPrefix("switchboard validate ") })
        let result = try Self.actionsStep(validate.script, in: broken)
        #expect(result.status == 1)
        #expect(result.stdout.contains("::error file=workflows/main.yaml,line=2,col=1,"), "\(result.stdout)")
    }

    // MARK: - every command the recipes run

    @Test func everySwitchboardCommandTheRecipesRunExistsWithItsOptions() throws {
        var texts = try Self.units.filter { $0.hasSuffix(".service") }.map {
            try Self.unit($0)["Service"]?["ExecStart"]?.joined(separator: "\n") ?? ""
        }
        texts += try Self.actionsSwitchboardSteps().map(\.script)
        // The wrapper's code, not its comments.
        texts += try String(contentsOf: Self.cronWrapper, encoding: .utf8).split(separator: "\n")
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }.map(String.init)
        var commands: [[String]: Set<String>] = [:]
        for text in texts {
            for match in text.matches(of: /(?m)(?:^|\s|bin\/)(?:switchboard|"\$switchboard") +([a-z][^\n]*)/) {
                let tokens = match.output.1.split(separator: " ").map(String.init)
                let words = Array(tokens.prefix { $0.wholeMatch(of: /[a-z][a-z-]*/) != nil })
                commands[words, default: []].formUnion(tokens.filter { $0.hasPrefix("--") })
            }
        }
        #expect(Set(commands.keys) == [["tick"], ["run"], ["validate"], ["test"]])
        for (words, options) in commands {
            let help = try Binary.run(words + ["--help"])
            #expect(help.status == 0, "switchboard \(words.joined(separator: " ")) --help: \(help.stderr)")
            let documented = Set(help.stdout.split { !($0.isLetter || $0.isNumber || $0 == "-") })
            for option in options {
                #expect(
                    documented.contains(Substring(option)),
                    "switchboard \(words.joined(separator: " ")) has no \(option)")
            }
        }
    }

    // MARK: - Helpers

    /// A stand-in for switchboard that records its arguments one a line, prints a line on each of stdout and
    /// stderr, and exits with $FAKE_STATUS.
    static func fakeSwitchboard(in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("switchboard")
        let script = """
            #!/bin/sh
            printf '%s\\n' "$@" > "$(dirname "$0")/arguments"
            echo "tick output"
            echo "tick complaint" >&2
            exit "$FAKE_STATUS"

            """
        try Data(script.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url
    }

    /// A program found on PATH, run with these arguments.
    static func program(_ name: String, _ arguments: [String], in directory: URL? = nil) throws -> Binary.Result {
        try Binary.run([name] + arguments, executable: URL(fileURLWithPath: "/usr/bin/env"), in: directory)
    }

    static func onPath(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// A unit file as sections of keys, each with its values in order (a key may repeat). Throws on a line that
    /// is neither a comment, a section header nor `Key=value` inside a section.
    static func unit(_ name: String) throws -> [String: [String: [String]]] {
        let text = try String(contentsOf: contrib.appendingPathComponent("systemd/\(name)"), encoding: .utf8)
        var sections: [String: [String: [String]]] = [:]
        var section: String?
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let section, let equals = line.firstIndex(of: "="), !line.hasSuffix("\\") else {
                throw UnitFileError(description: "\(name):\(number + 1): not a key in a section: \(line)")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key, default: []].append(
                line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))
        }
        return sections
    }

    struct UnitFileError: Error, CustomStringConvertible {
        var description: String
    }

    /// The Actions job as PyYAML reads it: with the base loader every scalar stays text, so the key `on` is not
    /// read as YAML 1.1's boolean true.
    static func actionsDocument() throws -> [String: Any] {
        let script =
            "import json, sys, yaml; json.dump(yaml.load(open(sys.argv[1]), Loader=yaml.BaseLoader), sys.stdout)"
        let parsed = try program("python3", ["-c", script, actionsJob.path])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [String: Any])
    }

    /// The job's steps that run switchboard itself (not the ones that install it).
    static func actionsSwitchboardSteps() throws -> [(name: String, script: String)] {
        let jobs = try #require(try actionsDocument()["jobs"] as? [String: Any])
        let job = try #require(jobs["switchboard"] as? [String: Any])
        let steps = try #require(job["steps"] as? [[String: Any]])
        return steps.compactMap { step in
            guard let script = step["run"] as? String, script.hasPrefix("switchboard ") else { return nil }
            return (step["name"] as? String ?? script, script)
        }
    }

    /// A step's script as the runner runs it (`sh -e`), in a checkout, with the job's `env` and the built
    /// switchboard on PATH.
    static func actionsStep(_ script: String, in checkout: URL) throws -> Binary.Result {
        var environment = try #require(try actionsDocument()["env"] as? [String: String])
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        environment["PATH"] = Binary.url.deletingLastPathComponent().path + ":" + path
        return try Binary.run(
            ["-e", "-c", script], executable: URL(fileURLWithPath: "/bin/sh"), in: checkout, environment: environment)
    }
}
