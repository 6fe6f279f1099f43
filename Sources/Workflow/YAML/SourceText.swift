import Foundation

/// Turns a file's bytes into text, or into a finding that says exactly what is wrong with them.
enum SourceText {
    /// Workflow and rule files are hand-written; anything larger is a mistake, not a configuration.
    static let maximumSize = 4 << 20

    static func decode(_ bytes: [UInt8], file: String) -> Result<String, Diagnostic> {
        if bytes.count > maximumSize {
            return .failure(
                Diagnostic(
                    .error, .fileTooLarge, at: .wholeFile(file),
                    "file is \(bytes.count.byteCountDescription); the limit is \(maximumSize.byteCountDescription)",
                    hint: "workflow and rule files are read whole; split the workspace into several files"))
        }
        var line = 1
        var column = 1
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0 {
                return .failure(
                    Diagnostic(
                        .error, .binaryFile, at: SourceLocation(file: file, line: line, column: column),
                        "file contains a NUL byte; it is not a text file"))
            }
            let length = utf8SequenceLength(bytes, at: index)
            guard length > 0 else {
                return .failure(
                    Diagnostic(
                        .error, .invalidUTF8, at: SourceLocation(file: file, line: line, column: column),
                        "invalid UTF-8 (byte 0x\(String(byte, radix: 16, uppercase: true)) at offset \(index))",
                        hint: "save the file as UTF-8"))
            }
            if byte == 0x0A {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index += length
        }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        // Windows line endings: "\r\n" is one Character in Swift, which would hide every line break from
        // the line-based readers. The CR sits at the end of its line, so no column moves.
        if text.utf8.contains(0x0D) { text = text.replacingOccurrences(of: "\r\n", with: "\n") }
        return .success(text)
    }

    /// The length of the well-formed UTF-8 sequence starting at `index`, or 0 when it is malformed.
    private static func utf8SequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let first = bytes[index]
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch first {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            upper = 0x9F
        case 0xF0:
            length = 4
            lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            upper = 0x8F
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            let (low, high) = offset == 1 ? (lower, upper) : (0x80, 0xBF)
            guard byte >= low, byte <= high else { return 0 }
        }
        return length
    }
}

extension Int {
    /// 4194304 → "4 MiB", 1536 → "1.5 KiB".
    public var byteCountDescription: String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var value = Double(self)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let rounded = (value * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(text) \(units[unit])"
    }
}
