import ArgumentParser
import Foundation
import Nexus
import Transport
import Workflow

extension Switchboard {
    struct NexusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "nexus",
            abstract: "Talk to a NexusMessaging server by hand: sessions, pairing, messages.",
            discussion: """
                The server and agent id come from --server and --agent-id, or from a nexus account of the \
                workspace (--account NAME, or the only one there is). Session keys are kept in \
                WORKSPACE/.switchboard/nexus-keys (files 0600) and never printed. Output is a short summary, or \
                the server's JSON with --json; failures print the server's exact error code and exit 1.
                """,
            subcommands: [
                Health.self, Create.self, Status.self, Join.self, Pair.self, Claim.self, PairStatus.self, Send.self,
                Poll.self, Renew.self, Leave.self,
            ]
        )
    }
}

/// Where to talk and as whom.
struct NexusOptions: ParsableArguments {
    @Option(help: "The workspace (accounts and the key store).", completion: .directory) var workspace = "."
    @Option(help: "A nexus account of the workspace.") var account: String?
    @Option(help: "The server URL (default: the account's, else https://messaging.md).") var server: String?
    @Option(name: .customLong("agent-id"), help: "This agent's id in sessions (default: the account's).") var agentID:
        String?
    @Flag(help: "Allow plain http to a host that is not loopback.") var insecure = false
    @Flag(help: "Print the server's JSON answer.") var json = false

    /// The client for the chosen server and agent. `needsAgent: false` for the public endpoints (health,
    /// status, pair, pair-status). An account's `insecure` applies only to the account's own server.
    func client(needsAgent: Bool = true) throws -> NexusClient {
        var server = server
        var agentID = agentID
        var insecure = insecure
        if account != nil || server == nil || agentID == nil {
            let accounts = WorkspaceLoader.validate(paths: [workspace]).workspace.accounts.compactMap {
                account -> (String, Account.Nexus)? in
                if case .nexus(let settings) = account.settings { (account.name, settings) } else { nil }
            }
            let chosen: (String, Account.Nexus)?
            if let name = account {
                guard let match = accounts.first(where: { $0.0 == name }) else {
                    throw Failure.message(
                        "no nexus account '\(name)' in \(workspace)",
                        hint: accounts.isEmpty
                            ? "pass --server and --agent-id"
                            : "nexus accounts: \(accounts.map(\.0).joined(separator: ", "))")
                }
                chosen = match
            } else {
                chosen = accounts.count == 1 ? accounts[0] : nil
            }
            if let (_, settings) = chosen {
                let accountServer = settings.server?.value ?? Account.Nexus.defaultServer
                if server == nil || server == accountServer { insecure = insecure || settings.insecure }
                server = server ?? accountServer
                agentID = agentID ?? settings.agentID.value
            }
        }
        guard let agentID = agentID ?? (needsAgent ? nil : "") else {
            throw Failure.message(
                "which agent? pass --agent-id, or --account with a nexus account of the workspace", hint: nil)
        }
        return NexusClient(
            server: server ?? Account.Nexus.defaultServer, agentID: agentID, insecure: insecure,
            keys: SessionKeyStore.workspace(workspace))
    }

    struct ErrorOutput: Encodable {
        var error: String
        var message: String
        var status: Int?

        enum Keys: String, CodingKey { case error, message, status }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(error, forKey: .error)
            try container.encode(message, forKey: .message)
            try container.encode(status, forKey: .status)  // null when there was no HTTP status
        }
    }

    /// Runs a call, printing its result as JSON or as text, and a failure as the server's code.
    func perform<Result: Encodable>(
        needsAgent: Bool = true, _ body: (NexusClient) async throws(NetworkError) -> Result, text: (Result) -> String
    ) async throws {
        let client = try client(needsAgent: needsAgent)
        let result: Result
        do {
            result = try await body(client)
        } catch {
            if json {
                try JSONOutput.print(
                    ErrorOutput(error: error.code, message: error.message, status: error.status), snakeCase: false)
            }
            throw Failure.message("\(error)", hint: Self.hint(for: error.code))
        }
        if json {
            try JSONOutput.print(result, snakeCase: false)
        } else {
            print(text(result))
        }
    }

    static func hint(for code: String) -> String? {
        switch code {
        case "session_not_found": "sessions expire when idle for their TTL; create a new one"
        case "agent_id_taken": "this id is already a member; use its stored key, or another --agent-id"
        case "forbidden": "not a member (join or claim a pairing code first), or the creator, who cannot leave"
        case "agent_not_in_session": "join the session (or claim a pairing code) first"
        case "missing_session_key":
            "no key is stored for this session and agent: it never joined from this workspace, or it already left"
        case "code_expired_or_used": "pairing codes are single-use and expire after 10 minutes; ask for a new one"
        case "rate_limit_exceeded": "the server allows 100 requests a minute; wait and try again"
        case "CURLE_COULDNT_CONNECT": "is the server running? `switchboard sandbox` starts a local one"
        default: nil
        }
    }
}

extension Switchboard.NexusCommand {
    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The server's version and capabilities.")
        @OptionGroup var nexus: NexusOptions

        struct Output: Encodable { var version: String?; var messageFormats: [String] }

        func run() async throws {
            try await nexus.perform(
                needsAgent: false,
                { client throws(NetworkError) in
                    let health = try await client.health(refresh: true)
                    return Output(version: health.version, messageFormats: health.messageFormats)
                }
            ) {
                "\(nexus.server ?? "server") \($0.version ?? "unknown version"); message formats: \($0.messageFormats.joined(separator: ", "))"
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a session, joined as its creator (immune to inactivity removal, cannot leave).")
        @OptionGroup var nexus: NexusOptions
        @Option(help: "Seconds of inactivity before the session expires (60 to 86400).") var ttl: Int?
        @Option(help: "How many agents may join (2 to 50).") var maxAgents: Int?
        @Option(help: "A message everyone sees first (cursor 0).") var greeting: String?

        /// What is printed: the key is stored, never shown.
        struct Output: Encodable {
            var sessionId: String; var ttl: Int?; var maxAgents: Int?; var creatorAgentId: String?
        }

        func run() async throws {
            try await nexus.perform({ client throws(NetworkError) in
                let created = try await client.createSession(ttl: ttl, maxAgents: maxAgents, greeting: greeting)
                return Output(
                    sessionId: created.sessionId, ttl: created.ttl, maxAgents: created.maxAgents,
                    creatorAgentId: created.creatorAgentId)
            }) { "session \($0.sessionId) created; key stored" }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A session's members and expiry (public).")
        @OptionGroup var nexus: NexusOptions
        @Argument(help: "The session id.") var session: String

        struct Output: Encodable {
            var sessionId: String
            var agents: [String]
            var ttl: Int?
            var maxAgents: Int?
            var creatorAgentId: String?
            var expiresAt: Date?
        }

        func run() async throws {
            try await nexus.perform(
                needsAgent: false,
                { client throws(NetworkError) in
                    let status = try await client.status(session: session)
                    return Output(
                        sessionId: status.sessionId, agents: status.agents, ttl: status.ttl,
                        maxAgents: status.maxAgents,
                        creatorAgentId: status.creatorAgentId, expiresAt: status.expiresAt)
                }
            ) {
                "session \($0.sessionId): \($0.agents.joined(separator: ", ")); expires \(TimeText.utc($0.expiresAt))"
            }
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Join a session; its key is stored.")
        @OptionGroup var nexus: NexusOptions
        @Argument(help: "The session id.") var session: String

        struct Output: Encodable { var status: String?; var agentsOnline: Int? }

        func run() async throws {
            try await nexus.perform({ client throws(NetworkError) in
                let joined = try await client.join(session: session)
                return Output(status: joined.status, agentsOnline: joined.agentsOnline)
            }) { "joined; \($0.agentsOnline.map(String.init) ?? "?") agents online; key stored" }
        }
    }

    struct Pair: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a single-use pairing code (10 minutes) for a session.")
        @OptionGroup var nexus: NexusOptions
        @Argument(help: "The session id.") var session: String

        struct Output: Encodable { var code: String; var url: String?; var expiresAt: Date? }

        func run() async throws {
            try await nexus.perform(
                needsAgent: false,
                { client throws(NetworkError) in
                    let code = try await client.pair(session: session)
                    return Output(code: code.code, url: code.url, expiresAt: code.expiresAt)
                }
            ) { "\($0.code)  \($0.url ?? "")" }
        }
    }

    struct Claim: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Claim a pairing code: join its session; the key is stored.")
        @OptionGroup var nexus: NexusOptions
        @Argument(help: "The pairing code (WORD-WORD-XXXXX).") var code: String

        struct Output: Encodable { var sessionId: String; var status: String? }

        func run() async throws {
            try await nexus.perform({ client throws(NetworkError) in
                let claimed = try await client.claim(code: code)
                return Output(sessionId: claimed.sessionId, status: claimed.status)
            }) { "claimed; joined session \($0.sessionId); key stored" }
        }
    }

    struct PairStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pair-status", abstract: "Whether a pairing code is pending, claimed or expired.")
        @OptionGroup var nexus: NexusOptions
        @Argument(help: "The pairing code.") var code: String

        struct Output: Encodable { var state: String }

        func run() async throws {
            try await nexus.perform(
                needsAgent: false,
                { client throws(NetworkError) in
                    Output(state: try await client.pairStatus(code: code))
                }
            ) {
                $0.state
            }
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send text and/or JSON to a session (verified with the stored key).",
            discussion: """
                With --payload, JSON goes natively where the server supports it; otherwise it is serialised into \
                the text, unless --strict, which then sends nothing and fails.
                """)
        @OptionGroup var nexus: NexusOptions
        @Argument(help: "The session id.") var session: String
        @Argument(help: "The text.") var text: String?
        @Option(help: "A JSON payload.") var payload: String?
        @Flag(help: "Fail rather than fall back to text when the server cannot take JSON.") var strict = false

        func validate() throws {
            guard text != nil || payload != nil else { throw ValidationError("give a text, --payload, or both") }
            if let payload, (try? JSONText.decode(payload)) == nil {
                throw ValidationError("--payload is not valid JSON")
            }
        }

        struct Output: Encodable { var id: String; var cursor: String }

        func run() async throws {
            let json = try payload.map { try JSONText.decode($0) }
            try await nexus.perform({ client throws(NetworkError) in
                let sent = try await client.send(session: session, text: text, json: json, strict: strict)
                return Output(id: sent.id, cursor: sent.cursor.value)
            }) { "sent \($0.id) at cursor \($0.cursor)" }
        }
    }

    struct Poll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Messages after a cursor (exclusive); without --after, everything still held, greeting included.")
        @OptionGroup var nexus: NexusOptions
        @Argument(help: "The session id.") var session: String
        @Option(help: "Only messages after this cursor; 0 means from the start, as in nexus.sh.")
        var after: String?
        @Flag(help: "Also list the members.") var members = false

        func validate() throws {
            if let after, UInt64(after) == nil { throw ValidationError("--after is a cursor: a whole number") }
        }

        struct Output: Encodable {
            struct Message: Encodable {
                var cursor: String; var agentId: String; var text: String; var json: Value?; var verified: Bool
            }
            var messages: [Message]
            var nextCursor: String?
            var members: [String]?
        }

        func run() async throws {
            try await nexus.perform({ client throws(NetworkError) in
                let cursor = after.flatMap { $0 == "0" ? nil : Cursor($0) }
                let result = try await client.poll(session: session, after: cursor, members: members)
                return Output(
                    messages: result.messages.map {
                        .init(
                            cursor: $0.cursor.value, agentId: $0.agentId, text: $0.text, json: $0.json,
                            verified: $0.verified)
                    }, nextCursor: result.resumeCursor?.value, members: result.members?.map(\.agentId))
            }) { output in
                var lines = output.messages.map { message in
                    "[\(message.cursor)] \(message.agentId)\(message.verified ? "" : " (unverified)"): "
                        + [message.text.isEmpty ? nil : message.text, message.json.map { JSONText.encode($0) }]
                        .compactMap { $0 }.joined(separator: " ")
                }
                if lines.isEmpty { lines.append("no messages") }
                lines.append("next cursor: \(output.nextCursor ?? "-")")
                if let members = output.members { lines.append("members: \(members.joined(separator: ", "))") }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restart a session's TTL (optionally a new one).")
        @OptionGroup var nexus: NexusOptions
        @Argument(help: "The session id.") var session: String
        @Option(help: "A new TTL in seconds.") var ttl: Int?

        struct Output: Encodable { var ttl: Int?; var expiresAt: Date? }

        func run() async throws {
            try await nexus.perform({ client throws(NetworkError) in
                let renewed = try await client.renew(session: session, ttl: ttl)
                return Output(ttl: renewed.ttl, expiresAt: renewed.expiresAt)
            }) { "renewed; expires \(TimeText.utc($0.expiresAt))" }
        }
    }

    struct Leave: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Leave a session (not as its creator); forgets the key.")
        @OptionGroup var nexus: NexusOptions
        @Argument(help: "The session id.") var session: String

        struct Output: Encodable {
            var ok: Bool
            /// Set when the session or membership was already gone (`session_not_found`, `agent_not_found`).
            var alreadyGone: String?
        }

        func run() async throws {
            try await nexus.perform({ client throws(NetworkError) in
                switch try await client.leave(session: session) {
                case .left: Output(ok: true)
                case .alreadyGone(let code): Output(ok: true, alreadyGone: code)
                }
            }) { $0.alreadyGone.map { "already gone (\($0)); key forgotten" } ?? "left; key forgotten" }
        }
    }
}
