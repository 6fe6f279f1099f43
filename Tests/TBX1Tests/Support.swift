import Foundation
import TBX1

/// One agent in a test conversation: its id, identity and prekey secrets, and a bundle it "uploaded".
struct Agent {
    let agentID: UUID
    let identity: IdentityKeyPair
    var prekeys: PrekeyStore

    /// A fresh agent with one signed prekey, `oneTime` one-time prekeys and `pq` PQ prekeys.
    init(oneTime: Int = 2, pq: Int = 2) throws {
        agentID = UUID()
        identity = IdentityKeyPair.generate()
        prekeys = PrekeyStore(firstKeyID: 1_846_000_000)
        _ = try prekeys.generateSignedPrekey(signedBy: identity)
        _ = try prekeys.generateOneTimePrekeys(count: oneTime)
        _ = try prekeys.generatePQPrekeys(count: pq, signedBy: identity)
    }

    /// What the server would hand out, consuming the first one-time and PQ prekey it still has (§5.4); the
    /// agent keeps the secrets until it acks.
    mutating func serveBundle(servedOneTime: inout Set<UInt32>, servedPQ: inout Set<UInt32>) -> PrekeyBundle {
        let oneTime = prekeys.oneTimePrekeys.first { !servedOneTime.contains($0.keyID) }
        let pq = prekeys.pqPrekeys.first { !servedPQ.contains($0.keyID) }!
        if let oneTime { servedOneTime.insert(oneTime.keyID) }
        servedPQ.insert(pq.keyID)
        return PrekeyBundle(
            agentID: agentID, identity: identity.publicKeys, signedPrekey: prekeys.signedPrekeys.last!.publicPart,
            oneTimePrekey: oneTime?.publicPart, pqPrekey: pq.publicPart)
    }

    /// A bundle with the first one-time and PQ prekeys (for tests that fetch once).
    var bundle: PrekeyBundle {
        PrekeyBundle(
            agentID: agentID, identity: identity.publicKeys, signedPrekey: prekeys.signedPrekeys.last!.publicPart,
            oneTimePrekey: prekeys.oneTimePrekeys.first?.publicPart, pqPrekey: prekeys.pqPrekeys.first!.publicPart)
    }

    func open(
        _ envelope: Envelope, at now: UInt64 = Envelope.currentMilliseconds()
    ) throws(TBX1Error)
        -> OpenedEnvelope
    {
        try envelope.open(recipient: identity, recipientAgentID: agentID, nowMilliseconds: now)
    }
}

/// Alice has started a session to Bob and Bob has accepted her first message.
struct Conversation {
    var alice: Agent
    var bob: Agent
    var aliceSession: Session
    var bobSession: Session

    init() throws {
        alice = try Agent()
        bob = try Agent()
        aliceSession = try Session.initiate(localAgentID: alice.agentID, identity: alice.identity, bundle: bob.bundle)
        let first = try aliceSession.seal(Array("hello".utf8), identity: alice.identity)
        (bobSession, _) = try Session.accept(bob.open(first), identity: bob.identity, prekeys: bob.prekeys)
    }

    /// A session's Codable state with sorted keys, to compare two states byte for byte.
    static func stateJSON(_ session: Session) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(session)
    }

    mutating func aliceSeals(_ text: String) throws -> Envelope {
        try aliceSession.seal(Array(text.utf8), identity: alice.identity)
    }

    mutating func bobSeals(_ text: String) throws -> Envelope {
        try bobSession.seal(Array(text.utf8), identity: bob.identity)
    }

    mutating func bobReads(_ envelope: Envelope) throws -> String {
        String(decoding: try bobSession.decrypt(bob.open(envelope)), as: UTF8.self)
    }

    mutating func aliceReads(_ envelope: Envelope) throws -> String {
        String(decoding: try aliceSession.decrypt(alice.open(envelope)), as: UTF8.self)
    }
}

extension [UInt8] {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
