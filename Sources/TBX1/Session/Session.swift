public import Foundation

/// One end-to-end session with one peer agent: PQXDH to start it, the Double Ratchet after (§7.4).
///
/// A value type and `Codable`, so the client persists it with the account state. Persist it after `seal` and before
/// sending (§8.3), so a message key is never used twice after a crash. Every throwing method leaves the session as
/// it was.
public struct Session: Sendable {
    /// Who started the session.
    public enum Role: String, Codable, Sendable {
        case initiator
        case responder
    }

    public let role: Role
    public let localAgentID: UUID
    public let peerAgentID: UUID
    public let localIdentity: IdentityPublicKeys
    public let peerIdentity: IdentityPublicKeys
    /// The responder's prekeys the handshake used. `oneTimePrekeyID == nil` means the bundle had none left.
    public let prekeys: PrekeyUse
    /// The initiator's PQXDH ephemeral key EK_A, which identifies the handshake.
    public let baseKey: X25519PublicKey
    /// Responder only: the one-time and PQ prekeys this session consumed and whose secrets the caller has not yet
    /// deleted. Delete them with `PrekeyStore.delete(_:)` once the message that started the session is acked (§7.5),
    /// then call `prekeysDeleted()`.
    public private(set) var consumedPrekeys: PrekeyUse?
    /// Initiator only: the KEM ciphertext every message repeats, as a PreKeyMessage, until the peer first answers.
    private(set) var pendingKEMCiphertext: MLKEM768Ciphertext?
    package private(set) var ratchet: DoubleRatchet

    /// Whether outgoing messages are still PreKeyMessages (the initiator has not yet heard from the peer).
    public var isAwaitingFirstReply: Bool { pendingKEMCiphertext != nil }

    private var associatedData: [UInt8] {
        switch role {
        case .initiator: PQXDH.associatedData(initiator: localIdentity, responder: peerIdentity)
        case .responder: PQXDH.associatedData(initiator: peerIdentity, responder: localIdentity)
        }
    }

    // MARK: Starting

    /// Starts a session to the bundle's agent (§7.4 PQXDH, initiator). Verifies the bundle's prekey signatures;
    /// pinning its identity against the directory is the caller's job.
    public static func initiate(
        localAgentID: UUID, identity: IdentityKeyPair, bundle: PrekeyBundle
    ) throws(TBX1Error) -> Session {
        try initiate(localAgentID: localAgentID, identity: identity, bundle: bundle, randomness: .system)
    }

    package static func initiate(
        localAgentID: UUID, identity: IdentityKeyPair, bundle: PrekeyBundle, randomness: Randomness
    ) throws(TBX1Error) -> Session {
        try bundle.verifySignatures()
        var ephemeral = randomness.x25519KeyPair()
        defer { ephemeral.wipe() }
        let (sharedKey, kemCiphertext) = try PQXDH.initiate(
            identity: identity, bundle: bundle, ephemeral: ephemeral, encapsulate: randomness.encapsulate)
        let ratchet = try DoubleRatchet.initiator(
            sharedKey: sharedKey, responderSignedPrekey: bundle.signedPrekey.publicKey,
            ratchetKey: randomness.x25519KeyPair())
        return Session(
            role: .initiator, localAgentID: localAgentID, peerAgentID: bundle.agentID,
            localIdentity: identity.publicKeys, peerIdentity: bundle.identity,
            prekeys: PrekeyUse(
                signedPrekeyID: bundle.signedPrekey.keyID, oneTimePrekeyID: bundle.oneTimePrekey?.keyID,
                pqPrekeyID: bundle.pqPrekey.keyID),
            baseKey: ephemeral.publicKey, consumedPrekeys: nil, pendingKEMCiphertext: kemCiphertext, ratchet: ratchet)
    }

    /// Accepts a PreKeyMessage as a new session (§7.4 PQXDH, responder) and decrypts it.
    ///
    /// Nothing is deleted from `prekeys`: the new session's `consumedPrekeys` names what to delete after the ack.
    /// Throws `.unknownPrekey` when a named secret is gone, `.noSession` for a normal message.
    public static func accept(
        _ opened: OpenedEnvelope, identity: IdentityKeyPair, prekeys: PrekeyStore
    ) throws(TBX1Error) -> (session: Session, plaintext: [UInt8]) {
        try accept(opened, identity: identity, prekeys: prekeys, randomness: .system)
    }

    package static func accept(
        _ opened: OpenedEnvelope, identity: IdentityKeyPair, prekeys: PrekeyStore, randomness: Randomness
    ) throws(TBX1Error) -> (session: Session, plaintext: [UInt8]) {
        guard case .preKey(let message) = opened.message else { throw .noSession }
        guard message.senderIdentity == opened.sender else { throw .senderMismatch }
        let signedPrekey = try prekeys.signedPrekey(message.prekeys.signedPrekeyID)
        let oneTimePrekey = try message.prekeys.oneTimePrekeyID.map { keyID throws(TBX1Error) in
            try prekeys.oneTimePrekey(keyID)
        }
        let pqPrekey = try prekeys.pqPrekey(message.prekeys.pqPrekeyID)
        let sharedKey = try PQXDH.respond(
            identity: identity, message: message, signedPrekey: signedPrekey.keyPair,
            oneTimePrekey: oneTimePrekey?.keyPair, pqPrekey: pqPrekey.keyPair)
        var session = Session(
            role: .responder, localAgentID: opened.recipientAgentID, peerAgentID: opened.senderAgentID,
            localIdentity: identity.publicKeys, peerIdentity: opened.sender, prekeys: message.prekeys,
            baseKey: message.baseKey, consumedPrekeys: message.prekeys, pendingKEMCiphertext: nil,
            ratchet: .responder(sharedKey: sharedKey, signedPrekey: signedPrekey.keyPair))
        let plaintext = try session.ratchet.decrypt(
            message.ratchetMessage, associatedData: session.associatedData, nextRatchetKey: randomness.x25519KeyPair)
        return (session, plaintext)
    }

    // MARK: Messages

    /// Encrypts `plaintext` for the peer and seals it; a PreKeyMessage until the peer has answered.
    /// - Parameter identity: this agent's identity, the one the session was set up with.
    public mutating func seal(
        _ plaintext: [UInt8], identity: IdentityKeyPair,
        timestampMilliseconds: UInt64 = Envelope.currentMilliseconds()
    ) throws(TBX1Error) -> Envelope {
        try seal(plaintext, identity: identity, timestampMilliseconds: timestampMilliseconds, randomness: .system)
    }

    package mutating func seal(
        _ plaintext: [UInt8], identity: IdentityKeyPair, timestampMilliseconds: UInt64, randomness: Randomness
    ) throws(TBX1Error) -> Envelope {
        guard identity.publicKeys == localIdentity else { throw .identityMismatch }
        var next = ratchet
        let ratchetMessage = try next.encrypt(plaintext, associatedData: associatedData)
        let message: InnerMessage =
            if let pendingKEMCiphertext {
                .preKey(
                    PreKeyMessage(
                        senderIdentity: localIdentity, baseKey: baseKey, prekeys: prekeys,
                        kemCiphertext: pendingKEMCiphertext, ratchetMessage: ratchetMessage))
            } else {
                .normal(ratchetMessage)
            }
        var ephemeral = randomness.x25519KeyPair()
        defer { ephemeral.wipe() }
        let envelope = try SealedSender.seal(
            message, sender: identity, senderAgentID: localAgentID, recipientAgentID: peerAgentID,
            recipientDHKey: peerIdentity.dh, timestampMilliseconds: timestampMilliseconds, ephemeral: ephemeral)
        ratchet = next
        return envelope
    }

    /// Decrypts a message the peer sent in this session.
    ///
    /// Throws `.senderMismatch` when the envelope is from another agent or identity, `.notThisSession` for a
    /// PreKeyMessage of a different handshake (the peer started over: `accept` it), `.duplicateMessage` for a replay.
    public mutating func decrypt(_ opened: OpenedEnvelope) throws(TBX1Error) -> [UInt8] {
        try decrypt(opened, randomness: .system)
    }

    package mutating func decrypt(_ opened: OpenedEnvelope, randomness: Randomness) throws(TBX1Error) -> [UInt8] {
        guard opened.senderAgentID == peerAgentID, opened.sender == peerIdentity,
            opened.recipientAgentID == localAgentID
        else { throw .senderMismatch }
        if case .preKey(let message) = opened.message {
            guard role == .responder, message.baseKey == baseKey, message.prekeys == prekeys else {
                throw .notThisSession
            }
        }
        let plaintext = try ratchet.decrypt(
            opened.message.ratchetMessage, associatedData: associatedData, nextRatchetKey: randomness.x25519KeyPair)
        pendingKEMCiphertext = nil
        return plaintext
    }

    /// Records that the caller deleted `consumedPrekeys` from its `PrekeyStore`.
    public mutating func prekeysDeleted() { consumedPrekeys = nil }
}

extension Session: Codable {
    enum CodingKeys: String, CodingKey {
        case role
        case localAgentID = "local_agent_id"
        case peerAgentID = "peer_agent_id"
        case localIdentity = "local_identity"
        case peerIdentity = "peer_identity"
        case prekeys
        case baseKey = "ek_public"
        case consumedPrekeys = "consumed_prekeys"
        case pendingKEMCiphertext = "pending_kem_ct"
        case ratchet
    }
}

extension Session: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "Session(\(role.rawValue), peer: \(peerAgentID), sent: \(ratchet.sentCount), "
            + "received: \(ratchet.receivedCount), keys: ***)"
    }

    public var debugDescription: String { description }
}
