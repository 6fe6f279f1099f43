import Engine
import Foundation
import Secrets
import Workflow

/// The workspace's `${{ secrets.NAME }}` references against its sealed store.
enum WorkspaceSecrets {
    /// Where the store of the workspace checked as `paths` lives: beside `workflows/` (a directory given, or
    /// the folder above a workflow file's `workflows/`).
    static func storePath(paths: [String]) -> String {
        let first = paths.first ?? "."
        var isDirectory: ObjCBool = false
        FileManager.default.fileExists(atPath: first, isDirectory: &isDirectory)
        var directory = isDirectory.boolValue ? first : (first as NSString).deletingLastPathComponent
        if (directory as NSString).lastPathComponent == "workflows" {
            directory = (directory as NSString).deletingLastPathComponent
        }
        return SecretStore.path(workspace: directory.isEmpty ? "." : directory)
    }

    /// Validation with the secret names checked too (no key needed: names are readable in the store).
    static func validate(paths: [String]) -> ValidationReport {
        var report = WorkspaceLoader.validate(paths: paths)
        let findings = findings(references: report.workspace.secretReferences, store: storePath(paths: paths))
        if !findings.isEmpty {
            report.diagnostics += findings
            report.diagnostics.sort {
                ($0.location, $0.code.rawValue, $0.message) < ($1.location, $1.code.rawValue, $1.message)
            }
        }
        return report
    }

    static func findings(references: [Located<String>], store path: String) -> [Diagnostic] {
        guard !references.isEmpty else { return [] }
        let store: SecretStore?
        do {
            store = try SecretStore.open(path)
        } catch {
            return [Diagnostic(.error, .secretStore, at: .wholeFile(path), error.message, hint: error.hint)]
        }
        let names = store?.names ?? []
        return references.filter { !names.contains($0.value) }.map { reference in
            Diagnostic(
                .error, .unknownSecret, at: reference.location,
                store == nil
                    ? "unknown secret '\(reference.value)': there is no secret store (\(path))"
                    : "unknown secret '\(reference.value)'",
                hint: "add it with `switchboard secrets set \(reference.value)`"
                    + (names.isEmpty ? "" : "; stored: \(names.joined(separator: ", "))"))
        }
    }

    /// The values, for a real run: loaded only when the workspace reads secrets, then every one registered
    /// with the redactor before anything can print or journal it.
    static func load(workspace: EngineConfiguration) throws -> [String: String] {
        let keyMaterial = ProcessInfo.processInfo.environment
        for variable in [SecretKey.keyVariable, SecretKey.passphraseVariable] {
            if let value = keyMaterial[variable] { Redactor.shared.register(value) }
        }
        guard !workspace.workspace.secretReferences.isEmpty else { return [:] }
        let path = SecretStore.path(workspace: workspace.directory)
        return try Failure.secrets { () throws(SecretError) in
            guard let store = try SecretStore.open(path) else {
                throw SecretError("no secret store at \(path)", hint: "switchboard secrets set NAME")
            }
            let (key, _) = try SecretKey.resolve(for: store.keySpec)
            let values = try store.values(key)
            for value in values.values { Redactor.shared.register(value) }
            return values
        }
    }

    /// What `plan` and `test` see instead: `<secrets.NAME>`, so output shows which secret goes where.
    static func placeholders(_ workspace: Workspace) -> [String: String] {
        Dictionary(workspace.secretReferences.map { ($0.value, "<secrets.\($0.value)>") }) { first, _ in first }
    }
}
