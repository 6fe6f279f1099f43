import Testing

@testable import Nexus

/// Ids and cursors go into URL paths and queries percent-encoded: only RFC 3986's unreserved ASCII passes.
@Suite struct PathSegmentTests {
    @Test(arguments: [
        ("abc-XYZ_09.~", "abc-XYZ_09.~"),
        ("a/b", "a%2Fb"),
        ("..", ".."),
        ("a b?c=d&e#f", "a%20b%3Fc%3Dd%26e%23f"),
        ("é", "%C3%A9"),
        ("100%", "100%25"),
        ("", ""),
    ])
    func segments(text: String, encoded: String) {
        #expect(NexusClient.segment(text) == encoded)
    }
}
