/// Everything that can go wrong building, sealing or opening a TBX-1 envelope (protocols/transmissionbot.md §7.4).
///
/// A failed open never changes a session: the caller may retry the same envelope, or discard it.
public enum TBX1Error: Error, Hashable, Sendable {
    /// A signature does not verify under the key that should have made it.
    case badSignature(SignedItem)
    /// An AEAD layer did not open: the envelope was altered, is for someone else, or the keys differ.
    case decryptionFailed(EncryptedLayer)
    /// The message was already decrypted once (a replay), or its key was discarded by the skipped-key bounds.
    case duplicateMessage
    /// Opening the message would skip more than `limit` message keys in one chain (MAX_SKIP).
    case tooManySkippedMessages(skipping: Int, limit: Int)
    /// The bytes end early, run on, or hold an impossible value at `field`.
    case malformed(field: WireField)
    /// The envelope starts with a version byte this profile does not know.
    case unsupportedVersion(UInt8)
    /// The message names a prekey whose secret this agent does not hold (deleted, or never generated here).
    case unknownPrekey(PrekeyKind, keyID: UInt32)
    /// A key is the wrong length, is not a valid point, or gives an all-zero Diffie-Hellman output.
    case invalidKey(WireField)
    /// A stored secret and the public key stored beside it do not belong together.
    case keyPairMismatch(WireField)
    /// Who the envelope says it is from does not match the prekey message inside it or the session it is for.
    case senderMismatch
    /// The sender's timestamp is more than ten minutes ahead of the receiver's clock.
    case timestampInFuture(timestampMilliseconds: UInt64, nowMilliseconds: UInt64)
    /// A prekey message that starts a different session than the one asked to open it; accept it as a new session.
    case notThisSession
    /// A normal message from a peer this agent has no session with; only a PreKeyMessage can start one.
    case noSession
    /// The identity passed in is not the one the session was set up with.
    case identityMismatch
    /// The sending chain's 32-bit message counter is used up; start a new session.
    case counterExhausted
    /// Key ids would pass 2^31 (§3: they stay below it for JavaScript clients).
    case keyIDsExhausted
    /// ML-KEM-768 rejected a key or ciphertext (swift-crypto's error text).
    case kemFailed(String)

    /// What a signature covers.
    public enum SignedItem: String, Hashable, Sendable {
        case signedPrekey = "signed prekey"
        case pqPrekey = "PQ prekey"
        case sender = "sealed sender"
    }

    /// Which AEAD failed to open.
    public enum EncryptedLayer: String, Hashable, Sendable {
        case senderIdentity = "sealed sender identity (c1)"
        case senderBody = "sealed sender body (c2)"
        case message = "ratchet message"
    }

    /// The kinds of one agent's prekeys.
    public enum PrekeyKind: String, Hashable, Sendable {
        case signed
        case oneTime = "one-time"
        case pq = "PQ"
    }
}

extension TBX1Error: CustomStringConvertible {
    public var description: String {
        switch self {
        case .badSignature(let item): "bad signature on the \(item.rawValue)"
        case .decryptionFailed(let layer): "decrypt failed: \(layer.rawValue) did not authenticate"
        case .duplicateMessage: "message already received (replay), or its key was discarded"
        case .tooManySkippedMessages(let skipping, let limit):
            "message would skip \(skipping) message keys; at most \(limit) per chain"
        case .malformed(let field): "malformed envelope at \(field.rawValue)"
        case .unsupportedVersion(let version): "unsupported envelope version \(version)"
        // The documented TransmissionBot wording (§7.1), so users see the same text from either client.
        case .unknownPrekey(let kind, let keyID): "missing \(kind.rawValue) pre-key secret for key_id \(keyID)"
        case .invalidKey(let field): "invalid key at \(field.rawValue)"
        case .keyPairMismatch(let field): "secret and public key do not match at \(field.rawValue)"
        case .senderMismatch: "sender identity does not match the message or the session"
        case .timestampInFuture(let timestamp, let now):
            "sender timestamp \(timestamp) ms is more than 10 minutes after now (\(now) ms)"
        case .notThisSession: "prekey message belongs to another session"
        case .noSession: "no session with this sender, and the message is not a prekey message"
        case .identityMismatch: "identity keys differ from the session's"
        case .counterExhausted: "message counter exhausted; start a new session"
        case .keyIDsExhausted: "prekey ids exhausted (must stay below 2^31)"
        case .kemFailed(let reason): "ML-KEM-768 failed: \(reason)"
        }
    }
}
