import Foundation

/// A MESSAGING.md file (seed 001's format): a `## Default Behavior` numbered list and a `## Sessions`
/// section with one `###` entry of `- **Key:** value` bullets per conversation.
public struct MessagingDocument: Sendable {
    public var file: String
    public var defaultBehavior: DefaultBehavior?
    public var rules: [Rule]

    /// The bullets an entry may have, as written in the file.
    public static let bulletNames = [
        "Session", "Purpose", "On message", "Auto-reply", "Notify", "Forward to", "Escalate to", "Strikes", "Account",
    ]

    /// Parses the text, returning the document and every finding about it.
    public static func parse(_ text: String, file: String) -> (document: MessagingDocument, diagnostics: [Diagnostic]) {
        var parser = MessagingParser(file: file)
        parser.parse(text)
        return (
            MessagingDocument(file: file, defaultBehavior: parser.defaultBehavior, rules: parser.rules),
            parser.diagnostics
        )
    }
}

private struct MessagingParser {
    let file: String
    var diagnostics: [Diagnostic] = []
    var defaultBehavior: DefaultBehavior?
    var rules: [Rule] = []

    private enum Section { case preamble, defaultBehavior, sessions, other }
    private var section = Section.preamble
    private var sawSessions = false
    private var current: Rule?
    private var currentBullets: [String: SourceLocation] = [:]

    init(file: String) {
        self.file = file
    }

    mutating func parse(_ text: String) {
        var inFence = false
        var inComment = false
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if !inComment,
                rawLine.drop(while: { $0 == " " }).hasPrefix("```")
                    || rawLine.drop(while: { $0 == " " }).hasPrefix("~~~")
            {
                inFence.toggle()
                continue
            }
            if inFence { continue }
            let line = Self.blankingComments(rawLine, inComment: &inComment)
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            let indent = line.unicodeScalars.count - trimmed.unicodeScalars.count
            if let heading = Self.heading(trimmed) {
                handleHeading(
                    level: heading.level, title: heading.title,
                    at: SourceLocation(file: file, line: number, column: indent + 1))
                continue
            }
            switch section {
            case .defaultBehavior:
                defaultBehaviorLine(trimmed, at: SourceLocation(file: file, line: number, column: indent + 1))
            case .sessions: sessionLine(trimmed, line: number, indent: indent)
            case .preamble, .other: break
            }
        }
        finishEntry()
        if !sawSessions {
            diagnostics.append(
                Diagnostic(
                    .error, .missingSessions, at: SourceLocation(file: file, line: 1, column: 1),
                    "MESSAGING.md has no '## Sessions' section",
                    hint: "add '## Sessions' with one '### label' entry per conversation (an empty section is fine)"))
        }
    }

    /// HTML comments hold the template's examples: blank them out (they may span lines) and keep every
    /// column in place. Fenced code is skipped before this, so `<!--` in an example block is left alone.
    static func blankingComments(_ line: Substring, inComment: inout Bool) -> Substring {
        guard inComment || line.contains("<!--") else { return line }
        let scalars = Array(line.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        func starts(_ marker: String, at position: Int) -> Bool {
            scalars[position...].starts(with: marker.unicodeScalars)
        }
        while index < scalars.count {
            if inComment {
                if starts("-->", at: index) {
                    output.append(contentsOf: "   ".unicodeScalars)
                    index += 3
                    inComment = false
                } else {
                    output.append(" ")
                    index += 1
                }
            } else if starts("<!--", at: index) {
                output.append(contentsOf: "    ".unicodeScalars)
                index += 4
                inComment = true
            } else {
                output.append(scalars[index])
                index += 1
            }
        }
        return Substring(String(output))
    }

    static func heading(_ line: Substring) -> (level: Int, title: String)? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        var title = line.dropFirst(hashes).trimmingSpaces
        while title.hasSuffix("#") { title = title.dropLast().trimmingSpaces }
        return (hashes, String(title))
    }

    mutating func handleHeading(level: Int, title: String, at location: SourceLocation) {
        if level <= 2 { finishEntry() }
        switch level {
        case 1: section = .preamble
        case 2:
            switch title.lowercased() {
            case "default behavior", "default behaviour":
                section = .defaultBehavior
                defaultBehavior = DefaultBehavior(location: location, steps: [], notify: [])
            case "sessions":
                section = .sessions
                sawSessions = true
            default: section = .other
            }
        case 3 where section == .sessions:
            finishEntry()
            let label = Substring(title).trimming("`")
            current = Rule(label: label, location: location, origin: .messaging)
            currentBullets = [:]
        default: break
        }
    }

    mutating func defaultBehaviorLine(_ line: Substring, at location: SourceLocation) {
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty,
            line.dropFirst(digits.count).hasPrefix(". ") || line.dropFirst(digits.count).hasPrefix(") ")
        else { return }
        let afterMarker = line.dropFirst(digits.count + 1)
        let rest = afterMarker.drop { $0 == " " || $0 == "\t" }
        let textOffset = line.unicodeScalars.count - rest.unicodeScalars.count
        let text = String(rest).trimmingSpaces
        defaultBehavior?.steps.append(Located(String(text), at: location.advanced(by: textOffset)))
        // "Notify the user in their preferred channel (operator)": a name in parentheses is a channel.
        guard text.lowercased().hasPrefix("notify"), let open = text.lastIndex(of: "("),
            let close = text[open...].firstIndex(of: ")")
        else { return }
        let name = String(text[text.index(after: open)..<close])
        if Target.isName(name) {
            let column = textOffset + text[..<open].unicodeScalars.count + 1
            defaultBehavior?.notify.append(Located(name, at: location.advanced(by: column)))
        }
    }

    mutating func sessionLine(_ line: Substring, line number: Int, indent: Int) {
        guard line.hasPrefix("- ") || line.hasPrefix("* ") || line.hasPrefix("+ ") else { return }
        let location = SourceLocation(file: file, line: number, column: indent + 1)
        guard current != nil else {
            diagnostics.append(
                Diagnostic(
                    .warning, .unknownBullet, at: location, "bullet outside a session entry is ignored",
                    hint: "start an entry with '### label' first"))
            return
        }
        let body = line.dropFirst(2).drop { $0 == " " || $0 == "\t" }
        let bodyColumn = indent + 1 + (line.unicodeScalars.count - body.unicodeScalars.count)
        guard let (key, after) = Self.splitBullet(body) else {
            diagnostics.append(
                Diagnostic(
                    .warning, .unknownBullet, at: location, "bullet is not a '**Key:** value' pair and is ignored",
                    hint: "known keys: \(MessagingDocument.bulletNames.joined(separator: ", "))"))
            return
        }
        let keyLocation = SourceLocation(file: file, line: number, column: bodyColumn)
        let valueText = after.drop { $0 == " " || $0 == "\t" }
        var value = String(valueText).trimmingSpaces
        var valueLocation = SourceLocation(
            file: file, line: number,
            column: bodyColumn + body.unicodeScalars.count - valueText.unicodeScalars.count)
        if value.count >= 2, value.hasPrefix("`"), value.hasSuffix("`") {
            value = value.dropFirst().dropLast()
            valueLocation = valueLocation.advanced(by: 1)
        }
        guard let name = MessagingDocument.bulletNames.first(where: { $0.lowercased() == key.lowercased() }) else {
            diagnostics.append(
                Diagnostic(
                    .error, .unknownBullet, at: keyLocation, "unknown bullet '\(key)' in session '\(current!.label)'",
                    hint: Suggestion.hint(for: key, in: MessagingDocument.bulletNames)
                        ?? "known keys: \(MessagingDocument.bulletNames.joined(separator: ", "))"))
            return
        }
        if let first = currentBullets[name] {
            diagnostics.append(
                Diagnostic(
                    .error, .duplicateBullet, at: keyLocation,
                    "'\(name)' is given twice in session '\(current!.label)' (first at \(first.line):\(first.column))"))
            return
        }
        currentBullets[name] = keyLocation
        assign(name, String(value), at: valueLocation)
    }

    /// `**Key:** value` or `**Key**: value` → ("Key", the text after the key).
    static func splitBullet(_ body: Substring) -> (key: String, after: Substring)? {
        guard body.hasPrefix("**") else { return nil }
        let rest = body.dropFirst(2)
        guard let end = rest.range(of: "**") else { return nil }
        var key = rest[..<end.lowerBound]
        var after = rest[end.upperBound...]
        if key.hasSuffix(":") {
            key = key.dropLast()
        } else if after.hasPrefix(":") {
            after = after.dropFirst()
        } else {
            return nil
        }
        return (String(key.trimmingSpaces), after)
    }

    mutating func assign(_ name: String, _ value: String, at location: SourceLocation) {
        guard var rule = current else { return }
        defer { current = rule }
        let located = Located(value, at: location)
        func list() -> [Located<String>] {
            var items: [Located<String>] = []
            var offset = 0
            for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                let leading = part.prefix { $0 == " " || $0 == "\t" }.unicodeScalars.count
                let item = part.trimmingSpaces
                if !item.isEmpty { items.append(Located(String(item), at: location.advanced(by: offset + leading))) }
                offset += part.unicodeScalars.count + 1
            }
            return items
        }
        guard !value.isEmpty else {
            diagnostics.append(Diagnostic(.error, .invalidValue, at: location, "'\(name)' has no value"))
            return
        }
        switch name {
        case "Session": rule.session = located
        case "Purpose": rule.purpose = located
        case "On message": rule.onMessage = located
        case "Account": rule.account = located
        case "Escalate to": rule.escalateTo = located
        case "Notify": rule.notify = list()
        case "Forward to": rule.forwardTo = list()
        case "Auto-reply":
            switch value.lowercased() {
            case "yes", "true", "on": rule.autoReply = Located(true, at: location)
            case "no", "false", "off": rule.autoReply = Located(false, at: location)
            default:
                diagnostics.append(
                    Diagnostic(.error, .invalidValue, at: location, "Auto-reply must be yes or no, not '\(value)'"))
            }
        case "Strikes":
            if let count = Int(value), (1...10).contains(count) {
                rule.strikes = Located(count, at: location)
            } else {
                diagnostics.append(
                    Diagnostic(
                        .error, .invalidValue, at: location,
                        "Strikes must be a whole number from 1 to 10, not '\(value)'"))
            }
        default: break
        }
    }

    mutating func finishEntry() {
        guard let rule = current else { return }
        if rule.session == nil {
            diagnostics.append(
                Diagnostic(
                    .error, .missingSession, at: rule.location,
                    "session entry '\(rule.label)' has no '**Session:**' bullet",
                    hint: "add '- **Session:** ACCOUNT:session/ID' so messages can be matched to this entry"))
        }
        rules.append(rule)
        current = nil
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        guard let first = firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = lastIndex { $0 != " " && $0 != "\t" }!
        return self[first...last]
    }

    func trimming(_ set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
