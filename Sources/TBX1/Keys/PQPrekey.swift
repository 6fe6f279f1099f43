/// An ML-KEM-768 prekey with its seed, as the state file keeps it (§8.1 `pqPrekeys`). Each is used once.
public struct PQPrekey: Codable, Sendable, CustomStringConvertible {
    public let keyID: UInt32
    public let keyPair: MLKEM768KeyPair
    /// `Ed25519.sign(IKsig, raw1184(PQPK))` (§7.4).
    public let signature: Ed25519Signature

    /// A fresh PQ prekey signed by `identity`.
    public static func generate(keyID: UInt32, signedBy identity: IdentityKeyPair) throws(TBX1Error) -> PQPrekey {
        let keyPair = try MLKEM768KeyPair.generate()
        return PQPrekey(keyID: keyID, keyPair: keyPair, signature: identity.signing.sign(keyPair.publicKey.bytes))
    }

    public init(keyID: UInt32, keyPair: MLKEM768KeyPair, signature: Ed25519Signature) {
        self.keyID = keyID
        self.keyPair = keyPair
        self.signature = signature
    }

    /// What is uploaded and served in bundles.
    public var publicPart: Public { Public(keyID: keyID, publicKey: keyPair.publicKey, signature: signature) }

    public var description: String { "PQPrekey(keyID: \(keyID), secretKey: ***)" }

    /// A PQ prekey as the HTTP API sends it: `{"key_id", "public_key", "signature"}` (§5.4).
    public struct Public: Hashable, Codable, Sendable {
        public let keyID: UInt32
        public let publicKey: MLKEM768PublicKey
        public let signature: Ed25519Signature

        public init(keyID: UInt32, publicKey: MLKEM768PublicKey, signature: Ed25519Signature) {
            self.keyID = keyID
            self.publicKey = publicKey
            self.signature = signature
        }

        enum CodingKeys: String, CodingKey {
            case keyID = "key_id"
            case publicKey = "public_key"
            case signature
        }
    }

    enum CodingKeys: String, CodingKey {
        case keyID = "keyId"
        case signature
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        keyID = try container.decode(UInt32.self, forKey: .keyID)
        keyPair = try MLKEM768KeyPair(from: decoder)
        signature = try container.decode(Ed25519Signature.self, forKey: .signature)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(keyID, forKey: .keyID)
        try container.encode(signature, forKey: .signature)
        try keyPair.encode(to: encoder)
    }
}
