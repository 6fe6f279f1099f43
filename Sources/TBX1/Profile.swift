/// The TBX-1 constants (protocols/transmissionbot.md §7.4), in one place because the profile names them together.
///
/// TBX-1 is this project's stand-in profile, not TransmissionBot's unpublished wire format.
enum Profile {
    static let infoPQXDH = Array("TBX1_CURVE25519_SHA-256_ML-KEM-768".utf8)
    static let infoRatchet = Array("TBX1_Ratchet".utf8)
    static let infoMessageKeys = Array("TBX1_MessageKeys".utf8)
    static let sealedSenderSaltPrefix = Array("TBX1_SealedSender".utf8)
    static let sealedSenderSignatureLabel = Array("TBX1_SS_SIG".utf8)
    static let envelopeVersion: UInt8 = 0x01
    /// How far ahead of the receiver's clock a sender's timestamp may be: ten minutes.
    static let futureToleranceMilliseconds: UInt64 = 10 * 60 * 1000
}
