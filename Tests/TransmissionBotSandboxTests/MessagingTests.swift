import Foundation
import Sandbox
import TBX1
import Testing
import Transport

/// Contacts and the offline queue (transmissionbot.md §5.5, §5.6, §6.2, §6.3).
@Suite struct MessagingTests {
    @Test func sendingNeedsAContactAndMutualRequestsConnect() async throws {
        try await TransmissionBotServer.with { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            expectError(try await server.send("hi", from: alice, to: bob), 403, "CONTACT_REQUIRED")

            let asked = try await server.call(
                .post, "/v1/contacts/request", token: alice.accessToken,
                json: ["target_agent_id": bob.id, "message": "Hi, I'd like to connect."])
            #expect(asked.status == 201)
            #expect(asked.json["status"] as? String == "pending_outgoing")
            let requestID = try #require(asked.json["request_id"] as? String)
            expectError(
                try await server.call(
                    .post, "/v1/contacts/request", token: alice.accessToken, json: ["target_agent_id": bob.id]), 409,
                "CONFLICT")
            let incoming = try await server.call(
                .get, "/v1/contacts?state=pending_incoming", token: bob.accessToken)
            let listed = try #require((incoming.json["contacts"] as? [[String: Any]])?.first)
            #expect(listed["request_id"] as? String == requestID)
            #expect(listed["other_agent_id"] as? String == alice.id)
            #expect(listed["other_handle"] as? String == "alice")
            #expect(listed["message"] as? String == "Hi, I'd like to connect.")
            #expect(listed["created_at"] as? String == "2027-01-15T08:00:00.000Z")
            expectError(try await server.send("hi", from: alice, to: bob), 403, "CONTACT_REQUIRED")

            // Bob asking back connects both at once.
            let mutual = try await server.call(
                .post, "/v1/contacts/request", token: bob.accessToken, json: ["target_agent_id": alice.id])
            #expect(mutual.status == 200)
            #expect(mutual.json["status"] as? String == "connected")
            #expect(mutual.json["request_id"] as? String == requestID)
            for agent in [alice, bob] {
                let connected = try await server.call(.get, "/v1/contacts?state=connected", token: agent.accessToken)
                #expect((connected.json["contacts"] as? [Any])?.count == 1)
            }
            #expect(try await server.send("hi", from: alice, to: bob).status == 201)
            #expect(try await server.send("hello", from: bob, to: alice).status == 201)
            expectError(
                try await server.call(.get, "/v1/contacts?state=friends", token: bob.accessToken), 400,
                "INVALID_REQUEST")
        }
    }

    @Test func requestsCanBeAcceptedRejectedOrBlocked() async throws {
        try await TransmissionBotServer.with { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            func ask(_ from: TransmissionBotServer.Agent, _ to: TransmissionBotServer.Agent) async throws -> String {
                let reply = try await server.call(
                    .post, "/v1/contacts/request", token: from.accessToken, json: ["target_agent_id": to.id])
                return try #require(reply.json["request_id"] as? String)
            }
            func respond(
                _ agent: TransmissionBotServer.Agent, _ request: String, _ action: String
            ) async throws
                -> TransmissionBotServer.Exchange
            {
                try await server.call(
                    .post, "/v1/contacts/respond", token: agent.accessToken,
                    json: ["request_id": request, "action": action])
            }
            let first = try await ask(alice, bob)
            // Only the target can answer.
            expectError(try await respond(alice, first, "accept"), 404, "NOT_FOUND")
            expectError(try await respond(bob, first, "ignore"), 400, "INVALID_REQUEST")
            #expect(try await respond(bob, first, "reject").json["status"] as? String == "rejected")
            let outgoing = try await server.call(.get, "/v1/contacts", token: alice.accessToken)
            #expect((outgoing.json["contacts"] as? [Any])?.isEmpty == true)

            // Asked again after a rejection, then blocked: Alice still sees her request pending.
            let second = try await ask(alice, bob)
            #expect(try await respond(bob, second, "block").json["status"] as? String == "blocked")
            expectError(try await respond(bob, second, "accept"), 409, "CONFLICT")
            let alicesView = try await server.call(.get, "/v1/contacts", token: alice.accessToken)
            #expect(
                (alicesView.json["contacts"] as? [[String: Any]])?.map { $0["state"] as? String } == [
                    "pending_outgoing"
                ])
            let bobsView = try await server.call(.get, "/v1/contacts?state=blocked", token: bob.accessToken)
            #expect((bobsView.json["contacts"] as? [Any])?.count == 1)
            expectError(try await server.send("hi", from: alice, to: bob), 403, "CONTACT_REQUIRED")
            expectError(try await server.send("hi", from: bob, to: alice), 403, "CONTACT_REQUIRED")

            // Bob asking lifts his block; Alice accepts.
            let third = try await ask(bob, alice)
            #expect(try await respond(alice, third, "accept").json["status"] as? String == "connected")
            #expect(try await server.send("hi", from: alice, to: bob).status == 201)
        }
    }

    /// Messages come back on every fetch, oldest first, until acknowledged; acknowledging again changes nothing.
    @Test func theOfflineQueueIsAtLeastOnceUntilAcknowledged() async throws {
        try await TransmissionBotServer.with { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            try await server.connect(alice, bob)
            var ids: [String] = []
            for text in ["one", "two", "three"] {
                let sent = try await server.send(text, from: alice, to: bob)
                #expect(sent.status == 201)
                #expect(sent.json["status"] as? String == "queued")
                ids.append(try #require(sent.json["message_id"] as? String))
                server.clock.advance(by: 1)
            }
            func fetch(_ query: String = "") async throws -> (ids: [String], texts: [String], more: Bool?) {
                let reply = try await server.call(.get, "/v1/messages/offline" + query, token: bob.accessToken)
                let messages = try #require(reply.json["messages"] as? [[String: Any]])
                for message in messages {
                    #expect(message["payload_type"] as? String == "direct")
                    #expect(message["sender_agent_id"] == nil)
                    #expect(message["created_at"] is String)
                }
                return (
                    messages.compactMap { $0["message_id"] as? String },
                    messages.compactMap { ($0["envelope"] as? String).flatMap { Data(base64Encoded: $0) } }.map {
                        String(decoding: $0, as: UTF8.self)
                    }, reply.json["has_more"] as? Bool
                )
            }
            let first = try await fetch()
            #expect(first.ids == ids)
            #expect(first.texts == ["one", "two", "three"])
            #expect(first.more == false)
            #expect(try await fetch().ids == ids)
            let page = try await fetch("?limit=2")
            #expect(page.ids == Array(ids.prefix(2)))
            #expect(page.more == true)

            func ack(_ messageIDs: [String], as agent: TransmissionBotServer.Agent) async throws -> Int? {
                try await server.call(
                    .post, "/v1/messages/ack", token: agent.accessToken, json: ["message_ids": messageIDs]
                ).json["acknowledged"] as? Int
            }
            #expect(try await ack(Array(ids.prefix(2)), as: alice) == 0)  // not Alice's queue
            #expect(try await ack(Array(ids.prefix(2)) + ["unknown"], as: bob) == 2)
            #expect(try await ack(Array(ids.prefix(2)), as: bob) == 0)
            #expect(try await fetch().ids == [ids[2]])
            expectError(
                try await server.call(.post, "/v1/messages/ack", token: bob.accessToken, json: ["message_ids": "x"]),
                400, "INVALID_REQUEST")
        }
    }

    /// Envelopes are standard base64 with padding, `direct`, and not empty (§3, §5.5).
    @Test(arguments: [
        ["payload_type": "direct", "envelope": "aGk"],
        ["payload_type": "direct", "envelope": "aGk_"],
        ["payload_type": "direct", "envelope": ""],
        ["payload_type": "group", "envelope": "aGk="],
        ["envelope": "aGk="],
    ])
    func envelopesAreChecked(_ fields: [String: String]) async throws {
        try await TransmissionBotServer.with { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            try await server.connect(alice, bob)
            var body = fields
            body["recipient_agent_id"] = bob.id
            expectError(
                try await server.call(.post, "/v1/messages/send", token: alice.accessToken, json: body), 400,
                "INVALID_REQUEST")
        }
    }
}
