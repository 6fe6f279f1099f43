import CCurl
import CSodium
import Testing

/// The Debian libraries the later layers build on link and answer; a missing -dev package fails here first.
@Suite struct SystemLibraryTests {
    @Test func libsodiumInitialisesAndHashes() {
        #expect(sodium_init() >= 0)
        var digest = [UInt8](repeating: 0, count: Int(crypto_generichash_BYTES))
        let input = Array("switchboard".utf8)
        #expect(crypto_generichash(&digest, digest.count, input, UInt64(input.count), nil, 0) == 0)
        #expect(digest.contains { $0 != 0 })
    }

    @Test func libcurlTakesOptionsThroughTheShim() throws {
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(ccurl_setopt_string(handle, CURLOPT_URL, "http://127.0.0.1:9/") == CURLE_OK)
        #expect(ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, 1000) == CURLE_OK)
        let version = String(cString: try #require(curl_version()))
        #expect(version.hasPrefix("libcurl/"))
        #expect(version.contains("OpenSSL"), "TLS verification needs libcurl built with OpenSSL: \(version)")
    }
}
