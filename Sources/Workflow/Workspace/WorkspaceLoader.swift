import Foundation

/// Finds and reads the files of a workspace: `workflows/*.yaml` (and `.yml`), `MESSAGING.md`, and the rule
/// files workflows name.
public enum WorkspaceLoader {
    /// Loads and validates the given paths as one workspace. A directory with a `workflows/` folder is a
    /// workspace root; any other directory contributes its YAML files and its MESSAGING.md; files are taken
    /// as they are.
    public static func validate(paths: [String]) -> ValidationReport {
        var loader = Loader()
        for path in paths { loader.add(path) }
        loader.loadReferencedRuleFiles()
        var diagnostics = loader.diagnostics
        if loader.fileCount > 0 || loader.workspace.workflows.count + loader.workspace.messaging.count > 0 {
            var validator = WorkspaceValidator(workspace: loader.workspace)
            diagnostics += validator.validate()
        }
        diagnostics.sort { ($0.location, $0.code.rawValue, $0.message) < ($1.location, $1.code.rawValue, $1.message) }
        return ValidationReport(workspace: loader.workspace, diagnostics: diagnostics, fileCount: loader.fileCount)
    }

    /// Parses one workflow from text (for tests, editors and `plan` with inline files).
    public static func workflow(from text: String, file: String) -> (workflow: Workflow?, diagnostics: [Diagnostic]) {
        switch YAMLLoader.load(text, file: file) {
        case .failure(let diagnostic): return (nil, [diagnostic])
        case .success(nil):
            return (
                nil,
                [
                    Diagnostic(
                        .error, .missingKey, at: .wholeFile(file), "the workflow file is empty",
                        hint: "start with 'version: 1'")
                ]
            )
        case .success(let root?):
            var decoder = WorkflowDecoder(file: file)
            decoder.decode(root)
            var workflow = decoder.workflow
            workflow.secretReferences = decoder.reader.secretReferences
            return (workflow, decoder.reader.diagnostics)
        }
    }

    private struct Loader {
        var workspace = Workspace()
        var diagnostics: [Diagnostic] = []
        var fileCount = 0
        private var seen: Set<String> = []

        mutating func add(_ path: String) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                diagnostics.append(
                    Diagnostic(.error, .fileUnreadable, at: .wholeFile(path), "no such file or directory"))
                return
            }
            guard isDirectory.boolValue else {
                addFile(path)
                return
            }
            let workflowsDirectory = join(path, "workflows")
            var folderIsDirectory: ObjCBool = false
            let hasWorkflowsFolder =
                FileManager.default.fileExists(atPath: workflowsDirectory, isDirectory: &folderIsDirectory)
                && folderIsDirectory.boolValue
            let yamlDirectory = hasWorkflowsFolder ? workflowsDirectory : path
            let messagingPath = join(path, "MESSAGING.md")
            if FileManager.default.fileExists(atPath: messagingPath) { addFile(messagingPath) }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: yamlDirectory)) ?? []
            let workflowNames = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            for name in workflowNames { addFile(join(yamlDirectory, name)) }
            if workflowNames.isEmpty {
                diagnostics.append(
                    Diagnostic(
                        .error, .noWorkflows, at: .wholeFile(path), "no workflow files found",
                        hint: hasWorkflowsFolder
                            ? "add a .yaml file to \(workflowsDirectory)"
                            : "a workspace keeps its workflows in workflows/*.yaml; 'switchboard init' creates one"))
            }
        }

        /// `asRules`: a file a workflow names under `rules:` is MESSAGING.md-format whatever its name.
        mutating func addFile(_ path: String, asRules: Bool = false) {
            let key = URL(fileURLWithPath: path).standardizedFileURL.path
            guard seen.insert(key).inserted else { return }
            fileCount += 1
            let isMarkdown = asRules || path.lowercased().hasSuffix(".md")
            guard isMarkdown || path.hasSuffix(".yaml") || path.hasSuffix(".yml") else {
                diagnostics.append(
                    Diagnostic(
                        .error, .fileUnreadable, at: .wholeFile(path),
                        "not a workflow (.yaml, .yml) or rules (.md) file"))
                return
            }
            guard let text = read(path) else { return }
            if isMarkdown {
                let (document, findings) = MessagingDocument.parse(text, file: path)
                workspace.messaging.append(document)
                diagnostics += findings
            } else {
                let (workflow, findings) = WorkspaceLoader.workflow(from: text, file: path)
                if let workflow { workspace.workflows.append(workflow) }
                diagnostics += findings
            }
        }

        /// Reads a regular file of at most ``SourceText/maximumSize`` bytes; a device, a FIFO or a larger file
        /// is a finding, never a read that blocks or fills memory.
        mutating func read(_ path: String) -> String? {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            guard attributes?[.type] as? FileAttributeType == .typeRegular else {
                diagnostics.append(
                    Diagnostic(.error, .fileUnreadable, at: .wholeFile(path), "not a regular file"))
                return nil
            }
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
            if size > SourceText.maximumSize {
                diagnostics.append(
                    Diagnostic(
                        .error, .fileTooLarge, at: .wholeFile(path),
                        "file is \(size.byteCountDescription); the limit is \(SourceText.maximumSize.byteCountDescription)",
                        hint: "workflow and rule files are read whole; split the workspace into several files"))
                return nil
            }
            let data: Data?
            do {
                let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                defer { try? handle.close() }
                data = try handle.read(upToCount: SourceText.maximumSize + 1)
            } catch {
                diagnostics.append(
                    Diagnostic(
                        .error, .fileUnreadable, at: .wholeFile(path),
                        "cannot read the file: \(error.localizedDescription)"))
                return nil
            }
            switch SourceText.decode([UInt8](data ?? Data()), file: path) {
            case .success(let text): return text
            case .failure(let diagnostic):
                diagnostics.append(diagnostic)
                return nil
            }
        }

        /// `rules: ../MESSAGING.md` in a workflow: paths relative to the workflow file.
        ///
        /// A rules file must lie inside the workspace (the folder holding `workflows/`, or the workflow's own
        /// folder): `validate` runs on pull requests, and echoing lines of `~/.ssh/id_rsa` into a CI log through
        /// `rules: ~/.ssh/id_rsa` must not be possible.
        mutating func loadReferencedRuleFiles() {
            for workflow in workspace.workflows {
                let directory = (workflow.file as NSString).deletingLastPathComponent
                let root =
                    (directory as NSString).lastPathComponent == "workflows"
                    ? (directory as NSString).deletingLastPathComponent : directory
                for reference in workflow.ruleFiles {
                    let path = normalize(
                        reference.value.hasPrefix("/") ? reference.value : join(directory, reference.value))
                    guard Self.isInside(path, root: root) else {
                        diagnostics.append(
                            Diagnostic(
                                .error, .rulesFileMissing, at: reference.location,
                                "rules file '\(reference.value)' is outside the workspace",
                                hint:
                                    "keep rules files in the workspace (\(root.isEmpty ? "." : root)) next to workflows/"
                            ))
                        continue
                    }
                    guard FileManager.default.fileExists(atPath: path) else {
                        diagnostics.append(
                            Diagnostic(
                                .error, .rulesFileMissing, at: reference.location,
                                "rules file '\(reference.value)' does not exist",
                                hint: "paths are relative to the workflow file: \(path)"))
                        continue
                    }
                    addFile(path, asRules: true)
                }
            }
        }

        /// Whether `path`, with symbolic links resolved, lies under `root`.
        static func isInside(_ path: String, root: String) -> Bool {
            let resolvedRoot = URL(fileURLWithPath: root.isEmpty ? "." : root).standardizedFileURL
                .resolvingSymlinksInPath().path
            let resolved = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            return resolved == resolvedRoot
                || resolved.hasPrefix(resolvedRoot.hasSuffix("/") ? resolvedRoot : resolvedRoot + "/")
        }

        /// `workflows/../MESSAGING.md` → `MESSAGING.md`, without touching the file system (links stay as written).
        func normalize(_ path: String) -> String {
            var parts: [Substring] = []
            for part in path.split(separator: "/", omittingEmptySubsequences: true) {
                if part == "." { continue }
                if part == "..", let last = parts.last, last != ".." {
                    parts.removeLast()
                } else {
                    parts.append(part)
                }
            }
            let joined = parts.joined(separator: "/")
            return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
        }

        func join(_ directory: String, _ name: String) -> String {
            directory.isEmpty || directory == "."
                ? name : (directory.hasSuffix("/") ? directory + name : directory + "/" + name)
        }
    }
}
