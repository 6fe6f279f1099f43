public import Foundation
public import Secrets
public import TBX1
public import Workflow

/// A TransmissionBot account's state file (transmissionbot.md §8): every documented key exactly as the official
/// CLI writes it, our superset beside them (§8.3), and any other top-level key kept as it was on rewrite.
public struct TBState: Sendable {
    public var agentID: String?
    public var handle: String?
    public var accessToken: String?
    /// "Lose it = locked out": rotated on every refresh and saved before it is used again.
    public var refreshToken: String?
    /// Unix seconds.
    public var tokenExpiresAt: Int?
    public var identity: IdentityKeyPair?
    public var prekeys: PrekeyStore?
    public var serverURL: String?
    /// Ratchet sessions by peer agent id.
    public var sessions: [String: Session] = [:]
    /// Messages decrypted but not yet acknowledged, by message id: a fetch after a crash reuses the plaintext
    /// instead of running the ratchet again (§8.3).
    public var pendingAcks: [String: PendingAck] = [:]
    public var settings = Settings()
    /// Top-level keys this version does not know, written back untouched.
    var unknown: [String: Value] = [:]

    public struct PendingAck: Codable, Sendable, Equatable {
        public var plaintextBase64: String
        public var from: String
        /// The prekeys the message's handshake consumed: their one-time and PQ secrets are deleted once it is
        /// acknowledged (§7.5).
        public var consumed: PrekeyUse?

        public init(plaintextBase64: String, from: String, consumed: PrekeyUse?) {
            self.plaintextBase64 = plaintextBase64
            self.from = from
            self.consumed = consumed
        }

        enum CodingKeys: String, CodingKey {
            case plaintextBase64 = "plaintext_b64"
            case from
            case consumed
        }
    }

    public struct Settings: Codable, Sendable, Equatable {
        public var autoReplenish = true
        public var replenishThreshold = 5
        public var batchSize = 20
        public init() {}
    }

    public init() {}

    /// Every credential the state holds, for the redactor: tokens and every secret key (as the file spells them).
    public var credentials: [String] {
        var values = [accessToken, refreshToken].compactMap { $0 }
        if let data = try? JSONEncoder().encode(identity), let text = String(data: data, encoding: .utf8) {
            values += Self.secretKeys(in: text)
        }
        if let data = try? JSONEncoder().encode(prekeys), let text = String(data: data, encoding: .utf8) {
            values += Self.secretKeys(in: text)
        }
        return values
    }

    /// The `secretKey` values of an encoded identity or prekey store.
    static func secretKeys(in json: String) -> [String] {
        guard case .object(let root)? = try? JSONText.decode(json) else { return [] }
        var found: [String] = []
        func walk(_ value: Value) {
            switch value {
            case .object(let fields):
                for (key, field) in fields {
                    if key == "secretKey" || key == "secret_key", case .string(let secret) = field {
                        found.append(secret)
                    } else {
                        walk(field)
                    }
                }
            case .array(let items): items.forEach(walk)
            default: break
            }
        }
        walk(.object(root))
        return found
    }
}

extension TBState {
    static let known: Set<String> = [
        "agent_id", "handle", "access_token", "refresh_token", "token_expires_at", "identity", "prekeys",
        "server_url", "format", "sessions", "pending_acks", "settings",
    ]

    /// Reads the JSON of a state file; a missing or malformed documented key is an error naming it.
    public init(json data: Data, file: String) throws(TBStateError) {
        guard case .object(let root)? = try? JSONText.decode(String(decoding: data, as: UTF8.self)) else {
            throw TBStateError("\(file): not a TransmissionBot state file (not a JSON object)")
        }
        func field<T: Decodable>(_ key: String, as type: T.Type) throws(TBStateError) -> T? {
            guard let value = root[key], value != .null else { return nil }
            do {
                return try JSONDecoder().decode(T.self, from: Data(JSONText.encode(value).utf8))
            } catch {
                throw TBStateError("\(file): '\(key)' is not what the state file holds there (\(error))")
            }
        }
        agentID = try field("agent_id", as: String.self)
        handle = try field("handle", as: String.self)
        accessToken = try field("access_token", as: String.self)
        refreshToken = try field("refresh_token", as: String.self)
        tokenExpiresAt = try field("token_expires_at", as: Int.self)
        identity = try field("identity", as: IdentityKeyPair.self)
        prekeys = try field("prekeys", as: PrekeyStore.self)
        serverURL = try field("server_url", as: String.self)
        sessions = try field("sessions", as: [String: Session].self) ?? [:]
        pendingAcks = try field("pending_acks", as: [String: PendingAck].self) ?? [:]
        settings = try field("settings", as: Settings.self) ?? Settings()
        unknown = root.filter { !Self.known.contains($0.key) }
    }

    /// The file's JSON: the documented keys as the CLI writes them, ours, then the ones we did not know; one
    /// encoder pass (a state with a hundred PQ prekeys is a few hundred KiB, written before every send).
    public func json() throws(TBStateError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(Document(state: self)) + Data("\n".utf8)
        } catch {
            throw TBStateError("cannot encode the state: \(error)")
        }
    }

    private struct Document: Encodable {
        let state: TBState

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ string: String) { stringValue = string }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for (key, value) in state.unknown where !TBState.known.contains(key) {
                try container.encode(value, forKey: Key(key))
            }
            try container.encodeIfPresent(state.agentID, forKey: Key("agent_id"))
            try container.encodeIfPresent(state.handle, forKey: Key("handle"))
            try container.encodeIfPresent(state.accessToken, forKey: Key("access_token"))
            try container.encodeIfPresent(state.refreshToken, forKey: Key("refresh_token"))
            try container.encodeIfPresent(state.tokenExpiresAt, forKey: Key("token_expires_at"))
            try container.encodeIfPresent(state.identity, forKey: Key("identity"))
            try container.encodeIfPresent(state.prekeys, forKey: Key("prekeys"))
            try container.encodeIfPresent(state.serverURL, forKey: Key("server_url"))
            try container.encode("tbx1", forKey: Key("format"))
            if !state.sessions.isEmpty { try container.encode(state.sessions, forKey: Key("sessions")) }
            if !state.pendingAcks.isEmpty { try container.encode(state.pendingAcks, forKey: Key("pending_acks")) }
            try container.encode(state.settings, forKey: Key("settings"))
        }
    }
}

/// A state file's problem: what went wrong, naming the file, and what to do (the secret store's error type).
public typealias TBStateError = SecretError

/// Where a state lives and how it is written: a file of mode 0600 in a directory of mode 0700, replaced
/// atomically (temporary file, fsync, rename), optionally sealed with a passphrase (Argon2id +
/// XChaCha20-Poly1305, the secret store's format). Every credential it holds is registered with the
/// redactor as soon as it is read or written.
public struct TBStateFile: Sendable {
    public let path: String
    public let passphrase: String?

    public init(path: String, passphrase: String? = nil) {
        self.path = path
        self.passphrase = passphrase
    }

    /// The variables the official CLI reads a whole state from when there is no file (§8.1; both spellings).
    public static let environmentVariables = ["TRANSMISSIONBOT_STATE_JSON", "TRANSMISSION_STATE_JSON"]

    /// The state, or nil when there is no file yet (and no state in the environment).
    public func load(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(TBStateError) -> TBState? {
        let data: Data
        if let contents = FileManager.default.contents(atPath: path) {
            try checkPermissions()
            data = try open(contents)
        } else if let text = Self.environmentVariables.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) {
            data = Data(text.utf8)
        } else {
            return nil
        }
        let state = try TBState(json: data, file: path)
        Redactor.shared.register(contentsOf: state.credentials)
        return state
    }

    /// Writes the state atomically; the directory is created with mode 0700 if missing.
    /// Only the tokens are registered with the redactor here (they rotate); the keys were registered when they
    /// were read or made (``TBClient`` registers new prekeys).
    public func save(_ state: TBState) throws(TBStateError) {
        Redactor.shared.register(contentsOf: [state.accessToken, state.refreshToken].compactMap { $0 })
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw TBStateError("\(directory): cannot create the state's directory: \(error.localizedDescription)")
            }
        }
        let plain = try state.json()
        var bytes = plain
        if let passphrase { bytes = try seal(plain, passphrase: passphrase) }
        do {
            try AtomicFile.write(bytes, to: path, mode: 0o600)
        } catch {
            throw TBStateError(error.message, hint: error.hint)
        }
    }

    /// A state file others can read is refused: it holds the refresh token and every secret key.
    func checkPermissions() throws(TBStateError) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw TBStateError(
                "\(path): the state file has mode \(String(mode, radix: 8)); it holds keys and tokens, so only its owner may read it",
                hint: "chmod 600 \(path)")
        }
    }

    // MARK: - Sealing

    static let sealedFormat = "switchboard-sealed-state"

    struct Sealed: Codable {
        var format: String
        var version: Int
        var key: SecretStore.KeySpec
        var state: String
    }

    func seal(_ plain: Data, passphrase: String) throws(TBStateError) -> Data {
        let sealed: Sealed
        do throws(SecretError) {
            let (key, spec) = try SecretKey.resolve(for: nil, environment: ["SWITCHBOARD_PASSPHRASE": passphrase])
            sealed = Sealed(
                format: Self.sealedFormat, version: 1, key: spec,
                state: try SecretStore.seal(Array(plain), key: key, context: Self.sealedFormat))
        } catch {
            throw TBStateError(error.message, hint: error.hint)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(sealed) else { throw TBStateError("cannot encode the sealed state") }
        return data
    }

    /// The file's JSON, opened with the passphrase when it is sealed.
    func open(_ contents: Data) throws(TBStateError) -> Data {
        guard let sealed = try? JSONDecoder().decode(Sealed.self, from: contents), sealed.format == Self.sealedFormat
        else {
            // Plain: read as it is (a passphrase added later seals it on the next save).
            return contents
        }
        guard let passphrase else {
            throw TBStateError(
                "\(path): the state file is sealed and the account gives no passphrase",
                hint: "passphrase: ${{ secrets.TB_PASSPHRASE }}")
        }
        let key: SecretKey
        do throws(SecretError) {
            (key, _) = try SecretKey.resolve(for: sealed.key, environment: ["SWITCHBOARD_PASSPHRASE": passphrase])
        } catch {
            throw TBStateError(error.message, hint: error.hint)
        }
        guard let plain = SecretStore.open(sealed.state, key: key, context: Self.sealedFormat) else {
            throw TBStateError("\(path): wrong passphrase, or the sealed state was altered")
        }
        return Data(plain)
    }
}
