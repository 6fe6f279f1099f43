public import Foundation
public import Transport
public import Workflow

/// A NexusMessaging client for one agent on one server (protocols/nexus.md §3). Every failure is a
/// ``NetworkError`` carrying the server's exact `error` code and message.
public final class NexusClient: Sendable {
    public let server: String
    public let agentID: String
    public let insecure: Bool
    public let keys: SessionKeyStore?
    let http: HTTPClient
    let timeout: TimeInterval

    public init(
        server: String, agentID: String, insecure: Bool = false, keys: SessionKeyStore? = nil,
        http: HTTPClient = .shared, timeout: TimeInterval = 10
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.agentID = agentID
        self.insecure = insecure
        self.keys = keys
        self.http = http
        self.timeout = timeout
    }

    // MARK: - Capabilities

    /// `/health`, cached per server URL for 300 s (§4.5; the official CLI's global cache is a bug).
    public func health(refresh: Bool = false) async throws(NetworkError) -> NexusHealth {
        if !refresh, let cached = CapabilityCache.shared.health(for: server) { return cached }
        let health: NexusHealth = try await call(.get, "/health", timeout: 5)
        CapabilityCache.shared.store(health, for: server)
        return health
    }

    // MARK: - Sessions

    /// Creates a session; with `asCreator` this agent joins as creator and its key is stored.
    public func createSession(
        ttl: Int? = nil, maxAgents: Int? = nil, greeting: String? = nil, asCreator: Bool = true
    )
        async throws(NetworkError) -> CreatedSession
    {
        var body: [String: Value] = [:]
        if let ttl { body["ttl"] = .number(Double(ttl)) }
        if let maxAgents { body["maxAgents"] = .number(Double(maxAgents)) }
        if let greeting { body["greeting"] = .string(greeting) }
        if asCreator {
            body["creatorAgentId"] = .string(agentID)
            try checkKeyStore()
        }
        let created: CreatedSession = try await call(.put, "/v1/sessions", body: .object(body))
        if let key = created.sessionKey { try storeKey(key, session: created.sessionId) }
        return created
    }

    public func status(session: String) async throws(NetworkError) -> SessionStatus {
        try await call(.get, "/v1/sessions/\(Self.segment(session))", endpoint: "/v1/sessions/:id", timeout: 3)
    }

    /// Joins and stores the session key. `agent_id_taken` means this id is already a member (§8).
    public func join(session: String) async throws(NetworkError) -> JoinResult {
        try checkKeyStore()
        let result: JoinResult = try await call(
            .post, "/v1/sessions/\(Self.segment(session))/join", endpoint: "/v1/sessions/:id/join", agent: true)
        if let key = result.sessionKey { try storeKey(key, session: session) }
        return result
    }

    public enum LeaveOutcome: Sendable, Equatable {
        case left
        /// The session or the membership was already gone (this code); the key is forgotten all the same,
        /// as the official CLI does (nexus.md §9.6).
        case alreadyGone(String)
    }

    /// Leaves; succeeds on `ok: true` (§8), then forgets the key.
    public func leave(session: String) async throws(NetworkError) -> LeaveOutcome {
        let result: LeaveResult
        do {
            result = try await call(
                .delete, "/v1/sessions/\(Self.segment(session))/agents/\(Self.segment(agentID))",
                endpoint: "/v1/sessions/:id/agents/:agentId", agent: true, sessionKey: sessionKey(session))
        } catch  where ["session_not_found", "agent_not_found"].contains(error.code) {
            keys?.remove(server: server, session: session, agent: agentID)
            return .alreadyGone(error.code)
        }
        guard result.ok == true else {
            throw NetworkError(
                network: "nexus", code: "unexpected_response", message: "leave did not answer ok: true",
                isTransient: false)
        }
        keys?.remove(server: server, session: session, agent: agentID)
        return .left
    }

    /// Restarts the sliding TTL. Always sends a JSON body (`{}` at least): an empty one broke the server (§3.7).
    public func renew(session: String, ttl: Int? = nil) async throws(NetworkError) -> RenewResult {
        let body: Value = ttl.map { .object(["ttl": .number(Double($0))]) } ?? .object([:])
        return try await call(
            .post, "/v1/sessions/\(Self.segment(session))/renew", endpoint: "/v1/sessions/:id/renew", agent: true,
            body: body)
    }

    // MARK: - Messages

    /// Sends text and/or JSON, verified with the stored session key. A server without the `json` capability
    /// gets the JSON serialised into `text` (after the text), unless `strict`, which sends nothing (§4.5).
    public func send(
        session: String, text: String? = nil, json: Value? = nil, strict: Bool = false
    )
        async throws(NetworkError) -> SentMessage
    {
        guard text != nil || json != nil else {
            throw NetworkError(
                network: "nexus", code: "invalid_request", message: "nothing to send", isTransient: false)
        }
        var body: [String: Value] = [:]
        if let json {
            if try await health().supportsJSON {
                body["json"] = json
                if let text { body["text"] = .string(text) }
            } else if strict {
                throw NetworkError(
                    network: "nexus", code: "json_unsupported",
                    message: "the server does not accept JSON messages and strict was requested; nothing was sent",
                    isTransient: false)
            } else {
                body["text"] = .string([text, JSONText.encode(json)].compactMap { $0 }.joined(separator: " "))
            }
        } else if let text {
            body["text"] = .string(text)
        }
        return try await call(
            .post, "/v1/sessions/\(Self.segment(session))/messages", endpoint: "/v1/sessions/:id/messages", agent: true,
            sessionKey: sessionKey(session), body: .object(body))
    }

    /// Messages after `after` (exclusive). Nil replays everything still held, the greeting at cursor 0
    /// included; `after: "0"` would skip the greeting (§4.1).
    public func poll(
        session: String, after: Cursor? = nil, members: Bool = false
    ) async throws(NetworkError)
        -> PollResult
    {
        var query: [String] = []
        if let after { query.append("after=\(Self.segment(after.value))") }
        if members { query.append("members=true") }
        let suffix = query.isEmpty ? "" : "?" + query.joined(separator: "&")
        return try await call(
            .get, "/v1/sessions/\(Self.segment(session))/messages\(suffix)", endpoint: "/v1/sessions/:id/messages",
            agent: true)
    }

    // MARK: - Pairing

    public func pair(session: String) async throws(NetworkError) -> PairingCode {
        try await call(.put, "/v1/pair", body: .object(["sessionId": .string(session)]))
    }

    /// Claims a pairing code: joins its session and stores the key.
    public func claim(code: String) async throws(NetworkError) -> ClaimResult {
        try checkKeyStore()
        let result: ClaimResult = try await call(
            .post, "/v1/pair/\(Self.segment(code))/claim", endpoint: "/v1/pair/:code/claim", agent: true)
        if let key = result.sessionKey { try storeKey(key, session: result.sessionId) }
        return result
    }

    /// `pending`, `claimed` or `expired`.
    public func pairStatus(code: String) async throws(NetworkError) -> String {
        let status: PairStatus = try await call(
            .get, "/v1/pair/\(Self.segment(code))/status", endpoint: "/v1/pair/:code/status", timeout: 3)
        return status.state
    }

    // MARK: - Plumbing

    public func sessionKey(_ session: String) -> String? {
        keys?.key(server: server, session: session, agent: agentID)
    }

    private func checkKeyStore() throws(NetworkError) {
        do {
            try keys?.checkWritable()
        } catch {
            throw NetworkError(
                network: "nexus", code: "key_store_unwritable",
                message: "session keys cannot be saved in \(keys?.directory ?? "?"); nothing was sent",
                isTransient: false)
        }
    }

    /// After the server issued a key: if it cannot be saved, say which session it was for (never the key).
    private func storeKey(_ key: String, session: String) throws(NetworkError) {
        do {
            try keys?.store(key, server: server, session: session, agent: agentID)
        } catch {
            throw NetworkError(
                network: "nexus", code: "key_store_failed",
                message: "joined session \(session), but its key could not be saved in the key store",
                isTransient: false)
        }
    }

    /// Path segments are percent-encoded (§8), so an id can never change the path.
    /// A path segment or query value: RFC 3986's unreserved ASCII characters as they are, every other byte
    /// of the UTF-8 percent-encoded (a non-ASCII letter too).
    static func segment(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: bytes.append(byte)
            default: bytes += [0x25, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let decoder = JSONDecoder()

    /// `endpoint` names the route in messages (`/v1/sessions/:id`): ids and codes never reach an error text.
    private func call<Result: Decodable>(
        _ method: HTTPRequest.Method, _ path: String, endpoint: String? = nil, agent: Bool = false,
        sessionKey: String? = nil, body: Value? = nil, timeout: TimeInterval? = nil
    ) async throws(NetworkError) -> Result {
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if agent { headers.append(("X-Agent-Id", agentID)) }
        if let sessionKey { headers.append(("X-Session-Key", sessionKey)) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let request = HTTPRequest(
            method, server + path, headers: headers, body: body.map { Data(JSONText.encode($0).utf8) },
            timeout: timeout ?? self.timeout, maximumResponseSize: 8 << 20, allowsInsecure: insecure)
        let response: HTTPResponse
        do {
            response = try await http.send(request)
        } catch {
            throw NetworkError(network: "nexus", transport: error)
        }
        guard (200..<300).contains(response.status) else { throw Self.error(from: response) }
        do {
            return try Self.decoder.decode(Result.self, from: response.body)
        } catch {
            throw NetworkError(
                network: "nexus", code: "malformed_response",
                message:
                    "the server's \(response.status) answer to \(method.rawValue) \(endpoint ?? path) is not the documented JSON",
                status: response.status, isTransient: true)
        }
    }

    /// The error envelope `{"error", "message", "details"}`; a body that is not JSON (a proxy's page) is
    /// `non_json_response`, as the official CLI calls it.
    static func error(from response: HTTPResponse) -> NetworkError {
        struct Envelope: Decodable {
            var error: String
            var message: String?
        }
        let transient = response.status == 429 || response.status >= 500
        let retryAfter = response.status == 429 ? (response.retryAfter() ?? 60) : nil
        guard let envelope = try? decoder.decode(Envelope.self, from: response.body) else {
            return NetworkError(
                network: "nexus", code: "non_json_response",
                message: "HTTP \(response.status) with a body that is not the JSON error envelope",
                status: response.status, isTransient: transient, retryAfter: retryAfter)
        }
        return NetworkError(
            network: "nexus", code: envelope.error, message: envelope.message ?? envelope.error,
            status: response.status, isTransient: transient, retryAfter: retryAfter)
    }
}

/// `/health` answers per server URL, for 300 s.
final class CapabilityCache: Sendable {
    static let shared = CapabilityCache()
    private let entries = LockedDictionary<String, (NexusHealth, Date)>()

    func health(for server: String, now: Date = Date()) -> NexusHealth? {
        guard let (health, stored) = entries[server], now.timeIntervalSince(stored) < 300 else { return nil }
        return health
    }

    func store(_ health: NexusHealth, for server: String, now: Date = Date()) {
        entries[server] = (health, now)
    }

    func clear() { entries.removeAll() }
}

final class LockedDictionary<Key: Hashable, Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Key: Value] = [:]

    subscript(key: Key) -> Value? {
        get { lock.withLock { storage[key] } }
        set { lock.withLock { storage[key] = newValue } }
    }

    func removeAll() { lock.withLock { storage.removeAll() } }
}
