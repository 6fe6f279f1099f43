import ArgumentParser
import Foundation
import Logging
import Workflow

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `--log-format` and `--log-level` for the commands that run the engine (tick, run).
struct LogOptions: ParsableArguments {
    @Option(help: "Log lines: text for people, json (one object per line) for collectors.") var logFormat: LogFormat =
        .text
    @Option(help: "The least severe level shown: trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level is one of trace, debug, info, notice, warning, error, critical")
        }
    }

    /// Installs the handler for the whole process (once).
    func bootstrap() {
        let format = logFormat
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in SwitchboardLogHandler(label: label, format: format, logLevel: level) }
    }
}

/// The commands' own lines (`tick: …`), as log records: printed as they are in text, as objects in json.
enum Log {
    static let cli = Logger(label: "switchboard.cli")
}

/// swift-log's handler for switchboard: one line per record on stderr, through the redactor (nothing secret
/// in any field). Text: the commands' own lines as they are, the engine's with their level and metadata.
/// JSON: `{"time", "level", "message", "workflow", "run", "step", "intent", "source", …}`, one per line.
struct SwitchboardLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, format: LogFormat, logLevel: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        switch format {
        case .json:
            var object: [String: String] = [
                "time": Timestamp.format(Date()), "level": event.level.rawValue, "message": "\(event.message)",
            ]
            for (key, value) in fields where object[key] == nil { object[key] = "\(value)" }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let line = (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            Console.error(line + "\n")
        case .text:
            if label == Log.cli.label {
                Console.error("\(event.message)\n")
            } else {
                let details = fields.filter { $0.key != "workflow" }.sorted { $0.key < $1.key }
                    .map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                Console.error("\(event.level): \(event.message)" + (details.isEmpty ? "" : " (\(details))") + "\n")
            }
        }
    }
}
