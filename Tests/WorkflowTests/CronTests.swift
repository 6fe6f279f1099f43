import Foundation
import Testing
import Workflow

@Suite struct CronTests {
    static let zones = ["UTC", "Europe/Berlin", "America/New_York"]
    static let expressions = [
        "30 2 * * *", "0,30 1-3 * * *", "15 */2 * * 1-5", "0 0 29 2 *", "0 12 13 * fri", "45 23 * * sun",
        "*/20 0-4 1,15 * *", "0 9-17/4 * jan-mar,oct-dec mon-fri", "@daily", "@hourly",
    ]
    /// 2026-01-01T00:00:00Z … 2027-01-01T00:00:00Z: a year with both DST changes in both zones.
    static let start = 1_767_225_600
    static let end = 1_798_761_600

    /// Every fire in the year, found minute by minute: the definition `nextFire` must agree with.
    static func bruteForce(_ cron: CronExpression, _ zone: TimeZone, from: Int, to: Int) -> [Int] {
        var fires: [Int] = []
        var minute = from - from % 60 + 60
        while minute <= to {
            if cron.matches(CivilTime(instant: minute, zone: zone)) { fires.append(minute) }
            minute += 60
        }
        return fires
    }

    @Test(arguments: zones)
    func nextFireAgreesWithMinuteByMinuteSearchOverAYear(zoneName: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        for source in Self.expressions {
            let cron = try CronExpression(parsing: source)
            let expected = Self.bruteForce(cron, zone, from: Self.start, to: Self.end)
            var actual: [Int] = []
            var cursor = Self.start
            while let next = cron.nextFire(after: cursor, in: zone), next <= Self.end {
                actual.append(next)
                cursor = next
            }
            #expect(actual == expected, "\(source) in \(zoneName): \(actual.count) fires, expected \(expected.count)")
            // From arbitrary starting instants too (mid-minute, inside DST gaps and overlaps).
            for probe in stride(from: Self.start + 17, to: Self.end, by: 86_400 * 13 + 3_607) {
                let next = cron.nextFire(after: probe, in: zone).flatMap { $0 <= Self.end ? $0 : nil }
                #expect(next == expected.first { $0 > probe }, "\(source) in \(zoneName) after \(probe)")
            }
        }
    }

    @Test func springForwardSkipsTheMissingTimeAndFallBackFiresTwice() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let halfPastTwo = try CronExpression(parsing: "30 2 * * *")
        // 2026-03-28 02:30 CET is 01:30Z; 29 March has no 02:30; 30 March 02:30 CEST is 00:30Z.
        #expect(halfPastTwo.nextFire(after: iso("2026-03-28T00:00:00Z"), in: berlin) == iso("2026-03-28T01:30:00Z"))
        #expect(halfPastTwo.nextFire(after: iso("2026-03-28T01:30:00Z"), in: berlin) == iso("2026-03-30T00:30:00Z"))
        // 2026-10-25: 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
        #expect(halfPastTwo.nextFire(after: iso("2026-10-24T23:00:00Z"), in: berlin) == iso("2026-10-25T00:30:00Z"))
        #expect(halfPastTwo.nextFire(after: iso("2026-10-25T00:30:00Z"), in: berlin) == iso("2026-10-25T01:30:00Z"))
        // New York 2026-11-01: 01:30 EDT is 05:30Z, 01:30 EST is 06:30Z.
        let halfPastOne = try CronExpression(parsing: "30 1 * * *")
        #expect(halfPastOne.nextFire(after: iso("2026-11-01T04:00:00Z"), in: newYork) == iso("2026-11-01T05:30:00Z"))
        #expect(halfPastOne.nextFire(after: iso("2026-11-01T05:30:00Z"), in: newYork) == iso("2026-11-01T06:30:00Z"))
        // New York 2026-03-08 has no 02:30.
        #expect(halfPastTwo.nextFire(after: iso("2026-03-08T05:00:00Z"), in: newYork) == iso("2026-03-09T06:30:00Z"))
    }

    @Test func dayOfMonthAndDayOfWeekAreAlternativesWhenBothAreRestricted() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        // The 13th, or any Friday: 2026-02-06 is a Friday, 2026-02-13 is also one.
        let either = try CronExpression(parsing: "0 0 13 * 5")
        #expect(either.nextFire(after: iso("2026-02-01T00:00:00Z"), in: utc) == iso("2026-02-06T00:00:00Z"))
        // With '*' in one field the other alone decides.
        let fridays = try CronExpression(parsing: "0 0 * * 5")
        #expect(fridays.nextFire(after: iso("2026-02-06T00:00:00Z"), in: utc) == iso("2026-02-13T00:00:00Z"))
        let sunday7 = try CronExpression(parsing: "0 0 * * 7")
        #expect(sunday7.nextFire(after: iso("2026-02-01T00:00:00Z"), in: utc) == iso("2026-02-08T00:00:00Z"))
    }

    @Test func impossibleDatesNeverFireAndLeapDaysDo() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        #expect(try CronExpression(parsing: "0 0 30 2 *").nextFire(after: 0, in: utc) == nil)
        #expect(
            try CronExpression(parsing: "0 0 29 2 *").nextFire(after: iso("2026-01-01T00:00:00Z"), in: utc)
                == iso("2028-02-29T00:00:00Z"))
    }

    @Test func longestGapSpansNightsWeekendsAndYears() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        // Friday 17:59 to Monday 09:00.
        #expect(try CronExpression(parsing: "* 9-17 * * 1-5").longestGap(from: Self.start, in: utc) == 63 * 3600 + 60)
        #expect(try CronExpression(parsing: "*/5 * * * *").longestGap(from: Self.start, in: utc) == 300)
        #expect(try CronExpression(parsing: "@yearly").longestGap(from: Self.start, in: utc) == 365 * 86_400)
        // The night the clocks go back, 01:00…03:00 local has three hours between its ends.
        #expect(try CronExpression(parsing: "* 0-1 * * *").longestGap(from: Self.start, in: berlin) == 23 * 3600 + 60)
        #expect(try CronExpression(parsing: "0 0 30 2 *").longestGap(from: Self.start, in: utc) == nil)
    }

    @Test func macrosExpandToTheirFields() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let pairs = [
            ("@yearly", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"), ("@weekly", "0 0 * * 0"), ("@hourly", "0 * * * *"),
        ]
        for (macro, fields) in pairs {
            let a = try CronExpression(parsing: macro)
            let b = try CronExpression(parsing: fields)
            #expect(a.nextFire(after: Self.start + 12_345, in: utc) == b.nextFire(after: Self.start + 12_345, in: utc))
        }
    }

    @Test(arguments: [
        ("* * * *", 0, "a cron schedule has 5 fields"),
        ("0 0 * * * *", 0, "a cron schedule has 5 fields"),
        ("60 * * * *", 0, "60 is outside the minute field's range 0-59"),
        ("0 24 * * *", 2, "24 is outside the hour field's range 0-23"),
        ("0 0 0 * *", 4, "0 is outside the day of month field's range 1-31"),
        ("0 0 * 13 *", 6, "13 is outside the month field's range 1-12"),
        ("0 0 * * 8", 8, "8 is outside the day of week field's range 0-7"),
        ("*/0 * * * *", 2, "step '0' in the minute field must be a whole number above 0"),
        ("0 5-1 * * *", 2, "range 5-1 in the hour field runs backwards"),
        ("0 0 * foo *", 6, "'foo' is not a value of the month field"),
        ("0 0 * * mon,,fri", 12, "empty item in the day of week field"),
        ("@fortnightly", 0, "unknown cron macro '@fortnightly'"),
    ])
    func malformedSchedulesPointAtTheField(source: String, offset: Int, message: String) {
        #expect {
            try CronExpression(parsing: source)
        } throws: { error in
            guard let error = error as? CronExpression.ParseError else { return false }
            return error.offset == offset && error.message.hasPrefix(message)
        }
    }

    @Test func civilTimeAgreesWithFoundationsCalendar() throws {
        for zoneName in Self.zones {
            let zone = try #require(TimeZone(identifier: zoneName))
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            for instant in stride(from: -2_000_000_000, to: 4_000_000_000, by: 7_777_777) {
                let civil = CivilTime(instant: instant, zone: zone)
                let parts = calendar.dateComponents(
                    [.year, .month, .day, .hour, .minute, .weekday],
                    from: Date(timeIntervalSince1970: TimeInterval(instant)))
                #expect(
                    [civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.weekday + 1]
                        == [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.weekday])
            }
        }
    }
}

func iso(_ text: String) -> Int {
    Int(ISO8601DateFormatter().date(from: text)!.timeIntervalSince1970)
}
