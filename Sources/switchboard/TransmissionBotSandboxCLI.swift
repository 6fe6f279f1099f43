import Foundation
import Secrets
import TransmissionBot
import Transport

/// The sandbox's stand-in for the official `transmissionbot` CLI (transmissionbot.md §9), for `driver: cli`
/// against the sandbox server: `switchboard sandbox` writes a script that runs
/// `switchboard __transmissionbot-sandbox-cli URL ARGS…`. It answers the commands a runner uses with §9.2's
/// documented shapes and §9.4's proposed ones, doing TBX-1 with the native client: `init --handle H`,
/// `status`, `send ID|HANDLE TEXT`, `receive [--no-ack]`, `contacts request|pending|accept|reject|list`,
/// `resolve HANDLE`; global `--state PATH` (default ./transmissionbot-state.json) and `--quiet`. Exit codes:
/// 0 with JSON on stdout, 1 usage (`error: …` on stderr), 2 the API's error envelope on stderr, 3 crypto.
enum TransmissionBotSandboxCLI {
    static let command = "__transmissionbot-sandbox-cli"

    struct Usage: Error { var message: String }

    static func run(server: String, argv: [String]) async -> Never {
        var statePath = "./transmissionbot-state.json"
        var words: [String] = []
        var trailing: [String] = []
        var index = 0
        while index < argv.count {
            let word = argv[index]
            if word == "--" {
                trailing = Array(argv[(index + 1)...])
                break
            } else if word == "--state", index + 1 < argv.count {
                statePath = argv[index + 1]
                index += 1
            } else if word != "--quiet" {
                words.append(word)
            }
            index += 1
        }
        do {
            let output = try await perform(words + trailing, server: server, statePath: statePath)
            FileHandle.standardOutput.write(Data((output + "\n").utf8))
            exit(0)
        } catch let error as Usage {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            exit(1)
        } catch let error as NetworkError {
            if ["crypto_error", "encrypt_failed", "bad_bundle"].contains(error.code) {
                FileHandle.standardError.write(Data("\(error.message)\n".utf8))
                exit(3)
            }
            let envelope: [String: Any] = [
                "error": ["code": error.code, "message": error.message, "status": error.status ?? 0]
            ]
            let data = (try? JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys])) ?? Data()
            FileHandle.standardError.write(data + Data("\n".utf8))
            exit(2)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    static func json(_ object: Any) -> String {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func perform(_ words: [String], server: String, statePath: String) async throws -> String {
        let file = TBStateFile(path: statePath)
        let loaded = try file.load(environment: [:])
        let client = TBClient(server: server, state: loaded ?? TBState(), file: file)
        func argument(_ position: Int, _ what: String) throws -> String {
            guard position < words.count else { throw Usage(message: "missing required argument '\(what)'") }
            return words[position]
        }
        switch words.first {
        case "init":
            guard let flag = words.firstIndex(of: "--handle"), flag + 1 < words.count else {
                throw Usage(message: "required option '--handle <h>' not specified")
            }
            guard loaded?.agentID == nil else { throw Usage(message: "\(statePath) already holds an agent") }
            try await client.register(handle: words[flag + 1])
            let count = try await client.prekeyCount()
            return json([
                "agent_id": client.state.agentID ?? "", "handle": client.state.handle ?? "", "state_file": statePath,
                "prekeys_uploaded": ["signed": 1, "one_time": 20, "pq": 20], "messaging_ready": count.messaging_ready,
            ])
        case _ where loaded?.agentID == nil:
            throw Usage(message: "no agent in \(statePath): run init --handle <h> first")
        case "status":
            let count = try await client.prekeyCount()
            return json([
                "agent_id": client.state.agentID ?? "", "handle": client.state.handle ?? "",
                "messaging_ready": count.messaging_ready, "keys_match": true,
                "prekey_counts": [
                    "one_time_prekeys": count.one_time_prekeys, "pq_prekeys": count.pq_prekeys,
                    "messaging_ready": count.messaging_ready, "issues": count.issues ?? [],
                ], "token_expires_at": client.state.tokenExpiresAt ?? 0,
            ])
        case "send":
            let recipient = try argument(1, "recipient")
            let text = try argument(2, "text")
            let existing = client.state.sessions.keys.contains(recipient.lowercased())
            let sent = try await client.send(text: text, to: recipient)
            return json([
                "message_id": sent.message_id ?? "", "recipient_agent_id": recipient,
                "session": existing ? "existing" : "new",
            ])
        case "receive":
            let acknowledge = !words.contains("--no-ack")
            let received = try await client.receive()
            if acknowledge {
                try await client.acknowledgeReceived(received.map(\.messageID))
                try await client.replenishPrekeys()
            }
            let messages: [[String: Any]] = received.map { message in
                message.decrypted
                    ? [
                        "message_id": message.messageID, "from": message.sender, "plaintext": message.text,
                        "acked": acknowledge,
                    ]
                    : [
                        "message_id": message.messageID, "from": message.sender, "error": message.text,
                        "plaintext": "[\(message.text)]", "acked": acknowledge,
                    ]
            }
            let requests = try await client.contacts(state: "pending_incoming").map {
                ["from": $0.other_agent_id, "request_id": $0.request_id ?? "", "message": $0.message ?? ""]
            }
            let count = try await client.prekeyCount()
            return json([
                "messages": messages, "contact_requests": requests,
                "prekey_counts": [
                    "one_time_prekeys": count.one_time_prekeys, "pq_prekeys": count.pq_prekeys,
                    "messaging_ready": count.messaging_ready,
                ],
            ])
        case "contacts":
            switch words.dropFirst().first {
            case "request":
                var target = try argument(2, "id|handle")
                if UUID(uuidString: target) == nil { target = try await client.resolve(handle: target).agent_id }
                let request = try await client.requestContact(target, message: words.count > 3 ? words[3] : "")
                return json(["request_id": request.request_id, "status": request.status])
            case "pending":
                return json(
                    try await client.contacts(state: "pending_incoming").map {
                        [
                            "request_id": $0.request_id ?? "", "other_agent_id": $0.other_agent_id,
                            "message": $0.message ?? "", "created_at": $0.created_at ?? "",
                        ]
                    })
            case "accept", "reject":
                let answer = try await client.respond(toRequest: try argument(2, "request_id"), action: words[1])
                return json(["request_id": answer.request_id, "status": answer.status])
            case "list":
                return json(
                    try await client.contacts(state: "connected").map {
                        ["other_agent_id": $0.other_agent_id, "other_handle": $0.other_handle ?? ""]
                    })
            default:
                throw Usage(message: "unknown command 'contacts \(words.dropFirst().first ?? "")'")
            }
        case "resolve":
            let card = try await client.resolve(handle: try argument(1, "handle"))
            return json(["agent_id": card.agent_id, "handle": card.handle ?? "", "trust_level": card.trust_level ?? 0])
        default:
            throw Usage(message: "unknown command '\(words.first ?? "")'")
        }
    }

    /// Writes the `transmissionbot` script into `directory` and returns its path.
    static func install(in directory: URL, server: String) throws -> String {
        try installStandIn(named: "transmissionbot", command: command, server: server, in: directory)
    }
}
