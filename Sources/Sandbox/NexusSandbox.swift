internal import Foundation
internal import Workflow

/// A local NexusMessaging server's behaviour, written from protocols/nexus.md (§3, §7, §11), never from the
/// client's code, so a client mistake cannot hide behind the same mistake here. Pure request → response over
/// in-memory state and an injectable clock; ``SandboxServer`` puts it on HTTP.
public final class NexusSandbox: @unchecked Sendable {
    /// Defaults follow §11; the switches cover the disputed behaviours of §12.
    public struct Options: Sendable {
        public var defaultTTL = 3660
        public var minimumTTL = 60
        public var maximumTTL = 86_400
        /// Disputed (§12.3): 2 per the spec, 50 per the CLI docs.
        public var defaultMaxAgents = 2
        public var maxAgentsCap = 50
        public var pairingTTL = 600
        /// Requests per 60 s per client address; nil turns limiting off.
        public var rateLimit: Int? = 100
        /// `capabilities.messageFormat`; nil leaves the key out (an old server).
        public var messageFormats: [String]? = ["text", "json"]
        /// Disputed (§12.4): a wrong key on send is rejected (live) or stored unverified (spec).
        public var rejectWrongKeyOnSend = true
        /// Disputed (§12.7): status lists agents as strings (CLI) or `{agentId, joinedAt}` objects (plugin).
        public var agentsAsObjects = false
        /// Disputed (§12.8): `agent_not_in_session` (newer) or `forbidden` (older).
        public var pollNonMemberCode = "agent_not_in_session"
        /// Disputed (§12.9): whether a poll slides the session's TTL.
        public var pollSlidesTTL = false
        /// Disputed (§12.6): whether renew rejects an empty body (old servers did).
        public var renewRejectsEmptyBody = true
        /// §3.5: a system message asking both agents to poll when the second one joins.
        public var cronReminder = false
        /// §4.6: redact secrets in message text as `[REDACTED:type]`.
        public var redaction = true
        /// §7 leave: check the key before membership (the CLI expects evicted agents to get 401).
        public var leaveChecksKeyFirst = false
        /// Where pairing URLs point (`<base>/p/CODE`); ``SandboxServer`` sets it to its own address.
        public var publicBase = "http://127.0.0.1"
        /// Limits that keep a sandbox bounded whatever clients send (nexus.md documents none).
        public var maximumMessageBytes = 64 << 10
        public var maximumMessagesPerSession = 10_000
        public var maximumSessions = 10_000
        public var maximumCodes = 10_000

        public init() {}
    }

    public var options: Options {
        get { lock.withLock { storedOptions } }
        set { lock.withLock { storedOptions = newValue } }
    }

    public let clock: SandboxClock
    private let lock = NSLock()
    private var storedOptions: Options
    private var sessions: [String: Session] = [:]
    private var codes: [String: Code] = [:]
    private var requestTimes: [String: [Date]] = [:]
    private var nextSweep = Date.distantPast
    private let started: Date

    struct Member {
        var agentId: String
        var key: String
        var joinedAt: Date
        var lastSeenAt: Date
    }

    struct Message {
        var id: String
        var agentId: String
        var text: String
        var json: Value?
        var cursor: UInt64
        var verified: Bool
        var expiresAt: Date
    }

    struct Session {
        var id: String
        var ttl: Int
        var maxAgents: Int
        var creatorAgentId: String?
        var createdAt: Date
        var expiresAt: Date
        var members: [Member] = []
        var messages: [Message] = []
        var nextCursor: UInt64 = 1

        func member(_ agentId: String) -> Member? { members.first { $0.agentId == agentId } }
    }

    struct Code {
        var sessionId: String
        var expiresAt: Date
        var claimed = false
    }

    public init(options: Options = Options(), clock: SandboxClock = SandboxClock()) {
        storedOptions = options
        self.clock = clock
        started = clock.now
    }

    /// Forgets every message, as the real server does on restart (sessions survive on disk, §5); the cursor
    /// counters survive too (nexus.md leaves that open, §12.13).
    public func restart() {
        lock.withLock {
            for id in sessions.keys { sessions[id]?.messages.removeAll() }
        }
    }

    // MARK: - Dispatch

    public func handle(_ request: SandboxRequest) -> SandboxResponse {
        lock.withLock {
            let now = clock.now
            expire(now: now)
            var response = route(request, now: now)
            response.headers["x-request-id"] = "req_" + Self.hex(8)
            return response
        }
    }

    private func route(_ request: SandboxRequest, now: Date) -> SandboxResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map {
            $0.utf8.contains(UInt8(ascii: "%")) ? String($0).removingPercentEncoding ?? String($0) : String($0)
        }
        if let limited = rateLimit(request.clientAddress, now: now) { return limited }
        switch (request.method, parts.count, parts.first) {
        case ("GET", 0, _):
            return SandboxResponse(
                status: 200, headers: ["content-type": "text/markdown"],
                body: Data("# NexusMessaging (switchboard sandbox)\nCreate a session with PUT /v1/sessions.\n".utf8))
        case ("GET", 1, "health"): return health(now: now)
        case ("GET", 2, "v1") where parts[1] == "stats":
            return .json(
                200,
                [
                    "activeSessions": .number(Double(sessions.count)),
                    "totalAgents": .number(Double(sessions.values.map(\.members.count).reduce(0, +))),
                    "totalMessages": .number(Double(sessions.values.map(\.messages.count).reduce(0, +))),
                    "uptime": .number(now.timeIntervalSince(started).rounded(.down)),
                ])
        case ("GET", 2, "p"):
            return SandboxResponse(status: 301, headers: ["location": "/v1/pair/\(parts[1])/skill"])
        default: break
        }
        guard parts.first == "v1", parts.count >= 2 else { return notFound() }
        switch (request.method, Array(parts.dropFirst())) {
        case ("PUT", ["sessions"]): return create(request, now: now)
        case ("GET", let path) where path.count == 2 && path[0] == "sessions": return status(path[1], now: now)
        case ("POST", let path) where path.count == 3 && path[0] == "sessions" && path[2] == "join":
            return join(path[1], request, now: now)
        case ("DELETE", let path) where path.count == 4 && path[0] == "sessions" && path[2] == "agents":
            return leave(path[1], agent: path[3], request, now: now)
        case ("POST", let path) where path.count == 3 && path[0] == "sessions" && path[2] == "renew":
            return renew(path[1], request, now: now)
        case ("POST", let path) where path.count == 3 && path[0] == "sessions" && path[2] == "messages":
            return send(path[1], request, now: now)
        case ("GET", let path) where path.count == 3 && path[0] == "sessions" && path[2] == "messages":
            return poll(path[1], request, now: now)
        case ("PUT", ["pair"]): return pair(request, now: now)
        case ("POST", let path) where path.count == 3 && path[0] == "pair" && path[2] == "claim":
            return claim(path[1], request, now: now)
        case ("GET", let path) where path.count == 3 && path[0] == "pair" && path[2] == "status":
            return pairStatus(path[1], now: now)
        case ("GET", let path) where path.count == 3 && path[0] == "pair" && path[2] == "skill":
            return SandboxResponse(
                status: 200, headers: ["content-type": "text/markdown"],
                body: Data(
                    "# Pairing code \(path[1].uppercased())\nClaim it: POST /v1/pair/\(path[1].uppercased())/claim with X-Agent-Id.\n"
                        .utf8))
        default: return notFound()
        }
    }

    private func notFound() -> SandboxResponse { .error(404, "not_found", "no such endpoint") }

    // MARK: - Common checks (§7 order: rate limit → session → X-Agent-Id → body → schema)

    /// Drops expired sessions (and codes a day past expiry, kept for `status`), at most once a second of
    /// sandbox time; between sweeps, lookups check expiry themselves.
    private func expire(now: Date) {
        guard now >= nextSweep else { return }
        nextSweep = now.addingTimeInterval(1)
        sessions = sessions.filter { $0.value.expiresAt > now }
        codes = codes.filter { $0.value.expiresAt > now.addingTimeInterval(-86_400) }
        requestTimes = requestTimes.filter { !($0.value.last.map { now.timeIntervalSince($0) >= 60 } ?? true) }
    }

    /// A session that exists and has not expired.
    private func live(_ id: String, now: Date) -> Session? {
        guard let session = sessions[id], session.expiresAt > now else { return nil }
        return session
    }

    private func rateLimit(_ client: String, now: Date) -> SandboxResponse? {
        guard let limit = storedOptions.rateLimit, limit > 0 else { return nil }
        var times = (requestTimes[client] ?? []).filter { now.timeIntervalSince($0) < 60 }
        defer { requestTimes[client] = times }
        guard times.count < limit else {
            let wait = Int((60 - now.timeIntervalSince(times[0])).rounded(.up))
            var response = SandboxResponse.error(429, "rate_limit_exceeded", "Too many requests, retry later")
            response.headers["retry-after"] = String(max(1, wait))
            return response
        }
        times.append(now)
        return nil
    }

    private func agentID(_ request: SandboxRequest) -> Result<String, SandboxResponse> {
        guard let id = request.headers["x-agent-id"], !id.isEmpty else {
            return .failure(.error(400, "missing_agent_id", "X-Agent-Id header is required"))
        }
        guard Self.isAgentID(id), id != "system" else {
            return .failure(
                .error(
                    400, "invalid_request", "Invalid agent id",
                    details: [["path": ["agentId"], "message": "must match [A-Za-z0-9_-]{1,128} and not be 'system'"]]))
        }
        return .success(id)
    }

    static func isAgentID(_ text: String) -> Bool {
        text.count <= 128 && !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
            }
    }

    /// An empty body is `{}` where allowed; otherwise it fails schema validation (`invalid_request`), or is a
    /// parse error (`invalid_body`) where old servers treated it so (renew, §3.7). A non-empty body must be
    /// a JSON object.
    private func body(
        _ request: SandboxRequest, emptyAllowed: Bool = true, emptyIsParseError: Bool = false
    )
        -> Result<[String: Value], SandboxResponse>
    {
        if request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            if emptyAllowed { return .success([:]) }
            return .failure(
                emptyIsParseError
                    ? .error(400, "invalid_body", "Request body must be valid JSON")
                    : .error(
                        400, "invalid_request", "Validation failed",
                        details: [["path": [], "message": "a JSON body is required"]]))
        }
        guard let text = String(data: request.body, encoding: .utf8), let value = try? JSONText.decode(text) else {
            return .failure(.error(400, "invalid_body", "Request body must be valid JSON"))
        }
        guard case .object(let members) = value else {
            return .failure(
                .error(
                    400, "invalid_request", "Request body must be a JSON object",
                    details: [["path": [], "message": "expected object"]]))
        }
        return .success(members)
    }

    private func invalid(_ field: String, _ message: String) -> SandboxResponse {
        .error(
            400, "invalid_request", "Validation failed",
            details: [["path": [.string(field)], "message": .string(message)]])
    }

    /// An integer field within a range, absent allowed.
    private func integer(
        _ body: [String: Value], _ field: String, in range: ClosedRange<Int>
    ) -> Result<Int?, SandboxResponse> {
        guard let raw = body[field], raw != .null else { return .success(nil) }
        guard case .number(let number) = raw, number == number.rounded(), number >= Double(range.lowerBound),
            number <= Double(range.upperBound)
        else { return .failure(invalid(field, "must be an integer from \(range.lowerBound) to \(range.upperBound)")) }
        return .success(Int(number))
    }

    // MARK: - Endpoints

    private func health(now: Date) -> SandboxResponse {
        var object: [String: Value] = [
            "version": "0.9.0-sandbox", "uptime": .number(now.timeIntervalSince(started).rounded(.down)),
            "status": "ok",
        ]
        if let formats = storedOptions.messageFormats {
            object["capabilities"] = ["messageFormat": .array(formats.map { .string($0) })]
        }
        return .json(200, .object(object))
    }

    private func create(_ request: SandboxRequest, now: Date) -> SandboxResponse {
        let options = storedOptions
        let parsed = body(request)
        guard case .success(let fields) = parsed else { return parsed.failureValue! }
        let ttlResult = integer(fields, "ttl", in: options.minimumTTL...options.maximumTTL)
        guard case .success(let ttl) = ttlResult else { return ttlResult.failureValue! }
        let agentsResult = integer(fields, "maxAgents", in: 2...options.maxAgentsCap)
        guard case .success(let maxAgents) = agentsResult else { return agentsResult.failureValue! }
        var creator: String?
        if let raw = fields["creatorAgentId"], raw != .null {
            guard case .string(let id) = raw, Self.isAgentID(id), id != "system" else {
                return invalid("creatorAgentId", "must match [A-Za-z0-9_-]{1,128}")
            }
            creator = id
        }
        var greeting: String?
        if let raw = fields["greeting"], raw != .null {
            guard case .string(let text) = raw else { return invalid("greeting", "must be a string") }
            greeting = text
        }
        guard sessions.count < options.maximumSessions else {
            return .error(503, "internal_error", "the sandbox holds \(options.maximumSessions) sessions, its limit")
        }
        let ttlValue = ttl ?? options.defaultTTL
        var session = Session(
            id: Self.hex(24), ttl: ttlValue, maxAgents: maxAgents ?? options.defaultMaxAgents, creatorAgentId: creator,
            createdAt: now, expiresAt: now.addingTimeInterval(TimeInterval(ttlValue)))
        if let greeting {
            session.messages.append(
                Message(
                    id: "msg_" + Self.hex(6), agentId: "system", text: greeting, json: nil, cursor: 0, verified: false,
                    expiresAt: session.expiresAt))
        }
        var response: [String: Value] = [
            "sessionId": .string(session.id), "ttl": .number(Double(session.ttl)),
            "maxAgents": .number(Double(session.maxAgents)), "state": "active",
            "creatorAgentId": creator.map { .string($0) } ?? .null,
        ]
        if let creator {
            let member = Member(agentId: creator, key: Self.hex(32), joinedAt: now, lastSeenAt: now)
            session.members.append(member)
            response["sessionKey"] = .string(member.key)
        }
        sessions[session.id] = session
        return .json(201, .object(response))
    }

    private func status(_ id: String, now: Date) -> SandboxResponse {
        guard let session = live(id, now: now) else { return sessionNotFound() }
        let agents: [Value] =
            storedOptions.agentsAsObjects
            ? session.members.map { ["agentId": .string($0.agentId), "joinedAt": .string(Self.iso($0.joinedAt))] }
            : session.members.map { .string($0.agentId) }
        return .json(
            200,
            [
                "sessionId": .string(session.id), "state": "active", "agents": .array(agents),
                "ttl": .number(Double(session.ttl)), "maxAgents": .number(Double(session.maxAgents)),
                "creatorAgentId": session.creatorAgentId.map { .string($0) } ?? .null,
                "createdAt": .string(Self.iso(session.createdAt)), "expiresAt": .string(Self.iso(session.expiresAt)),
            ])
    }

    private func sessionNotFound() -> SandboxResponse {
        .error(404, "session_not_found", "Session not found or expired")
    }

    /// Adds a member: `agent_id_taken`, then `session_full` (§7).
    private func admit(_ agent: String, to id: String, now: Date) -> Result<Member, SandboxResponse> {
        guard var session = live(id, now: now) else { return .failure(sessionNotFound()) }
        if session.member(agent) != nil {
            return .failure(.error(409, "agent_id_taken", "Agent ID already in session"))
        }
        if session.members.count >= session.maxAgents {
            return .failure(.error(409, "session_full", "Session is full"))
        }
        let member = Member(agentId: agent, key: Self.hex(32), joinedAt: now, lastSeenAt: now)
        session.members.append(member)
        if storedOptions.cronReminder, session.members.count == 2 {
            session.messages.append(
                Message(
                    id: "msg_" + Self.hex(6), agentId: "system",
                    text: "This is an async conversation. Set up a cron job to poll every 3-5 minutes.", json: nil,
                    cursor: session.nextCursor, verified: false, expiresAt: session.expiresAt))
            session.nextCursor += 1
        }
        sessions[id] = session
        return .success(member)
    }

    private func join(_ id: String, _ request: SandboxRequest, now: Date) -> SandboxResponse {
        guard live(id, now: now) != nil else { return sessionNotFound() }
        let agent: String
        switch agentID(request) {
        case .failure(let response): return response
        case .success(let value): agent = value
        }
        switch admit(agent, to: id, now: now) {
        case .failure(let response): return response
        case .success(let member):
            return .json(
                200,
                [
                    "status": "joined", "agentsOnline": .number(Double(sessions[id]!.members.count)),
                    "sessionKey": .string(member.key),
                ])
        }
    }

    private func leave(_ id: String, agent pathAgent: String, _ request: SandboxRequest, now: Date) -> SandboxResponse {
        guard var session = live(id, now: now) else { return sessionNotFound() }
        let agent: String
        switch agentID(request) {
        case .failure(let response): return response
        case .success(let value): agent = value
        }
        guard let key = request.headers["x-session-key"], !key.isEmpty else {
            return .error(401, "missing_session_key", "X-Session-Key header is required")
        }
        guard pathAgent == agent else { return .error(403, "forbidden", "Agents can only remove themselves") }
        let member = session.member(pathAgent)
        if storedOptions.leaveChecksKeyFirst, member?.key != key {
            return .error(401, "invalid_session_key", "Invalid session key")
        }
        guard let member else { return .error(404, "agent_not_found", "Agent not in session") }
        guard member.key == key else { return .error(401, "invalid_session_key", "Invalid session key") }
        guard session.creatorAgentId != agent else {
            return .error(403, "forbidden", "The session creator cannot leave")
        }
        session.members.removeAll { $0.agentId == agent }
        sessions[id] = session
        return .json(
            200,
            [
                "ok": true, "sessionId": .string(id), "agentId": .string(agent), "message": "Agent left the session",
            ])
    }

    private func renew(_ id: String, _ request: SandboxRequest, now: Date) -> SandboxResponse {
        guard var session = live(id, now: now) else { return sessionNotFound() }
        let agent: String
        switch agentID(request) {
        case .failure(let response): return response
        case .success(let value): agent = value
        }
        let parsed = body(request, emptyAllowed: !storedOptions.renewRejectsEmptyBody, emptyIsParseError: true)
        guard case .success(let body) = parsed else { return parsed.failureValue! }
        let ttlResult = integer(body, "ttl", in: storedOptions.minimumTTL...storedOptions.maximumTTL)
        guard case .success(let ttl) = ttlResult else { return ttlResult.failureValue! }
        guard session.member(agent) != nil else { return .error(403, "forbidden", "Not a member of this session") }
        if let ttl { session.ttl = ttl }
        session.expiresAt = now.addingTimeInterval(TimeInterval(session.ttl))
        sessions[id] = session
        return .json(
            200,
            [
                "sessionId": .string(id), "state": "active", "ttl": .number(Double(session.ttl)),
                "expiresAt": .string(Self.iso(session.expiresAt)),
                "agents": .array(session.members.map { .string($0.agentId) }),
            ])
    }

    private func send(_ id: String, _ request: SandboxRequest, now: Date) -> SandboxResponse {
        guard var session = live(id, now: now) else { return sessionNotFound() }
        let agent: String
        switch agentID(request) {
        case .failure(let response): return response
        case .success(let value): agent = value
        }
        let parsed = body(request, emptyAllowed: false)
        guard case .success(let body) = parsed else { return parsed.failureValue! }
        let json = body["json"].flatMap { $0 == .null ? nil : $0 }
        var text: String?
        if let raw = body["text"], raw != .null {
            guard case .string(let value) = raw else { return invalid("text", "must be a string") }
            text = value
        }
        let limit = storedOptions.maximumMessageBytes
        if (text?.utf8.count ?? 0) > limit { return invalid("text", "must be at most \(limit) bytes") }
        if let json, JSONText.encode(json).utf8.count > limit {
            return invalid("json", "must be at most \(limit) bytes")
        }
        let jsonAllowed = storedOptions.messageFormats?.contains("json") ?? false
        if json != nil, !jsonAllowed { return invalid("json", "unrecognized key: this server accepts text only") }
        guard text != nil || json != nil else { return invalid("text", "text or json is required") }
        guard let memberIndex = session.members.firstIndex(where: { $0.agentId == agent }) else {
            return .error(403, "forbidden", "Not a member of this session")
        }
        var verified = false
        if let key = request.headers["x-session-key"], !key.isEmpty {
            if key == session.members[memberIndex].key {
                verified = true
            } else if storedOptions.rejectWrongKeyOnSend {
                return .error(403, "invalid_session_key", "Invalid session key")
            }
        }
        session.expiresAt = now.addingTimeInterval(TimeInterval(session.ttl))
        session.members[memberIndex].lastSeenAt = now
        let message = Message(
            id: "msg_" + Self.hex(6), agentId: agent,
            text: storedOptions.redaction ? Self.redact(text ?? "") : text ?? "", json: json,
            cursor: session.nextCursor, verified: verified, expiresAt: session.expiresAt)
        session.nextCursor += 1
        session.messages.append(message)
        // Memory stays bounded: the oldest messages go first, as if they had expired.
        if session.messages.count > storedOptions.maximumMessagesPerSession {
            session.messages.removeFirst(session.messages.count - storedOptions.maximumMessagesPerSession)
        }
        sessions[id] = session
        return .json(
            201,
            [
                "id": .string(message.id), "cursor": .string(String(message.cursor)),
                "expiresAt": .string(Self.iso(message.expiresAt)),
            ])
    }

    private func poll(_ id: String, _ request: SandboxRequest, now: Date) -> SandboxResponse {
        guard var session = live(id, now: now) else { return sessionNotFound() }
        let agent: String
        switch agentID(request) {
        case .failure(let response): return response
        case .success(let value): agent = value
        }
        var after: UInt64?
        if let raw = request.query["after"] {
            guard let value = UInt64(raw) else { return invalid("after", "must be a non-negative integer cursor") }
            after = value
        }
        guard let memberIndex = session.members.firstIndex(where: { $0.agentId == agent }) else {
            let code = storedOptions.pollNonMemberCode
            return .error(
                403, code, code == "forbidden" ? "Not a member of this session" : "Agent is not in this session")
        }
        session.members[memberIndex].lastSeenAt = now
        if storedOptions.pollSlidesTTL { session.expiresAt = now.addingTimeInterval(TimeInterval(session.ttl)) }
        sessions[id] = session
        let messages = session.messages.filter { after == nil || $0.cursor > after! }
        let nextCursor: String =
            messages.last.map { String($0.cursor) } ?? after.map(String.init)
            ?? session.messages.last.map { String($0.cursor) } ?? "0"
        var object: [String: Value] = [
            "messages": .array(
                messages.map { message -> Value in
                    var item: [String: Value] = [
                        "id": .string(message.id), "agentId": .string(message.agentId), "text": .string(message.text),
                        "cursor": .string(String(message.cursor)), "verified": .bool(message.verified),
                        "expiresAt": .string(Self.iso(message.expiresAt)),
                    ]
                    if let json = message.json { item["json"] = json }
                    return .object(item)
                }),
            "nextCursor": .string(nextCursor),
        ]
        if request.query["members"] == "true" {
            object["members"] = .array(
                session.members.map {
                    ["agentId": .string($0.agentId), "lastSeenAt": .string(Self.iso($0.lastSeenAt))]
                })
        }
        return .json(200, .object(object))
    }

    /// 256 pronounceable words (16 × 16 syllables): two words and five of 36 characters make about 42 bits,
    /// above the 40 nexus.md §6 asks for.
    public static let words: [String] = {
        let starts = ["BA", "DE", "FI", "GO", "KU", "LA", "ME", "NI", "PO", "RU", "SA", "TE", "VI", "ZO", "MA", "RO"]
        let ends = [
            "LA", "RON", "MIS", "TAK", "VEN", "DOR", "NIX", "PAL", "SUM", "KEL", "BRO", "ZEN", "FAR", "TIL", "GUS",
            "HAN",
        ]
        return starts.flatMap { start in ends.map { start + $0 } }
    }()

    private func pair(_ request: SandboxRequest, now: Date) -> SandboxResponse {
        let parsed = body(request, emptyAllowed: false)
        guard case .success(let body) = parsed else { return parsed.failureValue! }
        guard case .string(let sessionId)? = body["sessionId"], !sessionId.isEmpty else {
            return invalid("sessionId", "is required")
        }
        guard live(sessionId, now: now) != nil else { return sessionNotFound() }
        guard codes.count < storedOptions.maximumCodes else {
            return .error(
                503, "internal_error", "the sandbox holds \(storedOptions.maximumCodes) pairing codes, its limit")
        }
        var code: String
        repeat {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            code =
                "\(Self.words.randomElement()!)-\(Self.words.randomElement()!)-"
                + String((0..<5).map { _ in alphabet.randomElement()! })
        } while codes[code] != nil
        let expiresAt = now.addingTimeInterval(TimeInterval(storedOptions.pairingTTL))
        codes[code] = Code(sessionId: sessionId, expiresAt: expiresAt)
        return .json(
            201,
            [
                "code": .string(code), "url": .string("\(storedOptions.publicBase)/p/\(code)"),
                "expiresAt": .string(Self.iso(expiresAt)),
            ])
    }

    private func claim(_ raw: String, _ request: SandboxRequest, now: Date) -> SandboxResponse {
        let name = raw.uppercased()
        guard let code = codes[name] else { return .error(404, "code_not_found", "Pairing code not found") }
        guard !code.claimed, code.expiresAt > now else {
            return .error(404, "code_expired_or_used", "Pairing code expired or already used")
        }
        let agent: String
        switch agentID(request) {
        case .failure(let response): return response
        case .success(let value): agent = value
        }
        // A failed join does not consume the code (§3.11).
        switch admit(agent, to: code.sessionId, now: now) {
        case .failure(let response): return response
        case .success(let member):
            codes[name]?.claimed = true
            return .json(
                200, ["sessionId": .string(code.sessionId), "status": "claimed", "sessionKey": .string(member.key)])
        }
    }

    private func pairStatus(_ raw: String, now: Date) -> SandboxResponse {
        guard let code = codes[raw.uppercased()] else { return .error(404, "code_not_found", "Pairing code not found") }
        let state = code.claimed ? "claimed" : code.expiresAt > now ? "pending" : "expired"
        return .json(200, ["state": .string(state)])
    }

    // MARK: - Helpers

    /// §4.6's deterministic pattern set, each behind literals one of which every match contains, so that a
    /// message with none costs a byte search instead of a regular expression.
    nonisolated(unsafe) static let redactions: [(triggers: [String], pattern: NSRegularExpression, template: String)] =
        [
            (["sk-"], #"sk-[A-Za-z0-9_-]{20,}"#, "openai_key"), (["AKIA"], #"AKIA[0-9A-Z]{16}"#, "aws_key"),
            (["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], #"gh[pousr]_[A-Za-z0-9]{36}"#, "github_token"),
            (
                ["-----BEGIN "],
                #"-----BEGIN [A-Z ]{0,32}PRIVATE KEY-----[\s\S]{0,8192}?-----END [A-Z ]{0,32}PRIVATE KEY-----"#,
                "private_key"
            ),
            (["Bearer "], #"Bearer [A-Za-z0-9._~+/=-]+"#, "bearer_token"),
            (["password"], #"password\s*[:=]\s*\S+"#, "password"),
        ].map { triggers, pattern, type in
            // The patterns are constants: a failure here is a typo caught by the first test that runs.
            (
                triggers, try! NSRegularExpression(pattern: pattern),
                NSRegularExpression.escapedTemplate(for: "[REDACTED:\(type)]")
            )
        }

    static func redact(_ text: String) -> String {
        var result = text
        for (triggers, pattern, template) in redactions where triggers.contains(where: { contains(result, $0) }) {
            result = pattern.stringByReplacingMatches(
                in: result, range: NSRange(result.startIndex..., in: result), withTemplate: template)
        }
        return result
    }

    /// Whether `text` holds `literal`, over the UTF-8 bytes: `memchr` to each candidate first byte, `memcmp`
    /// there (Foundation's `contains` goes through `NSString`, the standard library's generic search is slower
    /// still).
    static func contains(_ text: String, _ literal: String) -> Bool {
        var text = text
        var literal = literal
        return text.withUTF8 { haystack in
            literal.withUTF8 { needle in
                guard let first = needle.first, needle.count <= haystack.count, let base = haystack.baseAddress
                else { return needle.isEmpty }
                var offset = 0
                while offset + needle.count <= haystack.count {
                    guard let hit = memchr(base + offset, Int32(first), haystack.count - offset - needle.count + 1)
                    else { return false }
                    let start = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base
                    if memcmp(base + start, needle.baseAddress!, needle.count) == 0 { return true }
                    offset = start + 1
                }
                return false
            }
        }
    }

    /// `bytes` random bytes in lower-case hex: eight bytes per call to the system generator (one `getrandom`
    /// each), not one call per byte.
    static func hex(_ bytes: Int) -> String {
        let digits: StaticString = "0123456789abcdef"
        var generator = SystemRandomNumberGenerator()
        return String(
            unsafeUninitializedCapacity: bytes * 2,
            initializingUTF8With: { buffer in
                var random: UInt64 = 0
                for index in 0..<bytes {
                    if index % 8 == 0 { random = generator.next() }
                    let byte = Int(truncatingIfNeeded: random >> UInt64(8 * (index % 8))) & 0xFF
                    buffer[2 * index] = digits.utf8Start[byte >> 4]
                    buffer[2 * index + 1] = digits.utf8Start[byte & 0xF]
                }
                return bytes * 2
            })
    }

    static func iso(_ date: Date) -> String {
        Timestamp.format(date)
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let value) = self { value } else { nil }
    }
}
