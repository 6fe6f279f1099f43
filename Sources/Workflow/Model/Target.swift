/// The three networks switchboard speaks.
public enum Network: String, Sendable, CaseIterable, Hashable {
    case nexus
    case transmissionbot
    case masumi

    /// What a target on this network can name as a destination.
    public var sendKinds: [Target.Kind] {
        switch self {
        case .nexus: [.session]
        case .transmissionbot: [.agent]
        case .masumi: [.agent, .thread, .channel]
        }
    }

    /// What a source on this network can poll.
    public var pollKinds: [Target.Kind] {
        switch self {
        case .nexus: [.session]
        case .transmissionbot: [.inbox]
        case .masumi: [.inbox, .thread, .channel]
        }
    }
}

/// An address on a network, `ACCOUNT:KIND/ID` (`nx:session/release-room`, `ms:channel/releases`, `tb:inbox`).
public struct Target: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable, Hashable {
        case session, agent, thread, channel, inbox
    }

    public var account: String
    public var kind: Kind
    /// Nil only for `inbox`, which names the account's whole inbox.
    public var id: String?

    public init(account: String, kind: Kind, id: String?) {
        self.account = account
        self.kind = kind
        self.id = id
    }

    public var description: String {
        "\(account):\(kind.rawValue)" + (id.map { "/\($0)" } ?? "")
    }

    /// Whether this is a rule pattern (`ms:thread/*`) rather than one conversation.
    public var isWildcard: Bool { id == "*" }

    /// Whether a rule pattern covers `other`.
    public func covers(_ other: Target) -> Bool {
        account == other.account && kind == other.kind && (id == other.id || isWildcard)
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case missingAccount
        case badAccount(String)
        case unknownKind(String)
        case missingID(Kind)
        case unexpectedID(Kind)
        case badID(String)

        public var description: String {
            switch self {
            case .missingAccount: "expected ACCOUNT:KIND/ID, like nx:session/release-room"
            case .badAccount(let name): "'\(name)' is not an account name (letters, digits, '-' and '_')"
            case .unknownKind(let kind): "unknown target kind '\(kind)'"
            case .missingID(let kind): "'\(kind.rawValue)' needs an id: \(kind.rawValue)/ID"
            case .unexpectedID(let kind): "'\(kind.rawValue)' takes no id"
            case .badID(let id): "'\(id)' is not a valid id (no spaces or control characters)"
            }
        }

        public var hint: String? {
            switch self {
            case .unknownKind(let kind):
                Suggestion.hint(for: kind, in: Kind.allCases.map(\.rawValue))
                    ?? "kinds are session, agent, thread, channel and inbox"
            default: nil
            }
        }
    }

    public static func parse(_ text: String) -> Result<Target, ParseError> {
        guard let colon = text.firstIndex(of: ":") else { return .failure(.missingAccount) }
        let account = String(text[..<colon])
        guard isName(account) else { return .failure(.badAccount(account)) }
        let rest = text[text.index(after: colon)...]
        let kindText = rest.prefix { $0 != "/" }
        guard let kind = Kind(rawValue: String(kindText)) else { return .failure(.unknownKind(String(kindText))) }
        let hasID = rest.count > kindText.count
        let id = hasID ? String(rest.dropFirst(kindText.count + 1)) : nil
        if kind == .inbox {
            return id == nil ? .success(Target(account: account, kind: kind, id: nil)) : .failure(.unexpectedID(kind))
        }
        guard let id, !id.isEmpty else { return .failure(.missingID(kind)) }
        guard !Self.hasSpaceOrControl(id) else { return .failure(.badID(id)) }
        return .success(Target(account: account, kind: kind, id: id))
    }

    /// Names of accounts, handlers, channels and schedules: ASCII letters, digits, `-` and `_`.
    public static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy {
                (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D
                    || $0 == 0x5F
            }
    }

    /// White space or a control character anywhere: ASCII is checked byte by byte (an ID is almost always
    /// ASCII), anything else through its Unicode properties.
    static func hasSpaceOrControl(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 }
            ? text.utf8.contains { $0 <= 0x20 || $0 == 0x7F }
            : text.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
    }
}

/// Where a step sends something: a target, or `reply` (back where the trigger came from).
public enum Destination: Hashable, Sendable, CustomStringConvertible {
    case reply
    case target(Target)

    public var description: String {
        switch self {
        case .reply: "reply"
        case .target(let target): target.description
        }
    }
}
