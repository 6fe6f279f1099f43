import Foundation
import Journal
import TestSupport

/// A fresh journal path under a temporary directory (the directory is created by the journal, 0700).
func temporaryJournalPath() -> String {
    testTemporaryDirectory
        .appendingPathComponent("switchboard-journal-\(UUID().uuidString)/.switchboard/journal.sqlite3").path
}

func openJournal(_ path: String = temporaryJournalPath()) throws -> Journal {
    try Journal(path: path)
}

/// The harness executable built next to the tests: a second process that uses the journal.
enum Harness {
    static let url: URL = {
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("journal-harness")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        fatalError("journal-harness not found next to the tests")
    }()

    static func start(_ arguments: [String]) throws -> (process: Process, output: FileHandle) {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, pipe.fileHandleForReading)
    }

    /// Runs to completion and returns stdout.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let (process, output) = try start(arguments)
        let data = output.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension FileHandle {
    /// Reads until a newline (or end of file).
    func readLine() -> String {
        var bytes: [UInt8] = []
        while let byte = try? read(upToCount: 1), let first = byte.first, first != 0x0A { bytes.append(first) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
