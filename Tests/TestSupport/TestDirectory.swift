public import Foundation

/// Where the tests keep their files: one directory per test process, under the system's temporary
/// directory, removed when the process exits (passed or failed). A test names its own entries in it, as
/// it would in `/tmp`; a run no longer leaves hundreds of workspaces, journals and key stores behind.
public let testTemporaryDirectory: URL = {
    try? FileManager.default.createDirectory(at: processDirectory(), withIntermediateDirectories: true)
    // The exit handler can capture nothing: it names the directory again from the process id.
    atexit { try? FileManager.default.removeItem(at: processDirectory()) }
    return processDirectory()
}()

private func processDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-tests-\(getpid())")
}
