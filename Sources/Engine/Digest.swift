internal import CSodium

enum Digest {
    /// 16-byte BLAKE2b as hex.
    static func blake2b(_ bytes: [UInt8]) -> String {
        _ = sodium_init()
        var output = [UInt8](repeating: 0, count: 16)
        _ = crypto_generichash(&output, output.count, bytes, UInt64(bytes.count), nil, 0)
        return output.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }
}
