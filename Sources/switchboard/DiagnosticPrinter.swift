import Foundation
import Workflow

/// Renders findings for people (with the offending line), for programs (JSON) and for GitHub Actions.
struct DiagnosticPrinter {
    let format: DiagnosticFormat
    let colors: Bool

    func render(_ diagnostics: [Diagnostic]) -> String {
        switch format {
        case .text: return text(diagnostics)
        case .json: return JSONText.encodePretty(.array(diagnostics.map(json)))
        case .github: return diagnostics.map(github).joined()
        }
    }

    static func summary(of report: ValidationReport) -> String {
        let files = "\(report.fileCount) file\(report.fileCount == 1 ? "" : "s")"
        let counts = Diagnostic.Severity.allCases.reversed().compactMap { severity -> String? in
            let count = report.count(severity)
            return count == 0 ? nil : "\(count) \(severity.rawValue)\(count == 1 ? "" : "s")"
        }
        return counts.isEmpty ? "\(files) checked, no problems" : "\(counts.joined(separator: ", ")) in \(files)"
    }

    // MARK: - Text

    private func text(_ diagnostics: [Diagnostic]) -> String {
        var sources = SourceCache()
        var output = ""
        for diagnostic in diagnostics {
            let severity = paint(diagnostic.severity.rawValue, Self.color(diagnostic.severity))
            output +=
                "\(paint(diagnostic.location.description, "1")): \(severity): \(diagnostic.message) [\(diagnostic.code.rawValue)]\n"
            let location = diagnostic.location
            if location.line > 0, let line = sources.line(location.line, of: location.file) {
                let number = String(location.line)
                let gutter = String(repeating: " ", count: number.count)
                let caretColumn = max(0, location.column - 1)
                let prefix = line.unicodeScalars.prefix(caretColumn).map { $0 == "\t" ? "\t" : " " }.joined()
                output += " \(number) | \(line)\n \(gutter) | \(prefix)\(paint("^", Self.color(diagnostic.severity)))\n"
            }
            if let hint = diagnostic.hint { output += "  \(paint("hint:", "36")) \(hint)\n" }
        }
        return output
    }

    private static func color(_ severity: Diagnostic.Severity) -> String {
        switch severity {
        case .error: "31"
        case .warning: "33"
        case .note: "36"
        }
    }

    private func paint(_ text: String, _ code: String) -> String {
        colors ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    /// Reads each file once, and only to show the lines findings point at.
    private struct SourceCache {
        private var files: [String: [Substring]] = [:]

        mutating func line(_ number: Int, of file: String) -> String? {
            if files[file] == nil {
                let data = FileManager.default.contents(atPath: file) ?? Data()
                guard data.count <= 4 << 20, let text = String(data: data, encoding: .utf8) else {
                    files[file] = []
                    return nil
                }
                files[file] = text.split(separator: "\n", omittingEmptySubsequences: false)
            }
            guard let lines = files[file], number <= lines.count else { return nil }
            let line = lines[number - 1]
            // Very long lines (minified or generated files) are not worth echoing.
            return line.count > 300 ? nil : String(line.hasSuffix("\r") ? line.dropLast() : line)
        }
    }

    // MARK: - JSON and GitHub

    private func json(_ diagnostic: Diagnostic) -> Value {
        let location = diagnostic.location
        return [
            "file": .string(location.file),
            "line": location.line > 0 ? .number(Double(location.line)) : .null,
            "column": location.line > 0 ? .number(Double(location.column)) : .null,
            "severity": .string(diagnostic.severity.rawValue),
            "code": .string(diagnostic.code.rawValue),
            "message": .string(diagnostic.message),
            "hint": diagnostic.hint.map { .string($0) } ?? .null,
        ]
    }

    /// `::error file=…,line=…,col=…,title=…::message` with GitHub's escaping of `%`, CR, LF (and `:` `,` in properties).
    private func github(_ diagnostic: Diagnostic) -> String {
        let command =
            switch diagnostic.severity {
            case .error: "error"
            case .warning: "warning"
            case .note: "notice"
            }
        var properties = ["file=\(Self.escapeProperty(diagnostic.location.file))"]
        if diagnostic.location.line > 0 {
            properties.append("line=\(diagnostic.location.line)")
            properties.append("col=\(diagnostic.location.column)")
        }
        properties.append("title=\(Self.escapeProperty("switchboard \(diagnostic.code.rawValue)"))")
        var message = diagnostic.message
        if let hint = diagnostic.hint { message += "\nhint: \(hint)" }
        return "::\(command) \(properties.joined(separator: ","))::\(Self.escapeData(message))\n"
    }

    static func escapeData(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    static func escapeProperty(_ text: String) -> String {
        escapeData(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }
}

enum Terminal {
    /// Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
    static func wantsColor(_ handle: FileHandle) -> Bool {
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        return !noColor && isatty(handle.fileDescriptor) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }
}
