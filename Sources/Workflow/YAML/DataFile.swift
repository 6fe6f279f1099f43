/// YAML (or JSON, which is YAML) data files as ``Value``s: message fixtures for `plan`, conversation tests.
/// Plain scalars become null, booleans and numbers as YAML 1.2's core schema reads them; everything else text.
public enum DataFile {
    public static func load(_ text: String, file: String) -> Result<Value, Diagnostic> {
        switch YAMLLoader.load(text, file: file) {
        case .failure(let diagnostic): return .failure(diagnostic)
        case .success(nil): return .success(.null)
        case .success(let node?): return .success(value(node))
        }
    }

    /// The location of each top-level list item, for messages that point at the right line.
    static func value(_ node: YAMLNode) -> Value {
        switch node.kind {
        case .scalar(let scalar):
            guard scalar.isPlain else { return .string(scalar.text) }
            if node.isNull { return .null }
            switch scalar.text {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: break
            }
            if let number = Double(scalar.text),
                scalar.text.first.map({ $0.isNumber || $0 == "-" || $0 == "." }) ?? false
            {
                return .number(number)
            }
            return .string(scalar.text)
        case .sequence(let items): return .array(items.map(value))
        case .mapping(let pairs):
            var object: [String: Value] = [:]
            for pair in pairs { object[pair.key.scalar?.text ?? ""] = value(pair.value) }
            return .object(object)
        }
    }
}
