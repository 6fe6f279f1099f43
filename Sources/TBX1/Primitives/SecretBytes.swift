/// Secret key material: a seed, a secret scalar, a root, chain or message key.
///
/// It never shows in `description`, `debugDescription`, `dump` or a mirror; it is Codable (as unpadded base64url, the
/// state file's encoding, §3) because sessions and prekeys are persisted with the account.
package struct SecretBytes: Sendable {
    package private(set) var bytes: [UInt8]

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Zeros the bytes (best effort; see `Sodium.wipe`).
    package mutating func wipe() { Sodium.wipe(&bytes) }
}

extension SecretBytes: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    package var description: String { "***" }
    package var debugDescription: String { "***" }
    package var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension SecretBytes: Codable {
    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let bytes = Sodium.bytes(base64: text, .urlSafeUnpadded) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "secret is not unpadded base64url"))
        }
        self.bytes = bytes
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Sodium.base64(bytes, .urlSafeUnpadded))
    }
}
