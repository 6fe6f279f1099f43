import ArgumentParser
import Engine
import Foundation
import Workflow

extension Switchboard {
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Run conversation tests: given messages, expect these replies, forwards, notifications, escalations.",
            discussion: """
                PATH is a test file or a directory of them (default: WORKSPACE/tests). A test file:

                  name: a deploy request is handed off
                  responder: ["Thanks, on it"]          # the responder's replies, in order (optional)
                  steps:
                    - messages: [{ conversation: nx:session/release-room, sender: build-agent, text: deploy v42 }]
                    - advance: 31m                      # time passes; waits time out
                  expect:
                    - { kind: forward, to: nx:session/deployer-room, contains: deploy v42 }
                    - { kind: escalation, to: oncall }

                kind is reply, send, forward, notify, digest or escalation; to is a target, a session label or a \
                channel name; text must match exactly, contains in part. The effects must come in this order and \
                no others. Runs with no network, on a throwaway journal. Exit codes: 0 all pass, 1 a test failed.
                With --json, stdout is one document: {passed, failed, tests: [{name, file, passed, problems}]}.
                """)

        @Option(help: "The workspace directory.", completion: .directory) var workspace = "."
        @Argument(help: "Test files or directories.", completion: .file()) var paths: [String] = []
        @Flag(help: "Print the results as JSON.") var json = false

        struct Output: Encodable {
            struct Result: Encodable {
                var name: String
                var file: String
                var passed: Bool
                /// `- expected …` and `+ actual …` lines, as the text output shows them.
                var problems: [String]
            }
            var passed: Int
            var failed: Int
            var tests: [Result]
        }

        func run() async throws {
            let configuration = try EngineLoader.configuration(workspace)
            let files = try testFiles()
            guard !files.isEmpty else {
                throw Failure.message("no test files found", hint: "put them in \(workspace)/tests/*.yaml")
            }
            var results: [Output.Result] = []
            for file in files {
                let (name, problems) = try await ConversationTest.run(file: file, configuration: configuration)
                results.append(.init(name: name, file: file, passed: problems.isEmpty, problems: problems))
                if json { continue }
                print("\(problems.isEmpty ? "ok  " : "FAIL")  \(name)  (\(file))")
                for line in problems { print("      \(line)") }
            }
            let failed = results.count(where: { !$0.passed })
            if json { try JSONOutput.print(Output(passed: results.count - failed, failed: failed, tests: results)) }
            Console.error("\(files.count - failed) passed, \(failed) failed\n")
            if failed > 0 { throw ExitCode(ExitStatus.findings) }
        }

        func testFiles() throws -> [String] {
            let roots = paths.isEmpty ? [(workspace as NSString).appendingPathComponent("tests")] : paths
            var files: [String] = []
            for root in roots {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
                    if paths.isEmpty { continue }
                    throw Failure.message("\(root): no such file or directory", hint: nil)
                }
                if isDirectory.boolValue {
                    let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
                    files += names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map {
                        (root as NSString).appendingPathComponent($0)
                    }
                } else {
                    files.append(root)
                }
            }
            return files
        }
    }
}

/// One conversation test file: steps in, effects out, compared in order.
enum ConversationTest {
    static func run(file: String, configuration: EngineConfiguration) async throws -> (name: String, problems: [String])
    {
        let value = try DryRunSupport.load(file)
        guard case .object(let fields) = value else { return (file, ["a test file is a mapping"]) }
        let name: String = if case .string(let text)? = fields["name"] { text } else { file }
        var responses: [String] = []
        if case .array(let items)? = fields["responder"] {
            responses = items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        }
        var steps: [DryRun.Step] = []
        var count = 0
        guard case .array(let stepValues)? = fields["steps"] else { return (name, ["'steps' must be a list"]) }
        for step in stepValues {
            guard case .object(let stepFields) = step else { return (name, ["each step is a mapping"]) }
            if let messages = stepFields["messages"] {
                do {
                    let inbound = try DryRun.messages(from: messages, configuration: configuration, startIndex: count)
                    count += inbound.count
                    steps.append(.messages(inbound))
                } catch {
                    return (name, ["\(error)"])
                }
            } else if case .string(let text)? = stepFields["advance"], let interval = Interval(parsing: text) {
                steps.append(.advance(TimeInterval(interval.seconds)))
            } else {
                return (name, ["a step has 'messages' or 'advance: DURATION'"])
            }
        }
        let actual = try await DryRun.run(
            configuration, steps: steps, responderOutputs: responses,
            secrets: WorkspaceSecrets.placeholders(configuration.workspace),
            start: Date(timeIntervalSince1970: 1_800_000_000))
        guard case .array(let expectations)? = fields["expect"] else { return (name, ["'expect' must be a list"]) }
        var problems: [String] = []
        for index in 0..<max(expectations.count, actual.count) {
            let expected = index < expectations.count ? expectations[index] : nil
            let effect = index < actual.count ? actual[index] : nil
            if let expected, let effect, matches(expected, effect, configuration) { continue }
            if let expected { problems.append("- expected \(describe(expected))") }
            if let effect {
                problems.append("+ actual   \(effect.kind) → \(effect.target): \(DryRunSupport.shown(effect.text))")
            }
        }
        return (name, problems)
    }

    static func matches(_ expected: Value, _ effect: EffectRecord, _ configuration: EngineConfiguration) -> Bool {
        guard case .object(let fields) = expected else { return false }
        func text(_ key: String) -> String? { if case .string(let value)? = fields[key] { value } else { nil } }
        if let kind = text("kind"), kind != effect.kind { return false }
        if let to = text("to") {
            let target = configuration.target(to)?.description ?? (to.contains(":") ? to : "channel:\(to)")
            if target != effect.target { return false }
        }
        if let exact = text("text"), exact != effect.text { return false }
        if let part = text("contains"), !effect.text.contains(part) { return false }
        return true
    }

    static func describe(_ expected: Value) -> String {
        guard case .object(let fields) = expected else { return JSONText.encode(expected) }
        func text(_ key: String) -> String { if case .string(let value)? = fields[key] { value } else { "*" } }
        var line = "\(text("kind")) → \(text("to"))"
        if case .string(let exact)? = fields["text"] { line += ": \(DryRunSupport.shown(exact))" }
        if case .string(let part)? = fields["contains"] { line += " containing \(DryRunSupport.shown(part))" }
        return line
    }
}
