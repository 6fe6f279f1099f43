/// This agent's prekey secrets: what it uploads, and what it needs to accept PreKeyMessages.
///
/// Codable as the state file's `prekeys` object (§8.1) plus `nextKeyId`. Key ids run upwards from the first one
/// (§3's convention: signed, then one-time, then PQ, sequentially) and stay below 2^31.
public struct PrekeyStore: Codable, Sendable {
    /// Signed prekeys, oldest first. Old ones stay until no queued message can name them (§7.5).
    public private(set) var signedPrekeys: [SignedPrekey]
    public private(set) var oneTimePrekeys: [OneTimePrekey]
    public private(set) var pqPrekeys: [PQPrekey]
    /// The id the next generated prekey gets.
    public private(set) var nextKeyID: UInt32

    /// An empty store whose first prekey gets `firstKeyID`.
    public init(firstKeyID: UInt32) {
        signedPrekeys = []
        oneTimePrekeys = []
        pqPrekeys = []
        nextKeyID = firstKeyID
    }

    /// A new signed prekey, kept beside the older ones; upload `publicPart`.
    public mutating func generateSignedPrekey(signedBy identity: IdentityKeyPair) throws(TBX1Error) -> SignedPrekey {
        let prekey = SignedPrekey.generate(keyID: try allocateKeyID(), signedBy: identity)
        signedPrekeys.append(prekey)
        return prekey
    }

    /// `count` new one-time prekeys; upload their `publicPart`s.
    public mutating func generateOneTimePrekeys(count: Int) throws(TBX1Error) -> [OneTimePrekey] {
        var fresh: [OneTimePrekey] = []
        for _ in 0..<count { fresh.append(OneTimePrekey.generate(keyID: try allocateKeyID())) }
        oneTimePrekeys += fresh
        return fresh
    }

    /// `count` new PQ prekeys signed by `identity`; upload their `publicPart`s.
    public mutating func generatePQPrekeys(
        count: Int, signedBy identity: IdentityKeyPair
    ) throws(TBX1Error)
        -> [PQPrekey]
    {
        var fresh: [PQPrekey] = []
        for _ in 0..<count { fresh.append(try PQPrekey.generate(keyID: try allocateKeyID(), signedBy: identity)) }
        pqPrekeys += fresh
        return fresh
    }

    /// Adds prekeys made elsewhere (imported from another client's state).
    public mutating func add(
        signed: [SignedPrekey] = [], oneTime: [OneTimePrekey] = [], pq: [PQPrekey] = []
    ) {
        signedPrekeys += signed
        oneTimePrekeys += oneTime
        pqPrekeys += pq
        let highest = (signed.map(\.keyID) + oneTime.map(\.keyID) + pq.map(\.keyID)).max()
        if let highest, highest >= nextKeyID { nextKeyID = highest &+ 1 }
    }

    /// Deletes the one-time and PQ secrets a handshake used; call once the message that used them is acked (§7.5).
    /// The signed prekey is shared by many handshakes and stays.
    public mutating func delete(_ use: PrekeyUse) {
        if let oneTimeID = use.oneTimePrekeyID { oneTimePrekeys.removeAll { $0.keyID == oneTimeID } }
        pqPrekeys.removeAll { $0.keyID == use.pqPrekeyID }
    }

    /// Deletes a retired signed prekey once no queued message can name it.
    public mutating func deleteSignedPrekey(keyID: UInt32) {
        signedPrekeys.removeAll { $0.keyID == keyID }
    }

    /// Deletes every prekey, as `purge-keys` does before uploading a fresh batch; key ids keep counting up.
    public mutating func deleteAll() {
        signedPrekeys = []
        oneTimePrekeys = []
        pqPrekeys = []
    }

    func signedPrekey(_ keyID: UInt32) throws(TBX1Error) -> SignedPrekey {
        guard let prekey = signedPrekeys.last(where: { $0.keyID == keyID }) else {
            throw .unknownPrekey(.signed, keyID: keyID)
        }
        return prekey
    }

    func oneTimePrekey(_ keyID: UInt32) throws(TBX1Error) -> OneTimePrekey {
        guard let prekey = oneTimePrekeys.first(where: { $0.keyID == keyID }) else {
            throw .unknownPrekey(.oneTime, keyID: keyID)
        }
        return prekey
    }

    func pqPrekey(_ keyID: UInt32) throws(TBX1Error) -> PQPrekey {
        guard let prekey = pqPrekeys.first(where: { $0.keyID == keyID }) else {
            throw .unknownPrekey(.pq, keyID: keyID)
        }
        return prekey
    }

    private mutating func allocateKeyID() throws(TBX1Error) -> UInt32 {
        guard nextKeyID < 1 << 31 else { throw .keyIDsExhausted }
        defer { nextKeyID += 1 }
        return nextKeyID
    }

    enum CodingKeys: String, CodingKey {
        case signedPrekeys
        case oneTimePrekeys
        case pqPrekeys
        case nextKeyID = "nextKeyId"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(firstKeyID: try container.decodeIfPresent(UInt32.self, forKey: .nextKeyID) ?? 1)
        add(
            signed: try container.decodeIfPresent([SignedPrekey].self, forKey: .signedPrekeys) ?? [],
            oneTime: try container.decodeIfPresent([OneTimePrekey].self, forKey: .oneTimePrekeys) ?? [],
            pq: try container.decodeIfPresent([PQPrekey].self, forKey: .pqPrekeys) ?? [])
    }
}
