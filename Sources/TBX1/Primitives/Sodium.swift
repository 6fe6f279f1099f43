internal import CSodium

/// The libsodium calls every other file shares: start-up, randomness, wiping, base64.
enum Sodium {
    /// `sodium_init` once per process; it is safe to call again, but the global keeps it to one call.
    private static let initialised: Bool = sodium_init() >= 0

    /// `count` bytes from the operating system's CSPRNG.
    static func randomBytes(_ count: Int) -> [UInt8] {
        precondition(initialised, "libsodium failed to initialise")
        var bytes = [UInt8](repeating: 0, count: count)
        randombytes_buf(&bytes, count)
        return bytes
    }

    /// Overwrites `bytes` with zeros in a way the optimiser keeps. Best effort: Swift may hold earlier copies.
    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
        }
    }

    /// RFC 4648 base64 in one of libsodium's variants.
    enum Base64Variant {
        /// §4 with `=` padding: envelopes.
        case standard
        /// §5 without padding: keys and signatures.
        case urlSafeUnpadded

        var code: Int32 {
            switch self {
            case .standard: sodium_base64_VARIANT_ORIGINAL
            case .urlSafeUnpadded: sodium_base64_VARIANT_URLSAFE_NO_PADDING
            }
        }
    }

    static func base64(_ bytes: [UInt8], _ variant: Base64Variant) -> String {
        let length = sodium_base64_encoded_len(bytes.count, variant.code)
        var text = [CChar](repeating: 0, count: length)
        _ = sodium_bin2base64(&text, length, bytes, bytes.count, variant.code)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decodes strictly: no whitespace, no missing or extra padding, nothing after the last character.
    static func bytes(base64 text: String, _ variant: Base64Variant) -> [UInt8]? {
        let characters = Array(text.utf8)
        var bytes = [UInt8](repeating: 0, count: characters.count / 4 * 3 + 3)
        var decodedLength = 0
        let status = characters.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { chars in
                sodium_base642bin(
                    &bytes, bytes.count, chars.baseAddress, chars.count, nil, &decodedLength, nil, variant.code)
            }
        }
        guard status == 0 else { return nil }
        return Array(bytes.prefix(decodedLength))
    }
}
