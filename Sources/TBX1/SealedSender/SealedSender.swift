package import Foundation

/// libsignal's sealed-sender v1 shape with ChaCha20-Poly1305 and a self-signed sender (§7.4).
///
/// ```
/// (chain ‖ k1 ‖ n1) = HKDF(salt = SS_SALT_PREFIX ‖ IKdh_B ‖ e_pub, ikm = X25519(e, IKdh_B), info = "", L = 76)
/// c1 = AEAD(k1, n1, IKdh_A, aad = e_pub)
/// (k2 ‖ n2) = HKDF(salt = chain ‖ c1, ikm = X25519(IKdh_A, IKdh_B), info = "", L = 44)
/// body = sender_id ‖ IKsig_A ‖ u64 timestamp_ms ‖ u8 msg_type ‖ u32 msg_len ‖ msg
/// sig = Ed25519(IKsig_A, SS_SIG_LABEL ‖ recipient_id ‖ e_pub ‖ IKdh_A ‖ body)
/// c2 = AEAD(k2, n2, body ‖ sig, aad = e_pub ‖ c1)
/// ```
package enum SealedSender {
    /// sender id, IKsig, timestamp, type and length: the body before `msg`.
    static let bodyHeaderCount = 16 + 32 + 8 + 1 + 4
    static let encryptedIdentityCount = 32 + ChaCha20Poly1305.tagCount

    /// The keys for c1 (and the chain that salts c2's), from the ephemeral–recipient DH.
    package struct FirstLayerKeys {
        package var chain: [UInt8]
        package var key: [UInt8]
        package var nonce: [UInt8]

        package init(sharedSecret: [UInt8], recipientDHKey: X25519PublicKey, ephemeralKey: X25519PublicKey) {
            var material = KDF.hkdf(
                ikm: sharedSecret, salt: Profile.sealedSenderSaltPrefix + recipientDHKey.bytes + ephemeralKey.bytes,
                info: [], length: 76)
            defer { Sodium.wipe(&material) }
            chain = Array(material[0..<32])
            key = Array(material[32..<64])
            nonce = Array(material[64..<76])
        }

        mutating func wipe() {
            Sodium.wipe(&chain)
            Sodium.wipe(&key)
        }
    }

    /// The key and nonce for c2, from the static sender–recipient DH.
    package static func secondLayerKey(
        sharedSecret: [UInt8], chain: [UInt8], encryptedIdentity: [UInt8]
    ) -> (
        key: [UInt8], nonce: [UInt8]
    ) {
        var material = KDF.hkdf(ikm: sharedSecret, salt: chain + encryptedIdentity, info: [], length: 44)
        defer { Sodium.wipe(&material) }
        return (Array(material[0..<32]), Array(material[32..<44]))
    }

    static func signedBytes(
        recipientAgentID: UUID, ephemeralKey: X25519PublicKey, senderDHKey: X25519PublicKey, body: [UInt8]
    ) -> [UInt8] {
        Profile.sealedSenderSignatureLabel + recipientAgentID.rawBytes + ephemeralKey.bytes + senderDHKey.bytes + body
    }

    package static func seal(
        _ message: InnerMessage, sender: IdentityKeyPair, senderAgentID: UUID, recipientAgentID: UUID,
        recipientDHKey: X25519PublicKey, timestampMilliseconds: UInt64, ephemeral: X25519KeyPair
    ) throws(TBX1Error) -> Envelope {
        let inner = message.encoded
        guard let innerCount = UInt32(exactly: inner.count) else { throw .malformed(field: .messageLength) }
        var ephemeralSecret = try ephemeral.sharedSecret(with: recipientDHKey)
        var first = FirstLayerKeys(
            sharedSecret: ephemeralSecret, recipientDHKey: recipientDHKey, ephemeralKey: ephemeral.publicKey)
        Sodium.wipe(&ephemeralSecret)
        defer { first.wipe() }
        let encryptedIdentity = ChaCha20Poly1305.seal(
            sender.dh.publicKey.bytes, key: first.key, nonce: first.nonce, aad: ephemeral.publicKey.bytes)

        var staticSecret = try sender.dh.sharedSecret(with: recipientDHKey)
        var second = secondLayerKey(
            sharedSecret: staticSecret, chain: first.chain, encryptedIdentity: encryptedIdentity)
        Sodium.wipe(&staticSecret)
        defer { Sodium.wipe(&second.key) }

        var body = senderAgentID.rawBytes + sender.signing.publicKey.bytes
        body.append(bigEndian: timestampMilliseconds)
        body.append(message.type)
        body.append(bigEndian: innerCount)
        body += inner
        let signature = sender.signing.sign(
            signedBytes(
                recipientAgentID: recipientAgentID, ephemeralKey: ephemeral.publicKey,
                senderDHKey: sender.dh.publicKey, body: body))
        let encryptedBody = ChaCha20Poly1305.seal(
            body + signature.bytes, key: second.key, nonce: second.nonce,
            aad: ephemeral.publicKey.bytes + encryptedIdentity)
        return Envelope(
            bytes: [Profile.envelopeVersion] + ephemeral.publicKey.bytes + encryptedIdentity + encryptedBody)
    }

    static func open(
        _ envelope: Envelope, recipient identity: IdentityKeyPair, recipientAgentID: UUID, now: UInt64
    ) throws(TBX1Error) -> OpenedEnvelope {
        var reader = ByteReader(envelope.bytes)
        let version = try reader.readUInt8(.version)
        guard version == Profile.envelopeVersion else { throw .unsupportedVersion(version) }
        let ephemeralKey = try reader.read(X25519PublicKey.self, .ephemeralKey)
        let encryptedIdentity = try reader.read(encryptedIdentityCount, .encryptedSenderIdentity)
        let encryptedBody = try reader.readRest(
            atLeast: bodyHeaderCount + Ed25519Signature.byteCount + ChaCha20Poly1305.tagCount, .encryptedBody)

        // Check 2: c1 gives the sender's DH key.
        var ephemeralSecret: [UInt8]
        do { ephemeralSecret = try identity.dh.sharedSecret(with: ephemeralKey) } catch {
            throw .invalidKey(.ephemeralKey)
        }
        var first = FirstLayerKeys(
            sharedSecret: ephemeralSecret, recipientDHKey: identity.dh.publicKey, ephemeralKey: ephemeralKey)
        Sodium.wipe(&ephemeralSecret)
        defer { first.wipe() }
        guard
            let senderDHBytes = ChaCha20Poly1305.open(
                encryptedIdentity, key: first.key, nonce: first.nonce, aad: ephemeralKey.bytes)
        else { throw .decryptionFailed(.senderIdentity) }
        let senderDHKey = X25519PublicKey(uncheckedBytes: senderDHBytes)

        // Check 3: c2 gives the body and signature.
        var staticSecret: [UInt8]
        do { staticSecret = try identity.dh.sharedSecret(with: senderDHKey) } catch {
            throw .invalidKey(.identityDHKey)
        }
        var second = secondLayerKey(
            sharedSecret: staticSecret, chain: first.chain, encryptedIdentity: encryptedIdentity)
        Sodium.wipe(&staticSecret)
        defer { Sodium.wipe(&second.key) }
        guard
            let plaintext = ChaCha20Poly1305.open(
                encryptedBody, key: second.key, nonce: second.nonce, aad: ephemeralKey.bytes + encryptedIdentity)
        else { throw .decryptionFailed(.senderBody) }

        // Check 4: parse, and the type byte agrees with the message.
        let body = Array(plaintext.dropLast(Ed25519Signature.byteCount))
        let signature = Ed25519Signature(uncheckedBytes: Array(plaintext.suffix(Ed25519Signature.byteCount)))
        var bodyReader = ByteReader(body)
        let senderAgentID = UUID(rawBytes: try bodyReader.read(16, .senderAgentID))
        let senderSigningKey = try bodyReader.read(Ed25519PublicKey.self, .senderSigningKey)
        let timestamp = try bodyReader.readUInt64(.timestamp)
        let type = try bodyReader.readUInt8(.messageType)
        let innerCount = try bodyReader.readUInt32(.messageLength)
        guard bodyReader.remaining == Int(innerCount) else { throw .malformed(field: .messageLength) }
        let inner = try bodyReader.read(Int(innerCount), .messageLength)
        guard inner.first == type else { throw .malformed(field: .messageType) }

        // Check 5: the sender signed it, for this recipient and this ephemeral key.
        let signed = signedBytes(
            recipientAgentID: recipientAgentID, ephemeralKey: ephemeralKey, senderDHKey: senderDHKey, body: body)
        guard senderSigningKey.isValidSignature(signature, for: signed) else { throw .badSignature(.sender) }

        // Check 6: a prekey message's identity is the sealed layer's.
        let sender = IdentityPublicKeys(signing: senderSigningKey, dh: senderDHKey)
        let message = try InnerMessage(decoding: inner)
        if case .preKey(let preKey) = message, preKey.senderIdentity != sender { throw .senderMismatch }

        let (latest, overflow) = now.addingReportingOverflow(Profile.futureToleranceMilliseconds)
        guard overflow || timestamp <= latest else {
            throw .timestampInFuture(timestampMilliseconds: timestamp, nowMilliseconds: now)
        }
        return OpenedEnvelope(
            senderAgentID: senderAgentID, sender: sender, recipientAgentID: recipientAgentID,
            timestampMilliseconds: timestamp, message: message)
    }
}
