public import Foundation

/// A sealed-sender envelope: `u8 0x01 ‖ e_pub (32) ‖ c1 (48) ‖ c2` (§7.4), sent as standard padded base64 (§3).
public struct Envelope: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Decodes the API's standard base64 with `=` padding; anything else is `.malformed(field: .base64)`.
    public init(base64: String) throws(TBX1Error) {
        guard let bytes = Sodium.bytes(base64: base64, .standard), !bytes.isEmpty else {
            throw .malformed(field: .base64)
        }
        self.bytes = bytes
    }

    /// Standard base64 with `=` padding, for `POST /v1/messages/send`.
    public var base64: String { Sodium.base64(bytes, .standard) }

    public var description: String { "Envelope(\(bytes.count) bytes)" }

    /// Opens the sealed-sender layer with the recipient's identity DH key (§7.4 receiver checks 1–6).
    ///
    /// The caller still has to pin or compare the sender's identity against the directory (check 7) and then
    /// ratchet-decrypt with `Session.accept` or `Session.decrypt` (check 8).
    /// - Parameter nowMilliseconds: the receiver's clock; a sender timestamp more than ten minutes later is refused.
    public func open(
        recipient identity: IdentityKeyPair, recipientAgentID: UUID,
        nowMilliseconds: UInt64 = Envelope.currentMilliseconds()
    ) throws(TBX1Error) -> OpenedEnvelope {
        try SealedSender.open(self, recipient: identity, recipientAgentID: recipientAgentID, now: nowMilliseconds)
    }

    /// Milliseconds since 1970 by the system clock.
    public static func currentMilliseconds() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }
}

/// An envelope whose sealed-sender layer is open and whose sender signature verified.
public struct OpenedEnvelope: Hashable, Sendable {
    public let senderAgentID: UUID
    /// The sender's identity, authenticated by the signature; compare it with the directory record.
    public let sender: IdentityPublicKeys
    public let recipientAgentID: UUID
    public let timestampMilliseconds: UInt64
    /// Still ratchet-encrypted.
    public let message: InnerMessage
}
