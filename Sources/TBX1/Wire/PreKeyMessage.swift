/// The first messages of a session: the PQXDH fields, then a ratchet message (§7.4).
///
/// ```
/// u8 0x01 ‖ IKsig_A (32) ‖ IKdh_A (32) ‖ EK_A (32) ‖ u32 signed_prekey_id
///        ‖ u8 has_opk ‖ [u32 opk_id] ‖ u32 pq_prekey_id ‖ KEM_CT (1088) ‖ RatchetMessage
/// ```
public struct PreKeyMessage: Hashable, Sendable {
    /// The initiator's identity, which must equal the one in the sealed layer.
    public let senderIdentity: IdentityPublicKeys
    /// The initiator's PQXDH ephemeral EK_A; it names the session.
    public let baseKey: X25519PublicKey
    public let prekeys: PrekeyUse
    public let kemCiphertext: MLKEM768Ciphertext
    public let ratchetMessage: RatchetMessage

    init(
        senderIdentity: IdentityPublicKeys, baseKey: X25519PublicKey, prekeys: PrekeyUse,
        kemCiphertext: MLKEM768Ciphertext, ratchetMessage: RatchetMessage
    ) {
        self.senderIdentity = senderIdentity
        self.baseKey = baseKey
        self.prekeys = prekeys
        self.kemCiphertext = kemCiphertext
        self.ratchetMessage = ratchetMessage
    }

    /// Reads everything after the type byte.
    init(reading reader: inout ByteReader) throws(TBX1Error) {
        senderIdentity = IdentityPublicKeys(
            signing: try reader.read(Ed25519PublicKey.self, .identitySigningKey),
            dh: try reader.read(X25519PublicKey.self, .identityDHKey))
        baseKey = try reader.read(X25519PublicKey.self, .baseKey)
        let signedPrekeyID = try reader.readUInt32(.signedPrekeyID)
        let oneTimePrekeyID: UInt32?
        switch try reader.readUInt8(.oneTimePrekeyFlag) {
        case 0: oneTimePrekeyID = nil
        case 1: oneTimePrekeyID = try reader.readUInt32(.oneTimePrekeyID)
        default: throw .malformed(field: .oneTimePrekeyFlag)
        }
        prekeys = PrekeyUse(
            signedPrekeyID: signedPrekeyID, oneTimePrekeyID: oneTimePrekeyID,
            pqPrekeyID: try reader.readUInt32(.pqPrekeyID))
        kemCiphertext = try reader.read(MLKEM768Ciphertext.self, .kemCiphertext)
        ratchetMessage = try RatchetMessage(reading: &reader)
    }

    /// Everything after the type byte.
    var body: [UInt8] {
        var bytes = senderIdentity.encoded + baseKey.bytes
        bytes.append(bigEndian: prekeys.signedPrekeyID)
        if let oneTimeID = prekeys.oneTimePrekeyID {
            bytes.append(1)
            bytes.append(bigEndian: oneTimeID)
        } else {
            bytes.append(0)
        }
        bytes.append(bigEndian: prekeys.pqPrekeyID)
        return bytes + kemCiphertext.bytes + ratchetMessage.encoded
    }
}
