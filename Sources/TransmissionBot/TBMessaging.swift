public import Foundation
public import TBX1
public import Transport

/// Two-phase receive and encrypt-persist-send on top of ``TBClient`` (transmissionbot.md §2.1, §7.5).
extension TBClient {
    /// A message taken from the offline queue and decrypted, not yet acknowledged.
    public struct Received: Sendable, Equatable {
        public var messageID: String
        /// The sender's agent id (lower-case UUID), from the sealed-sender layer.
        public var sender: String
        public var text: String
        /// False when the envelope could not be opened or decrypted; `text` then says why.
        public var decrypted: Bool
    }

    /// Fetches the offline queue and decrypts it. Each new plaintext and the ratchet state it advanced are saved
    /// (with the message in `pending_acks`) before this returns, so a crash before the ack neither loses the
    /// message nor needs the ratchet to run twice; nothing is acknowledged here.
    public func receive(limit: Int = 100) async throws(NetworkError) -> [Received] {
        let (messages, _) = try await offline(limit: limit)
        var received: [Received] = []
        for message in messages {
            if let pending = state.pendingAcks[message.message_id] {
                let bytes = Data(base64Encoded: pending.plaintextBase64) ?? Data()
                received.append(
                    Received(
                        messageID: message.message_id, sender: pending.from,
                        text: String(decoding: bytes, as: UTF8.self), decrypted: true))
                continue
            }
            received.append(try open(message))
        }
        return received
    }

    private func open(_ message: OfflineMessage) throws(NetworkError) -> Received {
        let snapshot = state
        guard let identity = snapshot.identity, let agent = snapshot.agentID.flatMap(UUID.init(uuidString:)),
            let prekeys = snapshot.prekeys
        else {
            throw NetworkError(
                network: Self.network, code: "not_registered",
                message: "the state has no identity, agent id or prekeys",
                isTransient: false)
        }
        func undecryptable(_ error: TBX1Error, from sender: String = "unknown") -> Received {
            Received(
                messageID: message.message_id, sender: sender, text: "(could not decrypt: \(error))", decrypted: false)
        }
        let opened: OpenedEnvelope
        do throws(TBX1Error) {
            opened = try Envelope(base64: message.envelope).open(
                recipient: identity, recipientAgentID: agent,
                nowMilliseconds: UInt64(max(0, now().timeIntervalSince1970 * 1000)))
        } catch {
            return undecryptable(error)
        }
        let sender = opened.senderAgentID.uuidString.lowercased()
        var session = snapshot.sessions[sender]
        var plaintext: [UInt8]
        do throws(TBX1Error) {
            if var existing = session {
                do throws(TBX1Error) {
                    plaintext = try existing.decrypt(opened)
                    session = existing
                } catch .notThisSession {
                    // The peer started over with a new handshake.
                    (session, plaintext) = try Session.accept(opened, identity: identity, prekeys: prekeys)
                }
            } else {
                (session, plaintext) = try Session.accept(opened, identity: identity, prekeys: prekeys)
            }
        } catch {
            return undecryptable(error, from: sender)
        }
        let consumed = session?.consumedPrekeys
        try update { state in
            state.sessions[sender] = session
            state.pendingAcks[message.message_id] = TBState.PendingAck(
                plaintextBase64: Data(plaintext).base64EncodedString(), from: sender, consumed: consumed)
        }
        return Received(
            messageID: message.message_id, sender: sender, text: String(decoding: plaintext, as: UTF8.self),
            decrypted: true)
    }

    /// Acknowledges messages that are safely journaled, then deletes the one-time and PQ secrets their
    /// handshakes consumed (§7.5) and forgets their cached plaintext.
    public func acknowledgeReceived(_ messageIDs: [String]) async throws(NetworkError) {
        guard !messageIDs.isEmpty else { return }
        try await acknowledge(messageIDs)
        try update { state in
            for id in messageIDs {
                guard let pending = state.pendingAcks.removeValue(forKey: id) else { continue }
                if let consumed = pending.consumed {
                    state.prekeys?.delete(consumed)
                    state.sessions[pending.from]?.prekeysDeleted()
                }
            }
        }
    }

    /// Encrypts for an agent (an id, or a handle resolved first), saves the advanced ratchet, then sends:
    /// a crash after the save loses at most this message, never reuses a message key (§8.3).
    @discardableResult
    public func send(text: String, to recipient: String) async throws(NetworkError) -> Sent {
        let snapshot = state
        guard let identity = snapshot.identity, let local = snapshot.agentID.flatMap(UUID.init(uuidString:)) else {
            throw NetworkError(
                network: Self.network, code: "not_registered", message: "the state has no identity or agent id",
                isTransient: false)
        }
        let agent =
            UUID(uuidString: recipient) != nil ? recipient.lowercased() : try await resolve(handle: recipient).agent_id
        var session: Session
        if let existing = snapshot.sessions[agent] {
            session = existing
        } else {
            let bundle = try await bundle(of: agent)
            do throws(TBX1Error) {
                session = try Session.initiate(localAgentID: local, identity: identity, bundle: bundle)
            } catch {
                throw NetworkError(
                    network: Self.network, code: "bad_bundle", message: "the prekey bundle of \(agent): \(error)",
                    isTransient: false)
            }
        }
        let envelope: Envelope
        do throws(TBX1Error) {
            envelope = try session.seal(
                Array(text.utf8), identity: identity,
                timestampMilliseconds: UInt64(max(0, now().timeIntervalSince1970 * 1000)))
        } catch {
            throw NetworkError(network: Self.network, code: "encrypt_failed", message: "\(error)", isTransient: false)
        }
        let sealed = session
        try update { state in state.sessions[agent] = sealed }
        return try await send(envelope: envelope, to: agent)
    }

    /// Uploads a new batch when the server holds fewer one-time or PQ prekeys than the threshold (§7.5).
    /// Returns whether it uploaded.
    @discardableResult
    public func replenishPrekeys() async throws(NetworkError) -> Bool {
        let settings = state.settings
        let count = try await prekeyCount()
        guard settings.autoReplenish,
            count.one_time_prekeys < settings.replenishThreshold || count.pq_prekeys < settings.replenishThreshold
        else { return false }
        _ = try await topUpPrekeys(
            oneTime: count.one_time_prekeys < settings.replenishThreshold ? settings.batchSize : 0,
            pq: count.pq_prekeys < settings.replenishThreshold ? settings.batchSize : 0)
        return true
    }
}
