/// What the sealed-sender layer carries: a PreKeyMessage (type 0x01) or a NormalMessage (type 0x02) (§7.4).
public enum InnerMessage: Hashable, Sendable {
    case preKey(PreKeyMessage)
    case normal(RatchetMessage)

    static let preKeyType: UInt8 = 0x01
    static let normalType: UInt8 = 0x02

    /// Parses a message whose first byte is its type.
    public init(decoding bytes: [UInt8]) throws(TBX1Error) {
        var reader = ByteReader(bytes)
        switch try reader.readUInt8(.messageType) {
        case Self.preKeyType: self = .preKey(try PreKeyMessage(reading: &reader))
        case Self.normalType: self = .normal(try RatchetMessage(reading: &reader))
        default: throw .malformed(field: .messageType)
        }
    }

    /// The type byte, repeated in the sealed body's `msg_type`.
    public var type: UInt8 {
        switch self {
        case .preKey: Self.preKeyType
        case .normal: Self.normalType
        }
    }

    /// The ratchet message inside either kind.
    public var ratchetMessage: RatchetMessage {
        switch self {
        case .preKey(let message): message.ratchetMessage
        case .normal(let message): message
        }
    }

    public var encoded: [UInt8] {
        switch self {
        case .preKey(let message): [type] + message.body
        case .normal(let message): [type] + message.encoded
        }
    }
}
