import Testing
import Workflow

@Suite struct ExpressionTests {
    static let sources = [
        "message.text", "steps.ack.timed-out", "message['received-at']", "!contains(message.text, 'x')",
        "a || b && c", "(a || b) && c", "a == b != c", "a < 1 || b >= -2.5", "json(fromJSON('{\"a\":1}'))",
        "default(message.json.priority, 'normal')", "'it''s'", "null == false", "x[0][1].y", "!!true",
        "truncate(upper(trim(message.text)), 20)", "1e+21", "matches(message.text, '^deploy\\s+v[0-9]+')",
    ]

    @Test(arguments: sources)
    func printingThenParsingGivesTheSameExpression(source: String) throws {
        let parsed = try ExpressionParser.parse(source)
        let printed = parsed.description
        #expect(try ExpressionParser.parse(printed) == parsed, "\(source) printed as \(printed)")
        // Printing is canonical: a second round trip does not change the text.
        #expect(try ExpressionParser.parse(printed).description == printed)
    }

    @Test func precedenceIsAsInGitHubActions() throws {
        #expect(try ExpressionParser.parse("a || b && c").description == "a || b && c")
        #expect(try ExpressionParser.parse("(a || b) && c").description == "(a || b) && c")
        #expect(try ExpressionParser.parse("!a == b").description == "!a == b")
        #expect(try ExpressionParser.parse("!(a == b)").description == "!(a == b)")
    }

    static let context: [String: Value] = [
        "message": ["text": "Deploy v42 please", "id": "m-1", "json": ["priority": "high", "n": 3]],
        "steps": ["ack": ["timed-out": true, "message": ["text": "ok"]]],
        "vars": [:],
    ]

    @Test(
        arguments: [
            ("message.text", .string("Deploy v42 please")),
            ("contains(message.text, 'DEPLOY')", .bool(true)),
            ("startsWith(message.text, 'deploy')", .bool(true)),
            ("endsWith(message.text, 'x')", .bool(false)),
            ("matches(message.text, 'v[0-9]+')", .bool(true)),
            ("lower(message.text)", .string("deploy v42 please")),
            ("upper('ab')", .string("AB")),
            ("trim('  x \\n')", .string("x \\n")),
            ("truncate(message.text, 7)", .string("Deploy…")),
            ("json(message.json)", .string("{\"n\":3,\"priority\":\"high\"}")),
            ("fromJSON('[1, \"a\"]')", .array([.number(1), .string("a")])),
            ("default(message.json.missing, 'normal')", .string("normal")),
            ("default(message.json.priority, 'normal')", .string("high")),
            ("steps.ack.timed-out && 'yes'", .string("yes")),
            ("message.nothing || 'fallback'", .string("fallback")),
            ("message.json.n == '3'", .bool(true)),
            ("'ABC' == 'abc'", .bool(true)),
            ("message.json.n > 2 && message.json.n <= 3", .bool(true)),
            ("null == 0", .bool(true)),
            ("message['text'] != null", .bool(true)),
            ("steps.ack.message.text", .string("ok")),
            ("!steps.ack.timed-out", .bool(false)),
            ("fromJSON('[1,2]')[1]", .number(2)),
            ("fromJSON('\"\\ud800\\u0041\"')", .string("\u{FFFD}A")),
            ("truncate('abc', 1e300)", .string("abc")),
        ] as [(String, Value)])
    func evaluation(source: String, expected: Value) throws {
        let evaluator = ExpressionEvaluator(contexts: Self.context)
        #expect(try evaluator.evaluate(ExpressionParser.parse(source)) == expected)
    }

    @Test func templatesInterpolateAndKeepTypesWhenWhole() throws {
        let evaluator = ExpressionEvaluator(contexts: Self.context)
        #expect(try evaluator.render(Template.parse("id=${{ message.id }}, n=${{ message.json.n }}")) == "id=m-1, n=3")
        #expect(try evaluator.value(of: Template.parse("${{ steps.ack.timed-out }}")) == .bool(true))
        #expect(try evaluator.render(Template.parse("literal only")) == "literal only")
        #expect(try Template.parse("${{ '}}' }}").expressions.count == 1)
    }

    @Test(arguments: [
        ("a ==", 4, "expected a value but the expression ended"),
        ("a = b", 2, "unexpected character '=' (compare with '==')"),
        ("'open", 0, "unterminated string literal"),
        ("f(a,", 4, "expected a value but the expression ended"),
        ("a.", 2, "expected a property name after '.' but found end of expression"),
        ("a b", 2, "unexpected 'b'"),
        ("\"x\"", 0, "strings use single quotes: 'text'"),
    ])
    func syntaxErrorsPointAtTheirOffset(source: String, offset: Int, message: String) {
        #expect {
            try ExpressionParser.parse(source)
        } throws: { error in
            guard let error = error as? ExpressionParser.SyntaxError else { return false }
            return error.offset == offset && error.message == message
        }
    }

    @Test func deepNestingIsRejectedNotOverflowed() {
        let deep = String(repeating: "(", count: 5000) + "a" + String(repeating: ")", count: 5000)
        #expect(throws: ExpressionParser.SyntaxError.self) { try ExpressionParser.parse(deep) }
        let bangs = String(repeating: "!", count: 5000) + "a"
        #expect(throws: ExpressionParser.SyntaxError.self) { try ExpressionParser.parse(bangs) }
        // Chains the parser builds in a loop are capped by their length.
        let chain = Array(repeating: "a", count: 100_000).joined(separator: " || ")
        #expect(throws: ExpressionParser.SyntaxError.self) { try ExpressionParser.parse(chain) }
        let members = "message" + String(repeating: ".a", count: 100_000)
        #expect(throws: ExpressionParser.SyntaxError.self) { try ExpressionParser.parse(members) }
    }

    @Test(arguments: [
        ("steps.later.stdout", "step-runs-later"),
        ("steps.nope.stdout", "unknown-step"),
        ("vars.unset", "unknown-property"),
        ("message.txt", "unknown-property"),
        ("mesage.text", "unknown-context"),
        ("lowr(message.text)", "unknown-function"),
        ("contains(message.text)", "wrong-arity"),
        ("truncate('x', 'y')", "expression-type"),
        ("message.text < true", "expression-type"),
        ("matches(message.text, '[')", "invalid-value"),
    ])
    func theCheckerFindsMistakesBeforeTheyRun(source: String, code: String) throws {
        let checker = ExpressionChecker(
            scope: .init(earlierSteps: ["draft"], laterSteps: ["later"], variables: ["verdict"]))
        #expect(try checker.check(ExpressionParser.parse(source)).map(\.code.rawValue) == [code])
    }

    @Test func theCheckerAcceptsWhatIsInScope() throws {
        let checker = ExpressionChecker(scope: .init(earlierSteps: ["draft"], variables: ["verdict"]))
        for source in [
            "steps.draft.stdout", "vars.verdict", "secrets.TOKEN", "env.HOME", "message.json.any.depth", "rule.purpose",
        ] {
            #expect(try checker.check(ExpressionParser.parse(source)).isEmpty, "\(source)")
        }
    }
}
