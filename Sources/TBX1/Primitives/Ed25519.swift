internal import CSodium

/// An Ed25519 public key (RFC 8032), 32 raw bytes.
public struct Ed25519PublicKey: FixedSizeBytes {
    public static let byteCount = 32
    public static let field = WireField.ed25519PublicKey
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) {
        precondition(uncheckedBytes.count == Self.byteCount, "\(Self.field.rawValue) length")
        self.bytes = uncheckedBytes
    }

    /// Whether `signature` is this key's pure Ed25519 signature over `message`.
    public func isValidSignature(_ signature: Ed25519Signature, for message: [UInt8]) -> Bool {
        crypto_sign_verify_detached(signature.bytes, message, UInt64(message.count), bytes) == 0
    }
}

/// An Ed25519 signature, 64 raw bytes.
public struct Ed25519Signature: FixedSizeBytes {
    public static let byteCount = 64
    public static let field = WireField.ed25519Signature
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) {
        precondition(uncheckedBytes.count == Self.byteCount, "\(Self.field.rawValue) length")
        self.bytes = uncheckedBytes
    }
}

/// An Ed25519 signing key pair, kept as its 32-byte seed.
///
/// Codable as `{"publicKey", "secretKey"}`; the secret is written as the 32-byte seed and read as either the seed or
/// libsodium's 64-byte seed‖public key (§3: which one the Node CLI writes is unknown).
public struct Ed25519KeyPair: Sendable {
    public let publicKey: Ed25519PublicKey
    let seed: SecretBytes

    /// From a 32-byte seed, or a 64-byte seed‖public key whose second half must match the seed.
    public init(secretKey: some Collection<UInt8>) throws(TBX1Error) {
        let secret = Array(secretKey)
        guard secret.count == 32 || secret.count == 64 else { throw .invalidKey(.ed25519SecretKey) }
        let seed = Array(secret.prefix(32))
        var publicBytes = [UInt8](repeating: 0, count: 32)
        var expanded = [UInt8](repeating: 0, count: 64)
        defer { Sodium.wipe(&expanded) }
        _ = crypto_sign_seed_keypair(&publicBytes, &expanded, seed)
        if secret.count == 64, Array(secret.suffix(32)) != publicBytes { throw .keyPairMismatch(.ed25519SecretKey) }
        self.publicKey = Ed25519PublicKey(uncheckedBytes: publicBytes)
        self.seed = SecretBytes(seed)
    }

    /// A fresh key pair from the system CSPRNG.
    public static func generate() -> Ed25519KeyPair {
        var seed = Sodium.randomBytes(32)
        defer { Sodium.wipe(&seed) }
        // A 32-byte seed is always accepted.
        return try! Ed25519KeyPair(secretKey: seed)
    }

    /// The deterministic pure-Ed25519 signature over `message`.
    public func sign(_ message: [UInt8]) -> Ed25519Signature {
        var publicBytes = [UInt8](repeating: 0, count: 32)
        var expanded = [UInt8](repeating: 0, count: 64)
        defer { Sodium.wipe(&expanded) }
        _ = crypto_sign_seed_keypair(&publicBytes, &expanded, seed.bytes)
        var signature = [UInt8](repeating: 0, count: 64)
        _ = crypto_sign_detached(&signature, nil, message, UInt64(message.count), expanded)
        return Ed25519Signature(uncheckedBytes: signature)
    }
}

extension Ed25519KeyPair: Codable {
    public init(from decoder: any Decoder) throws {
        let stored = try StoredKeyPair<Ed25519PublicKey>(from: decoder)
        try self.init(secretKey: stored.secretKey.bytes)
        try stored.check(against: publicKey, .ed25519SecretKey)
    }

    public func encode(to encoder: any Encoder) throws {
        try StoredKeyPair(publicKey: publicKey, secretKey: seed).encode(to: encoder)
    }
}

extension Ed25519KeyPair: CustomStringConvertible {
    public var description: String { "Ed25519KeyPair(publicKey: \(publicKey), secretKey: ***)" }
}
