import Foundation
import Testing

@Suite struct ValidateCommandTests {
    static let broken = [
        "workflows/main.yaml": """
        version: 1
        accounts:
          nx: { protocol: nexus, agent-id: bot }
        sources:
          - { from: nx:session/4670cde8a96a4d6eacca4185abb1e8aebdcb319f6eca5bb9, evry: 5m }
        """,
        "MESSAGING.md": "# MESSAGING.md\n## Sessions\n",
    ]

    @Test func theShippedExamplesValidateClean() throws {
        let result = try Binary.run(["validate", "--strict", "."])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("error:") && !result.stdout.contains("warning:"))
        #expect(result.stderr.contains("in 4 files"))
    }

    @Test func textFindingsNameFileLineAndColumnAndExitOne() throws {
        let root = try Binary.workspace(Self.broken)
        let result = try Binary.run(["validate"], in: root)
        #expect(result.status == 1)
        #expect(result.stdout.contains("workflows/main.yaml:5:74: error: unknown key 'evry' in a source [unknown-key]"))
        #expect(result.stdout.contains("hint: did you mean 'every'?"))
        #expect(result.stdout.contains("workflows/main.yaml:5:5: error: source nx:session/"))
        #expect(result.stderr.contains("2 errors in 2 files"))
    }

    @Test func jsonFindingsAreAnArrayOfObjects() throws {
        let root = try Binary.workspace(Self.broken)
        let result = try Binary.run(["validate", "--format", "json"], in: root)
        #expect(result.status == 1)
        let findings = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(findings.count == 2)
        let unknown = try #require(findings.first { $0["code"] as? String == "unknown-key" })
        #expect(unknown["file"] as? String == "workflows/main.yaml")
        #expect(unknown["line"] as? Int == 5)
        #expect(unknown["column"] as? Int == 74)
        #expect(unknown["severity"] as? String == "error")
        #expect(unknown["hint"] as? String == "did you mean 'every'?")
        #expect(result.stderr.isEmpty)
    }

    @Test func githubFormatWritesWorkflowCommands() throws {
        let root = try Binary.workspace(Self.broken)
        let result = try Binary.run(["validate", "--format", "github"], in: root)
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "::error file=workflows/main.yaml,line=5,col=74,title=switchboard unknown-key::unknown key 'evry' in a source%0Ahint: did you mean 'every'?"
            ))
    }

    @Test func warningsFailOnlyWithStrict() throws {
        let root = try Binary.workspace([
            "workflows/main.yaml": """
            version: 1
            accounts:
              ms: { protocol: masumi, agent: bot }
            rules:
              - { session: ms:thread/42, notify: ops }
            channels:
              ops: { command: [./notify.sh] }
            """
        ])
        let relaxed = try Binary.run(["validate"], in: root)
        #expect(relaxed.status == 0, "\(relaxed.stdout)")
        #expect(relaxed.stdout.contains("warning: no source polls ms:thread/42"))
        let strict = try Binary.run(["validate", "--strict"], in: root)
        #expect(strict.status == 1)
    }

    @Test func usageErrorsExitTwo() throws {
        let unknownFlag = try Binary.run(["validate", "--bogus"])
        #expect(unknownFlag.status == 2)
        #expect(unknownFlag.stderr.contains("Unknown option '--bogus'"))
        let badFormat = try Binary.run(["validate", "--format", "xml"])
        #expect(badFormat.status == 2)
    }

    @Test func anEmptyDirectoryIsAFinding() throws {
        let root = try Binary.workspace([:])
        let result = try Binary.run(["validate"], in: root)
        #expect(result.status == 1)
        #expect(result.stdout.contains(".: error: no workflow files found [no-workflows]"))
    }

    @Test func helpTeachesTheCommand() throws {
        let result = try Binary.run(["validate", "--help"])
        #expect(result.status == 0)
        let snapshot = try String(
            contentsOf: Binary.repository.appendingPathComponent(
                "Tests/SwitchboardCLITests/Snapshots/validate-help.txt"),
            encoding: .utf8)
        #expect(result.stdout == snapshot)
    }
}

@Suite struct SchemaAndInitCommandTests {
    @Test func theCommittedSchemaMatchesTheCommand() throws {
        let result = try Binary.run(["schema"])
        #expect(result.status == 0)
        let committed = try String(
            contentsOf: Binary.repository.appendingPathComponent("schema/workflow.schema.json"), encoding: .utf8)
        #expect(result.stdout == committed, "run: switchboard schema > schema/workflow.schema.json")
    }

    /// An independent validator (Python's jsonschema, draft 2020-12) checks every example against the schema,
    /// and a broken document against it too, so the check can fail.
    @Test func everyExampleConformsToTheSchema() throws {
        let root = try Binary.workspace([
            "bad.yaml":
                "version: 1\naccounts:\n  nx: { protocol: nexus }\nhandlers:\n  h:\n    - { reply: hi, send: { to: reply, text: x } }\n"
        ])
        let examples = try FileManager.default.contentsOfDirectory(
            atPath: Binary.repository.appendingPathComponent("workflows").path
        )
        .filter { $0.hasSuffix(".yaml") }.map { Binary.repository.appendingPathComponent("workflows/\($0)").path }
        #expect(examples.count >= 3)
        let checker = Binary.repository.appendingPathComponent("scripts/check-schema.py").path
        let schema = Binary.repository.appendingPathComponent("schema/workflow.schema.json").path
        let good = try Binary.python([checker, schema] + examples)
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        let bad = try Binary.python([checker, schema, root.appendingPathComponent("bad.yaml").path])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("bad.yaml"))
    }

    @Test func initScaffoldsAWorkspaceThatValidatesClean() throws {
        let root = try Binary.workspace([:])
        let created = try Binary.run(["init", "ws"], in: root)
        #expect(created.status == 0, "\(created.stderr)")
        let workspace = root.appendingPathComponent("ws")
        let result = try Binary.run(["validate", "--strict"], in: workspace)
        #expect(result.status == 0, "\(result.stdout)")
        let responder = try FileManager.default.attributesOfItem(
            atPath: workspace.appendingPathComponent("agents/reply.sh").path)
        #expect((responder[.posixPermissions] as? Int) == 0o755)
        let again = try Binary.run(["init", "ws"], in: root)
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exist"))
    }
}

extension Binary {
    static func python(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: "")
    }
}
