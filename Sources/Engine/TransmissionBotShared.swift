public import Foundation
public import Transport
public import Workflow

/// What the native and the CLI TransmissionBot messengers share: the only source and target kinds, the
/// text a message carries, contact requests as messages, and the cursor that lists message ids.
enum TransmissionBotShared {
    static let network = "transmissionbot"

    static func requireInbox(_ source: Target) throws(NetworkError) {
        guard source.kind == .inbox else {
            throw NetworkError(
                network: network, code: "invalid_source", message: "TransmissionBot polls tb:inbox only",
                isTransient: false)
        }
    }

    static func recipient(_ target: Target) throws(NetworkError) -> String {
        guard target.kind == .agent, let recipient = target.id else {
            throw NetworkError(
                network: network, code: "invalid_target", message: "TransmissionBot sends to tb:agent/…",
                isTransient: false)
        }
        return recipient
    }

    /// A request from anyone not allowlisted, as an unverified message of its sender's conversation.
    static func contactRequest(
        account: String, id: String, from: String, handle: String?, message: String?
    ) -> InboundMessage {
        var fields: [String: Value] = [
            "request_id": .string(id), "from": .string(from), "message": .string(message ?? ""),
        ]
        if let handle { fields["from_handle"] = .string(handle) }
        return InboundMessage(
            id: "contact-request:\(id)", conversation: "\(account):agent/\(from)", sender: from, text: message ?? "",
            json: .object(["contact_request": .object(fields)]), cursor: nil, verified: false)
    }

    /// The batch's cursor: the ids its messages came with, as JSON.
    static func cursor(ids: [String], previous: String?) -> String? {
        ids.isEmpty ? previous : JSONText.encode(.array(ids.map { .string($0) }))
    }

    static func ids(in cursor: String?) -> [String]? {
        guard let cursor, case .array(let items)? = try? JSONText.decode(cursor) else { return nil }
        return items.compactMap { if case .string(let id) = $0 { id } else { nil } }
    }
}

extension Messenger {
    /// The text a message carries: the text, else its JSON as text.
    static func body(text: String, json: Value?) -> String {
        text.isEmpty ? json.map { JSONText.encode($0) } ?? "" : text
    }
}
