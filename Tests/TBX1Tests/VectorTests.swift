import CSodium
import Foundation
import TBX1
import Testing

/// Every value in tbx1_vectors.json, reproduced or decrypted by the Swift implementation (§7.6).
@Suite struct VectorTests {
    let vectors: Vectors

    init() throws { vectors = try Vectors.load() }

    static func x25519(_ pair: Vectors.KeyPair) throws -> X25519KeyPair {
        try X25519KeyPair(secretKey: [UInt8](hex: pair.secret_hex))
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        _ = crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        return digest
    }

    /// The reference's `seed(label)`: SHA-512("TBX1-test:" ‖ label), first 32 bytes.
    static func seed(_ label: String) -> [UInt8] {
        let input = Array("TBX1-test:\(label)".utf8)
        var digest = [UInt8](repeating: 0, count: 64)
        _ = crypto_hash_sha512(&digest, input, UInt64(input.count))
        return Array(digest.prefix(32))
    }

    var aliceIdentity: IdentityKeyPair {
        get throws {
            IdentityKeyPair(
                signing: try Ed25519KeyPair(secretKey: [UInt8](hex: vectors.alice.identity_signing.secret_hex)),
                dh: try Self.x25519(vectors.alice.identity_dh))
        }
    }

    var bobIdentity: IdentityKeyPair {
        get throws {
            IdentityKeyPair(
                signing: try Ed25519KeyPair(secretKey: [UInt8](hex: vectors.bob.identity_signing.secret_hex)),
                dh: try Self.x25519(vectors.bob.identity_dh))
        }
    }

    var bobPrekeys: PrekeyStore {
        get throws {
            let bob = vectors.bob
            var store = PrekeyStore(firstKeyID: 1)
            store.add(
                signed: [
                    SignedPrekey(
                        keyID: bob.signed_prekey.key_id,
                        keyPair: try X25519KeyPair(secretKey: [UInt8](hex: bob.signed_prekey.secret_hex)),
                        signature: try Ed25519Signature(base64URL: bob.signed_prekey.signature_b64url))
                ],
                oneTime: [
                    OneTimePrekey(
                        keyID: bob.one_time_prekey.key_id,
                        keyPair: try X25519KeyPair(secretKey: [UInt8](hex: bob.one_time_prekey.secret_hex)))
                ],
                pq: [
                    PQPrekey(
                        keyID: bob.pq_prekey.key_id,
                        keyPair: try MLKEM768KeyPair(seed: [UInt8](hex: bob.pq_prekey.seed_hex)),
                        signature: try Ed25519Signature(base64URL: bob.pq_prekey.signature_b64url))
                ])
            return store
        }
    }

    var bobBundle: PrekeyBundle {
        get throws {
            let store = try bobPrekeys
            return PrekeyBundle(
                agentID: vectors.bob.agent_id, identity: try bobIdentity.publicKeys,
                signedPrekey: store.signedPrekeys[0].publicPart, oneTimePrekey: store.oneTimePrekeys[0].publicPart,
                pqPrekey: store.pqPrekeys[0].publicPart)
        }
    }

    /// Replays the reference's ephemerals, in the order the reference makes them, and its recorded encapsulation.
    func replay(_ pairs: [Vectors.KeyPair]) throws -> Randomness {
        final class Queue { var keys: [X25519KeyPair] = [] }
        let queue = Queue()
        queue.keys = try pairs.map(Self.x25519)
        let ciphertext = try MLKEM768Ciphertext(bytes: try #require(Data(base64Encoded: vectors.kem_ciphertext_b64)))
        let secret = [UInt8](hex: vectors.kem_shared_secret_hex)
        return Randomness(x25519KeyPair: { queue.keys.removeFirst() }, encapsulate: { _ in (ciphertext, secret) })
    }

    @Test func constantsAreTheProfile() {
        #expect(vectors.constants["INFO_PQXDH"] == .string("TBX1_CURVE25519_SHA-256_ML-KEM-768"))
        #expect(vectors.constants["ENVELOPE_VERSION"] == .int(1))
    }

    @Test func everyLabelledKeyDerivesItsPublicKey() throws {
        let x25519Pairs = [
            vectors.alice.identity_dh, vectors.alice.pqxdh_ephemeral, vectors.alice.ratchet_1,
            vectors.alice.sealed_sender_ephemeral_1, vectors.bob.identity_dh, vectors.bob.ratchet_1,
            vectors.bob.sealed_sender_ephemeral_1,
            .init(
                secret_hex: vectors.bob.signed_prekey.secret_hex, public_b64url: vectors.bob.signed_prekey.public_b64url
            ),
            .init(
                secret_hex: vectors.bob.one_time_prekey.secret_hex,
                public_b64url: vectors.bob.one_time_prekey.public_b64url),
        ]
        for pair in x25519Pairs {
            #expect(try Self.x25519(pair).publicKey.base64URL == pair.public_b64url)
        }
        #expect(try aliceIdentity.signing.publicKey.base64URL == vectors.alice.identity_signing.public_b64url)
        #expect(try bobIdentity.signing.publicKey.base64URL == vectors.bob.identity_signing.public_b64url)
        #expect([UInt8](hex: vectors.alice.ratchet_1.secret_hex) == Self.seed("alice-ratchet-1"))
    }

    @Test func prekeySignaturesReproduceAndVerify() throws {
        let store = try bobPrekeys
        let signing = try bobIdentity.signing
        #expect(
            signing.sign(store.signedPrekeys[0].keyPair.publicKey.bytes).base64URL
                == vectors.bob.signed_prekey.signature_b64url)
        let pq = store.pqPrekeys[0].keyPair.publicKey
        #expect(Self.sha256(pq.bytes).hex == vectors.bob.pq_prekey.public_sha256)
        #expect(pq.base64URL.hasPrefix(vectors.bob.pq_prekey.public_b64url_prefix))
        #expect(signing.sign(pq.bytes).base64URL == vectors.bob.pq_prekey.signature_b64url)
        try bobBundle.verifySignatures()
    }

    @Test func kemCiphertextDecapsulatesToTheRecordedSecret() throws {
        let pq = try MLKEM768KeyPair(seed: [UInt8](hex: vectors.bob.pq_prekey.seed_hex))
        let ciphertext = try MLKEM768Ciphertext(bytes: try #require(Data(base64Encoded: vectors.kem_ciphertext_b64)))
        #expect(try pq.decapsulate(ciphertext).hex == vectors.kem_shared_secret_hex)
    }

    @Test func pqxdhReproducesEachDiffieHellmanAndTheSharedKey() throws {
        let alice = try aliceIdentity
        let ephemeral = try Self.x25519(vectors.alice.pqxdh_ephemeral)
        let bundle = try bobBundle
        let outputs = [
            try alice.dh.sharedSecret(with: bundle.signedPrekey.publicKey),
            try ephemeral.sharedSecret(with: bundle.identity.dh),
            try ephemeral.sharedSecret(with: bundle.signedPrekey.publicKey),
            try ephemeral.sharedSecret(with: try #require(bundle.oneTimePrekey).publicKey),
        ]
        #expect(outputs.map(\.hex) == [vectors.pqxdh.dh1, vectors.pqxdh.dh2, vectors.pqxdh.dh3, vectors.pqxdh.dh4])
        let sharedKey = PQXDH.sharedKey(
            diffieHellman: outputs, kemSecret: [UInt8](hex: vectors.kem_shared_secret_hex))
        #expect(sharedKey.bytes.hex == vectors.pqxdh.SK)
        #expect(sharedKey.bytes.hex == "c5102858e0d5a0a4ba7c4dcd96110e409c9e50ecb71d613465d6540377874b43")
        #expect(
            PQXDH.associatedData(initiator: alice.publicKeys, responder: bundle.identity).hex == vectors.pqxdh.AD)
    }

    @Test func aliceInitialisesTheRatchetAsRecorded() throws {
        let session = try Session.initiate(
            localAgentID: vectors.alice.agent_id, identity: aliceIdentity, bundle: bobBundle,
            randomness: replay([vectors.alice.pqxdh_ephemeral, vectors.alice.ratchet_1]))
        #expect(session.ratchet.rootKey.bytes.hex == vectors.ratchet_after_alice_init.RK)
        #expect(session.ratchet.sendingChain?.bytes.hex == vectors.ratchet_after_alice_init.CKs)
        #expect(session.prekeys.oneTimePrekeyID == vectors.bob.one_time_prekey.key_id)
        #expect(session.isAwaitingFirstReply)
    }

    @Test func aliceReproducesTheFirstEnvelopeByteForByte() throws {
        let message = vectors.message_1
        var session = try Session.initiate(
            localAgentID: vectors.alice.agent_id, identity: aliceIdentity, bundle: bobBundle,
            randomness: replay([vectors.alice.pqxdh_ephemeral, vectors.alice.ratchet_1]))
        let envelope = try session.seal(
            Array(message.plaintext_utf8.utf8), identity: aliceIdentity, timestampMilliseconds: message.timestamp_ms,
            randomness: replay([vectors.alice.sealed_sender_ephemeral_1]))
        #expect(envelope.base64 == message.envelope_b64)
        #expect(envelope.base64.count == 1996)

        let opened = try envelope.open(
            recipient: bobIdentity, recipientAgentID: vectors.bob.agent_id, nowMilliseconds: message.timestamp_ms)
        #expect(opened.message.ratchetMessage.encoded.hex == message.ratchet_message_hex)
        #expect(Self.sha256(opened.message.encoded).hex == message.prekey_message_sha256)
    }

    @Test func sealedSenderKeysMatchTheRecordedOnes() throws {
        let recorded = vectors.message_1.sealed_sender
        let ephemeral = try Self.x25519(vectors.alice.sealed_sender_ephemeral_1)
        let alice = try aliceIdentity
        let bobDH = try bobIdentity.dh.publicKey
        let first = SealedSender.FirstLayerKeys(
            sharedSecret: try ephemeral.sharedSecret(with: bobDH), recipientDHKey: bobDH,
            ephemeralKey: ephemeral.publicKey)
        #expect([first.chain.hex, first.key.hex, first.nonce.hex] == [recorded.chain, recorded.k1, recorded.n1])
        let envelope = try Envelope(base64: vectors.message_1.envelope_b64)
        let second = SealedSender.secondLayerKey(
            sharedSecret: try alice.dh.sharedSecret(with: bobDH), chain: first.chain,
            encryptedIdentity: Array(envelope.bytes[33..<81]))
        #expect([second.key.hex, second.nonce.hex] == [recorded.k2, recorded.n2])
        let body = try #require(
            ChaCha20Poly1305.open(
                Array(envelope.bytes[81...]), key: second.key, nonce: second.nonce, aad: Array(envelope.bytes[1..<81])))
        #expect(body.suffix(64).hex == recorded.sig)
    }

    @Test func bobOpensTheFirstEnvelopeAndRepliesByteForByte() throws {
        let first = vectors.message_1
        let reply = vectors.message_2_bob_to_alice
        let opened = try Envelope(base64: first.envelope_b64).open(
            recipient: bobIdentity, recipientAgentID: vectors.bob.agent_id, nowMilliseconds: first.timestamp_ms)
        #expect(opened.senderAgentID == vectors.alice.agent_id)
        #expect(opened.sender == (try aliceIdentity.publicKeys))
        #expect(opened.timestampMilliseconds == first.timestamp_ms)

        var (bobSession, plaintext) = try Session.accept(
            opened, identity: bobIdentity, prekeys: bobPrekeys, randomness: replay([vectors.bob.ratchet_1]))
        #expect(String(decoding: plaintext, as: UTF8.self) == "Hello from my agent!")
        #expect(bobSession.consumedPrekeys?.oneTimePrekeyID == vectors.bob.one_time_prekey.key_id)
        #expect(bobSession.consumedPrekeys?.pqPrekeyID == vectors.bob.pq_prekey.key_id)

        let envelope = try bobSession.seal(
            Array(reply.plaintext_utf8.utf8), identity: bobIdentity, timestampMilliseconds: reply.timestamp_ms,
            randomness: replay([vectors.bob.sealed_sender_ephemeral_1]))
        #expect(envelope.base64 == reply.envelope_b64)
    }

    @Test func aliceDecryptsBobsReply() throws {
        let reply = vectors.message_2_bob_to_alice
        var aliceSession = try Session.initiate(
            localAgentID: vectors.alice.agent_id, identity: aliceIdentity, bundle: bobBundle,
            randomness: replay([vectors.alice.pqxdh_ephemeral, vectors.alice.ratchet_1]))
        _ = try aliceSession.seal(
            Array(vectors.message_1.plaintext_utf8.utf8), identity: aliceIdentity,
            timestampMilliseconds: vectors.message_1.timestamp_ms,
            randomness: replay([vectors.alice.sealed_sender_ephemeral_1]))
        let opened = try Envelope(base64: reply.envelope_b64).open(
            recipient: aliceIdentity, recipientAgentID: vectors.alice.agent_id, nowMilliseconds: reply.timestamp_ms)
        let next = try X25519KeyPair(secretKey: Self.seed(reply.alice_next_ratchet_seed_label))
        let randomness = Randomness(
            x25519KeyPair: { next }, encapsulate: { _ throws(TBX1Error) in throw .kemFailed("unused") })
        let plaintext = try aliceSession.decrypt(opened, randomness: randomness)
        #expect(String(decoding: plaintext, as: UTF8.self) == "PONG 1")
        #expect(!aliceSession.isAwaitingFirstReply)
    }

    /// libsignal's own chain-key test values, which check the HMAC and HKDF plumbing independently of TBX-1.
    @Test func libsignalChainKeyVector() {
        let vector = vectors.libsignal_chain_key_vector
        let chainKey = [UInt8](hex: vector.chain_key)
        let seed = KDF.hmac(key: chainKey, [0x01])
        #expect(seed.hex == vector.message_key_seed_hmac_0x01)
        #expect(KDF.hmac(key: chainKey, [0x02]).hex == vector.next_chain_key_hmac_0x02)
        let keys = KDF.hkdf(ikm: seed, salt: [], info: Array("WhisperMessageKeys".utf8), length: 80)
        #expect(keys[0..<32].map { $0 }.hex == vector.whisper_message_keys_cipher)
        #expect(keys[32..<64].map { $0 }.hex == vector.whisper_message_keys_mac)
        #expect(keys[64..<80].map { $0 }.hex == vector.whisper_message_keys_iv)
    }
}
