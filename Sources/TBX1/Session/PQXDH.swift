/// PQXDH with TBX-1's parameters (§7.4): X25519, ML-KEM-768, HKDF-SHA256.
package enum PQXDH {
    /// `IKM = 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] ‖ SS`; `SK = HKDF(salt = 0x00×32, IKM, INFO_PQXDH, 32)`.
    package static func sharedKey(diffieHellman outputs: [[UInt8]], kemSecret: [UInt8]) -> SecretBytes {
        var ikm = [UInt8](repeating: 0xFF, count: 32) + outputs.joined() + kemSecret
        defer { Sodium.wipe(&ikm) }
        return SecretBytes(
            KDF.hkdf(ikm: ikm, salt: [UInt8](repeating: 0, count: 32), info: Profile.infoPQXDH, length: 32))
    }

    /// `AD = IKsig_A ‖ IKdh_A ‖ IKsig_B ‖ IKdh_B`, initiator first (§7.4 step 5).
    package static func associatedData(initiator: IdentityPublicKeys, responder: IdentityPublicKeys) -> [UInt8] {
        initiator.encoded + responder.encoded
    }

    /// The initiator's half (steps 2–4, 6): the bundle's signatures must already be verified.
    static func initiate(
        identity: IdentityKeyPair, bundle: PrekeyBundle, ephemeral: X25519KeyPair,
        encapsulate: (MLKEM768PublicKey) throws(TBX1Error) -> (ciphertext: MLKEM768Ciphertext, sharedSecret: [UInt8])
    ) throws(TBX1Error) -> (sharedKey: SecretBytes, kemCiphertext: MLKEM768Ciphertext) {
        var outputs = [
            try identity.dh.sharedSecret(with: bundle.signedPrekey.publicKey),
            try ephemeral.sharedSecret(with: bundle.identity.dh),
            try ephemeral.sharedSecret(with: bundle.signedPrekey.publicKey),
        ]
        if let oneTime = bundle.oneTimePrekey { outputs.append(try ephemeral.sharedSecret(with: oneTime.publicKey)) }
        var (ciphertext, kemSecret) = try encapsulate(bundle.pqPrekey.publicKey)
        defer {
            for index in outputs.indices { Sodium.wipe(&outputs[index]) }
            Sodium.wipe(&kemSecret)
        }
        return (sharedKey(diffieHellman: outputs, kemSecret: kemSecret), ciphertext)
    }

    /// The responder's half: the same SK from the prekey secrets the message names.
    static func respond(
        identity: IdentityKeyPair, message: PreKeyMessage, signedPrekey: X25519KeyPair,
        oneTimePrekey: X25519KeyPair?, pqPrekey: MLKEM768KeyPair
    ) throws(TBX1Error) -> SecretBytes {
        var outputs = [
            try signedPrekey.sharedSecret(with: message.senderIdentity.dh),
            try identity.dh.sharedSecret(with: message.baseKey),
            try signedPrekey.sharedSecret(with: message.baseKey),
        ]
        if let oneTimePrekey { outputs.append(try oneTimePrekey.sharedSecret(with: message.baseKey)) }
        var kemSecret = try pqPrekey.decapsulate(message.kemCiphertext)
        defer {
            for index in outputs.indices { Sodium.wipe(&outputs[index]) }
            Sodium.wipe(&kemSecret)
        }
        return sharedKey(diffieHellman: outputs, kemSecret: kemSecret)
    }
}
