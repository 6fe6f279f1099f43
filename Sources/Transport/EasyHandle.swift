internal import CCurl
internal import Foundation

/// One libcurl easy handle, reused request after request. Used by one request at a time: the pool hands it
/// out exclusively, and ``MultiDriver`` runs its transfer.
final class EasyHandle: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    /// libcurl writes error details here during the transfer: memory that stays put for the handle's life.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    /// The body and headers of the response being received, and the cap on the body.
    final class Sink {
        var body = Data()
        var headers: [String: String] = [:]
        var limit = 0
        var overflowed = false
    }

    init?() {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    private static let writeCallback: ccurl_write_cb = { pointer, size, count, context in
        guard let pointer, let context else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        guard sink.body.count + length <= sink.limit else {
            sink.overflowed = true
            return 0  // libcurl stops with CURLE_WRITE_ERROR
        }
        pointer.withMemoryRebound(to: UInt8.self, capacity: length) { sink.body.append($0, count: length) }
        return length
    }

    private static let headerCallback: ccurl_header_cb = { pointer, size, count, context in
        guard let pointer, let context else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        let line = UnsafeRawBufferPointer(start: pointer, count: length)
        if line.starts(with: "HTTP/".utf8) {
            sink.headers = [:]  // a new response (after 100 Continue): its headers replace the last ones
        } else if let (name, value) = EasyHandle.field(line) {
            sink.headers[name] = value
        }
        return length
    }

    /// A header line's name, lower-cased, and its value without surrounding white space; nil without a colon.
    static func field(_ line: UnsafeRawBufferPointer) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = colon + 1
        var end = line.count
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        let name = String(
            unsafeUninitializedCapacity: colon,
            initializingUTF8With: { buffer in
                for index in 0..<colon {
                    let byte = line[index]
                    buffer[index] = (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
                }
                return colon
            })
        return (name, String(decoding: line[start..<end], as: UTF8.self))
    }

    /// What a transfer needs until it ends: where the response goes, and the header list libcurl reads.
    final class Transfer: @unchecked Sendable {
        let sink = Sink()
        let origin: String
        var headerList: UnsafeMutablePointer<curl_slist>?

        init(origin: String, limit: Int) {
            self.origin = origin
            sink.limit = limit
        }

        deinit { curl_slist_free_all(headerList) }
    }

    /// Sets the handle up for `request`; the returned transfer must outlive it (``MultiDriver`` keeps it).
    func prepare(_ request: HTTPRequest, to destination: URLOrigin.Destination) throws(TransportError) -> Transfer {
        let origin = destination.origin
        curl_easy_reset(handle)
        let transfer = Transfer(origin: origin, limit: request.maximumResponseSize)
        let sink = transfer.sink
        var headerList: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        // No "Expect: 100-continue" round trip for bodies over 1 KiB.
        headerList = curl_slist_append(headerList, "Expect:")
        transfer.headerList = headerList

        var setup = CURLE_OK
        func set(_ result: CURLcode) { if setup == CURLE_OK { setup = result } }
        set(ccurl_setopt_string(handle, CURLOPT_URL, request.url))
        set(ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        // Verification is libcurl's default; set anyway so no environment can weaken it.
        set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        set(ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000)))
        set(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(request.timeout, 10) * 1000)))
        set(ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        switch request.method {
        case .get: set(ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case .post, .put, .delete:
            if request.method != .post {
                set(ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method.rawValue))
            }
            let body = request.body ?? Data()
            if request.method == .post || !body.isEmpty {
                set(ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count))
                body.withUnsafeBytes { bytes in
                    // COPYPOSTFIELDS copies the body, so its lifetime ends with this closure safely.
                    set(
                        ccurl_setopt_pointer(
                            handle, CURLOPT_COPYPOSTFIELDS,
                            UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)))
                }
            }
        }
        let context = Unmanaged.passUnretained(sink).toOpaque()
        set(ccurl_setopt_write_function(handle, Self.writeCallback))
        set(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        set(ccurl_setopt_header_function(handle, Self.headerCallback))
        set(ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
        errorBuffer[0] = 0
        set(ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        // Loopback never goes through a proxy: plain http to 127.0.0.1 must not leave the machine.
        if destination.isLoopback {
            set(ccurl_setopt_string(handle, CURLOPT_NOPROXY, "*"))
        }
        guard setup == CURLE_OK else {
            throw TransportError(
                .curl(CurlCode(rawValue: Int32(setup.rawValue))), origin: origin,
                detail: "setting up the request failed")
        }
        return transfer
    }

    /// The response of a transfer that ended with `result`.
    func finish(_ transfer: Transfer, result: CURLcode) throws(TransportError) -> HTTPResponse {
        let origin = transfer.origin
        let sink = transfer.sink
        if sink.overflowed {
            throw TransportError(.responseTooLarge(limit: sink.limit), origin: origin, detail: "")
        }
        guard result == CURLE_OK else {
            let code = CurlCode(rawValue: Int32(result.rawValue))
            let detail = String(cString: errorBuffer)
            throw TransportError(.curl(code), origin: origin, detail: detail.isEmpty ? code.description : detail)
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }
}
