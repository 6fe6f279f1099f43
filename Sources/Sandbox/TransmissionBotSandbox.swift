internal import Foundation
internal import Workflow

/// A local TransmissionBot server's behaviour, written from protocols/transmissionbot.md (§4–§6, §10), never from a
/// client's code, so a client mistake cannot hide behind the same mistake here. Pure request → response over
/// in-memory state and an injectable clock; ``SandboxServer/start(transmissionBot:faults:host:port:)`` puts it on
/// HTTP. Envelopes are opaque: the server stores and serves them, never parses them.
public final class TransmissionBotSandbox: @unchecked Sendable {
    /// Defaults follow the document's [D] facts and [P] proposals; every limit is a knob (§5.8, §10).
    public struct Options: Sendable {
        /// Access tokens last this long (§4: one hour).
        public var accessTokenLifetime = 3600
        /// Requests per minute per token (unauthenticated: per client address); nil turns the limit off (§5.8).
        public var requestsPerMinute: Int? = 120
        /// Bundle fetches per hour per requester; nil turns the limit off (§5.8).
        public var bundleFetchesPerHour: Int? = 60
        /// `POST /v1/auth/recover` attempts per hour per client address; nil turns the limit off (§4).
        public var recoveryAttemptsPerHour: Int? = 5
        /// Seconds a recovery challenge stays usable (§5.3).
        public var challengeLifetime = 300
        /// Serve an agent's last PQ prekey again instead of consuming it (§6.1: off, as no last resort is documented).
        public var lastResortPQPrekey = false
        /// Refuse a bundle with `CONTACT_REQUIRED` unless the two agents are connected (§5.4: off by default).
        public var bundleRequiresContact = false
        /// Put `sender_agent_id` in offline messages, for debugging (§5.5: sealed sender omits it).
        public var includeSenderID = false
        /// A refresh token used twice also revokes the one issued for it: the family is locked out until recovery
        /// (§4, optional).
        public var refreshReuseRevokesFamily = false
        /// Recovery signatures cover the challenge's text as UTF-8 instead of its decoded bytes (§5.3, open).
        public var recoverySignsChallengeText = false
        /// An identity signing key registers once (§5.2, optional `CONFLICT`).
        public var uniqueSigningKeys = true
        /// Agent, message and request ids from a seeded generator instead of the system's (§10); tokens and
        /// challenges stay random.
        public var idSeed: UInt64?
        /// `/v1/keys/count` reports a pool below this as low (§2: replenish below 5).
        public var lowPrekeyThreshold = 5
        /// Limits that keep the sandbox bounded whatever clients send.
        public var maximumAgents = 10_000
        public var maximumBodyBytes = 1 << 20
        /// A decoded envelope's size (§5.5: 256 KiB).
        public var maximumEnvelopeBytes = 256 << 10
        public var maximumQueuedMessages = 1_000
        /// Envelope bytes queued across every agent.
        public var maximumStoredEnvelopeBytes = 256 << 20
        /// Keys of one type per upload (§5.4: 100).
        public var maximumPrekeysPerUpload = 100
        public var maximumPrekeysPerPool = 1_000
        public var maximumContactsPerAgent = 1_000

        public init() {}
    }

    public var options: Options {
        get { lock.withLock { storedOptions } }
        set { lock.withLock { storedOptions = newValue } }
    }

    public let clock: SandboxClock
    let lock = NSLock()
    var storedOptions: Options
    var ids: IDGenerator
    /// Signs this sandbox's access tokens; a new sandbox refuses an old one's tokens.
    let tokenKey = SandboxCrypto.randomBytes(32)
    var agents: [String: Agent] = [:]
    var agentsByHandle: [String: String] = [:]
    var agentsBySigningKey: [[UInt8]: String] = [:]
    var relationships: [Pair: Relationship] = [:]
    var pairsByRequest: [String: Pair] = [:]
    var nextRelationshipOrder = 0
    var storedEnvelopeBytes = 0
    var windows: [String: [Date]] = [:]
    var nextSweep = Date.distantPast

    public init(options: Options = Options(), clock: SandboxClock = SandboxClock()) {
        storedOptions = options
        self.clock = clock
        ids = IDGenerator(seed: options.idSeed)
    }

    // MARK: - State

    struct Prekey {
        var keyID: UInt32
        var publicKey: [UInt8]
        var signature: [UInt8]?
    }

    struct QueuedMessage {
        var id: String
        var sender: String
        var envelope: String
        var bytes: Int
        var createdAt: Date
    }

    struct Agent {
        var id: String
        var handle: String
        var displayName: String
        var description: String
        var category: String
        var ownerEmail: String?
        var signingKey: [UInt8]
        var dhKey: [UInt8]
        var deactivated = false
        var createdAt: Date
        /// The one live refresh token: each refresh spends it and issues the next (§4).
        var refreshToken: String?
        /// Recently spent refresh tokens, to tell reuse from a token never issued.
        var spentRefreshTokens: [String] = []
        var signedPrekey: Prekey?
        var oneTimePrekeys: [Prekey] = []
        var pqPrekeys: [Prekey] = []
        var challenges: [(value: String, expiresAt: Date)] = []
        /// Agents this one has a relationship with (any state), for listing and for cascading a delete.
        var peers: Set<String> = []
        var queue: [QueuedMessage] = []
    }

    /// Two agents, in a fixed order, so one relationship serves both.
    struct Pair: Hashable {
        let first: String
        let second: String
        init(_ one: String, _ other: String) {
            (first, second) = one < other ? (one, other) : (other, one)
        }
        func other(than agent: String) -> String { agent == first ? second : first }
    }

    /// The contact state machine (§6.3) for one pair: the last request and what became of it.
    struct Relationship {
        enum State: Equatable {
            case pending
            case connected
            case blocked(by: String)
        }
        var requestID: String
        var requester: String
        var message: String
        var state: State
        var createdAt: Date
        var updatedAt: Date
        var order: Int

        /// The state as `agent` sees it (§5.6). Only a request's target can block it, and the requester keeps
        /// seeing its request pending, so the block is not revealed.
        func state(for agent: String) -> String {
            switch state {
            case .connected: "connected"
            case .pending: requester == agent ? "pending_outgoing" : "pending_incoming"
            case .blocked(let blocker): blocker == agent ? "blocked" : "pending_outgoing"
            }
        }
    }

    // MARK: - Dispatch

    public func handle(_ request: SandboxRequest) -> SandboxResponse {
        lock.withLock {
            let now = clock.now
            sweep(now: now)
            do throws(SandboxResponse) {
                return try route(Call(request: request, now: now))
            } catch {
                return error
            }
        }
    }

    /// One request being answered.
    struct Call {
        var request: SandboxRequest
        var now: Date
        var unixSeconds: Int { Int(now.timeIntervalSince1970.rounded(.down)) }
    }

    private enum Endpoint {
        /// No token needed; a valid one (`optional` auth, §5.1) only keys the rate limit.
        case open((Call) throws(SandboxResponse) -> SandboxResponse)
        /// A valid access token of an active agent, whose id the handler gets.
        case signedIn((Call, String) throws(SandboxResponse) -> SandboxResponse)
    }

    private func route(_ call: Call) throws(SandboxResponse) -> SandboxResponse {
        let parts = call.request.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let method = call.request.method
        switch (method, parts) {
        case ("GET", ["health"]): return .json(200, ["status": "ok"])
        case ("GET", ["health", "ready"]): return .json(200, ["status": "ready"])
        default: break
        }
        guard let endpoint = endpoint(method, parts) else {
            throw Self.failure(status: 404, "no such endpoint: \(method) \(call.request.path)")
        }
        switch endpoint {
        case .open(let handler):
            let token = try? authenticate(call)
            try limitRequests(token.map { "agent:\($0)" } ?? "address:\(call.request.clientAddress)", call)
            return try handler(call)
        case .signedIn(let handler):
            let agent = try authenticate(call)
            try limitRequests("agent:\(agent)", call)
            return try handler(call, agent)
        }
    }

    private func endpoint(_ method: String, _ parts: [String]) -> Endpoint? {
        guard parts.first == "v1" else { return nil }
        switch (method, Array(parts.dropFirst())) {
        case ("POST", ["agents", "register"]): return .open(register)
        case ("POST", ["agents", "me", "deactivate"]): return .signedIn(deactivate)
        case ("DELETE", ["agents", "me"]): return .signedIn(delete)
        case ("GET", let path) where path.count == 2 && path[0] == "agents":
            return .signedIn { call, viewer throws(SandboxResponse) in try self.profile(path[1], call, viewer: viewer) }
        case ("GET", let path) where path.count == 3 && path[0] == "agents" && path[2] == "card":
            return .open { call throws(SandboxResponse) in try self.card(path[1], call) }
        case ("POST", ["auth", "refresh"]): return .open(refresh)
        case ("POST", ["auth", "recover", "challenge"]): return .open(challenge)
        case ("POST", ["auth", "recover"]): return .open(recover)
        case ("POST", ["keys", "prekeys"]): return .signedIn(uploadPrekeys)
        case ("DELETE", ["keys", "prekeys"]): return .signedIn(purgePrekeys)
        case ("GET", ["keys", "count"]): return .signedIn(countPrekeys)
        case ("GET", let path) where path.count == 3 && path[0] == "keys" && path[1] == "bundle":
            return .signedIn { call, agent throws(SandboxResponse) in try self.bundle(of: path[2], for: agent, call) }
        case ("POST", ["messages", "send"]): return .signedIn(send)
        case ("GET", ["messages", "offline"]): return .signedIn(offline)
        case ("POST", ["messages", "ack"]): return .signedIn(acknowledge)
        case ("POST", ["contacts", "request"]): return .signedIn(requestContact)
        case ("POST", ["contacts", "respond"]): return .signedIn(respondToContact)
        case ("GET", ["contacts"]): return .signedIn(listContacts)
        case ("GET", let path) where path.count == 3 && path[0] == "discovery" && path[1] == "resolve":
            return .open { call throws(SandboxResponse) in try self.resolve(path[2], call) }
        case ("GET", ["discovery", "search"]): return .open(search)
        default: return nil
        }
    }

    // MARK: - Errors

    /// The error envelope `{"error": {"code", "message", "status"}}` (§5), with the documented code for each
    /// status (§5's [P] mapping); 5xx, which the document does not name, is `INTERNAL_ERROR`.
    static func failure(status: Int, code: String? = nil, _ message: String) -> SandboxResponse {
        let documented =
            switch status {
            case 400, 413: "INVALID_REQUEST"
            case 401: "UNAUTHORIZED"
            case 403: "CONTACT_REQUIRED"
            case 404: "NOT_FOUND"
            case 409: "CONFLICT"
            case 429: "RATE_LIMITED"
            default: "INTERNAL_ERROR"
            }
        let code = code ?? documented
        return .json(
            status,
            ["error": ["code": .string(code), "message": .string(message), "status": .number(Double(status))]])
    }

    static func invalid(_ message: String) -> SandboxResponse { failure(status: 400, message) }

    // MARK: - Rate limits (§5.8)

    /// Admits one more event under `key` if fewer than `limit` happened in the last `window` seconds; otherwise
    /// throws 429 `RATE_LIMITED` with `Retry-After` for when the oldest leaves the window.
    func limit(_ key: String, to limit: Int?, per window: TimeInterval, _ call: Call) throws(SandboxResponse) {
        guard let limit, limit > 0 else { return }
        var times = (windows[key] ?? []).filter { call.now.timeIntervalSince($0) < window }
        defer { windows[key] = times }
        guard times.count < limit else {
            let wait = Int((window - call.now.timeIntervalSince(times[0])).rounded(.up))
            var response = Self.failure(status: 429, "rate limit of \(limit) per \(Int(window)) s reached")
            response.headers["retry-after"] = String(max(1, wait))
            throw response
        }
        times.append(call.now)
    }

    private func limitRequests(_ key: String, _ call: Call) throws(SandboxResponse) {
        try limit("requests:" + key, to: storedOptions.requestsPerMinute, per: 60, call)
    }

    /// Forgets rate-limit windows an hour old and expired challenges, at most once a minute of sandbox time.
    private func sweep(now: Date) {
        guard now >= nextSweep else { return }
        nextSweep = now.addingTimeInterval(60)
        windows = windows.filter { !($0.value.last.map { now.timeIntervalSince($0) >= 3600 } ?? true) }
        for id in agents.keys where agents[id]?.challenges.isEmpty == false {
            agents[id]?.challenges.removeAll { $0.expiresAt <= now }
        }
    }

    // MARK: - Request bodies

    /// The body as a JSON object; an empty body is `{}`.
    func object(_ call: Call) throws(SandboxResponse) -> [String: Value] {
        let body = call.request.body
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        guard let text = String(data: body, encoding: .utf8), let value = try? JSONText.decode(text) else {
            throw Self.invalid("the body is not JSON")
        }
        guard case .object(let members) = value else { throw Self.invalid("the body must be a JSON object") }
        return members
    }

    /// A string field, trimmed of nothing; absent or null is nil unless `required`.
    func string(
        _ body: [String: Value], _ field: String, required: Bool = true, maximumLength: Int = 256
    ) throws(SandboxResponse) -> String? {
        guard let raw = body[field], raw != .null else {
            if required { throw Self.invalid("\(field) is required") }
            return nil
        }
        guard case .string(let text) = raw else { throw Self.invalid("\(field) must be a string") }
        guard text.count <= maximumLength else {
            throw Self.invalid("\(field) must be at most \(maximumLength) characters")
        }
        return text
    }

    /// Unpadded base64url of exactly `length` bytes (§3); `=` padding is refused.
    func base64URL(_ text: String, _ field: String, length: Int) throws(SandboxResponse) -> [UInt8] {
        guard !text.contains("=") else { throw Self.invalid("\(field) must be base64url without = padding") }
        guard let bytes = SandboxCrypto.bytes(base64URL: text) else { throw Self.invalid("\(field) is not base64url") }
        guard bytes.count == length else {
            throw Self.invalid("\(field) must be \(length) bytes, not \(bytes.count)")
        }
        return bytes
    }

    func integer(_ value: Value?, _ field: String, in range: ClosedRange<Int>) throws(SandboxResponse) -> Int {
        guard case .number(let number)? = value, number == number.rounded(), number >= Double(range.lowerBound),
            number <= Double(range.upperBound)
        else { throw Self.invalid("\(field) must be an integer from \(range.lowerBound) to \(range.upperBound)") }
        return Int(number)
    }

    /// A query parameter that is an integer in `range`, or `default` when absent.
    func query(
        _ call: Call, _ name: String, default value: Int, in range: ClosedRange<Int>
    ) throws(SandboxResponse) -> Int {
        guard let raw = call.request.query[name] else { return value }
        guard let number = Int(raw), range.contains(number) else {
            throw Self.invalid("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// An agent that exists and is not deactivated, or 404 (§5.4: unknown, deleted and deactivated look alike).
    func activeAgent(_ id: String) throws(SandboxResponse) -> Agent {
        guard let agent = agents[id], !agent.deactivated else { throw Self.failure(status: 404, "no such agent") }
        return agent
    }

    static func timestamp(_ date: Date) -> Value { .string(Timestamp.format(date)) }
}

/// UUIDv7 ids (§3: the documented `agent_id` is one) from the system's randomness, or from SplitMix64 when seeded.
struct IDGenerator {
    private var state: UInt64?

    init(seed: UInt64?) {
        state = seed
    }

    private mutating func next() -> UInt64 {
        guard var z = state else { return UInt64.random(in: .min ... .max) }
        z &+= 0x9E37_79B9_7F4A_7C15
        state = z
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Milliseconds since 1970 in the first 48 bits, then version 7, the RFC 9562 variant and 74 random bits.
    mutating func uuid(at date: Date) -> String {
        let milliseconds = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
        let high = next()
        let low = next()
        var bytes = (0..<6).map { UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * $0)) }
        bytes += [0x70 | UInt8(truncatingIfNeeded: high >> 8) & 0x0F, UInt8(truncatingIfNeeded: high)]
        bytes += [0x80 | UInt8(truncatingIfNeeded: low >> 56) & 0x3F]
        bytes += (1..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        let hex = bytes.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }
}
