/// The JSON Schema (draft 2020-12) of a workflow file, for editors (`# yaml-language-server: $schema=…`).
/// It describes the shape; `switchboard validate` checks everything the schema cannot (references,
/// expressions, cron fields, loops).
public enum WorkflowSchema {
    public static var document: Value {
        .object([
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "urn:switchboard:workflow:1",
            "title": "switchboard workflow",
            "description": "A switchboard workflow file (workflows/*.yaml). See the README's file-format reference.",
            "type": "object",
            "required": ["version"],
            "additionalProperties": false,
            "patternProperties": ["^x-": ["description": "Extension fields, ignored: a place for YAML anchors."]],
            "properties": .object([
                "version": describe("The format version; this switchboard reads 1.", ["const": 1]),
                "name": describe("A name for people and logs.", string),
                "accounts": describe(
                    "One identity per network, by name; targets start with the name (nx:session/ID).",
                    map(ref("account"))),
                "rules": describe(
                    "MESSAGING.md-format files (relative to this file) and/or inline rules.",
                    ["oneOf": [string, ["type": "array", "items": ["oneOf": [string, ref("rule")]]]]]),
                "responder": describe(
                    "The command that writes replies: message and rule as JSON on stdin, the reply on stdout.",
                    [
                        "oneOf": [
                            ref("argv"),
                            object(
                                required: ["run"], ["run": ref("argv"), "timeout": ref("duration"), "env": map(string)]),
                        ]
                    ]),
                "sources": describe("What to poll, and when.", ["type": "array", "items": ref("source")]),
                "channels": describe("Where notifications and escalations go, by name.", map(ref("channel"))),
                "escalation": describe(
                    "Who is told when an intent fails its last strike.",
                    object(
                        required: ["to"],
                        ["to": ref("name"), "after": ["type": "integer", "minimum": 1, "maximum": 10]])),
                "handlers": describe("Named lists of steps.", map(["type": "array", "items": ref("step")])),
                "schedules": describe("Handlers run on a timer.", map(ref("schedule"))),
                "heartbeat": describe(
                    "A URL pinged after each tick or daemon cycle, as healthchecks.io expects: URL/start before, URL on success, URL/fail on failure; expressions may read secrets and env.",
                    string),
            ]),
            "$defs": .object(definitions),
        ])
    }

    private static let string: Value = ["type": "string"]
    private static let boolean: Value = ["type": "boolean"]

    private static func ref(_ name: String) -> Value { ["$ref": .string("#/$defs/\(name)")] }

    private static func map(_ values: Value) -> Value {
        ["type": "object", "propertyNames": ref("name"), "additionalProperties": values]
    }

    private static func object(required: [String] = [], _ properties: [String: Value]) -> Value {
        var members: [String: Value] = [
            "type": "object", "additionalProperties": false, "properties": .object(properties),
        ]
        if !required.isEmpty { members["required"] = .array(required.map { .string($0) }) }
        return .object(members)
    }

    private static func describe(_ text: String, _ schema: Value) -> Value {
        guard case .object(var members) = schema else { return schema }
        members["description"] = .string(text)
        return .object(members)
    }

    private static func account(_ network: Network, required: [String], _ properties: [String: Value]) -> Value {
        object(
            required: ["protocol"] + required,
            properties.merging(["protocol": ["const": .string(network.rawValue)]]) { a, _ in a })
    }

    private static var timing: [String: Value] {
        [
            "every": ref("duration"),
            "cron": describe("Five cron fields or @hourly/@daily/@weekly/@monthly/@yearly.", string),
            "timezone": describe("An IANA time zone for cron (default UTC).", string),
            "jitter": ref("duration"),
            "catch-up": ["enum": ["skip", "last", "all"]],
        ]
    }

    private static func withRhythm(_ schema: Value) -> Value {
        guard case .object(var members) = schema else { return schema }
        members["oneOf"] = [["required": ["every"]], ["required": ["cron"]]]
        return .object(members)
    }

    private static var definitions: [String: Value] {
        let textOrList: Value = ["oneOf": [string, ["type": "array", "items": string]]]
        let commonStep: [String: Value] = [
            "id": ref("name"), "if": describe("An expression; the step runs when it is truthy.", string),
            "timeout": ref("duration"),
        ]
        let actions: [String: Value] = [
            "run": ref("argv"),
            "reply": string,
            "send": object(required: ["to"], ["to": ref("target"), "text": string, "json": [:]]),
            "forward": ["oneOf": [ref("target"), object(required: ["to"], ["to": ref("target"), "note": string])]],
            "notify": [
                "oneOf": [ref("name"), object(required: ["channel"], ["channel": ref("name"), "text": string])]
            ],
            "escalate": ["oneOf": [string, object(required: ["text"], ["to": ref("name"), "text": string])]],
            "wait": object(
                required: ["timeout"], ["reply-from": ref("target"), "match": string, "timeout": ref("duration")]),
            "set": ["type": "object", "additionalProperties": string],
            "stop": ["oneOf": [["const": true], string, ["type": "null"]]],
        ]
        return [
            "name": ["type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"],
            "duration": [
                "type": "string", "pattern": "^(?=.)([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$",
                "description": "A duration: 90s, 3m, 1h30m, 2d.",
            ],
            "target": [
                "type": "string",
                "pattern": "^(reply|[A-Za-z0-9_-]+:inbox|[A-Za-z0-9_-]+:(session|agent|thread|channel)/[^\\s]+)$",
                "description":
                    "ACCOUNT:KIND/ID (nx:session/ID, tb:agent/ID, ms:thread/ID, ms:channel/SLUG), ACCOUNT:inbox, or reply.",
            ],
            "argv": [
                "description": "A command as an argument list; no shell is involved.",
                "oneOf": [string, ["type": "array", "items": string, "minItems": 1]],
            ],
            "account": [
                "oneOf": [
                    account(
                        .nexus, required: ["agent-id"],
                        ["server": string, "agent-id": string, "ttl": ref("duration"), "insecure": boolean]),
                    account(
                        .transmissionbot, required: ["state"],
                        [
                            "state": string, "server": string, "driver": ["enum": ["native", "cli"]],
                            "executable": string,
                            "passphrase": string, "insecure": boolean,
                            "accept-contacts-from": ["oneOf": [string, ["type": "array", "items": string]]],
                        ]),
                    account(
                        .masumi, required: ["agent"],
                        ["profile": string, "agent": string, "executable": string, "timeout": ref("duration")]),
                ]
            ],
            "rule": object(
                required: ["session"],
                [
                    "name": string, "session": string, "purpose": string, "on-message": string, "auto-reply": boolean,
                    "notify": textOrList, "forward-to": textOrList, "escalate-to": ref("name"),
                    "strikes": ["type": "integer", "minimum": 1, "maximum": 10], "account": ref("name"),
                ]),
            "source": withRhythm(object(required: ["from"], timing.merging(["from": ref("target")]) { a, _ in a })),
            "schedule": withRhythm(
                object(required: ["handler"], timing.merging(["handler": ref("name")]) { a, _ in a })),
            "channel": [
                "oneOf": [
                    object(
                        required: ["webhook"],
                        ["webhook": string, "headers": ["type": "object", "additionalProperties": string]]),
                    object(required: ["command"], ["command": ref("argv")]),
                    object(required: ["to"], ["to": ref("target")]),
                ]
            ],
            "step": [
                "type": "object",
                "additionalProperties": false,
                "properties": .object(commonStep.merging(actions) { a, _ in a }),
                "oneOf": .array(Step.actionKeys.map { ["required": [.string($0)]] }),
            ],
        ]
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: Value...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .object(Dictionary(elements) { first, _ in first })
    }
}
