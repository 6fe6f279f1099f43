/// The Double Ratchet state machine (Signal's spec §3) with TBX-1's KDFs and AEAD (§7.4).
///
/// A value type: `decrypt` works on a copy and commits it only when the message authenticates, so a forged or
/// corrupted message never moves the ratchet.
package struct DoubleRatchet: Sendable {
    /// MAX_SKIP: at most this many message keys are skipped in one receiving chain for one message; more is
    /// `TBX1Error.tooManySkippedMessages`.
    package static let maxSkip = 1000
    /// At most this many skipped keys are stored in all; past it the oldest are dropped (and their messages become
    /// `TBX1Error.duplicateMessage`).
    package static let maxStoredSkippedKeys = 2000
    /// Skipped keys are kept for the current and this many previous receiving chains. A replay from one of them is
    /// `TBX1Error.duplicateMessage`; a message from an older chain looks like a new ratchet key and fails to
    /// authenticate.
    package static let maxPreviousReceivingChains = 5

    package struct SkippedKey: Codable, Sendable {
        let ratchetKey: X25519PublicKey
        let counter: UInt32
        var messageKey: SecretBytes

        enum CodingKeys: String, CodingKey {
            case ratchetKey = "dh"
            case counter = "n"
            case messageKey = "mk"
        }
    }

    package private(set) var rootKey: SecretBytes
    package private(set) var sendingKey: X25519KeyPair
    package private(set) var receivingKey: X25519PublicKey?
    package private(set) var sendingChain: SecretBytes?
    package private(set) var receivingChain: SecretBytes?
    package private(set) var sentCount: UInt32 = 0
    package private(set) var receivedCount: UInt32 = 0
    package private(set) var previousSentCount: UInt32 = 0
    /// Oldest first.
    package private(set) var skippedKeys: [SkippedKey] = []
    /// The receiving ratchet keys before the current one, newest last.
    package private(set) var previousReceivingKeys: [X25519PublicKey] = []

    /// Alice: `DHs = new; DHr = SPK_B; (RK, CKs) = KDF_RK(SK, DH(DHs, DHr))`.
    package static func initiator(
        sharedKey: SecretBytes, responderSignedPrekey: X25519PublicKey, ratchetKey: X25519KeyPair
    ) throws(TBX1Error) -> DoubleRatchet {
        var state = DoubleRatchet(rootKey: sharedKey, sendingKey: ratchetKey)
        state.receivingKey = responderSignedPrekey
        (state.rootKey, state.sendingChain) = try rootStep(state.rootKey, ratchetKey, responderSignedPrekey)
        return state
    }

    /// Bob: `DHs = SPK_B key pair; RK = SK`.
    package static func responder(sharedKey: SecretBytes, signedPrekey: X25519KeyPair) -> DoubleRatchet {
        DoubleRatchet(rootKey: sharedKey, sendingKey: signedPrekey)
    }

    private init(rootKey: SecretBytes, sendingKey: X25519KeyPair) {
        self.rootKey = rootKey
        self.sendingKey = sendingKey
    }

    /// Encrypts the next message of the sending chain.
    package mutating func encrypt(_ plaintext: [UInt8], associatedData: [UInt8]) throws(TBX1Error) -> RatchetMessage {
        guard let chain = sendingChain else { throw .notThisSession }
        guard sentCount < UInt32.max else { throw .counterExhausted }
        var (nextChain, messageKey) = Self.chainStep(chain)
        defer { messageKey.wipe() }
        let header = RatchetMessage.header(
            ratchetKey: sendingKey.publicKey, previousCounter: previousSentCount, counter: sentCount)
        let ciphertext = Self.seal(plaintext, messageKey: messageKey, aad: associatedData + header)
        let message = RatchetMessage(
            ratchetKey: sendingKey.publicKey, previousCounter: previousSentCount, counter: sentCount,
            ciphertext: ciphertext)
        sendingChain = nextChain
        nextChain.wipe()
        sentCount += 1
        return message
    }

    /// Decrypts `message`, ratcheting when it carries a new ratchet key; `nextRatchetKey` makes the new DHs.
    package mutating func decrypt(
        _ message: RatchetMessage, associatedData: [UInt8], nextRatchetKey: () -> X25519KeyPair
    ) throws(TBX1Error) -> [UInt8] {
        var next = self
        let plaintext = try next.decryptInPlace(message, associatedData: associatedData, nextRatchetKey: nextRatchetKey)
        self = next
        return plaintext
    }

    private mutating func decryptInPlace(
        _ message: RatchetMessage, associatedData: [UInt8], nextRatchetKey: () -> X25519KeyPair
    ) throws(TBX1Error) -> [UInt8] {
        let aad = associatedData + message.header
        if let index = skippedKeys.firstIndex(where: {
            $0.ratchetKey == message.ratchetKey && $0.counter == message.counter
        }) {
            var skipped = skippedKeys.remove(at: index)
            defer { skipped.messageKey.wipe() }
            return try Self.open(message.ciphertext, messageKey: skipped.messageKey, aad: aad)
        }
        if message.ratchetKey == receivingKey {
            guard message.counter >= receivedCount else { throw .duplicateMessage }
        } else {
            guard !previousReceivingKeys.contains(message.ratchetKey) else { throw .duplicateMessage }
            try skipMessageKeys(until: message.previousCounter)
            try ratchetStep(to: message.ratchetKey, nextRatchetKey: nextRatchetKey())
        }
        guard message.counter < UInt32.max else { throw .malformed(field: .counter) }
        try skipMessageKeys(until: message.counter)
        guard let chain = receivingChain else { throw .notThisSession }
        var (nextChain, messageKey) = Self.chainStep(chain)
        defer { messageKey.wipe() }
        receivingChain = nextChain
        nextChain.wipe()
        receivedCount = message.counter + 1
        return try Self.open(message.ciphertext, messageKey: messageKey, aad: aad)
    }

    private mutating func skipMessageKeys(until counter: UInt32) throws(TBX1Error) {
        guard var chain = receivingChain, let ratchetKey = receivingKey else { return }
        let skipping = Int(counter) - Int(receivedCount)
        guard skipping <= Self.maxSkip else {
            throw .tooManySkippedMessages(skipping: skipping, limit: Self.maxSkip)
        }
        while receivedCount < counter {
            let (nextChain, messageKey) = Self.chainStep(chain)
            skippedKeys.append(SkippedKey(ratchetKey: ratchetKey, counter: receivedCount, messageKey: messageKey))
            chain.wipe()
            chain = nextChain
            receivedCount += 1
        }
        receivingChain = chain
        if skippedKeys.count > Self.maxStoredSkippedKeys {
            let excess = skippedKeys.count - Self.maxStoredSkippedKeys
            for index in 0..<excess { skippedKeys[index].messageKey.wipe() }
            skippedKeys.removeFirst(excess)
        }
    }

    private mutating func ratchetStep(to remoteKey: X25519PublicKey, nextRatchetKey: X25519KeyPair) throws(TBX1Error) {
        if let previous = receivingKey {
            previousReceivingKeys.append(previous)
            if previousReceivingKeys.count > Self.maxPreviousReceivingChains {
                let dropped = previousReceivingKeys.removeFirst()
                skippedKeys.removeAll { $0.ratchetKey == dropped }
            }
        }
        previousSentCount = sentCount
        sentCount = 0
        receivedCount = 0
        receivingKey = remoteKey
        (rootKey, receivingChain) = try Self.rootStep(rootKey, sendingKey, remoteKey)
        sendingKey = nextRatchetKey
        (rootKey, sendingChain) = try Self.rootStep(rootKey, sendingKey, remoteKey)
    }

    /// KDF_RK: `HKDF(salt = rk, ikm = DH(DHs, DHr), info = INFO_RATCHET, L = 64)` → (rk', ck).
    package static func rootStep(
        _ rootKey: SecretBytes, _ ownKey: X25519KeyPair, _ remoteKey: X25519PublicKey
    )
        throws(TBX1Error) -> (rootKey: SecretBytes, chainKey: SecretBytes)
    {
        var shared = try ownKey.sharedSecret(with: remoteKey)
        defer { Sodium.wipe(&shared) }
        var output = KDF.hkdf(ikm: shared, salt: rootKey.bytes, info: Profile.infoRatchet, length: 64)
        defer { Sodium.wipe(&output) }
        return (SecretBytes(Array(output[0..<32])), SecretBytes(Array(output[32..<64])))
    }

    /// KDF_CK: `ck' = HMAC(ck, 0x02)`, `mk = HMAC(ck, 0x01)`.
    package static func chainStep(_ chainKey: SecretBytes) -> (chainKey: SecretBytes, messageKey: SecretBytes) {
        (SecretBytes(KDF.hmac(key: chainKey.bytes, [0x02])), SecretBytes(KDF.hmac(key: chainKey.bytes, [0x01])))
    }

    /// `HKDF(salt = 0x00×32, ikm = mk, info = INFO_MSGKEYS, L = 44)` → (key, nonce).
    private static func messageKeyMaterial(_ messageKey: SecretBytes) -> (key: [UInt8], nonce: [UInt8]) {
        var output = KDF.hkdf(
            ikm: messageKey.bytes, salt: [UInt8](repeating: 0, count: 32), info: Profile.infoMessageKeys, length: 44)
        defer { Sodium.wipe(&output) }
        return (Array(output[0..<32]), Array(output[32..<44]))
    }

    private static func seal(_ plaintext: [UInt8], messageKey: SecretBytes, aad: [UInt8]) -> [UInt8] {
        var (key, nonce) = messageKeyMaterial(messageKey)
        defer { Sodium.wipe(&key) }
        return ChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, aad: aad)
    }

    private static func open(
        _ ciphertext: [UInt8], messageKey: SecretBytes, aad: [UInt8]
    ) throws(TBX1Error)
        -> [UInt8]
    {
        var (key, nonce) = messageKeyMaterial(messageKey)
        defer { Sodium.wipe(&key) }
        guard let plaintext = ChaCha20Poly1305.open(ciphertext, key: key, nonce: nonce, aad: aad) else {
            throw .decryptionFailed(.message)
        }
        return plaintext
    }
}

extension DoubleRatchet: Codable {
    /// The names of §8.3's `ratchet` object.
    enum CodingKeys: String, CodingKey {
        case rootKey = "RK"
        case sendingKey = "DHs"
        case receivingKey = "DHr"
        case sendingChain = "CKs"
        case receivingChain = "CKr"
        case sentCount = "Ns"
        case receivedCount = "Nr"
        case previousSentCount = "PN"
        case skippedKeys = "skipped"
        case previousReceivingKeys = "previous_DHr"
    }
}
