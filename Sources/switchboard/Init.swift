import ArgumentParser
import Foundation
import Workflow

extension Switchboard {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a workspace: workflows/main.yaml, MESSAGING.md, a responder and a notifier.",
            discussion: """
                The new workspace validates clean; edit it from there. Existing files are never \
                overwritten unless --force is given.

                Example:
                  switchboard init my-agent && cd my-agent && switchboard validate
                """
        )

        @Argument(help: "Where to create the workspace.", completion: .directory)
        var directory = "."

        @Flag(help: "Overwrite files that already exist.")
        var force = false

        func run() throws {
            let manager = FileManager.default
            let files = WorkspaceScaffold.files.map {
                (file: $0, path: (directory as NSString).appendingPathComponent($0.path))
            }
            let existing = files.filter { manager.fileExists(atPath: $0.path) }.map(\.path)
            if !existing.isEmpty, !force {
                Console.error(
                    "switchboard init: these files already exist: \(existing.joined(separator: ", "))\nhint: pass --force to overwrite them\n"
                )
                throw ExitCode(ExitStatus.findings)
            }
            for (file, path) in files {
                try manager.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                // Data.write says why a write failed (a full disk, a read-only directory); createFile does not.
                try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path))
                try manager.setAttributes([.posixPermissions: file.mode], ofItemAtPath: path)
                print("created \(path)")
            }
            Console.error("next: cd \(directory) && switchboard validate\n")
        }
    }
}
