import Foundation
import TBX1
import Testing

/// Out-of-order and lost messages within MAX_SKIP; beyond it a clean error (§7.4).
@Suite struct SkippedKeyTests {
    @Test func outOfOrderAndLostMessagesDecrypt() throws {
        var talk = try Conversation()
        let envelopes = try (0..<10).map { try talk.bobSeals("m\($0)") }
        for index in [9, 3, 0, 7, 5] {
            #expect(try talk.aliceReads(envelopes[index]) == "m\(index)")
        }
        // 1, 2, 4, 6 and 8 are lost; the conversation goes on across the next ratchet turn.
        #expect(try talk.bobReads(try talk.aliceSeals("after")) == "after")
        let late = try talk.bobSeals("late")
        let later = try talk.bobSeals("later")
        #expect(try talk.aliceReads(later) == "later")
        #expect(try talk.aliceReads(envelopes[8]) == "m8", "a key from the previous chain is still kept")
        #expect(try talk.aliceReads(late) == "late")
        #expect(talk.aliceSession.ratchet.skippedKeys.count == 4, "1, 2, 4 and 6 are still kept")
    }

    @Test func skippingExactlyMaxSkipWorks() throws {
        var talk = try Conversation()
        let envelopes = try (0...DoubleRatchet.maxSkip).map { try talk.bobSeals("m\($0)") }
        #expect(try talk.aliceReads(envelopes[DoubleRatchet.maxSkip]) == "m\(DoubleRatchet.maxSkip)")
        #expect(talk.aliceSession.ratchet.skippedKeys.count == DoubleRatchet.maxSkip)
        #expect(try talk.aliceReads(envelopes[0]) == "m0")
    }

    @Test func skippingMoreThanMaxSkipFailsCleanly() throws {
        var talk = try Conversation()
        let envelopes = try (0...DoubleRatchet.maxSkip + 1).map { try talk.bobSeals("m\($0)") }
        let before = try Conversation.stateJSON(talk.aliceSession)
        #expect(throws: TBX1Error.tooManySkippedMessages(skipping: 1001, limit: 1000)) {
            try talk.aliceReads(envelopes[DoubleRatchet.maxSkip + 1])
        }
        #expect(try Conversation.stateJSON(talk.aliceSession) == before)
        #expect(try talk.aliceReads(envelopes[0]) == "m0", "the session still works after the refusal")
        #expect(try talk.aliceReads(envelopes[DoubleRatchet.maxSkip + 1]) == "m1001")
    }

    @Test func aPreviousChainLongerThanMaxSkipFailsCleanly() throws {
        var talk = try Conversation()
        #expect(try talk.aliceReads(try talk.bobSeals("first")) == "first")
        _ = try (0...DoubleRatchet.maxSkip).map { try talk.bobSeals("lost \($0)") }
        #expect(try talk.bobReads(try talk.aliceSeals("hello")) == "hello")
        // Bob's next message says his previous chain held 1002 messages; Alice has read one of them.
        let next = try talk.bobSeals("new chain")
        #expect(throws: TBX1Error.tooManySkippedMessages(skipping: 1001, limit: 1000)) { try talk.aliceReads(next) }
    }

    @Test func theStoredSkippedKeysAreCappedOldestFirst() throws {
        var talk = try Conversation()
        var firstOfEachChain: [Envelope] = []
        for chain in 0..<3 {
            let envelopes = try (0...DoubleRatchet.maxSkip).map { try talk.bobSeals("c\(chain) m\($0)") }
            firstOfEachChain.append(envelopes[0])
            #expect(try talk.aliceReads(envelopes[DoubleRatchet.maxSkip]) == "c\(chain) m1000")
            #expect(try talk.bobReads(try talk.aliceSeals("turn \(chain)")) == "turn \(chain)")
        }
        #expect(talk.aliceSession.ratchet.skippedKeys.count == DoubleRatchet.maxStoredSkippedKeys)
        #expect(throws: TBX1Error.duplicateMessage) { try talk.aliceReads(firstOfEachChain[0]) }
        #expect(try talk.aliceReads(firstOfEachChain[1]) == "c1 m0")
        #expect(try talk.aliceReads(firstOfEachChain[2]) == "c2 m0")
    }

    @Test func skippedKeysOfChainsOlderThanTheLastFiveAreDropped() throws {
        var talk = try Conversation()
        let envelopes = try (0..<2).map { try talk.bobSeals("chain 0 m\($0)") }
        #expect(try talk.aliceReads(envelopes[1]) == "chain 0 m1")
        // Each turn makes Alice a new receiving chain; chain 0 is the fifth previous one after five turns.
        for turn in 0...DoubleRatchet.maxPreviousReceivingChains {
            #expect(talk.aliceSession.ratchet.skippedKeys.count == 1)
            #expect(try talk.bobReads(try talk.aliceSeals("a\(turn)")) == "a\(turn)")
            #expect(try talk.aliceReads(try talk.bobSeals("b\(turn)")) == "b\(turn)")
        }
        #expect(talk.aliceSession.ratchet.skippedKeys.isEmpty)
        // A chain this old is forgotten altogether: its key looks new, and the message cannot authenticate.
        #expect(throws: TBX1Error.decryptionFailed(.message)) { try talk.aliceReads(envelopes[0]) }
        #expect(try talk.aliceReads(try talk.bobSeals("still fine")) == "still fine")
    }
}
