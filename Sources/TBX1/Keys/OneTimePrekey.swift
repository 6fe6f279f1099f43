/// An X25519 one-time prekey with its secret, as the state file keeps it (§8.1 `oneTimePrekeys`).
public struct OneTimePrekey: Codable, Sendable, CustomStringConvertible {
    public let keyID: UInt32
    public let keyPair: X25519KeyPair

    /// A fresh one-time prekey.
    public static func generate(keyID: UInt32) -> OneTimePrekey {
        OneTimePrekey(keyID: keyID, keyPair: .generate())
    }

    public init(keyID: UInt32, keyPair: X25519KeyPair) {
        self.keyID = keyID
        self.keyPair = keyPair
    }

    /// What is uploaded and served in bundles.
    public var publicPart: Public { Public(keyID: keyID, publicKey: keyPair.publicKey) }

    public var description: String { "OneTimePrekey(keyID: \(keyID), publicKey: \(keyPair.publicKey), secretKey: ***)" }

    /// A one-time prekey as the HTTP API sends it: `{"key_id", "public_key"}` (§5.4).
    public struct Public: Hashable, Codable, Sendable {
        public let keyID: UInt32
        public let publicKey: X25519PublicKey

        public init(keyID: UInt32, publicKey: X25519PublicKey) {
            self.keyID = keyID
            self.publicKey = publicKey
        }

        enum CodingKeys: String, CodingKey {
            case keyID = "key_id"
            case publicKey = "public_key"
        }
    }

    enum CodingKeys: String, CodingKey {
        case keyID = "keyId"
    }

    public init(from decoder: any Decoder) throws {
        keyID = try decoder.container(keyedBy: CodingKeys.self).decode(UInt32.self, forKey: .keyID)
        keyPair = try X25519KeyPair(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(keyID, forKey: .keyID)
        try keyPair.encode(to: encoder)
    }
}
