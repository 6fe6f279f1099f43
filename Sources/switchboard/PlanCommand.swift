import ArgumentParser
import Engine
import Foundation
import Workflow

extension Switchboard {
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What a tick would do with these messages: the effects, rendered, with no network.",
            discussion: """
                FILE is a YAML or JSON list of messages: {conversation, sender, text, json, id}; a conversation is \
                a target (nx:session/…) or a MESSAGING.md label. The engine runs one tick against fixtures on a \
                throwaway journal: nothing is sent, no webhook is posted, no command is started (the responder's \
                reply shows as "(responder reply)"). Output is deterministic.
                """)

        @Option(help: "The workspace directory.", completion: .directory) var workspace = "."
        @Option(help: "The messages that arrive.", completion: .file()) var messages: String
        @Option(help: "The time of the tick, ISO 8601 (default: now).") var at: String?
        @Flag(help: "Print the effects as JSON.") var json = false

        func run() async throws {
            let configuration = try EngineLoader.configuration(workspace)
            let fixture = try DryRunSupport.load(messages)
            let inbound: [InboundMessage]
            do {
                inbound = try DryRun.messages(from: fixture, configuration: configuration)
            } catch {
                throw Failure.message("\(messages): \(error)", hint: nil)
            }
            let start =
                try at.map { text -> Date in
                    guard let date = Timestamp.parse(text) else {
                        throw ValidationError("--at must be ISO 8601, like 2026-11-21T09:00:00Z")
                    }
                    return date
                } ?? Date()
            let effects = try await DryRun.run(
                configuration, steps: [.messages(inbound)],
                secrets: WorkspaceSecrets.placeholders(configuration.workspace), start: start)
            if json { return try JSONOutput.print(effects, snakeCase: false) }
            if effects.isEmpty { print("no effects") }
            for (index, effect) in effects.enumerated() {
                print("\(index + 1). \(effect.kind) → \(effect.target): \(DryRunSupport.shown(effect.text))")
            }
        }
    }
}

enum DryRunSupport {
    static func load(_ path: String) throws -> Value {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure.message("\(path): cannot read the file", hint: nil)
        }
        switch DataFile.load(String(decoding: data, as: UTF8.self), file: path) {
        case .success(let value): return value
        case .failure(let diagnostic): throw Failure.message("\(diagnostic)", hint: diagnostic.hint)
        }
    }

    /// One line, quoted, newlines shown as \n.
    static func shown(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
