import Foundation
import TBX1
import Testing

/// The key encodings of §3: raw lengths, unpadded base64url, and the secret forms the state file may hold.
@Suite struct KeyEncodingTests {
    @Test func ed25519SecretsAreReadAsSeedOrSeedAndPublicKey() throws {
        let pair = Ed25519KeyPair.generate()
        let json = try JSONEncoder().encode(pair)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: String])
        let seed = try #require(object["secretKey"])
        #expect(seed.count == 43, "the 32-byte seed, unpadded")

        let seedBytes = try X25519PublicKey(base64URL: seed).bytes
        let long = try Ed25519KeyPair(secretKey: seedBytes + pair.publicKey.bytes)
        #expect(long.publicKey == pair.publicKey)
        #expect(throws: TBX1Error.keyPairMismatch(.ed25519SecretKey)) {
            try Ed25519KeyPair(secretKey: seedBytes + X25519KeyPair.generate().publicKey.bytes)
        }
        let message = Array("signed".utf8)
        #expect(pair.publicKey.isValidSignature(long.sign(message), for: message))
        #expect(!pair.publicKey.isValidSignature(long.sign(message), for: Array("other".utf8)))
    }

    @Test func aStoredPublicKeyMustMatchItsSecret() throws {
        let pair = X25519KeyPair.generate()
        var object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(pair)) as? [String: String])
        object["publicKey"] = X25519KeyPair.generate().publicKey.base64URL
        #expect(throws: TBX1Error.keyPairMismatch(.x25519SecretKey)) {
            try JSONDecoder().decode(X25519KeyPair.self, from: JSONSerialization.data(withJSONObject: object))
        }
    }

    @Test func mlkemSecretsAreSeedsOnly() throws {
        let pair = try MLKEM768KeyPair.generate()
        #expect(pair.publicKey.bytes.count == 1184)
        #expect(pair.publicKey.base64URL.count == 1579)
        let decoded = try JSONDecoder().decode(MLKEM768KeyPair.self, from: JSONEncoder().encode(pair))
        #expect(decoded.publicKey == pair.publicKey)
        #expect(throws: TBX1Error.invalidKey(.mlkemSeed)) {
            try MLKEM768KeyPair(seed: [UInt8](repeating: 1, count: 2400))
        }
    }

    @Test(arguments: [
        "", "AAAA", "kGFKfezYQrHxCkdv7SKe0Ay6HqMGdHm9vgSsJS7ynMs=", "kGFKfezYQrHxCkdv7SKe0Ay6HqMGdHm9vgSsJS7ynM+",
    ])
    func publicKeysNeedExactUnpaddedBase64URL(text: String) {
        #expect(throws: TBX1Error.invalidKey(.ed25519PublicKey)) { try Ed25519PublicKey(base64URL: text) }
    }

    @Test func prekeyIDsCountUpAndStayBelowTwoToTheThirtyOne() throws {
        let identity = IdentityKeyPair.generate()
        var store = PrekeyStore(firstKeyID: 1_846_000_000)
        #expect(try store.generateSignedPrekey(signedBy: identity).keyID == 1_846_000_000)
        #expect(
            try store.generateOneTimePrekeys(count: 3).map(\.keyID) == [1_846_000_001, 1_846_000_002, 1_846_000_003])
        #expect(try store.generatePQPrekeys(count: 1, signedBy: identity).map(\.keyID) == [1_846_000_004])

        var full = PrekeyStore(firstKeyID: (1 << 31) - 1)
        #expect(try full.generateOneTimePrekeys(count: 1).map(\.keyID) == [(1 << 31) - 1])
        #expect(throws: TBX1Error.keyIDsExhausted) { try full.generateOneTimePrekeys(count: 1) }
    }
}
