/// A public value with a fixed length on the wire: a key, a signature, a KEM ciphertext.
///
/// Printed and encoded as unpadded base64url (§3), like the HTTP API and the state file.
public protocol FixedSizeBytes: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The length every value has.
    static var byteCount: Int { get }
    /// What a value of this type is, for errors.
    static var field: WireField { get }
    /// The raw bytes.
    var bytes: [UInt8] { get }
    /// Wraps bytes the caller has checked to be `byteCount` long: a wrong length traps, since C code reads exactly
    /// `byteCount` bytes. Use `init(bytes:)` or `init(base64URL:)` for anything from outside.
    init(uncheckedBytes: [UInt8])
}

extension FixedSizeBytes {
    /// Wraps `bytes`, which must be exactly `byteCount` long.
    public init(bytes: some Collection<UInt8>) throws(TBX1Error) {
        guard bytes.count == Self.byteCount else { throw .invalidKey(Self.field) }
        self.init(uncheckedBytes: Array(bytes))
    }

    /// Decodes unpadded base64url of exactly `byteCount` bytes.
    public init(base64URL text: String) throws(TBX1Error) {
        guard let bytes = Sodium.bytes(base64: text, .urlSafeUnpadded) else { throw .invalidKey(Self.field) }
        try self.init(bytes: bytes)
    }

    /// Unpadded base64url.
    public var base64URL: String { Sodium.base64(bytes, .urlSafeUnpadded) }

    public var description: String { base64URL }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(base64URL: text)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a base64url \(Self.field.rawValue)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(base64URL)
    }
}
