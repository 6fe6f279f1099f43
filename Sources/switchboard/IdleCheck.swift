import ArgumentParser
import Engine
import Foundation
import Secrets
import Workflow

/// The idle cron tick's shortcut. After a tick, when nothing is pending, a small file beside the journal
/// (`JOURNAL.wake`) records when something next falls due and a fingerprint of every file the workspace was
/// read from (sizes and modification times, the workflow folder's listing, the secret store, this binary's
/// version). The next tick that finds the same fingerprint before that time exits 4 without parsing a file or
/// opening the journal. Any tick that goes further removes the file first, so a tick that crashes leaves
/// none; `resolve` removes it too (an operator made work).
enum IdleCheck {
    struct Wake: Codable {
        var version: String
        var nextWake: Double
        var files: [String]
        var fingerprint: String
    }

    static func path(journal: String) -> String { journal + ".wake" }

    /// Whether this tick has nothing to do, judged from the wake file alone.
    static func isIdle(journal: String, now: Date = Date()) -> Bool {
        guard let data = FileManager.default.contents(atPath: path(journal: journal)),
            let wake = try? JSONDecoder().decode(Wake.self, from: data),
            wake.version == Switchboard.configuration.version, now.timeIntervalSince1970 < wake.nextWake
        else { return false }
        return fingerprint(of: wake.files) == wake.fingerprint
    }

    static func invalidate(journal: String) {
        unlink(path(journal: journal))
    }

    /// Records the wake time after a tick that left nothing pending, under the tick lease; removes the file
    /// when something is pending or another tick is running (that tick decides).
    static func record(engine: Engine, journal: String, now: Date = Date()) {
        let recorded = engine.withNextWake(now: now) { next in
            guard let next else { return invalidate(journal: journal) }
            write(next, engine: engine, journal: journal)
        }
        if !recorded { invalidate(journal: journal) }
    }

    private static func write(_ next: Date, engine: Engine, journal: String) {
        var files =
            engine.configuration.workspace.workflows.map(\.file)
            + engine.configuration.workspace.messaging.map(\.file)
        let root = engine.configuration.directory
        files += [
            (root as NSString).appendingPathComponent("workflows"),
            (root as NSString).appendingPathComponent("MESSAGING.md"),
            SecretStore.path(workspace: root), root,
        ]
        files = Array(Set(files.map { URL(fileURLWithPath: $0).standardizedFileURL.path })).sorted()
        let wake = Wake(
            version: Switchboard.configuration.version, nextWake: next.timeIntervalSince1970, files: files,
            fingerprint: fingerprint(of: files))
        guard let data = try? JSONEncoder().encode(wake) else { return }
        try? AtomicFile.write(data, to: path(journal: journal), mode: 0o600)
    }

    /// Size and modification time (nanoseconds) of each path, and a directory's names: what a change to the
    /// workspace would move.
    static func fingerprint(of files: [String]) -> String {
        var parts: [String] = []
        for file in files {
            var info = stat()
            guard stat(file, &info) == 0 else {
                parts.append("\(file) -")
                continue
            }
            let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            var part = "\(file) \(info.st_size) \(modified)"
            if info.st_mode & S_IFMT == S_IFDIR {
                part +=
                    " "
                    + ((try? FileManager.default.contentsOfDirectory(atPath: file)) ?? []).sorted()
                    .joined(separator: "/")
            }
            parts.append(part)
        }
        return parts.joined(separator: "\n")
    }
}
