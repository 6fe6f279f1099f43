internal import Foundation
internal import Secrets
internal import Synchronization

/// Session keys, the only proof of an agent's identity in a session (nexus.md §8): one file per server,
/// session and agent, mode 0600 under 0700 directories, written atomically. Keys never appear in output.
public struct SessionKeyStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The workspace's store: `.switchboard/nexus-keys`.
    public static func workspace(_ workspace: String) -> SessionKeyStore {
        SessionKeyStore(directory: (workspace as NSString).appendingPathComponent(".switchboard/nexus-keys"))
    }

    /// Registers every stored key with the redactor, before any poll can bring a message that quotes one.
    /// They are kept for the requests that follow, and registered in one go (the redactor re-sorts its
    /// needles once).
    public func maskStoredKeys() {
        guard let names = FileManager.default.enumerator(atPath: directory) else { return }
        var keys: [String] = []
        for case let name as String in names where name.hasSuffix(".key") {
            if let (key, _) = Self.load(directory + "/" + name) { keys.append(key) }
        }
        Redactor.shared.register(contentsOf: keys)
    }

    func path(server: String, session: String, agent: String) -> String {
        // File-name-safe forms: anything but letters, digits and '-' becomes '_', so no part can be "." or ".."
        // (a hostile server's session id) and climb out of the store.
        func safe(_ text: String) -> String {
            func keeps(_ value: UInt32) -> Bool {
                switch value {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D: true
                default: false
                }
            }
            if text.isEmpty { return "_" }
            // One '_' per Unicode scalar: the names files already have.
            if text.utf8.allSatisfy({ keeps(UInt32($0)) }) { return text }
            // ASCII (a server's URL, every request): byte for byte, without building scalars.
            if text.utf8.allSatisfy({ $0 < 0x80 }) {
                return String(decoding: text.utf8.map { keeps(UInt32($0)) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
            }
            return String(String.UnicodeScalarView(text.unicodeScalars.map { keeps($0.value) ? $0 : "_" }))
        }
        return directory + "/" + safe(server) + "/" + safe(session) + "/" + safe(agent) + ".key"
    }

    public func key(server: String, session: String, agent: String) -> String? {
        guard let (key, fresh) = Self.load(path(server: server, session: session, agent: agent)) else { return nil }
        // From now on it is masked wherever it might be printed or journaled.
        if fresh { Redactor.shared.register(key) }
        return key
    }

    /// A key file's key, and whether it was read now (false: the copy kept from the last read, which a `stat`
    /// shows is still the file's). Every request reads its key.
    private static func load(_ file: String) -> (key: String, fresh: Bool)? {
        var status = stat()
        guard stat(file, &status) == 0 else { return nil }
        let version = FileVersion(status)
        if let cached = cache.withLock({ $0[file] }), cached.version == version { return (cached.key, false) }
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else { return nil }
        cache.withLock { $0[file] = (key, version) }
        return (key, true)
    }

    /// Keys read, by file, with the version of the file they were read from.
    private static let cache = Mutex<[String: (key: String, version: FileVersion)]>([:])

    /// What changes when a file is replaced or rewritten: its inode, size, modification and change times.
    private struct FileVersion: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var seconds: Int
        var nanoseconds: Int
        var changeSeconds: Int
        var changeNanoseconds: Int

        init(_ status: stat) {
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
            size = Int64(status.st_size)
            seconds = status.st_mtim.tv_sec
            nanoseconds = status.st_mtim.tv_nsec
            changeSeconds = status.st_ctim.tv_sec
            changeNanoseconds = status.st_ctim.tv_nsec
        }
    }

    public func store(_ key: String, server: String, session: String, agent: String) throws {
        Redactor.shared.register(key)
        let file = path(server: server, session: session, agent: agent)
        let folder = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Temp file created 0600, written, synced, renamed over the old one: never a moment of looser mode.
        let temporary = folder + "/.\(UUID().uuidString).tmp"
        let descriptor = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: folder]) }
        let bytes = Array(key.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        fsync(descriptor)
        close(descriptor)
        guard written == bytes.count, rename(temporary, file) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file])
        }
    }

    /// Checks, before anything is asked of a server, that a key could be stored: a session whose key is lost
    /// can never be left nor written to verified (nexus.md §8).
    public func checkWritable() throws {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let probe = directory + "/.probe-\(UUID().uuidString)"
        let descriptor = open(probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission) }
        close(descriptor)
        unlink(probe)
    }

    public func remove(server: String, session: String, agent: String) {
        let file = path(server: server, session: session, agent: agent)
        unlink(file)
        Self.cache.withLock { $0[file] = nil }
    }
}
