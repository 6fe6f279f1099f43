import Foundation
import PackagePlugin

/// Writes `BuildInfo.revision` (the checkout's short commit, `-dirty` when tracked files have changes, `unknown`
/// outside a git checkout or without git) into a Swift source of the target: debug, release and `make release`'s
/// static build alike, from a clean clone too.
///
/// A build command whose inputs are git's `HEAD`, its reflog and the index (each commit, checkout and reset
/// changes one of them) and the package's sources (an edit may make the checkout dirty). Not a prebuild command:
/// SwiftPM runs those only when it plans the build again, which a commit does not cause (swiftlang/
/// swift-package-manager#5476), so the revision went stale. The command rewrites the file only when the revision
/// changed, so a build after an edit recompiles nothing more; and never in the same second as the last write, which
/// the compiler's incremental build would miss (measured: a commit and a build within a second of the previous build
/// kept the old revision).
@main
struct GitRevisionPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let package = context.package.directoryURL
        let source = context.pluginWorkDirectoryURL.appending(path: "BuildInfo.swift")
        let sources = context.package.targets.compactMap { $0 as? any SourceModuleTarget }
            .flatMap { $0.sourceFiles.map(\.url) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return [
            .buildCommand(
                displayName: "Reading the git revision for \(target.name)",
                executable: URL(filePath: "/bin/sh"),
                arguments: ["-c", Self.script, "git-revision", package.path(percentEncoded: false), source.path()],
                environment: ["PATH": path.isEmpty ? "/usr/local/bin:/usr/bin:/bin" : path],
                inputFiles: Self.gitFiles(package) + sources + [package.appending(path: "Package.swift")],
                outputFiles: [source])
        ]
    }

    /// The git files that change when HEAD moves or the index does; none outside a git checkout.
    static func gitFiles(_ package: URL) -> [URL] {
        let git = Process()
        git.executableURL = URL(filePath: "/usr/bin/env")
        git.arguments = ["git", "-C", package.path(percentEncoded: false), "rev-parse", "--absolute-git-dir"]
        let output = Pipe()
        git.standardOutput = output
        git.standardError = FileHandle.nullDevice
        guard (try? git.run()) != nil else { return [] }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        git.waitUntilExit()
        guard git.terminationStatus == 0 else { return [] }
        let directory = URL(filePath: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines))
        // A worktree's git directory has its own HEAD, reflog and index.
        return ["HEAD", "logs/HEAD", "index"].map { directory.appending(path: $0) }
            .filter { FileManager.default.fileExists(atPath: $0.path(percentEncoded: false)) }
    }

    /// `$1` the package directory, `$2` the source to write. `--no-optional-locks`: reading the status must not
    /// take the index lock a user's own git command may need at the same moment.
    static let script = #"""
        set -u
        revision=$(git -C "$1" rev-parse --short HEAD 2>/dev/null) || revision=unknown
        if [ "$revision" != unknown ] &&
            [ -n "$(git --no-optional-locks -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
            revision="$revision-dirty"
        fi
        text="// Generated at build time by the GitRevision plugin (Plugins/GitRevision); not committed.
        enum BuildInfo {
            /// The git commit this binary was built from: short hash, -dirty with uncommitted changes, or unknown.
            static let revision = \"$revision\"
        }"
        if [ "$(cat "$2" 2>/dev/null)" != "$text" ]; then
            if [ "$(date -r "$2" +%s 2>/dev/null)" = "$(date +%s)" ]; then sleep 1; fi
            printf '%s\n' "$text" > "$2.tmp" && mv "$2.tmp" "$2"
        fi
        """#
}
