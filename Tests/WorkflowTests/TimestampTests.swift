import Foundation
import Testing
import Workflow

/// The ICU-free RFC 3339 parser and printer against Foundation's ISO 8601 formatter.
@Suite struct TimestampTests {
    @Test func agreesWithFoundationOverManyDates() {
        let whole = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        // From 1600 to 9999 (Foundation switches to the Julian calendar before 1582; RFC 3339 and this
        // parser stay Gregorian), and densely around 1970.
        var samples: [Double] = [0, -1, 951_782_400, 4_107_542_400, -11_676_096_000, 253_402_300_799]
        for _ in 0..<5_000 {
            samples.append(Double(Int64.random(in: -11_676_096_000..<253_402_300_799, using: &generator)))
        }
        for _ in 0..<1_000 { samples.append(Double(Int64.random(in: -86_400 * 800..<86_400 * 800, using: &generator))) }
        for seconds in samples {
            let date = Date(timeIntervalSince1970: seconds)
            let printed = Timestamp.format(date, fractional: false)
            #expect(printed == whole.string(from: date), "\(seconds)")
            #expect(Timestamp.parse(printed) == date, "\(printed)")
            #expect(Timestamp.parse(printed) == whole.date(from: printed), "\(printed)")
        }
        let date = Date(timeIntervalSince1970: 1_795_251_600.125)
        #expect(Timestamp.format(date) == fractional.string(from: date))
        #expect(Timestamp.format(date) == "2026-11-21T09:00:00.125Z")
    }

    @Test func offsetsAndFractions() throws {
        let base = try #require(Timestamp.parse("2026-11-21T08:00:00Z"))
        #expect(Timestamp.parse("2026-11-21T09:30:00+01:30") == base)
        #expect(Timestamp.parse("2026-11-21T03:00:00-05:00") == base)
        #expect(Timestamp.parse("2026-11-21 08:00:00z") == base)
        #expect(Timestamp.parse("2026-11-21t08:00:00.5Z") == base.addingTimeInterval(0.5))
        let micro = try #require(Timestamp.parse("2026-11-21T08:00:00.000250Z"))
        #expect(abs(micro.timeIntervalSince(base) - 0.000_25) < 1e-6)
        #expect(Timestamp.parse("2024-02-29T00:00:00Z") != nil)
    }

    @Test func rejectsWhatIsNotRFC3339() {
        for text in [
            "", "2026-11-21", "2026-11-21T08:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-21T24:00:00Z", "2026-11-21T08:60:00Z",
            "2026-11-21T08:00:00.Z", "2026-11-21T08:00:00+0100", "2026-11-21T08:00:00Z ", "٢٠٢٦-11-21T08:00:00Z",
            "2026-11-21T08:00:00+24:00", "26-11-21T08:00:00Z",
        ] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
    }
}
