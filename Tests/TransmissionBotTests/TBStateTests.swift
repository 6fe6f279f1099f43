import Foundation
import Secrets
import TBX1
import TestSupport
import Testing
import TransmissionBot

@Suite struct TBStateTests {
    static func directory() throws -> URL {
        let url = testTemporaryDirectory.appendingPathComponent("tbstate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func account() throws -> TBState {
        var state = TBState()
        state.agentID = "019d5636-ad2b-7603-b302-8a6ffeb80436"
        state.handle = "my-agent"
        state.accessToken = "access.token.\(UUID().uuidString)"
        state.refreshToken = "refresh-\(UUID().uuidString)"
        state.tokenExpiresAt = 1_775_267_919
        let identity = IdentityKeyPair.generate()
        state.identity = identity
        var prekeys = PrekeyStore(firstKeyID: 1_846_000_000)
        _ = try prekeys.generateSignedPrekey(signedBy: identity)
        _ = try prekeys.generateOneTimePrekeys(count: 3)
        state.prekeys = prekeys
        state.serverURL = "http://127.0.0.1:9"
        return state
    }

    @Test func theDocumentedKeysRoundTripAndUnknownOnesAreKept() throws {
        let file = try Self.directory().appendingPathComponent("state/state.json").path
        let store = TBStateFile(path: file)
        var state = try Self.account()
        try store.save(state)
        // The CLI's documented layout: snake_case at the top, camelCase inside identity and prekeys.
        var root = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        #expect(root["agent_id"] as? String == state.agentID)
        #expect(root["token_expires_at"] as? Int == 1_775_267_919)
        let identity = try #require(root["identity"] as? [String: Any])
        #expect((identity["signing"] as? [String: Any])?["secretKey"] is String)
        #expect(((root["prekeys"] as? [String: Any])?["oneTimePrekeys"] as? [Any])?.count == 3)
        // A key another version wrote survives our rewrite.
        root["contact_cache"] = ["x": 1]
        try JSONSerialization.data(withJSONObject: root).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        var loaded = try #require(try store.load(environment: [:]))
        #expect(loaded.refreshToken == state.refreshToken)
        #expect(loaded.identity?.publicKeys == state.identity?.publicKeys)
        #expect(loaded.prekeys?.oneTimePrekeys.count == 3)
        loaded.refreshToken = "rotated"
        try store.save(loaded)
        let rewritten = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        #expect((rewritten["contact_cache"] as? [String: Int]) == ["x": 1])
        #expect(rewritten["refresh_token"] as? String == "rotated")
        state.refreshToken = "rotated"
        // Modes: 0600 file in a 0700 directory.
        let fileMode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber
        let directoryMode =
            try FileManager.default.attributesOfItem(atPath: (file as NSString).deletingLastPathComponent)[
                .posixPermissions] as? NSNumber
        #expect(fileMode?.intValue == 0o600)
        #expect(directoryMode?.intValue == 0o700)
    }

    @Test func aStateOthersCanReadIsRefusedAndCredentialsAreMasked() throws {
        let file = try Self.directory().appendingPathComponent("state.json").path
        let state = try Self.account()
        try TBStateFile(path: file).save(state)
        let refresh = try #require(state.refreshToken)
        #expect(Redactor.shared.redact("token=\(refresh)") == "token=***")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        do {
            _ = try TBStateFile(path: file).load(environment: [:])
            Issue.record("a state file others can read was loaded")
        } catch {
            #expect(error.message.contains("mode 644"))
            #expect(error.hint == "chmod 600 \(file)")
        }
    }

    @Test func aSealedStateNeedsItsPassphrase() throws {
        let file = try Self.directory().appendingPathComponent("state.json").path
        let state = try Self.account()
        try TBStateFile(path: file, passphrase: "correct horse").save(state)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!text.contains(try #require(state.refreshToken)))
        #expect(text.contains("switchboard-sealed-state"))
        let loaded = try #require(try TBStateFile(path: file, passphrase: "correct horse").load(environment: [:]))
        #expect(loaded.refreshToken == state.refreshToken)
        #expect(throws: TBStateError.self) { try TBStateFile(path: file, passphrase: "wrong").load(environment: [:]) }
        #expect(throws: TBStateError.self) { try TBStateFile(path: file).load(environment: [:]) }
    }

    @Test func theStateCanComeFromTheEnvironment() throws {
        let missing = try Self.directory().appendingPathComponent("none.json").path
        #expect(try TBStateFile(path: missing).load(environment: [:]) == nil)
        let json = String(decoding: try Self.account().json(), as: UTF8.self)
        for variable in TBStateFile.environmentVariables {
            let state = try #require(try TBStateFile(path: missing).load(environment: [variable: json]))
            #expect(state.handle == "my-agent")
        }
        do {
            _ = try TBStateFile(path: missing).load(environment: ["TRANSMISSIONBOT_STATE_JSON": #"{"identity": 5}"#])
            Issue.record("a malformed identity was accepted")
        } catch {
            #expect(error.message.contains("'identity'"))
        }
    }
}
