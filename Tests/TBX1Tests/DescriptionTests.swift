import Foundation
import TBX1
import Testing

/// No secret shows in `description`, `debugDescription` or `dump` of any type that holds one.
@Suite struct DescriptionTests {
    /// Every secret in `value`'s Codable form (the `secretKey`, `RK`, `CK*` and `mk` fields), as base64url.
    static func secrets(in value: some Encodable) throws -> [String] {
        func collect(_ object: Any, into found: inout [String]) {
            if let dictionary = object as? [String: Any] {
                for (key, child) in dictionary {
                    if ["secretKey", "RK", "CKs", "CKr", "mk"].contains(key), let text = child as? String {
                        found.append(text)
                    } else {
                        collect(child, into: &found)
                    }
                }
            } else if let array = object as? [Any] {
                for child in array { collect(child, into: &found) }
            }
        }
        var found: [String] = []
        collect(try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)), into: &found)
        return found
    }

    static func expectNoSecretPrinted(_ value: some Encodable, expectedSecrets: Int) throws {
        let secrets = try secrets(in: value)
        #expect(secrets.count >= expectedSecrets)
        var dumped = ""
        dump(value, to: &dumped)
        let printed = [String(describing: value), String(reflecting: value), dumped]
        for text in printed {
            for secret in secrets {
                #expect(!text.contains(secret), "a secret is printed in \(text)")
                #expect(!text.contains(String(secret.prefix(12))))
            }
        }
    }

    @Test func keysPrekeysAndSessionsPrintNoSecrets() throws {
        var talk = try Conversation()
        _ = try talk.bobSeals("leave a skipped key")
        #expect(try talk.aliceReads(try talk.bobSeals("second")) == "second")
        try Self.expectNoSecretPrinted(talk.alice.identity, expectedSecrets: 2)
        try Self.expectNoSecretPrinted(talk.alice.identity.dh, expectedSecrets: 1)
        try Self.expectNoSecretPrinted(talk.alice.identity.signing, expectedSecrets: 1)
        try Self.expectNoSecretPrinted(talk.bob.prekeys, expectedSecrets: 5)
        try Self.expectNoSecretPrinted(talk.bob.prekeys.signedPrekeys[0], expectedSecrets: 1)
        try Self.expectNoSecretPrinted(talk.bob.prekeys.oneTimePrekeys[0], expectedSecrets: 1)
        try Self.expectNoSecretPrinted(talk.bob.prekeys.pqPrekeys[0], expectedSecrets: 1)
        try Self.expectNoSecretPrinted(talk.bob.prekeys.pqPrekeys[0].keyPair, expectedSecrets: 1)
        try Self.expectNoSecretPrinted(talk.aliceSession, expectedSecrets: 5)
        try Self.expectNoSecretPrinted(talk.bobSession, expectedSecrets: 4)
        #expect("\(talk.alice.identity.dh)".contains("secretKey: ***"))
    }
}
