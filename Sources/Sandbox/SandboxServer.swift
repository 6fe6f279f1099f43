internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import Logging
internal import NIOCore
internal import Workflow

/// A sandbox on HTTP: Hummingbird on 127.0.0.1, a port the OS picks unless one is given. Requests go to
/// ``NexusSandbox`` or ``TransmissionBotSandbox`` (each on its own listener: both APIs use `/health` and `/v1/…`)
/// after the ``FaultPlan`` has had its say.
public final class SandboxServer: Sendable {
    /// `http://127.0.0.1:PORT`.
    public let url: String
    public let port: Int
    private let task: Task<Void, any Error>

    private init(url: String, port: Int, task: Task<Void, any Error>) {
        self.url = url
        self.port = port
        self.task = task
    }

    /// Starts the Nexus listener (with the masumi stand-in's `/masumi/cli`, if given) and returns once the port
    /// is bound. Bodies over 1 MiB are refused. `POST /sandbox/faults` takes `nexus:` and `masumi:` faults.
    public static func start(
        nexus: NexusSandbox, masumi: MasumiSandbox? = nil, faults: FaultPlan = FaultPlan(), host: String = "127.0.0.1",
        port: Int = 0
    ) async throws -> SandboxServer {
        let wording = Wording(
            failure: { .error($0, "internal_error", "injected failure (sandbox fault plan)") },
            rateLimited: { _ in .error(429, "rate_limit_exceeded", "Too many requests, retry later") },
            tooLarge: .error(413, "invalid_body", "Request body is larger than 1 MiB"), maximumBody: 1 << 20,
            invalidFault: { .error(400, "invalid_fault", $0) })
        let server = try await listen(host: host, port: port) { request in
            if let masumi, request.uri.path == "/masumi/cli", request.method == .post {
                return try await cli(request, masumi: masumi)
            }
            if request.uri.path == "/sandbox/faults", request.method == .post {
                return try await inject(request, networks: [.nexus, .masumi], wording: wording) {
                    $0.apply(nexus: faults, masumi: masumi)
                }
            }
            return try await respond(to: request, faults: faults, wording: wording, handle: nexus.handle)
        }
        if nexus.options.publicBase == NexusSandbox.Options().publicBase { nexus.options.publicBase = server.url }
        return server
    }

    /// Starts a TransmissionBot listener and returns once the port is bound. Bodies over the sandbox's
    /// ``TransmissionBotSandbox/Options/maximumBodyBytes`` are refused. `POST /sandbox/faults` takes
    /// `transmissionbot:` faults.
    public static func start(
        transmissionBot: TransmissionBotSandbox, faults: FaultPlan = FaultPlan(), host: String = "127.0.0.1",
        port: Int = 0
    ) async throws -> SandboxServer {
        let maximumBody = transmissionBot.options.maximumBodyBytes
        let wording = Wording(
            failure: { TransmissionBotSandbox.failure(status: $0, "injected failure (sandbox fault plan)") },
            rateLimited: { TransmissionBotSandbox.failure(status: 429, "Too many requests, retry after \($0) s") },
            tooLarge: TransmissionBotSandbox.failure(
                status: 413, "Request body is larger than \(maximumBody) bytes"), maximumBody: maximumBody,
            invalidFault: { TransmissionBotSandbox.failure(status: 400, $0) })
        return try await listen(host: host, port: port) { request in
            if request.uri.path == "/sandbox/faults", request.method == .post {
                return try await inject(request, networks: [.transmissionBot], wording: wording) {
                    $0.apply(transmissionBot: faults)
                }
            }
            return try await respond(to: request, faults: faults, wording: wording, handle: transmissionBot.handle)
        }
    }

    /// Stops listening and waits until the server has shut down.
    public func stop() async {
        task.cancel()
        _ = await task.result
    }

    /// Waits until the server stops (it runs until ``stop()`` or the task running it is cancelled).
    public func wait() async throws {
        try await task.value
    }

    /// How one network words the answers the server makes up itself: injected faults and an oversized body.
    private struct Wording: Sendable {
        var failure: @Sendable (Int) -> SandboxResponse
        var rateLimited: @Sendable (Int) -> SandboxResponse
        var tooLarge: SandboxResponse
        var maximumBody: Int
        /// A `POST /sandbox/faults` line refused, with why.
        var invalidFault: @Sendable (String) -> SandboxResponse
    }

    /// A listener for the project's own small endpoints (`switchboard run --metrics`), bound and stopped as the
    /// sandbox's are: `handle` gets the method and path and answers a status, a content type and a body.
    /// Throws ``SandboxError`` when the address cannot be bound.
    public static func serve(
        host: String, port: Int, serverName: String,
        handle:
            @escaping @Sendable (_ method: String, _ path: String) -> (status: Int, contentType: String, body: String)
    ) async throws -> SandboxServer {
        try await listen(host: host, port: port, serverName: serverName) { request in
            let answer = handle(request.method.rawValue, request.uri.path)
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: [.contentType: answer.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
        }
    }

    private static func listen(
        host: String, port: Int, serverName: String = "switchboard-sandbox",
        responder: @escaping @Sendable (Request) async throws -> Response
    ) async throws -> SandboxServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int?.self)
        var logger = Logger(label: serverName)
        logger.logLevel = .critical
        let application = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in try await responder(request) },
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: serverName),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port) },
            logger: logger)
        let task = Task {
            defer { continuation.finish() }
            try await application.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), let bound else {
            task.cancel()
            _ = await task.result
            throw SandboxError(message: "\(serverName) could not listen on \(host):\(port)")
        }
        return SandboxServer(url: "http://\(host):\(bound)", port: bound, task: task)
    }

    private static func respond(
        to request: Request, faults: FaultPlan, wording: Wording,
        handle: (SandboxRequest) -> SandboxResponse
    ) async throws -> Response {
        let path = request.uri.path
        if let fault = faults.next(for: path, method: request.method.rawValue) {
            switch fault {
            case .latency(let seconds): try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            case .status(let code):
                return response(wording.failure(code))
            case .proxyPage(let code):
                return response(
                    SandboxResponse(
                        status: code, headers: ["content-type": "text/html"],
                        body: Data("<html><body><h1>\(code) Bad Gateway</h1></body></html>".utf8)))
            case .rateLimited(let retryAfter):
                var limited = wording.rateLimited(retryAfter)
                limited.headers["retry-after"] = String(retryAfter)
                return response(limited)
            case .dropConnection:
                // Promise a long body, send a little, then fail: the connection closes half-way.
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(contentLength: 4096) { writer in
                        try await writer.write(ByteBuffer(string: "{\"messages\":["))
                        throw SandboxError(message: "dropped on purpose")
                    })
            case .malformedJSON:
                return response(
                    SandboxResponse(
                        status: 200, headers: ["content-type": "application/json"],
                        body: Data("{\"messages\": [ oops".utf8)))
            case .oversized(let bytes):
                let body =
                    Data("{\"pad\":\"".utf8) + Data(repeating: UInt8(ascii: "x"), count: max(0, bytes - 10))
                    + Data("\"}".utf8)
                return response(SandboxResponse(status: 200, headers: ["content-type": "application/json"], body: body))
            }
        }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: wording.maximumBody)
        } catch {
            return response(wording.tooLarge)
        }
        let sandboxRequest = SandboxRequest(
            method: request.method.rawValue, path: path, query: query, headers: headers,
            body: Data(body.readableBytesView))
        return response(handle(sandboxRequest))
    }

    /// One masumi CLI invocation: `{"argv": [...]}` in, ``MasumiSandbox/Output`` out.
    private static func cli(_ request: Request, masumi: MasumiSandbox) async throws -> Response {
        struct Call: Decodable { var argv: [String] }
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let call = try? JSONDecoder().decode(Call.self, from: Data(body.readableBytesView)) else {
            return response(.error(400, "invalid_body", "expected {\"argv\": [...]}"))
        }
        let output = masumi.run(argv: call.argv)
        if let delay = output.delay { try await Task.sleep(for: .milliseconds(Int(delay * 1000))) }
        return response(
            SandboxResponse(
                status: 200, headers: ["content-type": "application/json"],
                body: (try? JSONEncoder().encode(output)) ?? Data()))
    }

    /// Faults for a running sandbox: one ``SandboxFaultSpec`` per line of a text body, each for one of the
    /// `networks` this listener serves. All or nothing: a line that does not parse, or is for another listener, is
    /// a 400 naming it, and no fault is queued.
    private static func inject(
        _ request: Request, networks: Set<SandboxFaultSpec.Network>, wording: Wording,
        apply: (SandboxFaultSpec) -> Void
    ) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 16)
        let lines = String(decoding: body.readableBytesView, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var specs: [SandboxFaultSpec] = []
        for line in lines {
            do throws(SandboxError) {
                let spec = try SandboxFaultSpec.parse(line)
                guard networks.contains(spec.network) else {
                    throw SandboxError(
                        message: "fault '\(line)': this listener serves "
                            + networks.map(\.rawValue).sorted().joined(separator: " and ")
                            + "; POST \(spec.network.rawValue) faults to its own listener")
                }
                specs.append(spec)
            } catch {
                return response(wording.invalidFault(error.message))
            }
        }
        for spec in specs { apply(spec) }
        return response(.json(200, .object(["queued": .number(Double(specs.count))])))
    }

    private static func response(_ sandbox: SandboxResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in sandbox.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: sandbox.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: sandbox.body)))
    }
}

public struct SandboxError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
