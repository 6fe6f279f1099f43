import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `GET /metrics` for `switchboard run --metrics HOST:PORT`, on Hummingbird; anything else is 404.
struct MetricsServer {
    let task: Task<Void, any Error>
    let port: Int

    /// Listens on `host:port` (port 0: one the OS picks) and returns once bound.
    static func start(host: String, port: Int, render: @escaping @Sendable () -> String) async throws -> MetricsServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int?.self)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            guard request.uri.path == "/metrics", request.method == .get else {
                return Response(status: .notFound, body: ResponseBody(byteBuffer: ByteBuffer(string: "not found\n")))
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: render())))
        }
        var logger = Logger(label: "switchboard-metrics")
        logger.logLevel = .critical
        let application = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "switchboard"),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port) }, logger: logger)
        let task = Task {
            defer { continuation.finish() }
            try await application.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next(), let bound else {
            task.cancel()
            _ = await task.result
            throw Failure.message("cannot listen on \(host):\(port) for metrics", hint: "pick another --metrics port")
        }
        return MetricsServer(task: task, port: bound)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }

    /// `HOST:PORT` (an IPv6 host in brackets).
    static func parse(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65_535).contains(port)
        else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}
