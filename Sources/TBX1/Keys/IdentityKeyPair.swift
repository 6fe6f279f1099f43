/// An agent's long-term identity: an Ed25519 signing key and an independent X25519 DH key (§7.1).
///
/// Codable as the state file's `identity` object: `{"signing": {publicKey, secretKey}, "dh": {…}}` (§8.1).
public struct IdentityKeyPair: Codable, Sendable, CustomStringConvertible {
    public let signing: Ed25519KeyPair
    public let dh: X25519KeyPair

    public init(signing: Ed25519KeyPair, dh: X25519KeyPair) {
        self.signing = signing
        self.dh = dh
    }

    /// A fresh identity from the system CSPRNG.
    public static func generate() -> IdentityKeyPair {
        IdentityKeyPair(signing: .generate(), dh: .generate())
    }

    /// The two public keys, as the directory and prekey bundles publish them.
    public var publicKeys: IdentityPublicKeys { IdentityPublicKeys(signing: signing.publicKey, dh: dh.publicKey) }

    public var description: String {
        "IdentityKeyPair(signing: \(signing.publicKey), dh: \(dh.publicKey), secrets: ***)"
    }
}

/// The public half of an identity: what a directory record pins and what a sealed envelope carries.
public struct IdentityPublicKeys: Hashable, Codable, Sendable {
    public let signing: Ed25519PublicKey
    public let dh: X25519PublicKey

    public init(signing: Ed25519PublicKey, dh: X25519PublicKey) {
        self.signing = signing
        self.dh = dh
    }

    /// IKsig ‖ IKdh, the 64 bytes each side contributes to the associated data (§7.4 step 5).
    var encoded: [UInt8] { signing.bytes + dh.bytes }
}
