internal import CSodium

/// HMAC-SHA256 and HKDF-SHA256 (RFC 5869) on libsodium's HMAC; Debian's libsodium 1.0.18 predates its HKDF API.
package enum KDF {
    /// HMAC-SHA256 of `message` under `key` (any length; an empty key is the RFC's all-zero key).
    package static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var state = crypto_auth_hmacsha256_state()
        var mac = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
        _ = crypto_auth_hmacsha256_init(&state, key, key.count)
        _ = crypto_auth_hmacsha256_update(&state, message, UInt64(message.count))
        _ = crypto_auth_hmacsha256_final(&state, &mac)
        withUnsafeMutableBytes(of: &state) { sodium_memzero($0.baseAddress, $0.count) }
        return mac
    }

    /// HKDF-SHA256: extract with `salt`, expand with `info` to `length` bytes (at most 255 × 32).
    package static func hkdf(ikm: [UInt8], salt: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        precondition(length <= 255 * 32, "HKDF-SHA256 output too long")
        var prk = hmac(key: salt, ikm)
        defer { Sodium.wipe(&prk) }
        var output: [UInt8] = []
        var block: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            block = hmac(key: prk, block + info + [counter])
            output += block
            counter &+= 1
        }
        Sodium.wipe(&block)
        return Array(output.prefix(length))
    }
}
