import Foundation
import Sandbox
import TBX1
import Testing
import Transport

/// A TransmissionBot sandbox on 127.0.0.1 (a port the OS picks) with a frozen clock, and raw HTTP to it written
/// from protocols/transmissionbot.md through the repository's libcurl client, never through a TransmissionBot client.
final class TransmissionBotServer {
    struct Exchange {
        var status: Int
        var headers: [String: String]
        var json: [String: Any]

        /// The error envelope's `{"code", "message", "status"}`, checked for shape.
        var error: (code: String, message: String, status: Int)? {
            guard let error = json["error"] as? [String: Any], let code = error["code"] as? String,
                let message = error["message"] as? String, let status = error["status"] as? Int
            else { return nil }
            return (code, message, status)
        }
    }

    /// An agent as registration left it: its keys and its current tokens.
    struct Agent {
        let id: String
        let handle: String
        let identity: IdentityKeyPair
        var accessToken: String
        var refreshToken: String
    }

    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    let url: String
    let clock = SandboxClock(frozenAt: start)
    let faults = FaultPlan()
    let sandbox: TransmissionBotSandbox
    /// Replaced after a 429: the client then refuses the origin for Retry-After seconds of real time.
    var http = HTTPClient(connections: 2)
    private let server: SandboxServer

    private init(options: TransmissionBotSandbox.Options) async throws {
        sandbox = TransmissionBotSandbox(options: options, clock: clock)
        server = try await SandboxServer.start(transmissionBot: sandbox, faults: faults)
        url = server.url
    }

    /// Runs `body` against a fresh server, rate limits off unless `configure` turns them on, and stops it.
    static func with<T>(
        _ configure: (inout TransmissionBotSandbox.Options) -> Void = { _ in },
        _ body: (TransmissionBotServer) async throws -> T
    ) async throws -> T {
        var options = TransmissionBotSandbox.Options()
        options.requestsPerMinute = nil
        options.bundleFetchesPerHour = nil
        options.recoveryAttemptsPerHour = nil
        configure(&options)
        let server = try await TransmissionBotServer(options: options)
        do {
            let result = try await body(server)
            await server.server.stop()
            return result
        } catch {
            await server.server.stop()
            throw error
        }
    }

    func call(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: Any? = nil, body: String? = nil
    ) async throws -> Exchange {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let data = try json.map { try JSONSerialization.data(withJSONObject: $0) } ?? body.map { Data($0.utf8) }
        let response = try await http.send(HTTPRequest(method, url + path, headers: headers, body: data))
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
        return Exchange(status: response.status, headers: response.headers, json: object)
    }

    /// `POST /v1/agents/register` with fresh keys, which must succeed.
    func register(_ handle: String, identity: IdentityKeyPair = .generate()) async throws -> Agent {
        let reply = try await call(
            .post, "/v1/agents/register",
            json: [
                "handle": handle, "identity_signing_key": identity.signing.publicKey.base64URL,
                "identity_dh_key": identity.dh.publicKey.base64URL,
            ])
        try #require(reply.status == 201, "\(reply.json)")
        return Agent(
            id: try #require(reply.json["agent_id"] as? String), handle: handle, identity: identity,
            accessToken: try #require(reply.json["access_token"] as? String),
            refreshToken: try #require(reply.json["refresh_token"] as? String))
    }

    /// `POST /v1/keys/prekeys` with a signed prekey (id 1), one-time prekeys and PQ prekeys with the given ids, all
    /// signed by `signer` (the agent's own identity unless given).
    func uploadPrekeys(
        _ agent: Agent, oneTime: [UInt32] = [], pq: [UInt32] = [], signer: IdentityKeyPair? = nil
    ) async throws -> Exchange {
        let identity = signer ?? agent.identity
        return try await call(
            .post, "/v1/keys/prekeys", token: agent.accessToken,
            json: [
                "signed_prekey": try Self.json(SignedPrekey.generate(keyID: 1, signedBy: identity).publicPart),
                "one_time_prekeys": try oneTime.map { try Self.json(OneTimePrekey.generate(keyID: $0).publicPart) },
                "pq_prekeys": try pq.map { try Self.json(PQPrekey.generate(keyID: $0, signedBy: identity).publicPart) },
            ])
    }

    /// Both agents ask each other: connected by mutual auto-accept.
    func connect(_ one: Agent, _ other: Agent) async throws {
        let first = try await call(
            .post, "/v1/contacts/request", token: one.accessToken, json: ["target_agent_id": other.id])
        let second = try await call(
            .post, "/v1/contacts/request", token: other.accessToken, json: ["target_agent_id": one.id])
        try #require(first.json["status"] as? String == "pending_outgoing")
        try #require(second.json["status"] as? String == "connected")
    }

    /// `POST /v1/messages/send` of `text` as a standard-base64 envelope.
    func send(_ text: String, from sender: Agent, to recipient: Agent) async throws -> Exchange {
        try await call(
            .post, "/v1/messages/send", token: sender.accessToken,
            json: [
                "recipient_agent_id": recipient.id, "payload_type": "direct",
                "envelope": Data(text.utf8).base64EncodedString(),
            ])
    }

    static func json(_ value: some Encodable) throws -> Any {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(value))
    }
}

/// Expects a documented error: the status, the envelope `{"error": {"code", "message", "status"}}` and the code.
func expectError(
    _ exchange: TransmissionBotServer.Exchange, _ status: Int, _ code: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(exchange.status == status, "\(exchange.json)", sourceLocation: sourceLocation)
    #expect(exchange.error?.code == code, "\(exchange.json)", sourceLocation: sourceLocation)
    #expect(exchange.error?.status == status, sourceLocation: sourceLocation)
    #expect(exchange.error?.message.isEmpty == false, sourceLocation: sourceLocation)
}

/// Unpadded base64url decoded with Foundation, independently of the sandbox's libsodium.
func base64URLDecoded(_ text: some StringProtocol) throws -> Data {
    var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
    return try #require(Data(base64Encoded: standard))
}
