public import Foundation

/// What `GET /v1/keys/bundle/{agent_id}` returns (§5.4): everything an initiator needs for PQXDH.
///
/// Codable in the emulator's snake_case shape. `oneTimePrekey` is nil once the agent's pool is exhausted; PQXDH then
/// runs without DH4 (§7.4 step 2), which `Session.prekeys.oneTimePrekeyID == nil` makes visible.
public struct PrekeyBundle: Hashable, Codable, Sendable {
    public let agentID: UUID
    public let identity: IdentityPublicKeys
    public let signedPrekey: SignedPrekey.Public
    public let oneTimePrekey: OneTimePrekey.Public?
    public let pqPrekey: PQPrekey.Public

    public init(
        agentID: UUID, identity: IdentityPublicKeys, signedPrekey: SignedPrekey.Public,
        oneTimePrekey: OneTimePrekey.Public?, pqPrekey: PQPrekey.Public
    ) {
        self.agentID = agentID
        self.identity = identity
        self.signedPrekey = signedPrekey
        self.oneTimePrekey = oneTimePrekey
        self.pqPrekey = pqPrekey
    }

    /// Checks both prekey signatures under the bundle's identity signing key (§7.4 step 1).
    ///
    /// That the identity itself is the right one is the caller's check against the directory (TOFU pinning).
    public func verifySignatures() throws(TBX1Error) {
        guard identity.signing.isValidSignature(signedPrekey.signature, for: signedPrekey.publicKey.bytes) else {
            throw .badSignature(.signedPrekey)
        }
        guard identity.signing.isValidSignature(pqPrekey.signature, for: pqPrekey.publicKey.bytes) else {
            throw .badSignature(.pqPrekey)
        }
    }

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id"
        case identitySigningKey = "identity_signing_key"
        case identityDHKey = "identity_dh_key"
        case signedPrekey = "signed_prekey"
        case oneTimePrekey = "one_time_prekey"
        case pqPrekey = "pq_prekey"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        agentID = try container.decode(UUID.self, forKey: .agentID)
        identity = IdentityPublicKeys(
            signing: try container.decode(Ed25519PublicKey.self, forKey: .identitySigningKey),
            dh: try container.decode(X25519PublicKey.self, forKey: .identityDHKey))
        signedPrekey = try container.decode(SignedPrekey.Public.self, forKey: .signedPrekey)
        oneTimePrekey = try container.decodeIfPresent(OneTimePrekey.Public.self, forKey: .oneTimePrekey)
        pqPrekey = try container.decode(PQPrekey.Public.self, forKey: .pqPrekey)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(agentID, forKey: .agentID)
        try container.encode(identity.signing, forKey: .identitySigningKey)
        try container.encode(identity.dh, forKey: .identityDHKey)
        try container.encode(signedPrekey, forKey: .signedPrekey)
        try container.encodeIfPresent(oneTimePrekey, forKey: .oneTimePrekey)
        try container.encode(pqPrekey, forKey: .pqPrekey)
    }
}
