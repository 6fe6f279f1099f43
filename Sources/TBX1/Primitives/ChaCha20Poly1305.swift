internal import CSodium

/// ChaCha20-Poly1305 IETF (RFC 8439): 32-byte key, 12-byte nonce, 16-byte tag appended to the ciphertext.
package enum ChaCha20Poly1305 {
    static let keyCount = Int(crypto_aead_chacha20poly1305_ietf_KEYBYTES)
    static let nonceCount = Int(crypto_aead_chacha20poly1305_ietf_NPUBBYTES)
    static let tagCount = Int(crypto_aead_chacha20poly1305_ietf_ABYTES)

    static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], aad: [UInt8]) -> [UInt8] {
        precondition(key.count == keyCount && nonce.count == nonceCount, "AEAD key or nonce length")
        var sealed = [UInt8](repeating: 0, count: plaintext.count + tagCount)
        var sealedCount: UInt64 = 0
        _ = crypto_aead_chacha20poly1305_ietf_encrypt(
            &sealed, &sealedCount, plaintext, UInt64(plaintext.count), aad, UInt64(aad.count), nil, nonce, key)
        return sealed
    }

    /// The plaintext, or nil when the tag does not verify.
    package static func open(_ sealed: [UInt8], key: [UInt8], nonce: [UInt8], aad: [UInt8]) -> [UInt8]? {
        precondition(key.count == keyCount && nonce.count == nonceCount, "AEAD key or nonce length")
        guard sealed.count >= tagCount else { return nil }
        var plaintext = [UInt8](repeating: 0, count: sealed.count - tagCount)
        var plaintextCount: UInt64 = 0
        let status = crypto_aead_chacha20poly1305_ietf_decrypt(
            &plaintext, &plaintextCount, nil, sealed, UInt64(sealed.count), aad, UInt64(aad.count), nonce, key)
        return status == 0 ? plaintext : nil
    }
}
