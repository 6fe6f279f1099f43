import Foundation

/// Aligned columns for people; programs use `--json`.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) {
        self.headers = headers
    }

    mutating func add(_ cells: String...) {
        rows.append(cells)
    }

    var rendered: String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    /// A failure's cell: `code: message`, or empty.
    static func error(_ code: String?, _ message: String?) -> String {
        code.map { "\($0): \(message ?? "")" } ?? ""
    }
}

enum TimeText {
    private static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
        return formatter
    }()

    static func utc(_ date: Date?) -> String {
        date.map { formatter.string(from: $0) } ?? "-"
    }

    /// `41m`, `2h5m`, `3d4h`: the two largest units.
    static func span(_ seconds: TimeInterval) -> String {
        var remaining = Int(abs(seconds).rounded())
        let units = [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]
        var parts: [String] = []
        for (suffix, size) in units where remaining >= size && parts.count < 2 {
            parts.append("\(remaining / size)\(suffix)")
            remaining %= size
        }
        return parts.isEmpty ? "0s" : parts.joined()
    }

    static func relative(_ date: Date, now: Date) -> String {
        let delta = date.timeIntervalSince(now)
        return delta >= 0 ? "in \(span(delta))" : "\(span(delta)) ago"
    }
}

/// JSON for `--json`: ISO 8601 dates, sorted keys, one document.
enum JSONOutput {
    /// Journal records use snake_case, like their tables; network answers keep the network's own names.
    /// `lines`: one compact object per line, for streams.
    static func print<T: Encodable>(_ value: T, snakeCase: Bool = true, lines: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if !lines { encoder.outputFormatting.insert(.prettyPrinted) }
        if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        Console.out(String(decoding: try encoder.encode(value), as: UTF8.self) + "\n")
    }
}
