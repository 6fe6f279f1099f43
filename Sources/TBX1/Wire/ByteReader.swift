/// Reads the big-endian fields of §7.4's formats, naming the field that runs short.
struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func read(_ count: Int, _ field: WireField) throws(TBX1Error) -> [UInt8] {
        guard count <= remaining else { throw .malformed(field: field) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func read<Value: FixedSizeBytes>(_: Value.Type, _ field: WireField) throws(TBX1Error) -> Value {
        Value(uncheckedBytes: try read(Value.byteCount, field))
    }

    mutating func readUInt8(_ field: WireField) throws(TBX1Error) -> UInt8 {
        try read(1, field)[0]
    }

    mutating func readUInt32(_ field: WireField) throws(TBX1Error) -> UInt32 {
        try read(4, field).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func readUInt64(_ field: WireField) throws(TBX1Error) -> UInt64 {
        try read(8, field).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Everything left; at least `minimum` bytes.
    mutating func readRest(atLeast minimum: Int, _ field: WireField) throws(TBX1Error) -> [UInt8] {
        try read(max(remaining, minimum), field)
    }
}

extension [UInt8] {
    /// Appends `value` big-endian in `byteCount` bytes.
    mutating func append(bigEndian value: some FixedWidthInteger) {
        let byteCount = value.bitWidth / 8
        for index in (0..<byteCount).reversed() { append(UInt8(truncatingIfNeeded: value >> (index * 8))) }
    }
}
