/// A Double Ratchet message: a 40-byte header and the AEAD ciphertext with its tag (§7.4).
///
/// `header = DHs_pub (32) ‖ u32 PN ‖ u32 N`; the header is also authenticated as part of the AEAD's associated data.
public struct RatchetMessage: Hashable, Sendable {
    public static let headerCount = 40

    /// The sender's current ratchet public key (DHs).
    public let ratchetKey: X25519PublicKey
    /// The length of the sender's previous sending chain (PN).
    public let previousCounter: UInt32
    /// This message's number in the sending chain (N).
    public let counter: UInt32
    /// ChaCha20-Poly1305 ciphertext followed by the 16-byte tag.
    public let ciphertext: [UInt8]

    init(ratchetKey: X25519PublicKey, previousCounter: UInt32, counter: UInt32, ciphertext: [UInt8]) {
        self.ratchetKey = ratchetKey
        self.previousCounter = previousCounter
        self.counter = counter
        self.ciphertext = ciphertext
    }

    /// Parses a whole buffer as a ratchet message.
    public init(decoding bytes: [UInt8]) throws(TBX1Error) {
        var reader = ByteReader(bytes)
        try self.init(reading: &reader)
    }

    init(reading reader: inout ByteReader) throws(TBX1Error) {
        ratchetKey = try reader.read(X25519PublicKey.self, .ratchetKey)
        previousCounter = try reader.readUInt32(.previousCounter)
        counter = try reader.readUInt32(.counter)
        ciphertext = try reader.readRest(atLeast: ChaCha20Poly1305.tagCount, .ciphertext)
    }

    static func header(ratchetKey: X25519PublicKey, previousCounter: UInt32, counter: UInt32) -> [UInt8] {
        var header = ratchetKey.bytes
        header.append(bigEndian: previousCounter)
        header.append(bigEndian: counter)
        return header
    }

    var header: [UInt8] { Self.header(ratchetKey: ratchetKey, previousCounter: previousCounter, counter: counter) }

    /// header ‖ ciphertext.
    public var encoded: [UInt8] { header + ciphertext }
}
