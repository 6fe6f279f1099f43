internal import Foundation

extension UUID {
    /// The 16 raw bytes, as TBX-1 encodes agent ids (§7.4).
    var rawBytes: [UInt8] { withUnsafeBytes(of: uuid) { Array($0) } }

    /// From 16 raw bytes; the caller has checked the count.
    init(rawBytes b: [UInt8]) {
        self.init(
            uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        )
    }
}
