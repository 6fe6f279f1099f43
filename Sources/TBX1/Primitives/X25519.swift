internal import CSodium

/// An X25519 public key (RFC 7748), 32 raw bytes.
public struct X25519PublicKey: FixedSizeBytes {
    public static let byteCount = 32
    public static let field = WireField.x25519PublicKey
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) {
        precondition(uncheckedBytes.count == Self.byteCount, "\(Self.field.rawValue) length")
        self.bytes = uncheckedBytes
    }
}

/// An X25519 key pair: an identity DH key, a prekey, a ratchet key or an ephemeral.
///
/// Codable as `{"publicKey", "secretKey"}` in unpadded base64url, the state file's shape (§8.1).
public struct X25519KeyPair: Sendable {
    public let publicKey: X25519PublicKey
    private(set) var secretKey: SecretBytes

    /// Derives the public key from a 32-byte secret (clamped by X25519 itself).
    public init(secretKey: some Collection<UInt8>) throws(TBX1Error) {
        guard secretKey.count == 32 else { throw .invalidKey(.x25519SecretKey) }
        let secret = Array(secretKey)
        var publicBytes = [UInt8](repeating: 0, count: 32)
        _ = crypto_scalarmult_base(&publicBytes, secret)
        self.publicKey = X25519PublicKey(uncheckedBytes: publicBytes)
        self.secretKey = SecretBytes(secret)
    }

    /// A fresh key pair from the system CSPRNG.
    public static func generate() -> X25519KeyPair {
        var secret = Sodium.randomBytes(32)
        defer { Sodium.wipe(&secret) }
        // A 32-byte secret is always accepted.
        return try! X25519KeyPair(secretKey: secret)
    }

    /// Zeros the secret (best effort), for ephemerals once their DH outputs are taken.
    mutating func wipe() { secretKey.wipe() }

    /// X25519(secret, peer). Throws for an all-zero output (a low-order peer key), as libsodium reports it.
    package func sharedSecret(with peer: X25519PublicKey) throws(TBX1Error) -> [UInt8] {
        var shared = [UInt8](repeating: 0, count: 32)
        guard crypto_scalarmult(&shared, secretKey.bytes, peer.bytes) == 0 else { throw .invalidKey(.x25519PublicKey) }
        return shared
    }
}

extension X25519KeyPair: Codable {
    public init(from decoder: any Decoder) throws {
        let stored = try StoredKeyPair<X25519PublicKey>(from: decoder)
        try self.init(secretKey: stored.secretKey.bytes)
        try stored.check(against: publicKey, .x25519SecretKey)
    }

    public func encode(to encoder: any Encoder) throws {
        try StoredKeyPair(publicKey: publicKey, secretKey: secretKey).encode(to: encoder)
    }
}

extension X25519KeyPair: CustomStringConvertible {
    public var description: String { "X25519KeyPair(publicKey: \(publicKey), secretKey: ***)" }
}
