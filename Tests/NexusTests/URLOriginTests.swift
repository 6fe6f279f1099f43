import Testing

@testable import Transport

/// The check every request passes before it goes out, and the shortcut for origins already checked: a URL
/// judged through the shortcut gets the same answer as one parsed in full.
struct URLOriginTests {
    static let urls = [
        "http://127.0.0.1:8080/v1/sessions/abc/messages", "http://127.0.0.1:8080/v1/sessions/abc?after=12",
        "http://localhost/hook", "https://example.com/v1/x%20y", "http://example.com/hook", "HTTP://EXAMPLE.com/a",
        "http://[::1]:9/x", "ftp://example.com/file", "http://user:pw@example.com/x", "http://example.com/a b",
        "http://example.com/%zz", "http://example.com/a#frag", "not a url", "http:///path", "https://example.com",
        "http://127.0.0.2:1/x?a=b&c=d;e",
    ]

    /// (origin, loopback) or the error's kind, as the full parse says.
    static func fullAnswer(_ url: String, insecure: Bool) -> String {
        do throws(TransportError) {
            let (destination, https) = try URLOrigin.parse(url)
            if https || insecure || destination.isLoopback { return "\(destination.origin) \(destination.isLoopback)" }
            return "\(TransportError.Kind.insecureURL)"
        } catch {
            return "\(error.kind)"
        }
    }

    static func answer(_ url: String, insecure: Bool) -> String {
        do throws(TransportError) {
            let destination = try URLOrigin.check(url, allowsInsecure: insecure)
            return "\(destination.origin) \(destination.isLoopback)"
        } catch {
            return "\(error.kind)"
        }
    }

    @Test(arguments: urls)
    func aCheckedOriginAnswersAsAFullParseWould(url: String) {
        for insecure in [false, true, false] {
            // Twice each: the first may fill the shortcut, the second takes it.
            #expect(Self.answer(url, insecure: insecure) == Self.fullAnswer(url, insecure: insecure))
            #expect(Self.answer(url, insecure: insecure) == Self.fullAnswer(url, insecure: insecure))
        }
    }

    @Test func onlyPlainURLsWithoutCredentialsTakeTheShortcut() {
        #expect(URLOrigin.plainPrefix("http://127.0.0.1:8080/v1/s?after=3") == "http://127.0.0.1:8080")
        #expect(URLOrigin.plainPrefix("https://example.com") == "https://example.com")
        #expect(URLOrigin.plainPrefix("https://example.com/a%2Fb") == "https://example.com")
        for url in [
            "http://user:pw@example.com/x", "http://example.com/a b", "http://example.com/%zz", "http://[::1]/x",
            "http://example.com/a#f", "http:///x", "no scheme", "http://example.com/caf\u{E9}",
        ] {
            #expect(URLOrigin.plainPrefix(url) == nil, "\(url)")
        }
    }

    @Test func plainHTTPGoesOnlyToLoopbackUnlessAllowed() {
        #expect(Self.answer("http://example.com/hook", insecure: false) == "insecureURL")
        #expect(Self.answer("http://example.com/hook", insecure: true) == "http://example.com false")
        #expect(Self.answer("http://127.0.0.1:1/x", insecure: false) == "http://127.0.0.1:1 true")
    }
}
