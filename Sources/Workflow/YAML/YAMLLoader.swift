import Yams

/// Reads one YAML document into ``YAMLNode``s through Yams (libyaml), turning every failure into a finding
/// with the line and column libyaml reports.
enum YAMLLoader {
    /// Aliases are expanded as copies; a document that expands past this many nodes is an alias bomb.
    static let maximumNodes = 200_000

    /// The root node, nil for an empty document, or the finding that stopped the parse.
    static func load(_ text: String, file: String) -> Result<YAMLNode?, Diagnostic> {
        if let finding = AliasScan.check(text, file: file) { return .failure(finding) }
        let root: Node?
        do {
            // Scalars are typed by the decoder, with the key's context; the basic resolver skips Yams' per-scalar
            // regular expressions (a third of the parse time).
            root = try Yams.compose(yaml: text, Resolver.basic)
        } catch let error as YamlError {
            return .failure(diagnostic(for: error, in: text, file: file))
        } catch {
            return .failure(Diagnostic(.error, .yamlSyntax, at: .wholeFile(file), "\(error)"))
        }
        guard let root else { return .success(nil) }
        var converter = Converter(file: file, lines: Lines(text))
        do {
            return .success(try converter.convert(root, depth: 0))
        } catch .tooDeep {
            return .failure(
                Diagnostic(
                    .error, .yamlTooDeep, at: converter.lastLocation,
                    "YAML nested more than \(maximumDepth) levels deep (through aliases)",
                    hint: "a workflow never needs this depth; the file is probably generated or corrupt"))
        } catch {
            return .failure(
                Diagnostic(
                    .error, .yamlTooLarge, at: converter.lastLocation,
                    "the document expands to more than \(maximumNodes) nodes",
                    hint: "aliases are copied where they are used; nest fewer aliases inside aliases"))
        }
    }

    /// libyaml's own limit for what is written; aliases can nest deeper, so the converter checks again.
    static let maximumDepth = 1000

    private enum ConversionLimit: Error {
        case tooManyNodes
        case tooDeep
    }

    private struct Converter {
        let file: String
        let lines: Lines
        var count = 0
        var lastLocation: SourceLocation

        init(file: String, lines: Lines) {
            self.file = file
            self.lines = lines
            lastLocation = .wholeFile(file)
        }

        mutating func convert(_ node: Node, depth: Int) throws(ConversionLimit) -> YAMLNode {
            count += 1
            guard count <= YAMLLoader.maximumNodes else { throw .tooManyNodes }
            guard depth <= YAMLLoader.maximumDepth else { throw .tooDeep }
            let location = location(of: node.mark)
            lastLocation = location
            switch node {
            case .scalar(let scalar):
                let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
                let exact =
                    scalar.style != .literal && scalar.style != .folded
                    && lines.holdsVerbatim(scalar.string, at: location, quoted: quoted)
                return YAMLNode(
                    kind: .scalar(
                        .init(
                            text: scalar.string, isPlain: scalar.style == .plain && scalar.tag.description.isEmpty,
                            quoted: quoted, exactColumns: exact)),
                    location: location)
            case .sequence(let sequence):
                var items: [YAMLNode] = []
                items.reserveCapacity(sequence.count)
                for item in sequence { items.append(try convert(item, depth: depth + 1)) }
                return YAMLNode(kind: .sequence(items), location: location)
            case .mapping(let mapping):
                var pairs: [YAMLNode.Pair] = []
                var merged: [YAMLNode.Pair] = []
                for (key, value) in mapping {
                    if case .scalar(let scalar) = key, scalar.style == .plain, scalar.string == "<<" {
                        merged += try mergeSources(value, depth: depth + 1)
                        continue
                    }
                    pairs.append(
                        YAMLNode.Pair(
                            key: try convert(key, depth: depth + 1), value: try convert(value, depth: depth + 1)))
                }
                // `<<: *defaults` (YAML's merge key): keys written in the mapping win over merged ones.
                var seen = Set(pairs.compactMap { $0.key.scalar?.text })
                for pair in merged {
                    guard let key = pair.key.scalar?.text, seen.insert(key).inserted else { continue }
                    pairs.append(pair)
                }
                return YAMLNode(kind: .mapping(pairs), location: location)
            case .alias:
                // Yams resolves aliases while composing; an unresolved one is not produced by `compose`.
                return YAMLNode(
                    kind: .scalar(.init(text: "", isPlain: true, quoted: false, exactColumns: false)),
                    location: location
                )
            }
        }

        /// The pairs a merge key brings in: one mapping, or a list of mappings (earlier ones win).
        mutating func mergeSources(_ value: Node, depth: Int) throws(ConversionLimit) -> [YAMLNode.Pair] {
            switch value {
            case .mapping:
                if case .mapping(let pairs) = try convert(value, depth: depth).kind { return pairs }
                return []
            case .sequence(let items):
                var pairs: [YAMLNode.Pair] = []
                for item in items { pairs += try mergeSources(item, depth: depth + 1) }
                return pairs
            default:
                // Not mergeable: keep it as an ordinary key so the decoder reports it.
                let key = YAMLNode(
                    kind: .scalar(.init(text: "<<", isPlain: true, quoted: false, exactColumns: false)),
                    location: location(of: value.mark))
                return [YAMLNode.Pair(key: key, value: try convert(value, depth: depth))]
            }
        }

        func location(of mark: Mark?) -> SourceLocation {
            guard let mark else { return .wholeFile(file) }
            return SourceLocation(file: file, line: mark.line, column: mark.column)
        }
    }

    // MARK: - Errors

    static func diagnostic(for error: YamlError, in text: String, file: String) -> Diagnostic {
        let lines = Lines(text)
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        func describe(_ problem: String, _ context: YamlError.Context?) -> String {
            guard let context, !context.text.isEmpty else { return problem }
            return "\(problem) (\(context.text) at \(context.mark.line):\(context.mark.column))"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _):
            if lines.character(at: mark) == "\t" || lines.indentationHasTab(line: mark.line) {
                return Diagnostic(
                    .error, .yamlTab, at: at(mark), "tab character used for indentation",
                    hint: "YAML indentation must be spaces; replace the tabs")
            }
            return Diagnostic(.error, .yamlSyntax, at: at(mark), describe(problem, context))
        case .parser(let context, let problem, let mark, _):
            if problem.contains("Maximum nesting level") || (context?.text.contains("nesting") ?? false) {
                return Diagnostic(
                    .error, .yamlTooDeep, at: at(mark), "YAML nested more than 1000 levels deep",
                    hint: "a workflow never needs this depth; the file is probably generated or corrupt")
            }
            if lines.indentationHasTab(line: mark.line) {
                return Diagnostic(
                    .error, .yamlTab, at: at(mark), "tab character used for indentation",
                    hint: "YAML indentation must be spaces; replace the tabs")
            }
            return Diagnostic(.error, .yamlSyntax, at: at(mark), describe(problem, context))
        case .composer(let context, let problem, let mark, _):
            if problem.contains("another document") {
                return Diagnostic(
                    .error, .multipleDocuments, at: at(mark), "a workflow file holds one YAML document; found another",
                    hint: "put each workflow in its own file under workflows/")
            }
            return Diagnostic(.error, .yamlSyntax, at: at(mark), describe(problem, context))
        case .reader(let problem, let offset, _, _):
            let location = offset.map { lines.location(ofCharacterOffset: $0, file: file) } ?? .wholeFile(file)
            return Diagnostic(.error, .yamlSyntax, at: location, problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            let first = context.mark
            let second = lines.repeatedKey(key, afterLine: first.line, column: first.column)
            return Diagnostic(
                .error, .duplicateKey,
                at: SourceLocation(file: file, line: second?.line ?? first.line, column: first.column),
                "duplicate key '\(key)' (first defined at \(first.line):\(first.column))",
                hint: "a mapping holds each key once; merge the two entries or rename one")
        default:
            return Diagnostic(.error, .yamlSyntax, at: .wholeFile(file), "\(error)")
        }
    }
}

/// The text split into lines, for looking at what is at a mark.
struct Lines {
    private let lines: [Substring]

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    func line(_ number: Int) -> Substring? {
        number >= 1 && number <= lines.count ? lines[number - 1] : nil
    }

    func character(at mark: Mark) -> Character? {
        guard let line = line(mark.line) else { return nil }
        let scalars = line.unicodeScalars
        guard mark.column >= 1, mark.column <= scalars.count else { return nil }
        return Character(scalars[scalars.index(scalars.startIndex, offsetBy: mark.column - 1)])
    }

    func indentationHasTab(line number: Int) -> Bool {
        guard let line = line(number) else { return false }
        return line.prefix { $0 == " " || $0 == "\t" }.contains("\t")
    }

    /// Whether `text` is written verbatim from `location` on its line (after the opening quote if quoted).
    func holdsVerbatim(_ text: String, at location: SourceLocation, quoted: Bool) -> Bool {
        guard let line = line(location.line) else { return false }
        let start = location.column - 1 + (quoted ? 1 : 0)
        guard start >= 0, start <= line.unicodeScalars.count else { return false }
        return line.unicodeScalars.dropFirst(start).starts(with: text.unicodeScalars)
    }

    func location(ofCharacterOffset offset: Int, file: String) -> SourceLocation {
        var remaining = offset
        for (index, line) in lines.enumerated() {
            let length = line.count + 1
            if remaining < length { return SourceLocation(file: file, line: index + 1, column: remaining + 1) }
            remaining -= length
        }
        return SourceLocation(file: file, line: lines.count, column: 1)
    }

    /// Where `key` appears again as a block-mapping key at the same column as its first use, if it does.
    func repeatedKey(_ key: String, afterLine firstLine: Int, column: Int) -> (line: Int, column: Int)? {
        guard firstLine < lines.count else { return nil }
        for number in (firstLine + 1)...lines.count {
            guard let line = line(number) else { continue }
            let indent = line.prefix { $0 == " " }.count
            if indent + 1 < column, !line.trimmingPrefixSpaces.isEmpty,
                !line.trimmingPrefixSpaces.hasPrefix("#"), !line.trimmingPrefixSpaces.hasPrefix("-")
            {
                return nil  // left the mapping
            }
            guard indent + 1 == column else { continue }
            let body = line.dropFirst(indent)
            for candidate in [key, "\"\(key)\"", "'\(key)'"] where body.hasPrefix(candidate + ":") {
                return (number, column)
            }
        }
        return nil
    }
}

extension Substring {
    fileprivate var trimmingPrefixSpaces: Substring { drop { $0 == " " } }
}
