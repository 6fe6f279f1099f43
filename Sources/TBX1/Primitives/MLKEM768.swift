internal import Crypto
internal import Foundation

/// An ML-KEM-768 public key (FIPS 203), 1184 raw bytes.
public struct MLKEM768PublicKey: FixedSizeBytes {
    public static let byteCount = 1184
    public static let field = WireField.mlkemPublicKey
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) {
        precondition(uncheckedBytes.count == Self.byteCount, "\(Self.field.rawValue) length")
        self.bytes = uncheckedBytes
    }

    /// Encapsulates a fresh shared secret to this key: (ciphertext, 32-byte shared secret).
    func encapsulate() throws(TBX1Error) -> (ciphertext: MLKEM768Ciphertext, sharedSecret: [UInt8]) {
        do {
            let result = try MLKEM768.PublicKey(rawRepresentation: bytes).encapsulate()
            let secret = result.sharedSecret.withUnsafeBytes { Array($0) }
            return (try MLKEM768Ciphertext(bytes: Array(result.encapsulated)), secret)
        } catch let error as TBX1Error {
            throw error
        } catch {
            throw .kemFailed("\(error)")
        }
    }
}

/// An ML-KEM-768 ciphertext, 1088 raw bytes.
public struct MLKEM768Ciphertext: FixedSizeBytes {
    public static let byteCount = 1088
    public static let field = WireField.kemCiphertext
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) {
        precondition(uncheckedBytes.count == Self.byteCount, "\(Self.field.rawValue) length")
        self.bytes = uncheckedBytes
    }
}

/// An ML-KEM-768 key pair, kept as its 64-byte seed d‖z.
///
/// swift-crypto imports only the seed form, never the 2400-byte expanded key (§7.7), so the seed is what is stored.
public struct MLKEM768KeyPair: Sendable {
    public let publicKey: MLKEM768PublicKey
    let seed: SecretBytes

    /// From the 64-byte seed d‖z.
    public init(seed: some Collection<UInt8>) throws(TBX1Error) {
        guard seed.count == 64 else { throw .invalidKey(.mlkemSeed) }
        let seedBytes = Array(seed)
        do {
            let key = try MLKEM768.PrivateKey(seedRepresentation: seedBytes, publicKey: nil)
            self.publicKey = try MLKEM768PublicKey(bytes: Array(key.publicKey.rawRepresentation))
        } catch let error as TBX1Error {
            throw error
        } catch {
            throw .kemFailed("\(error)")
        }
        self.seed = SecretBytes(seedBytes)
    }

    /// A fresh key pair from the system CSPRNG.
    public static func generate() throws(TBX1Error) -> MLKEM768KeyPair {
        var seed = Sodium.randomBytes(64)
        defer { Sodium.wipe(&seed) }
        return try MLKEM768KeyPair(seed: seed)
    }

    /// The 32-byte shared secret in `ciphertext`. A tampered ciphertext yields an unrelated secret, not an error
    /// (FIPS 203 implicit rejection); the AEAD that follows catches it.
    package func decapsulate(_ ciphertext: MLKEM768Ciphertext) throws(TBX1Error) -> [UInt8] {
        do {
            let key = try MLKEM768.PrivateKey(seedRepresentation: seed.bytes, publicKey: nil)
            return try key.decapsulate(ciphertext.bytes).withUnsafeBytes { Array($0) }
        } catch {
            throw .kemFailed("\(error)")
        }
    }
}

extension MLKEM768KeyPair: Codable {
    public init(from decoder: any Decoder) throws {
        let stored = try StoredKeyPair<MLKEM768PublicKey>(from: decoder)
        try self.init(seed: stored.secretKey.bytes)
        try stored.check(against: publicKey, .mlkemSeed)
    }

    public func encode(to encoder: any Encoder) throws {
        try StoredKeyPair(publicKey: publicKey, secretKey: seed).encode(to: encoder)
    }
}

extension MLKEM768KeyPair: CustomStringConvertible {
    public var description: String { "MLKEM768KeyPair(publicKey: \(publicKey.base64URL.prefix(16))…, secretKey: ***)" }
}
