/// One finding of `validate`: where, how bad, a stable code for tools, a message and a hint.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable, Comparable, CaseIterable {
        /// Information the author should know (free text handed to the responder, for instance); never fails a run.
        case note
        /// Probably a mistake; fails `validate --strict`.
        case warning
        /// The workspace cannot run as written.
        case error

        private var rank: Int {
            switch self {
            case .note: 0
            case .warning: 1
            case .error: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    public var location: SourceLocation
    public var severity: Severity
    public var code: Code
    public var message: String
    public var hint: String?

    public init(_ severity: Severity, _ code: Code, at location: SourceLocation, _ message: String, hint: String? = nil)
    {
        self.location = location
        self.severity = severity
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String {
        "\(location): \(severity.rawValue): \(message) [\(code.rawValue)]"
    }
}

extension Diagnostic {
    /// A stable, kebab-case identifier of what kind of finding this is; tools and tests match on it.
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }

        // Reading files
        public static let fileUnreadable: Code = "file-unreadable"
        public static let fileTooLarge: Code = "file-too-large"
        public static let binaryFile: Code = "binary-file"
        public static let invalidUTF8: Code = "invalid-utf8"
        public static let noWorkflows: Code = "no-workflows"
        // YAML
        public static let yamlSyntax: Code = "yaml-syntax"
        public static let yamlTab: Code = "yaml-tab-indentation"
        public static let yamlTooDeep: Code = "yaml-too-deep"
        public static let yamlTooLarge: Code = "yaml-too-large"
        public static let duplicateKey: Code = "duplicate-key"
        public static let multipleDocuments: Code = "multiple-documents"
        // Shape of the workflow file
        public static let unknownKey: Code = "unknown-key"
        public static let missingKey: Code = "missing-key"
        public static let typeMismatch: Code = "type-mismatch"
        public static let invalidValue: Code = "invalid-value"
        public static let conflictingKeys: Code = "conflicting-keys"
        public static let unsupportedVersion: Code = "unsupported-version"
        public static let invalidDuration: Code = "invalid-duration"
        public static let invalidCron: Code = "invalid-cron"
        public static let invalidTimezone: Code = "invalid-timezone"
        public static let invalidTarget: Code = "invalid-target"
        public static let insecureServer: Code = "insecure-server"
        public static let forbiddenCommand: Code = "forbidden-command"
        // Expressions
        public static let expressionSyntax: Code = "expression-syntax"
        public static let unknownContext: Code = "unknown-context"
        public static let unknownProperty: Code = "unknown-property"
        public static let unknownFunction: Code = "unknown-function"
        public static let wrongArity: Code = "wrong-arity"
        public static let expressionType: Code = "expression-type"
        public static let unknownStep: Code = "unknown-step"
        public static let stepRunsLater: Code = "step-runs-later"
        public static let duplicateStepID: Code = "duplicate-step-id"
        // MESSAGING.md
        public static let unknownBullet: Code = "unknown-bullet"
        public static let duplicateBullet: Code = "duplicate-bullet"
        public static let missingSessions: Code = "missing-sessions-section"
        public static let missingSession: Code = "missing-session-bullet"
        public static let responderInstructions: Code = "responder-instructions"
        // Across files
        public static let duplicateDefinition: Code = "duplicate-definition"
        public static let unknownAccount: Code = "unknown-account"
        public static let unknownChannel: Code = "unknown-channel"
        public static let unknownHandler: Code = "unknown-handler"
        public static let unknownSession: Code = "unknown-session"
        public static let targetKindMismatch: Code = "target-kind"
        public static let unpolledSession: Code = "unpolled-session"
        public static let shadowedRule: Code = "shadowed-rule"
        public static let duplicateAutoReply: Code = "duplicate-auto-reply"
        public static let forwardLoop: Code = "forward-loop"
        public static let pollSlowerThanTTL: Code = "poll-slower-than-ttl"
        public static let missingEscalation: Code = "missing-escalation"
        public static let missingResponder: Code = "missing-responder"
        public static let neverFires: Code = "never-fires"
        public static let rulesFileMissing: Code = "rules-file-missing"
        // Secrets
        public static let unknownSecret: Code = "unknown-secret"
        public static let secretStore: Code = "secret-store"
    }
}
