public import Foundation

/// RFC 3339 timestamps (`2026-11-21T08:00:00Z`, `…00.123+01:00`), parsed and printed without ICU.
///
/// Every network stamps every message; Foundation's `ISO8601DateFormatter` builds an ICU formatter per
/// call and cost a fifth of the engine's CPU in the message benchmark. This is plain arithmetic on the
/// proleptic Gregorian calendar.
public enum Timestamp {
    /// A date from `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t` and a space are accepted for `T`,
    /// `z` for `Z`. Nil for anything else, including out-of-range fields.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// UTC with milliseconds (`2026-11-21T08:00:00.000Z`), or whole seconds when `fractional` is false.
    public static func format(_ date: Date, fractional: Bool = true) -> String {
        render(date, separator: UInt8(ascii: "T"), fractional: fractional, zone: UInt8(ascii: "Z"))
    }

    /// UTC as GRDB stores a `Date` in SQLite (`2026-11-21 08:00:00.000`, to the nearest millisecond, as
    /// its `DateFormatter` rounds), so the journal can bind a date as text without a `DateFormatter` per
    /// value and still compare and sort with what GRDB wrote.
    public static func sqlite(_ date: Date) -> String {
        render(date, separator: UInt8(ascii: " "), fractional: true, zone: nil, nearest: true)
    }

    /// Written into the string's own storage, digit by digit: the journal stamps several times per message.
    private static func render(
        _ date: Date, separator: UInt8, fractional: Bool, zone: UInt8?, nearest: Bool = false
    ) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000 + (nearest ? 0.5 : 0)).rounded(.down)
        guard milliseconds.isFinite, abs(milliseconds) < 253_402_300_800_000 else { return "invalid-date" }
        let total = Int64(milliseconds)
        var seconds = total.quotientFloorDivided(by: 1000)
        let millisecond = Int(total - seconds * 1000)
        let days = seconds.quotientFloorDivided(by: 86_400)
        seconds -= days * 86_400
        let (year, month, day) = CivilTime.civil(fromDays: Int(days))
        // At most `-9999-12-31T23:59:59.999Z`, 25 bytes.
        return String(unsafeUninitializedCapacity: 32) { buffer in
            var index = 0
            func put(_ byte: UInt8) {
                buffer[index] = byte
                index += 1
            }
            /// `value` in decimal, zero-padded to `width`, after a `-` when negative.
            func put(_ value: Int, width: Int) {
                if value < 0 { put(UInt8(ascii: "-")) }
                var rest = abs(value)
                var count = 1
                while rest >= 10 {
                    rest /= 10
                    count += 1
                }
                count = max(count, width)
                rest = abs(value)
                for position in stride(from: index + count - 1, through: index, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                index += count
            }
            put(year, width: 4)
            put(UInt8(ascii: "-"))
            put(month, width: 2)
            put(UInt8(ascii: "-"))
            put(day, width: 2)
            put(separator)
            put(Int(seconds / 3600), width: 2)
            put(UInt8(ascii: ":"))
            put(Int(seconds % 3600 / 60), width: 2)
            put(UInt8(ascii: ":"))
            put(Int(seconds % 60), width: 2)
            if fractional {
                put(UInt8(ascii: "."))
                put(millisecond, width: 3)
            }
            if let zone { put(zone) }
            return index
        }
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<width {
                let byte = bytes[index + offset]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += width
            return value
        }
        func expect(_ accepted: UInt8...) -> Bool {
            guard index < bytes.count, accepted.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(0x2D), let month = number(2), expect(0x2D), let day = number(2),
            expect(0x54, 0x74, 0x20), let hour = number(2), expect(0x3A), let minute = number(2), expect(0x3A),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60,
            second < 61
        else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == 0x2E {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                fraction += Double(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        if expect(0x5A, 0x7A) {
        } else if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D {
            let sign = bytes[index] == 0x2D ? -1 : 1
            index += 1
            guard let hours = number(2), expect(0x3A), let minutes = number(2), hours < 24, minutes < 60 else {
                return nil
            }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = Self.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offset)
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = y.quotientFloorDivided(by: 400)
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

}

extension Int64 {
    fileprivate func quotientFloorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
