public import Foundation
internal import Synchronization

/// Where the tests keep their files: one directory per test process, under the system's temporary
/// directory, removed when the process exits (passed or failed). A test names its own entries in it, as
/// it would in `/tmp`; a run no longer leaves hundreds of workspaces, journals and key stores behind.
public let testTemporaryDirectory: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    testRootPath.withLock { $0 = root.path }
    atexit {
        guard let path = testRootPath.withLock({ $0 }) else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
    return root
}()

/// For the exit handler, which cannot capture anything.
private let testRootPath = Mutex<String?>(nil)
