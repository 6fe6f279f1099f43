import Foundation
import Secrets
import TestSupport
import Testing

@Suite struct SecretStoreTests {
    static func directory() throws -> URL {
        let url = testTemporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let keyA = Data(repeating: 7, count: 32).base64EncodedString()
    static let keyB = Data(repeating: 9, count: 32).base64EncodedString()

    @Test func valuesRoundTripAndNamesNeedNoKey() throws {
        let path = try Self.directory().appendingPathComponent(SecretStore.fileName).path
        let (key, spec) = try SecretKey.resolve(for: nil, environment: ["SWITCHBOARD_KEY": Self.keyA])
        var store = try SecretStore.create(path, spec: spec, key: key)
        try store.set("WEBHOOK", value: "https://hooks.example.invalid/T0/abc", key: key)
        try store.set("TOKEN", value: "s3cr3t-token", key: key)
        try store.save()
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("s3cr3t-token") && !text.contains("hooks.example"))
        let reopened = try #require(try SecretStore.open(path))
        #expect(reopened.names == ["TOKEN", "WEBHOOK"])
        #expect(
            try reopened.values(key) == ["WEBHOOK": "https://hooks.example.invalid/T0/abc", "TOKEN": "s3cr3t-token"])
    }

    @Test func aWrongKeyIsToldAndNothingIsOverwritten() throws {
        let path = try Self.directory().appendingPathComponent(SecretStore.fileName).path
        let (key, spec) = try SecretKey.resolve(for: nil, environment: ["SWITCHBOARD_KEY": Self.keyA])
        var store = try SecretStore.create(path, spec: spec, key: key)
        try store.set("TOKEN", value: "s3cr3t-token", key: key)
        try store.save()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let (wrong, _) = try SecretKey.resolve(for: spec, environment: ["SWITCHBOARD_KEY": Self.keyB])
        var reopened = try #require(try SecretStore.open(path))
        #expect(throws: SecretError.self) { try reopened.values(wrong) }
        do {
            try reopened.set("OTHER", value: "another-one", key: wrong)
            Issue.record("set with a wrong key succeeded")
        } catch {
            #expect(error.message.contains("wrong key (from SWITCHBOARD_KEY)"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func aValueMovedUnderAnotherNameOrAlteredDoesNotOpen() throws {
        let path = try Self.directory().appendingPathComponent(SecretStore.fileName).path
        let (key, spec) = try SecretKey.resolve(for: nil, environment: ["SWITCHBOARD_KEY": Self.keyA])
        var store = try SecretStore.create(path, spec: spec, key: key)
        try store.set("A", value: "value-of-a", key: key)
        try store.set("B", value: "value-of-b", key: key)
        try store.save()
        var json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var secrets = try #require(json["secrets"] as? [String: String])
        secrets["B"] = secrets["A"]
        json["secrets"] = secrets
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        let swapped = try #require(try SecretStore.open(path))
        do {
            _ = try swapped.values(key)
            Issue.record("a value moved to another name opened")
        } catch {
            #expect(error.message.contains("the value of B does not open"))
        }
    }

    @Test func corruptNewerAndForeignFilesAreClearErrors() throws {
        let directory = try Self.directory()
        let path = directory.appendingPathComponent(SecretStore.fileName).path
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: SecretError.self) { try SecretStore.open(path) }
        try Data(
            #"{"format":"switchboard-secrets","version":9,"cipher":"x","key":{"source":"key"},"check":"","secrets":{}}"#
                .utf8
        )
        .write(to: URL(fileURLWithPath: path))
        do {
            _ = try SecretStore.open(path)
            Issue.record("a newer store opened")
        } catch {
            #expect(error.message.contains("version 9 is newer"))
        }
        #expect(try SecretStore.open(directory.appendingPathComponent("absent.json").path) == nil)
    }

    @Test func keyFilesMustBePrivateAndKeysWellFormed() throws {
        let directory = try Self.directory()
        let file = directory.appendingPathComponent("key")
        try Data((Self.keyA + "\n").utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        do {
            _ = try SecretKey.resolve(for: nil, environment: ["SWITCHBOARD_KEY_FILE": file.path])
            Issue.record("a key file others can read was accepted")
        } catch {
            #expect(error.message.contains("mode 644"))
            #expect(error.hint == "chmod 600 \(file.path)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let (fromFile, _) = try SecretKey.resolve(for: nil, environment: ["SWITCHBOARD_KEY_FILE": file.path])
        #expect(fromFile.origin == file.path)
        #expect(throws: SecretError.self) { try SecretKey.resolve(for: nil, environment: ["SWITCHBOARD_KEY": "short"]) }
        #expect(throws: SecretError.self) { try SecretKey.resolve(for: nil, environment: [:]) }
        // A store sealed with a key does not take a passphrase instead.
        #expect(throws: SecretError.self) {
            try SecretKey.resolve(
                for: SecretStore.KeySpec(source: "key"), environment: ["SWITCHBOARD_PASSPHRASE": "correct horse"])
        }
    }

    @Test func aPassphraseStoreOpensWithThePassphraseOnly() throws {
        let path = try Self.directory().appendingPathComponent(SecretStore.fileName).path
        let (key, spec) = try SecretKey.resolve(for: nil, environment: ["SWITCHBOARD_PASSPHRASE": "correct horse"])
        #expect(spec.source == "passphrase" && spec.kdf == "argon2id13")
        var store = try SecretStore.create(path, spec: spec, key: key)
        try store.set("TOKEN", value: "s3cr3t-token", key: key)
        try store.save()
        let reopened = try #require(try SecretStore.open(path))
        let (again, _) = try SecretKey.resolve(
            for: reopened.keySpec, environment: ["SWITCHBOARD_PASSPHRASE": "correct horse"])
        #expect(try reopened.values(again) == ["TOKEN": "s3cr3t-token"])
        let (wrong, _) = try SecretKey.resolve(
            for: reopened.keySpec, environment: ["SWITCHBOARD_PASSPHRASE": "battery staple"])
        #expect(throws: SecretError.self) { try reopened.values(wrong) }
    }

    @Test func theRedactorMasksEveryFormOfAValue() {
        let redactor = Redactor()
        let secret = #"p@ss/word "quoted" & more"#
        redactor.register(secret)
        redactor.register("abc")  // too short to mask: left alone
        #expect(redactor.redact("before \(secret) after") == "before *** after")
        let json = String(decoding: try! JSONEncoder().encode(["token": secret]), as: UTF8.self)
        #expect(redactor.redact(json) == #"{"token":"***"}"#)
        let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        #expect(redactor.redact("GET /hook?t=\(encoded)") == "GET /hook?t=***")
        #expect(redactor.redact("abc stays") == "abc stays")
    }

    @Test func theRedactorFindsEachOfManySecretsAnywhereInAText() {
        let redactor = Redactor()
        let keys = (0..<500).map { String(format: "%064x", $0 &* 2_654_435_761) }
        redactor.register(contentsOf: keys)
        #expect(redactor.redact("\(keys[0]) then \(keys[250]), and \(keys[499])") == "*** then ***, and ***")
        #expect(redactor.redact(keys[499]) == "***")
        // A key's prefix alone, or a text shorter than any secret, is not a secret.
        #expect(redactor.redact(String(keys[7].prefix(63))) == String(keys[7].prefix(63)))
        #expect(redactor.redact("abc") == "abc")
        #expect(redactor.redact("") == "")
    }

    @Test func overlappingSecretsAreMaskedAsTheirUnion() {
        let redactor = Redactor()
        redactor.register(contentsOf: ["abcdef", "defghi", "bcd1"])
        // Neither leaves a part of the other visible: every byte of each occurrence is hidden.
        #expect(redactor.redact("x abcdefghi y") == "x *** y")
        #expect(redactor.redact("x abcdefdefghi y") == "x *** y")
        #expect(redactor.redact("bcd1 and abcdef") == "*** and ***")
        #expect(redactor.redact("multi-byte é abcdef ü") == "multi-byte é *** ü")
    }
}
