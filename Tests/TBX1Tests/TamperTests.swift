import Foundation
import TBX1
import Testing

/// Altered, replayed, truncated and misdirected envelopes all fail, and fail without moving the session.
@Suite struct TamperTests {
    /// Opens and ratchet-decrypts as the client would: the existing session, or a new one for a PreKeyMessage.
    static func receive(_ envelope: Envelope, by agent: Agent, session: Session?) throws -> [UInt8] {
        let opened = try agent.open(envelope)
        if var session { return try session.decrypt(opened) }
        return try Session.accept(opened, identity: agent.identity, prekeys: agent.prekeys).plaintext
    }

    static func flippingEachByte(
        of envelope: Envelope, by agent: Agent, session: Session?
    ) -> (accepted: [Int], errors: Set<String>) {
        var accepted: [Int] = []
        var errors: Set<String> = []
        for index in envelope.bytes.indices {
            var bytes = envelope.bytes
            bytes[index] ^= 0x01
            do {
                _ = try receive(Envelope(bytes: bytes), by: agent, session: session)
                accepted.append(index)
            } catch {
                errors.insert("\(error)")
            }
        }
        return (accepted, errors)
    }

    @Test func everyFlippedByteOfAPreKeyEnvelopeFails() throws {
        let alice = try Agent()
        let bob = try Agent()
        var session = try Session.initiate(localAgentID: alice.agentID, identity: alice.identity, bundle: bob.bundle)
        let envelope = try session.seal(Array("tamper with me".utf8), identity: alice.identity)
        #expect(try Self.receive(envelope, by: bob, session: nil) == Array("tamper with me".utf8))

        let result = Self.flippingEachByte(of: envelope, by: bob, session: nil)
        #expect(result.accepted.isEmpty)
        #expect(result.errors.contains("unsupported envelope version 0"))
    }

    @Test func everyFlippedByteOfANormalEnvelopeFailsAndLeavesTheSessionWorking() throws {
        var talk = try Conversation()
        let envelope = try talk.bobSeals("tamper with me too")
        let result = Self.flippingEachByte(of: envelope, by: talk.alice, session: talk.aliceSession)
        #expect(result.accepted.isEmpty)
        #expect(try talk.aliceReads(envelope) == "tamper with me too")
    }

    @Test func aTamperedRatchetMessageUnderAValidSealFailsAndLeavesTheSessionAsItWas() throws {
        // What only the sender could do: seal, and sign, a ratchet message whose ciphertext it altered.
        var talk = try Conversation()
        let envelope = try talk.bobSeals("y")
        let inner = try talk.alice.open(envelope).message
        var bytes = inner.encoded
        bytes[bytes.count - 1] ^= 0x80
        let forged = try SealedSender.seal(
            InnerMessage(decoding: bytes), sender: talk.bob.identity, senderAgentID: talk.bob.agentID,
            recipientAgentID: talk.alice.agentID, recipientDHKey: talk.alice.identity.dh.publicKey,
            timestampMilliseconds: 1, ephemeral: .generate())
        let before = try Conversation.stateJSON(talk.aliceSession)
        #expect(throws: TBX1Error.decryptionFailed(.message)) { try talk.aliceReads(forged) }
        #expect(
            try Conversation.stateJSON(talk.aliceSession) == before, "a failed decrypt leaves the session as it was")
        #expect(try talk.aliceReads(envelope) == "y")
    }

    @Test func aReplayedMessageFails() throws {
        var talk = try Conversation()
        let envelope = try talk.bobSeals("once")
        #expect(try talk.aliceReads(envelope) == "once")
        #expect(throws: TBX1Error.duplicateMessage) { try talk.aliceReads(envelope) }

        let skipped = try talk.bobSeals("read late")
        let newest = try talk.bobSeals("read first")
        #expect(try talk.aliceReads(newest) == "read first")
        #expect(try talk.aliceReads(skipped) == "read late")
        #expect(throws: TBX1Error.duplicateMessage) { try talk.aliceReads(skipped) }
        #expect(throws: TBX1Error.duplicateMessage) { try talk.aliceReads(newest) }

        // A message from a chain that has since been ratcheted past.
        let oldChain = try talk.aliceSeals("old chain")
        #expect(try talk.bobReads(oldChain) == "old chain")
        #expect(try talk.aliceReads(try talk.bobSeals("turn")) == "turn")
        #expect(try talk.bobReads(try talk.aliceSeals("new chain")) == "new chain")
        #expect(throws: TBX1Error.duplicateMessage) { try talk.bobReads(oldChain) }
    }

    @Test func anEnvelopeForSomeoneElseOrAnotherIDFails() throws {
        var talk = try Conversation()
        let envelope = try talk.aliceSeals("for bob")
        let carol = try Agent()
        #expect(throws: TBX1Error.decryptionFailed(.senderIdentity)) { try carol.open(envelope) }
        // Bob's keys but another agent id: the signature covers the recipient id, so no forwarding.
        #expect(throws: TBX1Error.badSignature(.sender)) {
            try envelope.open(recipient: talk.bob.identity, recipientAgentID: UUID())
        }
    }

    @Test func aTimestampFarInTheFutureIsRefused() throws {
        var talk = try Conversation()
        let now = Envelope.currentMilliseconds()
        let envelope = try talk.aliceSession.seal(
            Array("from the future".utf8), identity: talk.alice.identity, timestampMilliseconds: now + 11 * 60_000)
        #expect(throws: TBX1Error.timestampInFuture(timestampMilliseconds: now + 11 * 60_000, nowMilliseconds: now)) {
            try talk.bob.open(envelope, at: now)
        }
        #expect(try talk.bob.open(envelope, at: now + 2 * 60_000).timestampMilliseconds == now + 11 * 60_000)
    }

    @Test(arguments: [
        (0, TBX1Error.malformed(field: .version)),
        (1, .malformed(field: .ephemeralKey)),
        (20, .malformed(field: .ephemeralKey)),
        (60, .malformed(field: .encryptedSenderIdentity)),
        (81 + 100, .malformed(field: .encryptedBody)),
    ])
    func truncatedEnvelopesNameTheField(length: Int, expected: TBX1Error) throws {
        var talk = try Conversation()
        let envelope = try talk.aliceSeals("short")
        let truncated = Envelope(bytes: Array(envelope.bytes.prefix(length)))
        #expect(throws: expected) { try talk.bob.open(truncated) }
    }

    @Test func malformedInnerMessagesNameTheField() throws {
        #expect(throws: TBX1Error.malformed(field: .messageType)) { try InnerMessage(decoding: [0x07]) }
        #expect(throws: TBX1Error.malformed(field: .messageType)) { try InnerMessage(decoding: []) }
        #expect(throws: TBX1Error.malformed(field: .ciphertext)) {
            try InnerMessage(decoding: [0x02] + [UInt8](repeating: 1, count: 40 + 15))
        }
        #expect(throws: TBX1Error.malformed(field: .counter)) {
            try InnerMessage(decoding: [0x02] + [UInt8](repeating: 1, count: 38))
        }
        var preKey = [0x01] + [UInt8](repeating: 9, count: 96) + [0, 0, 0, 1]
        #expect(throws: TBX1Error.malformed(field: .oneTimePrekeyFlag)) { try InnerMessage(decoding: preKey + [2]) }
        preKey += [1, 0, 0]
        #expect(throws: TBX1Error.malformed(field: .oneTimePrekeyID)) { try InnerMessage(decoding: preKey) }
        preKey += [0, 0, 0, 0, 0, 0, 0, 3] + [UInt8](repeating: 0, count: 1000)
        #expect(throws: TBX1Error.malformed(field: .kemCiphertext)) { try InnerMessage(decoding: preKey) }
    }

    @Test func envelopesUseStrictPaddedBase64() throws {
        var talk = try Conversation()
        let envelope = try talk.aliceSeals("base64")
        #expect(try Envelope(base64: envelope.base64) == envelope)
        #expect(envelope.base64.hasSuffix("=") == (envelope.bytes.count % 3 != 0))
        for bad in ["", "AQ", "AQ=", "A Q==", "AQ==\n", "-_8="] {
            #expect(throws: TBX1Error.malformed(field: .base64)) { try Envelope(base64: bad) }
        }
        #expect(try Envelope(base64: "AQ==").bytes == [1])
    }
}
