import Foundation
import TestSupport
import Workflow

/// A workspace written to a fresh temporary directory, validated the way `switchboard validate` does.
struct TestWorkspace {
    let root: URL

    init(_ files: [String: String]) throws {
        root = testTemporaryDirectory.appendingPathComponent("switchboard-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (path, contents) in files { try write(path, Data(contents.utf8)) }
    }

    func write(_ path: String, _ data: Data) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    func validate() -> ValidationReport {
        WorkspaceLoader.validate(paths: [root.path])
    }

    /// Findings as `file:line:col severity code`, with the temporary directory taken off the file names.
    func findings(_ minimum: Diagnostic.Severity = .note) -> [String] {
        validate().diagnostics.filter { $0.severity >= minimum }.map { diagnostic in
            let file = diagnostic.location.file.replacingOccurrences(of: root.path + "/", with: "")
            return
                "\(file):\(diagnostic.location.line):\(diagnostic.location.column) \(diagnostic.severity.rawValue) \(diagnostic.code.rawValue)"
        }
    }
}

/// A workflow with the accounts and channels most cases need, plus `extra` YAML.
func workflow(_ extra: String) -> String {
    """
    version: 1
    accounts:
      nx: { protocol: nexus, agent-id: bot }
      ms: { protocol: masumi, agent: bot }
      tb: { protocol: transmissionbot, state: state.json }
    channels:
      ops: { command: [./notify.sh] }
    escalation: { to: ops }

    """ + extra
}
