public import Foundation
public import Workflow

/// A message cursor: a decimal integer carried as a string (nexus.md §4.1). Compared as a number, never as
/// text; `after` is exclusive, so "from the start" is no cursor at all, not `"0"`.
public struct Cursor: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public var value: String

    public init(_ value: String) {
        self.value = value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            value = text
        } else {
            value = String(try container.decode(UInt64.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public var number: UInt64? { UInt64(value) }
    public var description: String { value }

    public static func < (lhs: Cursor, rhs: Cursor) -> Bool {
        switch (lhs.number, rhs.number) {
        case (let a?, let b?): a < b
        default: lhs.value.count == rhs.value.count ? lhs.value < rhs.value : lhs.value.count < rhs.value.count
        }
    }
}

/// `GET /health`: what a server can do.
public struct NexusHealth: Sendable, Decodable, Equatable {
    public var version: String?
    public var uptime: Int?
    /// `capabilities.messageFormat`; a server without the key supports text only (§3.1).
    public var messageFormats: [String]

    enum CodingKeys: String, CodingKey { case version, uptime, capabilities }
    enum CapabilityKeys: String, CodingKey { case messageFormat }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try? container.decodeIfPresent(String.self, forKey: .version)
        uptime = try? container.decodeIfPresent(Int.self, forKey: .uptime)
        let capabilities = try? container.nestedContainer(keyedBy: CapabilityKeys.self, forKey: .capabilities)
        messageFormats = (try? capabilities?.decodeIfPresent([String].self, forKey: .messageFormat)) ?? ["text"]
    }

    public var supportsJSON: Bool { messageFormats.contains("json") }
}

/// `PUT /v1/sessions`.
public struct CreatedSession: Sendable, Decodable, Equatable {
    public var sessionId: String
    public var ttl: Int?
    public var maxAgents: Int?
    public var creatorAgentId: String?
    /// Only when the session was created with a creator; kept in the key store, never printed.
    public var sessionKey: String?
}

/// `GET /v1/sessions/:id`, decoded leniently: `agents` as strings or as `{agentId, joinedAt}` objects (§12.7).
public struct SessionStatus: Sendable, Decodable, Equatable {
    public var sessionId: String
    public var state: String?
    public var agents: [String]
    public var ttl: Int?
    public var maxAgents: Int?
    public var creatorAgentId: String?
    public var expiresAt: Date?

    enum CodingKeys: String, CodingKey { case sessionId, state, agents, ttl, maxAgents, creatorAgentId, expiresAt }
    struct AgentObject: Decodable { var agentId: String }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sessionId = try container.decode(String.self, forKey: .sessionId)
        state = try? container.decodeIfPresent(String.self, forKey: .state)
        if let names = try? container.decode([String].self, forKey: .agents) {
            agents = names
        } else {
            agents = ((try? container.decode([AgentObject].self, forKey: .agents)) ?? []).map(\.agentId)
        }
        ttl = try? container.decodeIfPresent(Int.self, forKey: .ttl)
        maxAgents = try? container.decodeIfPresent(Int.self, forKey: .maxAgents)
        creatorAgentId = try? container.decodeIfPresent(String.self, forKey: .creatorAgentId)
        expiresAt = (try? container.decodeIfPresent(String.self, forKey: .expiresAt)).flatMap { NexusDates.parse($0) }
    }
}

public struct JoinResult: Sendable, Decodable, Equatable {
    public var status: String?
    public var agentsOnline: Int?
    public var sessionKey: String?
}

public struct RenewResult: Sendable, Decodable, Equatable {
    public var sessionId: String?
    public var ttl: Int?
    public var expiresAt: Date?

    enum CodingKeys: String, CodingKey { case sessionId, ttl, expiresAt }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sessionId = try? container.decodeIfPresent(String.self, forKey: .sessionId)
        ttl = try? container.decodeIfPresent(Int.self, forKey: .ttl)
        expiresAt = (try? container.decodeIfPresent(String.self, forKey: .expiresAt)).flatMap { NexusDates.parse($0) }
    }
}

public struct SentMessage: Sendable, Decodable, Equatable {
    public var id: String
    public var cursor: Cursor
    public var expiresAt: Date?

    enum CodingKeys: String, CodingKey { case id, cursor, expiresAt }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        cursor = try container.decode(Cursor.self, forKey: .cursor)
        expiresAt = (try? container.decodeIfPresent(String.self, forKey: .expiresAt)).flatMap { NexusDates.parse($0) }
    }
}

/// A polled message. `text` is empty on json-only messages; `json` is any JSON value, present only when sent.
public struct NexusMessage: Sendable, Decodable, Equatable {
    public var id: String
    public var agentId: String
    public var text: String
    public var json: Value?
    public var cursor: Cursor
    public var verified: Bool
    public var expiresAt: Date?

    enum CodingKeys: String, CodingKey { case id, agentId, text, json, cursor, verified, expiresAt }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        agentId = (try? container.decodeIfPresent(String.self, forKey: .agentId)) ?? "system"
        text = (try? container.decodeIfPresent(String.self, forKey: .text)) ?? ""
        json = container.contains(.json) ? try container.decode(Value.self, forKey: .json) : nil
        cursor = try container.decode(Cursor.self, forKey: .cursor)
        verified = (try? container.decodeIfPresent(Bool.self, forKey: .verified)) ?? false
        expiresAt = (try? container.decodeIfPresent(String.self, forKey: .expiresAt)).flatMap { NexusDates.parse($0) }
    }

    /// Server messages (greeting, reminders): delivered to no agent, but the cursor moves past them.
    public var isSystem: Bool { agentId == "system" }
}

public struct PollResult: Sendable, Decodable, Equatable {
    public var messages: [NexusMessage]
    /// May be null or absent (§3.9).
    public var nextCursor: Cursor?
    public var members: [Member]?

    public struct Member: Sendable, Decodable, Equatable {
        public var agentId: String
        public var lastSeenAt: String?
    }

    enum CodingKeys: String, CodingKey { case messages, nextCursor, members }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        messages = try container.decodeIfPresent([NexusMessage].self, forKey: .messages) ?? []
        nextCursor = try? container.decodeIfPresent(Cursor.self, forKey: .nextCursor)
        members = try? container.decodeIfPresent([Member].self, forKey: .members)
    }

    /// The cursor to poll after next time: the highest of `nextCursor` and the messages' cursors.
    public var resumeCursor: Cursor? {
        ([nextCursor].compactMap { $0 } + messages.map(\.cursor)).max()
    }
}

public struct PairingCode: Sendable, Decodable, Equatable {
    public var code: String
    public var url: String?
    public var expiresAt: Date?

    enum CodingKeys: String, CodingKey { case code, url, expiresAt }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = try container.decode(String.self, forKey: .code)
        url = try? container.decodeIfPresent(String.self, forKey: .url)
        expiresAt = (try? container.decodeIfPresent(String.self, forKey: .expiresAt)).flatMap { NexusDates.parse($0) }
    }
}

public struct ClaimResult: Sendable, Decodable, Equatable {
    public var sessionId: String
    public var status: String?
    public var sessionKey: String?
}

struct LeaveResult: Decodable {
    var ok: Bool?
}

struct PairStatus: Decodable {
    var state: String
}

/// Timestamps with or without fractional seconds (§2).
enum NexusDates {
    static func parse(_ text: String) -> Date? { Timestamp.parse(text) }
}
