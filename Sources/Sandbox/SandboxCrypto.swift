internal import CSodium

/// The libsodium the TransmissionBot sandbox needs as a server: randomness for secrets, strict base64url,
/// HMAC-SHA256 for its own tokens and Ed25519 verification for prekeys and recovery (transmissionbot.md §3, §5.4).
enum SandboxCrypto {
    private static let ready: Bool = sodium_init() >= 0

    static func randomBytes(_ count: Int) -> [UInt8] {
        precondition(ready, "libsodium failed to initialise")
        var bytes = [UInt8](repeating: 0, count: count)
        randombytes_buf(&bytes, count)
        return bytes
    }

    /// RFC 4648 §5 without padding, as keys, signatures and challenges travel.
    static func base64URL(_ bytes: [UInt8]) -> String {
        let variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING
        let length = sodium_base64_encoded_len(bytes.count, variant)
        var text = [CChar](repeating: 0, count: length)
        _ = sodium_bin2base64(&text, length, bytes, bytes.count, variant)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Strict unpadded base64url: `=`, whitespace and characters of the standard alphabet (`+`, `/`) are refused.
    static func bytes(base64URL text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        var bytes = [UInt8](repeating: 0, count: characters.count / 4 * 3 + 3)
        var length = 0
        let status = characters.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) {
                sodium_base642bin(
                    &bytes, bytes.count, $0.baseAddress, $0.count, nil, &length, nil,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING)
            }
        }
        return status == 0 ? Array(bytes.prefix(length)) : nil
    }

    /// HMAC-SHA256 of `message` under a 32-byte `key`.
    static func hmac(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
        _ = crypto_auth_hmacsha256(&tag, message, UInt64(message.count), key)
        return tag
    }

    /// Compares in time independent of where the bytes differ.
    static func equal(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        left.count == right.count && sodium_memcmp(left, right, left.count) == 0
    }

    /// Whether `signature` (64 bytes) is `publicKey`'s (32 bytes) pure Ed25519 signature over `message`.
    static func isValidSignature(_ signature: [UInt8], of message: [UInt8], by publicKey: [UInt8]) -> Bool {
        guard signature.count == 64, publicKey.count == 32 else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }
}
