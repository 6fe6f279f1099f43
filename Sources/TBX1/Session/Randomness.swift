/// Where a session's fresh values come from: ephemeral and ratchet key pairs, and ML-KEM encapsulation.
///
/// Always the system CSPRNG in the public API; tests in this package replay the recorded values of
/// `tbx1_vectors.json` through it, since ML-KEM encapsulation has no derandomised form in swift-crypto (§7.6).
package struct Randomness {
    package var x25519KeyPair: () -> X25519KeyPair
    package var encapsulate:
        (MLKEM768PublicKey) throws(TBX1Error) -> (ciphertext: MLKEM768Ciphertext, sharedSecret: [UInt8])

    package init(
        x25519KeyPair: @escaping () -> X25519KeyPair,
        encapsulate:
            @escaping (MLKEM768PublicKey) throws(TBX1Error) -> (
                ciphertext: MLKEM768Ciphertext, sharedSecret: [UInt8]
            )
    ) {
        self.x25519KeyPair = x25519KeyPair
        self.encapsulate = encapsulate
    }

    package static var system: Randomness {
        Randomness(x25519KeyPair: X25519KeyPair.generate) { publicKey throws(TBX1Error) in
            try publicKey.encapsulate()
        }
    }
}
