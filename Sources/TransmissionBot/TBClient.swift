public import Foundation
public import Secrets
public import TBX1
public import Transport
internal import Workflow

/// TransmissionBot's HTTP API (transmissionbot.md §4–§5) for one account, with its state file.
///
/// - Every authenticated call carries the access token, refreshed first when it expires within 5 minutes,
///   and once more on a 401, then retried once (§4).
/// - A refresh rotates the refresh token: the new pair is saved to the state file before anything else
///   happens, so a crash can never leave the only valid refresh token in memory. If the saved refresh token
///   is refused (a crash between the server's rotation and the save), the client recovers with a challenge
///   signed by the identity key (§4 "Recovery").
/// - Errors are the API's envelope `{"error": {"code", "message", "status"}}` with its exact code.
public final class TBClient: @unchecked Sendable {
    public static let network = "transmissionbot"
    public let server: String
    let http: HTTPClient
    public let file: TBStateFile
    let now: @Sendable () -> Date
    let insecure: Bool
    private let lock = NSLock()
    private var current: TBState
    /// The refresh in flight: concurrent calls that need fresh tokens share it rather than spending the same
    /// refresh token twice (the loser's 401 would force a recovery).
    private var refreshing: Task<Void, any Error>?

    public init(
        server: String, state: TBState, file: TBStateFile, http: HTTPClient = HTTPClient(connections: 4),
        insecure: Bool = false, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.current = state
        self.file = file
        self.http = http
        self.insecure = insecure
        self.now = now
    }

    /// The state as it is now (tokens, prekeys, sessions).
    public var state: TBState { lock.withLock { current } }

    /// Changes the state and saves it before returning.
    public func update(_ change: (inout TBState) throws(TBStateError) -> Void) throws(NetworkError) {
        lock.lock()
        defer { lock.unlock() }
        var copy = current
        do {
            try change(&copy)
            try file.save(copy)
        } catch {
            throw NetworkError(
                network: Self.network, code: "state_unwritable", message: error.message, isTransient: false)
        }
        current = copy
    }

    // MARK: - Accounts

    /// Registers a new agent (§2.1 init): identity keys saved before any network call, then the tokens, then
    /// prekeys saved before they are uploaded.
    public func register(
        handle: String, displayName: String? = nil, oneTimePrekeys: Int = 20, pqPrekeys: Int = 20
    ) async throws(NetworkError) {
        let identity = IdentityKeyPair.generate()
        try update { state in
            state.identity = identity
            state.handle = handle
            state.serverURL = server
        }
        struct Registered: Decodable {
            var agent_id: String
            var handle: String
            var access_token: String
            var refresh_token: String
            var token_expires_at: Int?
        }
        var body: [String: Value] = [
            "handle": .string(handle), "identity_signing_key": .string(identity.signing.publicKey.base64URL),
            "identity_dh_key": .string(identity.dh.publicKey.base64URL),
        ]
        if let displayName { body["display_name"] = .string(displayName) }
        let registered: Registered = try await call(.post, "/v1/agents/register", body: .object(body), auth: false)
        try update { state in
            state.agentID = registered.agent_id
            state.handle = registered.handle
            state.accessToken = registered.access_token
            state.refreshToken = registered.refresh_token
            state.tokenExpiresAt = registered.token_expires_at ?? Self.expiry(of: registered.access_token)
        }
        _ = try await topUpPrekeys(oneTime: oneTimePrekeys, pq: pqPrekeys, signed: true)
    }

    // MARK: - Tokens

    struct Tokens: Decodable {
        var access_token: String
        var refresh_token: String
        var token_expires_at: Int?
    }

    /// Exchanges the refresh token for a new pair and saves both at once (§4). A refused refresh token falls
    /// back to recovery with the identity key.
    public func refresh() async throws(NetworkError) {
        let task: Task<Void, any Error> = lock.withLock {
            if let refreshing { return refreshing }
            let task = Task { () async throws -> Void in try await self.performRefresh() }
            refreshing = task
            return task
        }
        defer { lock.withLock { if refreshing == task { refreshing = nil } } }
        do {
            try await task.value
        } catch let error as NetworkError {
            throw error
        } catch {
            throw NetworkError(network: Self.network, code: "refresh_failed", message: "\(error)", isTransient: true)
        }
    }

    private func performRefresh() async throws(NetworkError) {
        let snapshot = state
        guard let agent = snapshot.agentID, let refreshToken = snapshot.refreshToken else {
            throw NetworkError(
                network: Self.network, code: "not_registered", message: "the state has no agent id or refresh token",
                isTransient: false)
        }
        do {
            let tokens: Tokens = try await call(
                .post, "/v1/auth/refresh",
                body: .object(["refresh_token": .string(refreshToken), "agent_id": .string(agent)]), auth: false)
            try save(tokens)
        } catch  where error.status == 401 {
            try await recover()
        }
    }

    /// Fresh tokens from a challenge signed with the identity signing key (§4, §5.3).
    public func recover() async throws(NetworkError) {
        let snapshot = state
        guard let agent = snapshot.agentID, let identity = snapshot.identity else {
            throw NetworkError(
                network: Self.network, code: "not_registered",
                message: "recovery needs the agent id and the identity signing key in the state", isTransient: false)
        }
        struct Challenge: Decodable { var challenge: String }
        let challenge: Challenge = try await call(
            .post, "/v1/auth/recover/challenge", body: .object(["agent_id": .string(agent)]), auth: false)
        guard let bytes = Self.base64URLDecode(challenge.challenge) else {
            throw NetworkError(
                network: Self.network, code: "malformed_response", message: "the recovery challenge is not base64url",
                isTransient: false)
        }
        let signature = identity.signing.sign(bytes)
        let tokens: Tokens = try await call(
            .post, "/v1/auth/recover",
            body: .object([
                "agent_id": .string(agent), "challenge": .string(challenge.challenge),
                "signature": .string(signature.base64URL),
            ]), auth: false)
        try save(tokens)
    }

    private func save(_ tokens: Tokens) throws(NetworkError) {
        try update { state in
            state.accessToken = tokens.access_token
            state.refreshToken = tokens.refresh_token
            state.tokenExpiresAt = tokens.token_expires_at ?? Self.expiry(of: tokens.access_token)
        }
    }

    /// The `exp` claim of a JWT, without checking its signature (clients only read it, §4).
    static func expiry(of token: String) -> Int? {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let payload = base64URLDecode(String(parts[1])),
            let claims = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
        else { return nil }
        return (claims["exp"] as? NSNumber)?.intValue
    }

    static func base64URLDecode(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map { [UInt8]($0) }
    }

    /// A token that expires within 5 minutes is refreshed before use (§4).
    private func freshToken() async throws(NetworkError) -> String {
        let snapshot = state
        let expiresAt = snapshot.tokenExpiresAt ?? snapshot.accessToken.flatMap(Self.expiry) ?? 0
        if snapshot.accessToken == nil || Double(expiresAt) - now().timeIntervalSince1970 < 300 {
            try await refresh()
        }
        guard let token = state.accessToken else {
            throw NetworkError(
                network: Self.network, code: "not_registered", message: "the state has no access token",
                isTransient: false)
        }
        return token
    }

    // MARK: - Keys

    public struct PrekeyCount: Decodable, Sendable, Equatable {
        public var one_time_prekeys: Int
        public var pq_prekeys: Int
        public var messaging_ready: Bool
        public var issues: [String]?
    }

    public func prekeyCount() async throws(NetworkError) -> PrekeyCount {
        try await call(.get, "/v1/keys/count")
    }

    /// Generates prekeys, saves their secrets, then uploads their public parts (§2.1: persist, then upload).
    public func topUpPrekeys(oneTime: Int, pq: Int, signed: Bool = false) async throws(NetworkError) -> PrekeyCount {
        guard let identity = state.identity else {
            throw NetworkError(
                network: Self.network, code: "not_registered", message: "the state has no identity keys",
                isTransient: false)
        }
        var body: [String: Value] = [:]
        var failure: TBX1Error?
        try update { state in
            var store = state.prekeys ?? PrekeyStore(firstKeyID: UInt32(1_000_000 + Int.random(in: 0..<1_000_000_000)))
            do {
                if signed || store.signedPrekeys.isEmpty {
                    body["signed_prekey"] = try Self.value(store.generateSignedPrekey(signedBy: identity).publicPart)
                }
                if oneTime > 0 {
                    body["one_time_prekeys"] = .array(
                        try store.generateOneTimePrekeys(count: oneTime).map { try Self.value($0.publicPart) })
                }
                if pq > 0 {
                    body["pq_prekeys"] = .array(
                        try store.generatePQPrekeys(count: pq, signedBy: identity).map { try Self.value($0.publicPart) }
                    )
                }
            } catch {
                failure = error as? TBX1Error
                return
            }
            state.prekeys = store
        }
        if let failure {
            throw NetworkError(network: Self.network, code: "key_generation", message: "\(failure)", isTransient: false)
        }
        Redactor.shared.register(contentsOf: state.credentials)
        return try await call(.post, "/v1/keys/prekeys", body: .object(body))
    }

    static func value(_ encodable: some Encodable) throws -> Value {
        try JSONText.decode(String(decoding: try JSONEncoder().encode(encodable), as: UTF8.self))
    }

    public func purgePrekeys() async throws(NetworkError) {
        struct Purged: Decodable {}
        let _: Purged = try await call(.delete, "/v1/keys/prekeys")
    }

    /// A peer's prekey bundle; fetching it consumes one of their one-time and PQ prekeys (§5.4).
    public func bundle(of agent: String) async throws(NetworkError) -> PrekeyBundle {
        try await call(.get, "/v1/keys/bundle/\(Self.pathComponent(agent))", endpoint: "/v1/keys/bundle/:agent_id")
    }

    // MARK: - Messages

    public struct Sent: Decodable, Sendable {
        public var message_id: String?
        public var status: String?
    }

    public func send(envelope: Envelope, to recipient: String) async throws(NetworkError) -> Sent {
        try await call(
            .post, "/v1/messages/send",
            body: .object([
                "recipient_agent_id": .string(recipient), "payload_type": .string("direct"),
                "envelope": .string(envelope.base64),
            ]))
    }

    public struct OfflineMessage: Decodable, Sendable {
        public var message_id: String
        public var payload_type: String?
        public var envelope: String
        public var created_at: String?
    }

    struct Offline: Decodable {
        var messages: [OfflineMessage]
        var has_more: Bool?
    }

    /// Queued messages not yet acknowledged, oldest first; fetching does not remove them (§5.5).
    public func offline(limit: Int = 100) async throws(NetworkError) -> (messages: [OfflineMessage], hasMore: Bool) {
        let page: Offline = try await call(
            .get, "/v1/messages/offline?limit=\(limit)", endpoint: "/v1/messages/offline")
        return (page.messages, page.has_more ?? false)
    }

    public func acknowledge(_ messageIDs: [String]) async throws(NetworkError) {
        guard !messageIDs.isEmpty else { return }
        struct Acknowledged: Decodable { var acknowledged: Int? }
        let _: Acknowledged = try await call(
            .post, "/v1/messages/ack", body: .object(["message_ids": .array(messageIDs.map { .string($0) })]))
    }

    // MARK: - Contacts and discovery

    public struct ContactRequest: Decodable, Sendable {
        public var request_id: String
        public var status: String
    }

    public func requestContact(_ agent: String, message: String) async throws(NetworkError) -> ContactRequest {
        try await call(
            .post, "/v1/contacts/request",
            body: .object(["target_agent_id": .string(agent), "message": .string(message)]))
    }

    public func respond(toRequest id: String, action: String) async throws(NetworkError) -> ContactRequest {
        try await call(
            .post, "/v1/contacts/respond", body: .object(["request_id": .string(id), "action": .string(action)]))
    }

    public struct Contact: Decodable, Sendable {
        public var request_id: String?
        public var other_agent_id: String
        public var other_handle: String?
        public var state: String?
        public var message: String?
        public var created_at: String?
    }

    public func contacts(state filter: String? = nil) async throws(NetworkError) -> [Contact] {
        struct List: Decodable { var contacts: [Contact] }
        let path = "/v1/contacts" + (filter.map { "?state=\(Self.pathComponent($0))" } ?? "")
        let list: List = try await call(.get, path, endpoint: "/v1/contacts")
        return list.contacts
    }

    public struct Card: Decodable, Sendable {
        public var agent_id: String
        public var handle: String?
        public var display_name: String?
        public var trust_level: Int?
    }

    public func resolve(handle: String) async throws(NetworkError) -> Card {
        try await call(
            .get, "/v1/discovery/resolve/\(Self.pathComponent(handle))", endpoint: "/v1/discovery/resolve/:handle")
    }

    public func search(_ query: String, limit: Int = 20) async throws(NetworkError) -> [Card] {
        struct Results: Decodable { var results: [Card] }
        let results: Results = try await call(
            .get, "/v1/discovery/search?q=\(Self.pathComponent(query))&limit=\(limit)", endpoint: "/v1/discovery/search"
        )
        return results.results
    }

    // MARK: - HTTP

    static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }

    /// One call; `auth` adds the bearer token (fresh), and a 401 refreshes once and retries once.
    /// `endpoint` names the route in messages: ids never reach an error text.
    func call<Result: Decodable>(
        _ method: HTTPRequest.Method, _ path: String, endpoint: String? = nil, body: Value? = nil, auth: Bool = true
    ) async throws(NetworkError) -> Result {
        var retried = false
        while true {
            var headers: [(name: String, value: String)] = [("Accept", "application/json")]
            if auth { headers.append(("Authorization", "Bearer \(try await freshToken())")) }
            if body != nil { headers.append(("Content-Type", "application/json")) }
            let request = HTTPRequest(
                method, server + path, headers: headers, body: body.map { Data(JSONText.encode($0).utf8) },
                timeout: 15, maximumResponseSize: 16 << 20, allowsInsecure: insecure)
            let response: HTTPResponse
            do {
                response = try await http.send(request)
            } catch {
                throw NetworkError(network: Self.network, transport: error)
            }
            if response.status == 401, auth, !retried {
                retried = true
                try await refresh()
                continue
            }
            guard (200..<300).contains(response.status) else { throw Self.error(from: response) }
            do {
                return try JSONDecoder().decode(Result.self, from: response.body)
            } catch {
                throw NetworkError(
                    network: Self.network, code: "malformed_response",
                    message:
                        "the server's \(response.status) answer to \(method.rawValue) \(endpoint ?? path) is not the documented JSON",
                    status: response.status, isTransient: true)
            }
        }
    }

    /// `{"error": {"code", "message", "status"}}`; anything else (a proxy's page) is `non_json_response`.
    static func error(from response: HTTPResponse) -> NetworkError {
        struct Envelope: Decodable {
            struct Body: Decodable {
                var code: String
                var message: String?
            }
            var error: Body
        }
        let transient = response.status == 429 || response.status >= 500
        let retryAfter = response.status == 429 ? (response.retryAfter() ?? 60) : nil
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: response.body) else {
            return NetworkError(
                network: network, code: "non_json_response",
                message: "HTTP \(response.status) with a body that is not the JSON error envelope",
                status: response.status, isTransient: transient, retryAfter: retryAfter)
        }
        return NetworkError(
            network: network, code: envelope.error.code,
            message: Redactor.shared.redact(envelope.error.message ?? envelope.error.code), status: response.status,
            isTransient: transient, retryAfter: retryAfter)
    }
}
