import Foundation
import Testing
import Workflow

/// JSON text as switchboard writes it (request bodies, the journal's payloads): every string comes back as it
/// went in, whether it needed escapes or not.
struct JSONTextTests {
    static let strings = [
        "", "plain text", "ack msg_4f2a", "a \"quoted\" word", #"back\slash"#, "line\nbreak\r\ttab",
        "bell\u{07} and nul\u{00}", "\u{1F}", "caf\u{E9} \u{1F600} \u{7F}", "ends with \\",
    ]

    @Test(arguments: strings)
    func aStringComesBackAsItWent(text: String) throws {
        let encoded = JSONText.encode(.string(text))
        #expect(try JSONText.decode(encoded) == .string(text))
        // Foundation's reading agrees, so a server reads what was meant.
        let parsed = try JSONSerialization.jsonObject(with: Data(encoded.utf8), options: .fragmentsAllowed)
        #expect(parsed as? String == text)
        // Control characters never appear raw.
        #expect(!encoded.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func escapesAreTheShortOnesWhereJSONHasThem() {
        #expect(JSONText.encode(.string("plain")) == #""plain""#)
        #expect(JSONText.encode(.string("a\"b\\c\nd\u{01}")) == #""a\"b\\c\nd\u0001""#)
        #expect(
            JSONText.encode(.object(["text": .string("hi"), "json": .null, "a": .array([.bool(true), .number(2)])]))
                == #"{"a":[true,2],"json":null,"text":"hi"}"#)
    }
}
