/// Which of the responder's prekeys one PQXDH handshake used: the ids a PreKeyMessage carries.
///
/// On the responder, the one-time and PQ secrets it names must be kept until the message that used them is acked,
/// then deleted (§7.5) with `PrekeyStore.delete(_:)`.
public struct PrekeyUse: Hashable, Codable, Sendable {
    public let signedPrekeyID: UInt32
    /// Nil when the bundle had no one-time prekey left.
    public let oneTimePrekeyID: UInt32?
    public let pqPrekeyID: UInt32

    public init(signedPrekeyID: UInt32, oneTimePrekeyID: UInt32?, pqPrekeyID: UInt32) {
        self.signedPrekeyID = signedPrekeyID
        self.oneTimePrekeyID = oneTimePrekeyID
        self.pqPrekeyID = pqPrekeyID
    }

    enum CodingKeys: String, CodingKey {
        case signedPrekeyID = "spk_id"
        case oneTimePrekeyID = "opk_id"
        case pqPrekeyID = "pq_id"
    }
}
