import ArgumentParser
import Foundation
import Workflow

extension Switchboard {
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check workflow files and MESSAGING.md without touching any network.",
            discussion: """
                PATH is a workspace (a directory with workflows/ and MESSAGING.md), a directory of workflow \
                files, or single .yaml and .md files; all the paths given are checked together, as one \
                workspace. Every finding is reported, not just the first.

                Exit codes: 0 no errors (warnings allowed unless --strict), 1 errors found, 2 usage error.

                Examples:
                  switchboard validate
                  switchboard validate --format github path/to/workspace
                  switchboard validate --strict workflows/release.yaml MESSAGING.md
                """
        )

        @Argument(help: "Workspaces, directories or files to check.", completion: .file())
        var paths: [String] = ["."]

        @Option(help: "Output format: text for people, json for programs, github for workflow annotations.")
        var format: DiagnosticFormat = .text

        @Flag(help: "Treat warnings as errors for the exit code.")
        var strict = false

        func run() throws {
            let report = WorkspaceSecrets.validate(paths: paths)
            let output = DiagnosticPrinter(format: format, colors: Terminal.wantsColor(FileHandle.standardOutput))
            print(output.render(report.diagnostics), terminator: "")
            if format == .text {
                Console.error((DiagnosticPrinter.summary(of: report) + "\n"))
            }
            let failed = report.count(.error) > 0 || (strict && report.count(.warning) > 0)
            if failed { throw ExitCode(ExitStatus.findings) }
        }
    }
}

enum DiagnosticFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, github
}
