import Foundation
import TBX1
import Testing

/// Two agents talking through sessions, as the client will use them.
@Suite struct ConversationTests {
    @Test func bothDirectionsAcrossSeveralRatchetTurns() throws {
        var talk = try Conversation()
        for turn in 0..<4 {
            let fromBob = try (0...turn).map { try talk.bobSeals("bob \(turn).\($0)") }
            #expect(try fromBob.map { try talk.aliceReads($0) } == (0...turn).map { "bob \(turn).\($0)" })
            let fromAlice = try (0..<3).map { try talk.aliceSeals("alice \(turn).\($0)") }
            #expect(try fromAlice.map { try talk.bobReads($0) } == (0..<3).map { "alice \(turn).\($0)" })
        }
        #expect(talk.aliceSession.ratchet.previousReceivingKeys.count == 4)
    }

    @Test func aliceSendsPreKeyMessagesUntilBobAnswers() throws {
        var talk = try Conversation()
        let second = try talk.aliceSeals("still a prekey message")
        guard case .preKey(let message) = try talk.bob.open(second).message else {
            Issue.record("expected a PreKeyMessage before Bob's first reply")
            return
        }
        #expect(message.baseKey == talk.aliceSession.baseKey)
        #expect(try talk.bobReads(second) == "still a prekey message")

        #expect(try talk.aliceReads(try talk.bobSeals("reply")) == "reply")
        #expect(!talk.aliceSession.isAwaitingFirstReply)
        guard case .normal = try talk.bob.open(try talk.aliceSeals("now normal")).message else {
            Issue.record("expected a NormalMessage after Bob's reply")
            return
        }
    }

    @Test func aLostFirstMessageIsRecoveredFromTheSecond() throws {
        let alice = try Agent()
        let bob = try Agent()
        var aliceSession = try Session.initiate(
            localAgentID: alice.agentID, identity: alice.identity, bundle: bob.bundle)
        let lost = try aliceSession.seal(Array("lost".utf8), identity: alice.identity)
        let second = try aliceSession.seal(Array("second".utf8), identity: alice.identity)
        var (bobSession, plaintext) = try Session.accept(
            bob.open(second), identity: bob.identity, prekeys: bob.prekeys)
        #expect(String(decoding: plaintext, as: UTF8.self) == "second")
        #expect(String(decoding: try bobSession.decrypt(bob.open(lost)), as: UTF8.self) == "lost")
    }

    @Test func aSessionSurvivesItsCodableStateMidConversation() throws {
        var talk = try Conversation()
        let early = try talk.bobSeals("sent before the save")
        _ = try talk.bobSeals("skipped, read after the save")
        let later = try talk.bobSeals("read before the save")
        #expect(try talk.aliceReads(later) == "read before the save")

        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        talk.aliceSession = try decoder.decode(Session.self, from: encoder.encode(talk.aliceSession))
        talk.bobSession = try decoder.decode(Session.self, from: encoder.encode(talk.bobSession))
        talk.bob.prekeys = try decoder.decode(PrekeyStore.self, from: encoder.encode(talk.bob.prekeys))

        #expect(try talk.aliceReads(early) == "sent before the save")
        for round in 0..<3 {
            #expect(try talk.bobReads(try talk.aliceSeals("a\(round)")) == "a\(round)")
            #expect(try talk.aliceReads(try talk.bobSeals("b\(round)")) == "b\(round)")
        }
    }

    @Test func theStateFileShapesAreTheDocumentedOnes() throws {
        let talk = try Conversation()
        let session = try JSONSerialization.jsonObject(with: JSONEncoder().encode(talk.bobSession)) as? [String: Any]
        let ratchet = try #require(session?["ratchet"] as? [String: Any])
        #expect(Set(ratchet.keys).isSuperset(of: ["RK", "DHs", "DHr", "CKs", "CKr", "Ns", "Nr", "PN", "skipped"]))
        #expect(session?["consumed_prekeys"] as? [String: Any] != nil)

        let prekeys = try JSONSerialization.jsonObject(with: JSONEncoder().encode(talk.bob.prekeys)) as? [String: Any]
        let signed = try #require((prekeys?["signedPrekeys"] as? [[String: Any]])?.first)
        #expect(Set(signed.keys) == ["keyId", "publicKey", "signature", "secretKey"])
        let pq = try #require((prekeys?["pqPrekeys"] as? [[String: Any]])?.first)
        let pqSecret = try #require(pq["secretKey"] as? String)
        #expect(pqSecret.count == 86, "the 64-byte seed in unpadded base64url, not the expanded key")

        let identity =
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(talk.alice.identity)) as? [String: Any]
        #expect((identity?["signing"] as? [String: String])?.keys.sorted() == ["publicKey", "secretKey"])
    }

    @Test func aBundleWithoutAOneTimePrekeyStillWorksAndSaysSo() throws {
        let alice = try Agent()
        var bob = try Agent(oneTime: 0, pq: 1)
        let bundle = bob.bundle
        #expect(bundle.oneTimePrekey == nil)
        var aliceSession = try Session.initiate(localAgentID: alice.agentID, identity: alice.identity, bundle: bundle)
        #expect(aliceSession.prekeys.oneTimePrekeyID == nil)
        let envelope = try aliceSession.seal(Array("no OPK".utf8), identity: alice.identity)
        let (bobSession, plaintext) = try Session.accept(
            bob.open(envelope), identity: bob.identity, prekeys: bob.prekeys)
        #expect(String(decoding: plaintext, as: UTF8.self) == "no OPK")
        #expect(bobSession.consumedPrekeys?.oneTimePrekeyID == nil)
        bob.prekeys.delete(try #require(bobSession.consumedPrekeys))
        #expect(bob.prekeys.pqPrekeys.isEmpty)
    }

    @Test func oneTimePrekeysRunOutVisiblyAndAreDeletedOnlyAfterTheAck() throws {
        var bob = try Agent(oneTime: 1, pq: 2)
        var servedOneTime: Set<UInt32> = []
        var servedPQ: Set<UInt32> = []
        let first = bob.serveBundle(servedOneTime: &servedOneTime, servedPQ: &servedPQ)
        let second = bob.serveBundle(servedOneTime: &servedOneTime, servedPQ: &servedPQ)
        #expect(first.oneTimePrekey != nil)
        #expect(second.oneTimePrekey == nil, "the pool of one is exhausted after one fetch")

        let carol = try Agent()
        var carolSession = try Session.initiate(localAgentID: carol.agentID, identity: carol.identity, bundle: first)
        let envelope = try carolSession.seal(Array("hi".utf8), identity: carol.identity)
        var (bobSession, _) = try Session.accept(bob.open(envelope), identity: bob.identity, prekeys: bob.prekeys)
        let consumed = try #require(bobSession.consumedPrekeys)
        #expect(consumed.oneTimePrekeyID == first.oneTimePrekey?.keyID)
        #expect(bob.prekeys.oneTimePrekeys.count == 1, "accepting deletes nothing; the secret waits for the ack")

        // The same envelope fetched again before the ack (--no-ack) still accepts from scratch.
        _ = try Session.accept(bob.open(envelope), identity: bob.identity, prekeys: bob.prekeys)

        // The ack: now the caller deletes, and a re-delivery can no longer start a session.
        bob.prekeys.delete(consumed)
        bobSession.prekeysDeleted()
        #expect(bobSession.consumedPrekeys == nil)
        #expect(bob.prekeys.oneTimePrekeys.isEmpty)
        #expect(bob.prekeys.pqPrekeys.map(\.keyID) == [second.pqPrekey.keyID])
        #expect(throws: TBX1Error.unknownPrekey(.oneTime, keyID: consumed.oneTimePrekeyID!)) {
            try Session.accept(bob.open(envelope), identity: bob.identity, prekeys: bob.prekeys)
        }
        #expect("\(TBX1Error.unknownPrekey(.oneTime, keyID: 7))" == "missing one-time pre-key secret for key_id 7")
    }

    @Test func aNewHandshakeFromTheSamePeerIsNotThisSession() throws {
        var talk = try Conversation()
        var restarted = try Session.initiate(
            localAgentID: talk.alice.agentID, identity: talk.alice.identity, bundle: talk.bob.bundle)
        let envelope = try restarted.seal(Array("again".utf8), identity: talk.alice.identity)
        #expect(throws: TBX1Error.notThisSession) { try talk.bobReads(envelope) }
        let (replacement, plaintext) = try Session.accept(
            talk.bob.open(envelope), identity: talk.bob.identity, prekeys: talk.bob.prekeys)
        #expect(String(decoding: plaintext, as: UTF8.self) == "again")
        #expect(replacement.baseKey == restarted.baseKey)
    }

    @Test func aMessageFromSomeoneElseIsRejectedBySession() throws {
        var talk = try Conversation()
        let mallory = try Agent()
        var malloryToBob = try Session.initiate(
            localAgentID: mallory.agentID, identity: mallory.identity, bundle: talk.bob.bundle)
        let envelope = try malloryToBob.seal(Array("hi".utf8), identity: mallory.identity)
        #expect(throws: TBX1Error.senderMismatch) { try talk.bobReads(envelope) }
        #expect(throws: TBX1Error.identityMismatch) {
            try talk.aliceSession.seal(Array("x".utf8), identity: mallory.identity)
        }
        let normal = try talk.bobSeals("to alice")
        #expect(throws: TBX1Error.noSession) {
            try Session.accept(talk.alice.open(normal), identity: talk.alice.identity, prekeys: talk.alice.prekeys)
        }
    }

    @Test func forgedPrekeySignaturesAreRefused() throws {
        let alice = try Agent()
        let bob = try Agent()
        let mallory = try Agent()
        let good = bob.bundle
        let badSigned = PrekeyBundle(
            agentID: good.agentID, identity: good.identity, signedPrekey: mallory.bundle.signedPrekey,
            oneTimePrekey: good.oneTimePrekey, pqPrekey: good.pqPrekey)
        #expect(throws: TBX1Error.badSignature(.signedPrekey)) {
            try Session.initiate(localAgentID: alice.agentID, identity: alice.identity, bundle: badSigned)
        }
        let badPQ = PrekeyBundle(
            agentID: good.agentID, identity: good.identity, signedPrekey: good.signedPrekey,
            oneTimePrekey: good.oneTimePrekey, pqPrekey: mallory.bundle.pqPrekey)
        #expect(throws: TBX1Error.badSignature(.pqPrekey)) {
            try Session.initiate(localAgentID: alice.agentID, identity: alice.identity, bundle: badPQ)
        }
    }

    @Test func theBundleDecodesFromTheEmulatorsJSON() throws {
        let bob = try Agent()
        let json = try JSONEncoder().encode(bob.bundle)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "agent_id", "identity_signing_key", "identity_dh_key", "signed_prekey", "one_time_prekey", "pq_prekey",
            ])
        #expect((object["signed_prekey"] as? [String: Any])?.keys.sorted() == ["key_id", "public_key", "signature"])
        #expect(try JSONDecoder().decode(PrekeyBundle.self, from: json) == bob.bundle)
        var withoutOneTime = object
        withoutOneTime["one_time_prekey"] = NSNull()
        let decoded = try JSONDecoder().decode(
            PrekeyBundle.self, from: JSONSerialization.data(withJSONObject: withoutOneTime))
        #expect(decoded.oneTimePrekey == nil)
    }
}
