import Testing
import Workflow

@Suite struct IntervalAndTargetTests {
    @Test(arguments: [("90s", 90), ("3m", 180), ("1h30m", 5400), ("2d", 172_800), ("1d2h3m4s", 93_784), ("0s", 0)])
    func durationsParse(text: String, seconds: Int) {
        #expect(Interval(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["", "5", "m", "30m1h", "1h1h", "1.5h", "-5m", "5 m", "1w", "9999999999s"])
    func malformedDurationsDoNot(text: String) {
        #expect(Interval(parsing: text) == nil)
    }

    @Test func durationsPrintCanonically() {
        #expect(Interval(seconds: 5400).description == "1h30m")
        #expect(Interval(seconds: 90).description == "1m30s")
        #expect(Interval(seconds: 0).description == "0s")
    }

    @Test(arguments: [
        ("nx:session/abc", "nx", Target.Kind.session, "abc"),
        ("ms:thread/9223372036854775808", "ms", .thread, "9223372036854775808"),
        ("ms:channel/releases", "ms", .channel, "releases"),
        ("tb:agent/019d5636-ad2b-7603-b302-8a6ffeb80436", "tb", .agent, "019d5636-ad2b-7603-b302-8a6ffeb80436"),
    ])
    func targetsParse(text: String, account: String, kind: Target.Kind, id: String) throws {
        let target = try Target.parse(text).get()
        #expect(target == Target(account: account, kind: kind, id: id))
        #expect(target.description == text)
    }

    @Test func inboxesTakeNoID() throws {
        #expect(try Target.parse("tb:inbox").get() == Target(account: "tb", kind: .inbox, id: nil))
        #expect(throws: Target.ParseError.unexpectedID(.inbox)) { try Target.parse("tb:inbox/x").get() }
    }

    @Test(arguments: [
        ("nosuch", Target.ParseError.missingAccount),
        ("n x:session/a", .badAccount("n x")),
        ("nx:room/a", .unknownKind("room")),
        ("nx:session", .missingID(.session)),
        ("nx:session/", .missingID(.session)),
        ("nx:session/a b", .badID("a b")),
    ])
    func malformedTargets(text: String, error: Target.ParseError) {
        #expect(throws: error) { try Target.parse(text).get() }
    }

    @Test func wildcardsCoverConversationsOfTheirKind() throws {
        let all = try Target.parse("ms:thread/*").get()
        #expect(all.covers(try Target.parse("ms:thread/42").get()))
        #expect(!all.covers(try Target.parse("ms:channel/42").get()))
        #expect(!all.covers(try Target.parse("mx:thread/42").get()))
    }
}
