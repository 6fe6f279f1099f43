internal import CSodium
public import Foundation

/// A problem with the secret store or its key: what went wrong (naming the file or the variable) and what to do.
public struct SecretError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var hint: String?
    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
    public var description: String { message }
}

/// The workspace's secrets, sealed: `secrets.sealed.json` beside `workflows/`, safe to commit.
///
/// Format (version 1), JSON with sorted keys:
///
///     {
///       "check" : "<base64: nonce ‖ XChaCha20-Poly1305 of \"switchboard-secrets\">",
///       "cipher" : "xchacha20poly1305-ietf",
///       "format" : "switchboard-secrets",
///       "key" : { "source" : "key" }       or
///               { "source" : "passphrase", "kdf" : "argon2id13", "salt" : "<base64>", "opslimit" : 2,
///                 "memlimit" : 67108864 },
///       "secrets" : { "NAME" : "<base64: 24-byte nonce ‖ ciphertext ‖ 16-byte tag>" },
///       "version" : 1
///     }
///
/// Each value is sealed with its own random nonce and the associated data `switchboard-secrets/v1/NAME`, so a
/// value moved under another name does not open. Names are readable without the key (`list`, `validate`);
/// values only with it. Writes go to a temporary file (0600) that is synced and renamed over the old one.
public struct SecretStore: Sendable {
    public static let fileName = "secrets.sealed.json"
    public static let format = "switchboard-secrets"
    public static let version = 1
    static let cipher = "xchacha20poly1305-ietf"
    static let checkText = "switchboard-secrets"

    public struct KeySpec: Codable, Sendable, Equatable {
        /// `key`: 32 bytes from SWITCHBOARD_KEY or SWITCHBOARD_KEY_FILE; `passphrase`: Argon2id of
        /// SWITCHBOARD_PASSPHRASE.
        public var source: String
        public var kdf: String?
        public var salt: String?
        public var opslimit: UInt64?
        public var memlimit: UInt64?

        public init(
            source: String, kdf: String? = nil, salt: String? = nil, opslimit: UInt64? = nil, memlimit: UInt64? = nil
        ) {
            self.source = source
            self.kdf = kdf
            self.salt = salt
            self.opslimit = opslimit
            self.memlimit = memlimit
        }
    }

    struct File: Codable {
        var format: String
        var version: Int
        var cipher: String
        var key: KeySpec
        var check: String
        var secrets: [String: String]
    }

    public let path: String
    var file: File

    /// The store's path in a workspace (the folder holding `workflows/`).
    public static func path(workspace: String) -> String {
        URL(fileURLWithPath: workspace).appendingPathComponent(fileName).standardizedFileURL.path
    }

    /// Whether a name can be a secret: what `${{ secrets.NAME }}` can spell.
    public static func isValidName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, first == "_" || first.isASCIILetter, scalars.count <= 128 else { return false }
        return scalars.allSatisfy { $0 == "_" || $0.isASCIILetter || ("0"..."9").contains($0) }
    }

    // MARK: - Reading

    /// The store at `path`, or nil when there is none. A file that is not a store, or from a newer
    /// switchboard, is an error naming it; nothing is ever rewritten by reading.
    public static func open(_ path: String) throws(SecretError) -> SecretStore? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecretError("\(path): cannot read the secret store", hint: "check its permissions")
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw SecretError(
                "\(path): not a switchboard secret store (corrupt or not JSON)",
                hint: "restore it from version control; it is never rewritten unless it could be read")
        }
        guard file.format == format else {
            throw SecretError("\(path): format '\(file.format)' is not \(format)")
        }
        guard file.version <= version else {
            throw SecretError(
                "\(path): version \(file.version) is newer than this switchboard reads (\(version))",
                hint: "upgrade switchboard")
        }
        guard file.cipher == cipher, file.key.source == "key" || file.key.source == "passphrase" else {
            throw SecretError("\(path): unknown cipher '\(file.cipher)' or key source '\(file.key.source)'")
        }
        return SecretStore(path: path, file: file)
    }

    /// A new, empty store (written on the first `set`).
    public static func create(_ path: String, spec: KeySpec, key: SecretKey) throws(SecretError) -> SecretStore {
        let check = try seal(Array(checkText.utf8), key: key, context: "switchboard-secrets/check")
        return SecretStore(
            path: path,
            file: File(format: format, version: version, cipher: cipher, key: spec, check: check, secrets: [:]))
    }

    /// The names stored, sorted; no key needed.
    public var names: [String] { file.secrets.keys.sorted() }

    /// How the store's key is made.
    public var keySpec: KeySpec { file.key }

    /// Checks the key against the store; a wrong key is an error that says where the key came from.
    public func verify(_ key: SecretKey) throws(SecretError) {
        guard let opened = Self.open(file.check, key: key, context: "switchboard-secrets/check"),
            opened == Array(Self.checkText.utf8)
        else {
            throw SecretError(
                "\(path): wrong key (from \(key.origin)): the store was sealed with another one",
                hint: file.key.source == "passphrase" ? "check SWITCHBOARD_PASSPHRASE" : "check the key's source")
        }
    }

    /// Every value, opened with the key (checked first).
    public func values(_ key: SecretKey) throws(SecretError) -> [String: String] {
        try verify(key)
        var values: [String: String] = [:]
        for (name, sealed) in file.secrets {
            guard let bytes = Self.open(sealed, key: key, context: "switchboard-secrets/v1/\(name)") else {
                throw SecretError(
                    "\(path): the value of \(name) does not open (altered, or moved from another name)",
                    hint: "set it again: switchboard secrets set \(name)")
            }
            values[name] = String(decoding: bytes, as: UTF8.self)
        }
        return values
    }

    // MARK: - Changing

    public mutating func set(_ name: String, value: String, key: SecretKey) throws(SecretError) {
        try verify(key)
        file.secrets[name] = try Self.seal(Array(value.utf8), key: key, context: "switchboard-secrets/v1/\(name)")
    }

    /// Removes a name; false when it was not there.
    public mutating func remove(_ name: String) -> Bool {
        file.secrets.removeValue(forKey: name) != nil
    }

    /// Writes the store atomically: a temporary file of mode 0600 beside it, synced, renamed over it.
    public func save() throws(SecretError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(file) + Data("\n".utf8)
        } catch {
            throw SecretError("cannot encode the secret store: \(error)")
        }
        try AtomicFile.write(data, to: path, mode: 0o600)
    }

    // MARK: - Crypto

    /// Seals bytes with the key (a random 24-byte nonce, `context` as associated data): base64 of nonce ‖
    /// ciphertext ‖ tag.
    public static func seal(_ plaintext: [UInt8], key: SecretKey, context: String) throws(SecretError) -> String {
        Sodium.ready()
        let nonceBytes = Int(crypto_aead_xchacha20poly1305_ietf_npubbytes())
        var nonce = [UInt8](repeating: 0, count: nonceBytes)
        randombytes_buf(&nonce, nonceBytes)
        var output = [UInt8](repeating: 0, count: plaintext.count + Int(crypto_aead_xchacha20poly1305_ietf_abytes()))
        var length: UInt64 = 0
        let ad = Array(context.utf8)
        let status = crypto_aead_xchacha20poly1305_ietf_encrypt(
            &output, &length, plaintext, UInt64(plaintext.count), ad, UInt64(ad.count), nil, nonce, key.bytes)
        guard status == 0 else { throw SecretError("sealing failed") }
        return Data(nonce + output.prefix(Int(length))).base64EncodedString()
    }

    /// Opens what `seal` made with the same key and context; nil when either differs or the bytes were altered.
    public static func open(_ sealed: String, key: SecretKey, context: String) -> [UInt8]? {
        Sodium.ready()
        let nonceBytes = Int(crypto_aead_xchacha20poly1305_ietf_npubbytes())
        let tagBytes = Int(crypto_aead_xchacha20poly1305_ietf_abytes())
        guard let data = Data(base64Encoded: sealed), data.count >= nonceBytes + tagBytes else { return nil }
        let bytes = [UInt8](data)
        let nonce = Array(bytes[..<nonceBytes])
        let ciphertext = Array(bytes[nonceBytes...])
        var output = [UInt8](repeating: 0, count: ciphertext.count - tagBytes)
        var length: UInt64 = 0
        let ad = Array(context.utf8)
        let status = crypto_aead_xchacha20poly1305_ietf_decrypt(
            &output, &length, nil, ciphertext, UInt64(ciphertext.count), ad, UInt64(ad.count), nonce, key.bytes)
        return status == 0 ? Array(output.prefix(Int(length))) : nil
    }
}

/// The 32-byte key that seals a store, and where it came from (for error messages; never the key itself).
public struct SecretKey: Sendable, CustomStringConvertible {
    let bytes: [UInt8]
    public let origin: String

    public var description: String { "key from \(origin)" }

    public static let keyVariable = "SWITCHBOARD_KEY"
    public static let keyFileVariable = "SWITCHBOARD_KEY_FILE"
    public static let passphraseVariable = "SWITCHBOARD_PASSPHRASE"

    /// 32 random bytes as base64, for `secrets keygen`.
    public static func generate() -> String {
        Sodium.ready()
        var bytes = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&bytes, 32)
        return Data(bytes).base64EncodedString()
    }

    /// The key for a store with `spec` (nil: a store about to be created, which takes whatever is given):
    /// SWITCHBOARD_KEY (base64 or hex of 32 bytes), else SWITCHBOARD_KEY_FILE (a file of mode 0600 holding
    /// the same), else a passphrase (SWITCHBOARD_PASSPHRASE, else `prompt`) through Argon2id.
    public static func resolve(
        for spec: SecretStore.KeySpec?, environment: [String: String] = ProcessInfo.processInfo.environment,
        prompt: (() -> String?)? = nil
    ) throws(SecretError) -> (key: SecretKey, spec: SecretStore.KeySpec) {
        let wantsPassphrase = spec?.source == "passphrase"
        if !wantsPassphrase {
            if let text = environment[keyVariable], !text.isEmpty {
                guard let bytes = decode(text) else {
                    throw SecretError(
                        "\(keyVariable) is not a key: expected 32 bytes as base64 (44 characters) or hex (64)",
                        hint: "make one with: switchboard secrets keygen FILE")
                }
                return (SecretKey(bytes: bytes, origin: keyVariable), SecretStore.KeySpec(source: "key"))
            }
            if let path = environment[keyFileVariable], !path.isEmpty {
                return (try keyFile(path), SecretStore.KeySpec(source: "key"))
            }
            if spec?.source == "key" {
                throw SecretError(
                    "no key: this store is sealed with a key, and neither \(keyVariable) nor \(keyFileVariable) is set",
                    hint: "export \(keyFileVariable)=/path/to/key (mode 0600) or \(keyVariable)=<base64>")
            }
        }
        let passphrase = environment[passphraseVariable].flatMap { $0.isEmpty ? nil : $0 } ?? prompt?()
        guard let passphrase, !passphrase.isEmpty else {
            throw SecretError(
                wantsPassphrase
                    ? "no passphrase: this store is sealed with one, and \(passphraseVariable) is not set"
                    : "no key: set \(keyVariable), \(keyFileVariable) or \(passphraseVariable)",
                hint: wantsPassphrase
                    ? "export \(passphraseVariable)=… (or run the command on a terminal to be asked)"
                    : "make a key file with: switchboard secrets keygen ~/.config/switchboard/key")
        }
        let origin = environment[passphraseVariable] != nil ? passphraseVariable : "the passphrase typed"
        var settings = spec
        if settings == nil {
            Sodium.ready()
            var salt = [UInt8](repeating: 0, count: Int(crypto_pwhash_saltbytes()))
            randombytes_buf(&salt, salt.count)
            settings = SecretStore.KeySpec(
                source: "passphrase", kdf: "argon2id13", salt: Data(salt).base64EncodedString(),
                opslimit: UInt64(crypto_pwhash_opslimit_interactive()),
                memlimit: UInt64(crypto_pwhash_memlimit_interactive()))
        }
        guard let settings, settings.kdf == "argon2id13", let saltText = settings.salt,
            let salt = Data(base64Encoded: saltText), salt.count == Int(crypto_pwhash_saltbytes()),
            let opslimit = settings.opslimit, let memlimit = settings.memlimit,
            (1...16).contains(opslimit), (8192...(1 << 32)).contains(memlimit)
        else {
            throw SecretError("the store's key settings (kdf, salt, limits) are not ones switchboard makes")
        }
        Sodium.ready()
        var key = [UInt8](repeating: 0, count: 32)
        let status = crypto_pwhash(
            &key, 32, passphrase, UInt64(passphrase.utf8.count), [UInt8](salt), opslimit, Int(memlimit),
            crypto_pwhash_alg_argon2id13())
        guard status == 0 else { throw SecretError("Argon2id failed (out of memory?)") }
        return (SecretKey(bytes: key, origin: origin), settings)
    }

    static func keyFile(_ path: String) throws(SecretError) -> SecretKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SecretError("\(keyFileVariable)=\(path): no such file")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw SecretError("\(path): the key file is not a regular file") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw SecretError(
                "\(path): the key file has mode \(String(mode, radix: 8)); others must not read it",
                hint: "chmod 600 \(path)")
        }
        guard info.st_uid == getuid() else {
            throw SecretError(
                "\(path): the key file belongs to another user", hint: "chown it to the user running switchboard")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecretError("\(path): cannot read the key file")
        }
        if data.count == 32 { return SecretKey(bytes: [UInt8](data), origin: path) }
        guard let bytes = decode(String(decoding: data, as: UTF8.self)) else {
            throw SecretError(
                "\(path): not a key: expected 32 bytes, as base64, hex or raw",
                hint: "make one with: switchboard secrets keygen FILE")
        }
        return SecretKey(bytes: bytes, origin: path)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count == 64, trimmed.allSatisfy({ $0.isASCII && $0.isHexDigit }) {
            var bytes: [UInt8] = []
            var index = trimmed.startIndex
            while index < trimmed.endIndex {
                let next = trimmed.index(index, offsetBy: 2)
                bytes.append(UInt8(trimmed[index..<next], radix: 16)!)
                index = next
            }
            return bytes
        }
        if let data = Data(base64Encoded: trimmed), data.count == 32 { return [UInt8](data) }
        return nil
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

enum Sodium {
    static let initialized: Bool = sodium_init() >= 0
    static func ready() { precondition(initialized, "libsodium failed to initialise") }
}

/// Writing a file so that a crash leaves the old one or the new one, never half of either.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, mode: UInt32) throws(SecretError) {
        let mode = mode_t(mode)
        let directory = (path as NSString).deletingLastPathComponent
        // A fresh, unguessable name created here and now: never a file or link someone left in its place.
        let temporary =
            (directory.isEmpty ? "." : directory)
            + "/.\((path as NSString).lastPathComponent).\(UUID().uuidString).tmp"
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw SecretError("\(path): cannot write (\(String(cString: strerror(errno))))")
        }
        var written = 0
        let ok = data.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += count
            }
            return fchmod(descriptor, mode) == 0 && fsync(descriptor) == 0
        }
        let reason = String(cString: strerror(errno))
        close(descriptor)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw SecretError(
                "\(path): cannot write (\(ok ? String(cString: strerror(errno)) : reason)); the old file is untouched")
        }
        let directoryDescriptor = Glibc.open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}
