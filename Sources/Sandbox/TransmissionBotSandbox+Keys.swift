internal import Foundation
internal import Workflow

/// Prekeys: upload, purge, count and bundles (transmissionbot.md §5.4, §6.1).
extension TransmissionBotSandbox {
    /// `POST /v1/keys/prekeys`: any of `signed_prekey`, `one_time_prekeys`, `pq_prekeys`. All or nothing: shapes
    /// first (`INVALID_REQUEST`), then signatures over the raw key bytes under the registered signing key
    /// (`IDENTITY_KEY_MISMATCH`), then duplicate key ids (`CONFLICT`). A signed prekey replaces the one served;
    /// the others join the end of their pools.
    func uploadPrekeys(_ call: Call, _ id: String) throws(SandboxResponse) -> SandboxResponse {
        let body = try object(call)
        var signed: Prekey?
        if let raw = body["signed_prekey"], raw != .null {
            signed = try prekey(raw, "signed_prekey", length: 32, signed: true)
        }
        let oneTime = try prekeys(body, "one_time_prekeys", length: 32, signed: false)
        let pq = try prekeys(body, "pq_prekeys", length: 1184, signed: true)
        guard var agent = agents[id] else { throw Self.failure(status: 404, "no such agent") }
        for key in [signed].compactMap(\.self) + pq
        where !SandboxCrypto.isValidSignature(key.signature ?? [], of: key.publicKey, by: agent.signingKey) {
            throw Self.failure(
                status: 400, code: "IDENTITY_KEY_MISMATCH",
                "the signature of key_id \(key.keyID) does not verify under the registered identity_signing_key")
        }
        for (name, pool, added) in [
            ("one_time_prekeys", agent.oneTimePrekeys, oneTime), ("pq_prekeys", agent.pqPrekeys, pq),
        ] {
            var seen = Set(pool.map(\.keyID))
            for key in added where !seen.insert(key.keyID).inserted {
                throw Self.failure(status: 409, "\(name) already has key_id \(key.keyID)")
            }
            guard pool.count + added.count <= storedOptions.maximumPrekeysPerPool else {
                throw Self.invalid("\(name) would hold more than \(storedOptions.maximumPrekeysPerPool) keys")
            }
        }
        if let signed { agent.signedPrekey = signed }
        agent.oneTimePrekeys += oneTime
        agent.pqPrekeys += pq
        agents[id] = agent
        return .json(200, counts(agent))
    }

    private func prekeys(
        _ body: [String: Value], _ field: String, length: Int, signed: Bool
    ) throws(SandboxResponse) -> [Prekey] {
        guard let raw = body[field], raw != .null else { return [] }
        guard case .array(let items) = raw else { throw Self.invalid("\(field) must be an array") }
        guard items.count <= storedOptions.maximumPrekeysPerUpload else {
            throw Self.invalid("\(field) takes at most \(storedOptions.maximumPrekeysPerUpload) keys per upload")
        }
        var keys: [Prekey] = []
        for (index, item) in items.enumerated() {
            keys.append(try prekey(item, "\(field)[\(index)]", length: length, signed: signed))
        }
        return keys
    }

    /// `{"key_id", "public_key"[, "signature"]}`: a uint32 id, `length` bytes of key, a 64-byte signature.
    private func prekey(_ value: Value, _ path: String, length: Int, signed: Bool) throws(SandboxResponse) -> Prekey {
        guard case .object(let fields) = value else { throw Self.invalid("\(path) must be an object") }
        let keyID = try integer(fields["key_id"], "\(path).key_id", in: 0...Int(UInt32.max))
        guard case .string(let publicKey)? = fields["public_key"] else {
            throw Self.invalid("\(path).public_key is required")
        }
        var signature: [UInt8]?
        if signed {
            guard case .string(let text)? = fields["signature"] else {
                throw Self.invalid("\(path).signature is required")
            }
            signature = try base64URL(text, "\(path).signature", length: 64)
        }
        return Prekey(
            keyID: UInt32(keyID), publicKey: try base64URL(publicKey, "\(path).public_key", length: length),
            signature: signature)
    }

    /// `DELETE /v1/keys/prekeys`: every pool and the signed prekey.
    func purgePrekeys(_ call: Call, _ id: String) throws(SandboxResponse) -> SandboxResponse {
        guard var agent = agents[id] else { throw Self.failure(status: 404, "no such agent") }
        let deleted: Value = [
            "one_time_prekeys": .number(Double(agent.oneTimePrekeys.count)),
            "pq_prekeys": .number(Double(agent.pqPrekeys.count)), "signed_prekey": .bool(agent.signedPrekey != nil),
        ]
        agent.signedPrekey = nil
        agent.oneTimePrekeys = []
        agent.pqPrekeys = []
        agents[id] = agent
        return .json(200, ["deleted": deleted])
    }

    /// `GET /v1/keys/count`.
    func countPrekeys(_ call: Call, _ id: String) throws(SandboxResponse) -> SandboxResponse {
        guard let agent = agents[id] else { throw Self.failure(status: 404, "no such agent") }
        return .json(200, counts(agent))
    }

    /// `{"one_time_prekeys", "pq_prekeys", "messaging_ready", "issues"}`: ready with a signed prekey and a PQ
    /// prekey (§2 reachability).
    private func counts(_ agent: Agent) -> Value {
        let low = storedOptions.lowPrekeyThreshold
        var issues: [Value] = []
        if agent.signedPrekey == nil { issues.append("no_signed_prekey") }
        if agent.pqPrekeys.isEmpty {
            issues.append("no_pq_prekeys")
        } else if agent.pqPrekeys.count < low {
            issues.append("pq_prekeys_low")
        }
        if agent.oneTimePrekeys.count < low { issues.append("one_time_prekeys_low") }
        return [
            "one_time_prekeys": .number(Double(agent.oneTimePrekeys.count)),
            "pq_prekeys": .number(Double(agent.pqPrekeys.count)),
            "messaging_ready": .bool(agent.signedPrekey != nil && !agent.pqPrekeys.isEmpty), "issues": .array(issues),
        ]
    }

    /// `GET /v1/keys/bundle/{agent_id}`: the identity keys, the signed prekey, and the oldest one-time prekey
    /// (null when none is left) and PQ prekey (required), both consumed in the same step (§6.1).
    func bundle(of target: String, for requester: String, _ call: Call) throws(SandboxResponse) -> SandboxResponse {
        try limit("bundle:\(requester)", to: storedOptions.bundleFetchesPerHour, per: 3600, call)
        var agent = try activeAgent(target)
        if storedOptions.bundleRequiresContact, relationships[Pair(requester, target)]?.state != .connected {
            throw Self.failure(status: 403, "a bundle needs a connected contact")
        }
        guard let signed = agent.signedPrekey, !agent.pqPrekeys.isEmpty else {
            throw Self.failure(status: 404, "recipient has no usable prekeys")
        }
        let oneTime = agent.oneTimePrekeys.isEmpty ? nil : agent.oneTimePrekeys.removeFirst()
        let pq =
            storedOptions.lastResortPQPrekey && agent.pqPrekeys.count == 1
            ? agent.pqPrekeys[0] : agent.pqPrekeys.removeFirst()
        agents[target] = agent
        return .json(
            200,
            [
                "agent_id": .string(target), "identity_signing_key": .string(SandboxCrypto.base64URL(agent.signingKey)),
                "identity_dh_key": .string(SandboxCrypto.base64URL(agent.dhKey)), "signed_prekey": json(signed),
                "one_time_prekey": oneTime.map(json) ?? .null, "pq_prekey": json(pq),
            ])
    }

    private func json(_ key: Prekey) -> Value {
        var object: [String: Value] = [
            "key_id": .number(Double(key.keyID)), "public_key": .string(SandboxCrypto.base64URL(key.publicKey)),
        ]
        if let signature = key.signature { object["signature"] = .string(SandboxCrypto.base64URL(signature)) }
        return .object(object)
    }
}
