/// How every key pair is stored: `{"publicKey", "secretKey"}` in unpadded base64url, as the state file has it (§8.1).
///
/// The public key is optional on the way in (the stateless CLI documents carry only secrets, §9.3); when present it
/// must be the one the secret derives.
struct StoredKeyPair<PublicKey: FixedSizeBytes>: Codable {
    let publicKey: PublicKey?
    let secretKey: SecretBytes

    /// Throws unless the stored public key, if any, is `derived`.
    func check(against derived: PublicKey, _ field: WireField) throws(TBX1Error) {
        if let publicKey, publicKey != derived { throw .keyPairMismatch(field) }
    }
}
