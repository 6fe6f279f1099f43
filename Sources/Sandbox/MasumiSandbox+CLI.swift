internal import Foundation

/// One CLI invocation against the sandbox's state: Commander's argv grammar (global flags anywhere, `--flag
/// value`, `--` ends the options), the commands the runner uses, the envelope on stdout (masumi.md §2.2).
struct Invocation {
    typealias J = OrderedJSON

    /// Options that take a value, and flags that do not (masumi.md §6.2, §6.3).
    static let valued: Set<String> = [
        "--profile", "--agent", "--page", "--page-size", "--filter", "--after", "--through-seq", "--thread-id",
        "--content-type", "--limit", "--before-channel-seq", "--title", "--request-id", "--to", "--message",
        "--header",
    ]
    static let flags: Set<String> = [
        "--json", "--verbose", "--no-color", "--include-archived", "--read-unsupported", "--authenticated",
        "--incoming", "--outgoing", "--new", "--yes", "--force-unsupported", "--confirm",
    ]
    static let commands: [[String]] = [
        ["thread", "unread"], ["thread", "show"], ["thread", "list"], ["thread", "count"], ["thread", "reply"],
        ["thread", "start"], ["thread", "send"], ["thread", "read"], ["thread", "approval", "list"],
        ["thread", "approval", "approve"], ["thread", "approval", "reject"], ["channel", "show"],
        ["channel", "messages"], ["channel", "send"], ["channel", "join"], ["account", "status"],
    ]
    static let groups: Set<String> = ["thread", "channel", "account", "agent", "discover", "approval"]

    var argv: [String]
    var options: [String: String] = [:]
    var switches: Set<String> = []
    var positionals: [String] = []
    var profile = "default"

    init(argv: [String]) {
        self.argv = argv
    }

    struct Failure: Error {
        var code: String
        var message: String
        var exitCode: Int32 = 1
    }

    mutating func execute(_ state: inout MasumiSandbox.State, now: Date) -> MasumiSandbox.Output {
        if argv == ["-v"] { return .init(stdout: state.options.version + "\n", stderr: "", status: 0) }
        var index = 0
        var endOfOptions = false
        while index < argv.count {
            let word = argv[index]
            index += 1
            if endOfOptions || !word.hasPrefix("-") || word == "-" {
                positionals.append(word)
            } else if word == "--" {
                endOfOptions = true
            } else if Self.flags.contains(word) {
                switches.insert(word)
            } else if Self.valued.contains(word) {
                guard index < argv.count else {
                    return Self.commander("error: option '\(word) <value>' argument missing")
                }
                options[word] = argv[index]
                index += 1
            } else {
                return Self.commander("error: unknown option '\(word)'")
            }
        }
        profile = options["--profile"] ?? "default"
        guard let command = Self.commands.first(where: { positionals.starts(with: $0) }) else {
            if let first = positionals.first, !Self.groups.contains(first) {
                return Self.commander("error: unknown command '\(first)'")
            }
            if positionals.count >= 2, !Self.groups.contains(positionals[1]) {
                return Self.commander("error: unknown command '\(positionals[1])'")
            }
            // A group without a subcommand, or nothing at all without a TTY: Commander's help, not JSON (§2.1).
            return .init(
                stdout: "Usage: masumi-agent-messenger [options] [command]\n", stderr: "", status: 0)
        }
        let name = command.joined(separator: " ")
        let arguments = Array(positionals.dropFirst(command.count))
        state.invocations[name, default: 0] += 1
        var fault: MasumiSandbox.Fault.Effect?
        if let position = state.faults.firstIndex(where: { $0.command == name }) {
            if state.faults[position].nth <= 1 {
                fault = state.faults.remove(at: position).effect
            } else {
                state.faults[position].nth -= 1
            }
        }
        var delay: Double?
        switch fault {
        case .garbage?: return .init(stdout: "<html>502 Bad Gateway</html>\n", stderr: "", status: 1)
        case .latency(let seconds)?: delay = seconds
        case .error(let code, let exitCode, false)?:
            return Self.envelope(error: Failure(code: code, message: "injected failure", exitCode: exitCode))
        default: break
        }
        var output: MasumiSandbox.Output
        do {
            let data = try perform(name, arguments, &state, now: now)
            output = .init(
                stdout: J.object([("schemaVersion", .int(1)), ("ok", .bool(true)), ("data", data)]).render() + "\n",
                stderr: "", status: 0)
        } catch let failure as Failure {
            output = Self.envelope(error: failure)
        } catch {
            output = Self.envelope(error: Failure(code: "UNEXPECTED_ERROR", message: "\(error)"))
        }
        switch fault {
        case .error(let code, let exitCode, true)?:
            // The write happened; the CLI gave up waiting for it (§7.4).
            output = Self.envelope(
                error: Failure(code: code, message: "Timed out waiting for the message to sync", exitCode: exitCode))
        case .truncated?:
            output.stdout = String(output.stdout.prefix(output.stdout.count / 2))
        default: break
        }
        output.delay = delay
        return output
    }

    static func commander(_ line: String) -> MasumiSandbox.Output {
        .init(stdout: "", stderr: line + "\n(run with --help for usage)\n", status: 1)
    }

    static func envelope(error: Failure) -> MasumiSandbox.Output {
        let body = J.object([
            ("schemaVersion", .int(1)), ("ok", .bool(false)),
            (
                "error",
                .object([
                    ("message", .string(error.message)), ("code", .string(error.code)),
                    ("try", .string("masumi-agent-messenger --help")), ("exitCode", .int(Int(error.exitCode))),
                ])
            ),
        ])
        return .init(stdout: body.render() + "\n", stderr: "", status: error.exitCode)
    }

    // MARK: - Commands

    func agent(_ state: MasumiSandbox.State) throws -> String {
        guard let email = state.profiles[profile] else {
            throw Failure(code: "AUTH_REQUIRED", message: "Not signed in for profile \(profile).")
        }
        if let slug = options["--agent"] {
            guard state.agents[slug]?.email == email else {
                throw Failure(code: "OWNED_ACTOR_NOT_FOUND", message: "No owned agent '\(slug)' in this inbox.")
            }
            return slug
        }
        return state.agents.values.first { $0.email == email && $0.isDefault }?.slug ?? ""
    }

    func number(_ flag: String, default value: Int, range: ClosedRange<Int>, code: String) throws -> Int {
        guard let text = options[flag] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw Failure(
                code: code, message: "\(flag) must be an integer from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    func thread(_ id: String?, _ state: MasumiSandbox.State, agent: String) throws -> MasumiSandbox.Thread {
        guard let id else { throw Failure(code: "INVALID_THREAD_ID", message: "A thread id is required.") }
        guard UInt64(id) != nil else { throw Failure(code: "INVALID_THREAD_ID", message: "Invalid thread id: \(id)") }
        guard let thread = state.threads[id], thread.participants.contains(agent) else {
            throw Failure(code: "THREAD_NOT_FOUND", message: "Thread \(id) was not found.")
        }
        return thread
    }

    func base(_ agent: String) -> [(String, J)] {
        [
            ("authenticated", .bool(true)), ("connected", .bool(true)), ("profile", .string(profile)),
            ("actorSlug", .string(agent)),
        ]
    }

    static func sender(_ slug: String, _ state: MasumiSandbox.State) -> J {
        .object([
            ("id", .string(state.agents[slug]?.id ?? "0")), ("slug", .string(slug)), ("displayName", .null),
            ("publicIdentity", .string(slug)),
        ])
    }

    static func message(
        _ message: MasumiSandbox.Message, in thread: MasumiSandbox.Thread, agent: String, history: Bool,
        _ state: MasumiSandbox.State
    ) -> J {
        var fields: [(String, J)] = [("id", .string(message.id))]
        if !history { fields.append(("threadId", .string(thread.id))) }
        fields.append(("threadSeq", .string(String(message.seq))))
        if history { fields.append(("secretVersion", .string("secret-v\(message.secretVersion)"))) }
        fields.append(("createdAt", .stamp(message.createdAt)))
        if !history { fields.append(("threadLabel", .string(thread.label))) }
        fields += [
            ("sender", sender(message.sender, state)), ("text", .string(message.text)),
            ("decryptStatus", .string("ok")),
            ("decryptError", .null), ("contentType", .string("text/plain")), ("headerNames", .array([])),
            ("headers", .null), ("unsupportedReasons", .array([])), ("legacyPlaintext", .bool(false)),
            ("replyToMessageId", .null), ("trustStatus", .string(message.sender == agent ? "self" : "trusted")),
            ("trustNotice", .null), ("trustWarning", .null),
        ]
        return .object(fields)
    }

    /// The fields every thread object starts with (§6.2).
    static func threadHead(_ thread: MasumiSandbox.Thread, _ agent: String) -> [(String, J)] {
        [
            ("id", .string(thread.id)), ("kind", .string(thread.kind)), ("label", .string(thread.label)),
            ("locked", .bool(false)), ("archived", .bool(thread.archived.contains(agent))),
        ]
    }

    static func participants(_ thread: MasumiSandbox.Thread) -> [(String, J)] {
        [
            ("participantCount", .int(thread.participants.count)),
            ("participants", .array(thread.participants.sorted().map { .string($0) })),
        ]
    }

    static func paging(page: Int, size: Int, total: Int) -> [(String, J)] {
        let pages = max(1, (total + size - 1) / size)
        return [
            ("page", .int(page)), ("pageSize", .int(size)), ("totalPages", .int(pages)),
            ("hasPrevious", .bool(page > 1)),
            ("hasNext", .bool(page < pages)), ("previousPage", page > 1 ? .int(page - 1) : .null),
            ("nextPage", page < pages ? .int(page + 1) : .null),
        ]
    }

    // swiftlint:disable:next cyclomatic_complexity function_body_length
    func perform(_ name: String, _ arguments: [String], _ state: inout MasumiSandbox.State, now: Date) throws -> J {
        let me = try agent(state)
        switch name {
        case "account status":
            return .object([
                ("authenticated", .bool(true)), ("profile", .string(profile)), ("activeAgentSlug", .string(me)),
            ])

        case "thread list":
            let size = try number("--page-size", default: 25, range: 1...25, code: "INVALID_PAGE_SIZE")
            let page = try number("--page", default: 1, range: 1...Int.max, code: "INVALID_PAGE")
            let filter = switches.contains("--include-archived") ? "all" : options["--filter"] ?? "active"
            guard ["active", "latest", "archived", "all"].contains(filter) else {
                throw Failure(code: "INVALID_THREAD_FILTER", message: "Unknown filter \(filter).")
            }
            if options["--after"] != nil, page > 1 {
                throw Failure(code: "THREAD_PAGE_CONFLICT", message: "--after cannot be combined with --page.")
            }
            // The sort key: lastMessageAt, then id, both descending; fixed width so strings compare as numbers.
            func key(_ thread: MasumiSandbox.Thread) -> String {
                func padded(_ text: String, _ width: Int) -> String {
                    String(repeating: "0", count: max(0, width - text.count)) + text
                }
                let millis = String(Int64(thread.lastMessageAt.timeIntervalSince1970 * 1000))
                return padded(millis, 15) + ":" + padded(thread.id, 20)
            }
            var threads = state.threads.values.filter { $0.participants.contains(me) }.filter { thread in
                let archived = thread.archived.contains(me)
                let unread = thread.lastSeq - (thread.lastRead[me] ?? 0)
                switch filter {
                case "active": return !archived
                case "latest": return !archived && unread > 0
                case "archived": return archived
                default: return true
                }
            }.sorted { key($0) > key($1) }
            if let after = options["--after"] { threads = threads.filter { key($0) < after } }
            let slice = Array(threads.dropFirst((page - 1) * size).prefix(size))
            let hasNext = threads.count > page * size
            let items: [J] = slice.map { thread in
                .object(
                    Self.threadHead(thread, me) + [
                        ("unreadMessages", .int(thread.lastSeq - (thread.lastRead[me] ?? 0)))
                    ] + Self.participants(thread) + [
                        ("lastMessageAt", .stamp(thread.lastMessageAt)),
                        ("lastMessageSeq", .string(String(thread.lastSeq))),
                    ])
            }
            return .object(
                base(me) + [
                    ("includeArchived", .bool(filter == "all")), ("filter", .string(filter)), ("page", .int(page)),
                    ("pageSize", .int(size)), ("hasPrevious", .bool(page > 1)), ("hasNext", .bool(hasNext)),
                    ("nextAfterSortKey", hasNext ? .string(key(slice.last!)) : .null),
                    ("totalThreads", .int(slice.count)), ("threads", .array(items)),
                ])

        case "thread show":
            let thread = try thread(arguments.first, state, agent: me)
            let size = try number("--page-size", default: 25, range: 1...25, code: "INVALID_PAGE_SIZE")
            let page = try number("--page", default: 1, range: 1...Int.max, code: "INVALID_PAGE")
            let top = thread.lastSeq - (page - 1) * size
            let messages = thread.messages.filter { $0.seq <= top && $0.seq > top - size }
            return .object(
                base(me) + [
                    ("thread", .object(Self.threadHead(thread, me))),
                    ("lastReadThreadSeq", .string(String(thread.lastRead[me] ?? 0))),
                    ("totalMessages", .int(thread.lastSeq)),
                ] + Self.paging(page: page, size: size, total: thread.lastSeq) + [
                    ("messages", .array(messages.map { Self.message($0, in: thread, agent: me, history: true, state) }))
                ])

        case "thread unread":
            let size = try number("--page-size", default: 25, range: 1...25, code: "INVALID_PAGE_SIZE")
            let page = try number("--page", default: 1, range: 1...Int.max, code: "INVALID_PAGE")
            var visible = state.visibleThreads(of: me)
            if let id = options["--thread-id"] { visible.insert(id) }
            var found: [(MasumiSandbox.Message, MasumiSandbox.Thread)] = []
            for id in visible {
                guard let thread = state.threads[id], thread.participants.contains(me), !thread.archived.contains(me)
                else { continue }
                // Per thread only the latest min(25, page·pageSize) messages are read (§7.1).
                let window = state.options.recentThreadView ? min(25, page * size) : Int.max
                for message in thread.messages.suffix(window)
                where message.sender != me && message.seq > (thread.lastRead[me] ?? 0) {
                    found.append((message, thread))
                }
            }
            found.sort { ($0.0.createdAt, $0.0.seq) > ($1.0.createdAt, $1.0.seq) }
            let pages = max(1, (found.count + size - 1) / size)
            let current = min(page, pages)
            let slice = found.dropFirst((current - 1) * size).prefix(size)
            return .object(
                [("authenticated", .bool(true)), ("connected", .bool(true)), ("profile", .string(profile))] + [
                    ("scope", .object([("slug", .null), ("threadId", .optional(options["--thread-id"]))])),
                    ("totalMessages", .int(found.count)),
                    ("messages", .array(slice.map { Self.message($0.0, in: $0.1, agent: me, history: false, state) })),
                ] + Self.paging(page: current, size: size, total: found.count))

        case "thread count":
            let thread = try thread(arguments.first, state, agent: me)
            return .object(
                base(me) + [
                    ("thread", .object(Self.threadHead(thread, me) + Self.participants(thread))),
                    ("messageCount", .int(thread.lastSeq)), ("lastMessageSeq", .string(String(thread.lastSeq))),
                    ("lastMessageAt", .stamp(thread.lastMessageAt)),
                ])

        case "thread read":
            let thread = try thread(arguments.first, state, agent: me)
            // Mutations resolve the thread from the 25-thread view (§7.3).
            guard state.visibleThreads(of: me).contains(thread.id) else {
                throw Failure(code: "THREAD_NOT_FOUND", message: "Thread \(thread.id) was not found.")
            }
            var through = thread.lastSeq
            if let text = options["--through-seq"] {
                guard let seq = Int(text), seq >= 0 else {
                    throw Failure(code: "INVALID_THREAD_ID", message: "Invalid thread id: \(text)")
                }
                guard seq <= thread.lastSeq else {
                    throw Failure(
                        code: "THREAD_MARK_READ_FAILED", message: "upToThreadSeq exceeds the current thread sequence",
                        exitCode: 2)
                }
                through = seq
            }
            state.threads[thread.id]?.lastRead[me] = max(thread.lastRead[me] ?? 0, through)
            return .object([
                ("profile", .string(profile)), ("actorSlug", .string(me)), ("threadId", .string(thread.id)),
                ("label", .string(thread.label)), ("throughSeq", .string(String(through))),
            ])

        case "thread reply":
            let thread = try thread(arguments.first, state, agent: me)
            let text = arguments.dropFirst().joined(separator: " ")
            guard !text.isEmpty else { throw Failure(code: "SEND_MESSAGE_REQUIRED", message: "A message is required.") }
            let message = state.append(thread: thread.id, sender: me, text: text, now: now)
            return .object([
                ("sent", .bool(true)), ("profile", .string(profile)), ("actorSlug", .string(me)),
                ("threadId", .string(thread.id)), ("threadKind", .string(thread.kind)),
                ("label", .string(thread.label)),
                ("messageId", .string(message.id)), ("threadSeq", .string(String(message.seq))),
            ])

        case "thread send", "thread start":
            guard let target = options["--to"] ?? arguments.first else {
                throw Failure(code: "SEND_TO_REQUIRED", message: "A recipient is required.")
            }
            let text =
                options["--message"] ?? arguments.dropFirst(options["--to"] == nil ? 1 : 0).joined(separator: " ")
            guard !text.isEmpty else { throw Failure(code: "SEND_MESSAGE_REQUIRED", message: "A message is required.") }
            guard let peer = state.agents[target] else {
                throw Failure(code: "ACTOR_NOT_FOUND", message: "No published agent matches \(target).")
            }
            guard peer.slug != me else {
                throw Failure(code: "DIRECT_THREAD_SELF", message: "Cannot start a direct thread with yourself.")
            }
            let to = J.object([
                ("slug", .string(peer.slug)), ("publicIdentity", .string(peer.slug)), ("displayName", .null),
            ])
            let lookup = J.object([
                ("input", .string(target)), ("inputKind", .string("slug")),
                (
                    "matchedActors",
                    .array([
                        .object([
                            ("slug", .string(peer.slug)), ("publicIdentity", .string(peer.slug)),
                            ("isDefault", .bool(peer.isDefault)), ("displayName", .null),
                        ])
                    ])
                ),
                (
                    "selected",
                    .object([
                        ("slug", .string(peer.slug)), ("publicIdentity", .string(peer.slug)),
                        ("isDefault", .bool(peer.isDefault)), ("displayName", .null),
                    ])
                ),
            ])
            let pair = MasumiSandbox.State.pair(me, peer.slug)
            let sameInbox = state.agents[me]?.email == peer.email
            if state.approved.contains(pair) || sameInbox {
                state.approved.insert(pair)
                let existing = state.threads.count
                let id = state.directThread(me, peer.slug, now: now)
                let message = state.append(thread: id, sender: me, text: text, now: now)
                return .object([
                    ("sent", .bool(true)), ("approvalRequired", .bool(false)), ("profile", .string(profile)),
                    ("selectionMode", .string("latest")), ("to", to), ("threadId", .string(id)),
                    ("messageId", .string(message.id)), ("threadSeq", .string(String(message.seq))),
                    ("createdDirectThread", .bool(state.threads.count > existing)), ("targetLookup", lookup),
                ])
            }
            if state.requests.contains(where: { $0.from == me && $0.to == peer.slug && $0.status == "pending" }) {
                throw Failure(code: "CONTACT_REQUEST_PENDING", message: "A contact request to \(peer.slug) is pending.")
            }
            let threadID = String(state.nextRequestThread)
            state.nextRequestThread += 1
            let request = MasumiSandbox.ContactRequest(
                id: state.newID(), threadID: threadID, from: me, to: peer.slug, text: text, status: "pending",
                createdAt: now)
            state.requests.append(request)
            return .object([
                ("sent", .bool(false)), ("approvalRequired", .bool(true)), ("profile", .string(profile)),
                ("selectionMode", .string("new")), ("to", to), ("threadId", .string(threadID)),
                ("requestId", .string(request.id)), ("requestStatus", .string("pending")),
                ("createdDirectThread", .bool(false)), ("targetLookup", lookup),
            ])

        case "thread approval list":
            let mine = state.requests.filter { $0.from == me || $0.to == me }.sorted { $0.createdAt > $1.createdAt }
            return .object([
                ("profile", .string(profile)), ("total", .int(mine.count)),
                (
                    "requests",
                    .array(
                        mine.map { request in
                            .object([
                                ("id", .string(request.id)), ("threadId", .string(request.threadID)),
                                ("direction", .string(request.to == me ? "incoming" : "outgoing")),
                                ("status", .string(request.status)), ("messageCount", .string("1")),
                                ("requester", Self.sender(request.from, state)),
                                ("target", Self.sender(request.to, state)),
                                ("createdAt", .stamp(request.createdAt)), ("updatedAt", .stamp(request.createdAt)),
                                ("resolvedAt", .null),
                            ])
                        })
                ),
                ("invites", .array([])),
            ])

        case "thread approval approve", "thread approval reject":
            let raw = options["--request-id"] ?? arguments.first ?? ""
            let id = raw.hasPrefix("request:") ? String(raw.dropFirst(8)) : raw
            guard let position = state.requests.firstIndex(where: { $0.id == id }) else {
                throw Failure(code: "CONTACT_REQUEST_NOT_FOUND", message: "Contact request \(raw) was not found.")
            }
            let request = state.requests[position]
            guard request.to == me else {
                throw Failure(
                    code: "CONTACT_REQUEST_DIRECTION_INVALID", message: "Only incoming requests can be resolved.")
            }
            let approve = name.hasSuffix("approve")
            state.requests[position].status = approve ? "approved" : "rejected"
            if approve {
                state.approved.insert(MasumiSandbox.State.pair(request.from, request.to))
                state.threads[request.threadID] = MasumiSandbox.Thread(
                    id: request.threadID, kind: "direct", participants: [request.from, request.to], lastMessageAt: now)
                _ = state.append(thread: request.threadID, sender: request.from, text: request.text, now: now)
            }
            return .object([
                ("profile", .string(profile)), ("requestId", .string(id)),
                ("status", .string(approve ? "approved" : "rejected")), ("slug", .string(request.to)),
            ])

        case "channel show":
            let slug = arguments.first ?? ""
            guard let channel = state.channels[slug] else {
                return .object([("profile", .string(profile)), ("channel", .null)])
            }
            return .object([
                ("profile", .string(profile)),
                (
                    "channel",
                    .object([
                        ("id", .string(channel.id)), ("slug", .string(slug)), ("title", .null), ("description", .null),
                        ("publicJoinPermission", .string("read_write")), ("discoverable", .bool(true)),
                        ("lastMessageSeq", .string(String(channel.messages.last?.seq ?? 0))),
                    ])
                ),
            ])

        case "channel join":
            let slug = arguments.first ?? ""
            guard let channel = state.channels[slug] else {
                throw Failure(code: "CHANNEL_NOT_FOUND", message: "Channel \(slug) was not found.")
            }
            state.channels[slug]?.members.insert(me)
            return .object([
                ("profile", .string(profile)), ("slug", .string(slug)), ("channelId", .string(channel.id)),
                ("permission", .string("read_write")), ("status", .string("joined")),
            ])

        case "channel messages":
            let slug = arguments.first ?? ""
            guard let channel = state.channels[slug] else {
                throw Failure(code: "CHANNEL_NOT_FOUND", message: "Channel \(slug) was not found.")
            }
            let authenticated =
                switches.contains("--authenticated") || options["--agent"] != nil
                || options["--before-channel-seq"] != nil || options["--limit"] != nil
            if authenticated, !channel.members.contains(me) {
                throw Failure(code: "CHANNEL_MEMBERSHIP_REQUIRED", message: "Join \(slug) first.")
            }
            let limit = try number("--limit", default: 25, range: 1...25, code: "INVALID_PAGE_SIZE")
            let before = try options["--before-channel-seq"].map { text -> Int in
                guard let seq = Int(text) else {
                    throw Failure(code: "INVALID_UINT_ARGUMENT", message: "Invalid sequence \(text).")
                }
                return seq
            }
            let page = channel.messages.filter { before == nil || $0.seq < before! }.suffix(authenticated ? limit : 25)
            return .object([
                ("profile", .string(profile)), ("slug", .string(slug)), ("anonymous", .bool(!authenticated)),
                ("cappedToRecent", .bool(!authenticated)),
                (
                    "messages",
                    .array(
                        page.map { message in
                            .object([
                                ("id", .string(message.id)), ("channelSeq", .string(String(message.seq))),
                                ("sender", .string(message.sender)), ("createdAt", .stamp(message.createdAt)),
                                ("text", .string(message.text)), ("status", .string("ok")), ("error", .null),
                            ])
                        })
                ),
            ])

        case "channel send":
            let slug = arguments.first ?? ""
            guard let channel = state.channels[slug] else {
                throw Failure(code: "CHANNEL_NOT_FOUND", message: "Channel \(slug) was not found.")
            }
            guard channel.members.contains(me) else {
                throw Failure(code: "CHANNEL_MEMBERSHIP_REQUIRED", message: "Join \(slug) first.")
            }
            let text = arguments.dropFirst().joined(separator: " ")
            guard !text.isEmpty else { throw Failure(code: "SEND_MESSAGE_REQUIRED", message: "A message is required.") }
            let seq = (channel.messages.last?.seq ?? 0) + 1
            let id = state.newID()
            state.channels[slug]?.messages.append((id, seq, me, text, now))
            return .object([
                ("profile", .string(profile)), ("slug", .string(slug)), ("channelId", .string(channel.id)),
                ("status", .string("sent")),
            ])

        default:
            throw Failure(code: "CLI_ERROR", message: "\(name) is not available in the sandbox")
        }
    }
}
