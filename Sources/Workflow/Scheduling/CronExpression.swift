public import Foundation

/// A five-field cron schedule (`minute hour day-of-month month day-of-week`) with lists, ranges, steps,
/// month and weekday names and the `@hourly`-style macros.
///
/// Times are matched against the wall clock of a time zone, minute by minute: an instant fires when its
/// local time matches. So a time the clocks skip in spring never fires that day, and a time they repeat in
/// autumn fires at both instants; `timezone: UTC` avoids both.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    let minutes: UInt64
    let hours: UInt32
    let daysOfMonth: UInt32
    let months: UInt16
    let daysOfWeek: UInt8
    /// Vixie cron's rule: when both day fields are restricted, a day matching either one fires.
    let dayFieldsAreAlternatives: Bool

    public var description: String { source }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        /// In Unicode scalars from the start of the cron text.
        public var offset: Int
        public var message: String
        public var hint: String?
        public var description: String { message }
    }

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    private struct Field {
        let name: String
        let range: ClosedRange<Int>
        let names: [String]
        /// Where names[0] counts from.
        let firstNameValue: Int
    }

    private static let fields = [
        Field(name: "minute", range: 0...59, names: [], firstNameValue: 0),
        Field(name: "hour", range: 0...23, names: [], firstNameValue: 0),
        Field(name: "day of month", range: 1...31, names: [], firstNameValue: 1),
        Field(
            name: "month", range: 1...12,
            names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
            firstNameValue: 1),
        // 7 is Sunday too, as in every cron.
        Field(
            name: "day of week", range: 0...7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
            firstNameValue: 0),
    ]

    public init(parsing text: String) throws(ParseError) {
        source = text
        var expanded = text.trimmingSpaces
        var offsetBase = text.unicodeScalars.count - text.unicodeScalars.drop { $0 == " " || $0 == "\t" }.count
        if expanded.hasPrefix("@") {
            guard let fields = Self.macros[expanded.lowercased()] else {
                throw ParseError(
                    offset: offsetBase, message: "unknown cron macro '\(expanded)'",
                    hint: Suggestion.hint(for: String(expanded), in: Self.macros.keys)
                        ?? "macros: @hourly, @daily, @weekly, @monthly, @yearly")
            }
            expanded = Substring(fields)
            offsetBase = 0
        }
        // Split on spaces, remembering where each field starts for precise messages.
        var parts: [(text: Substring, offset: Int)] = []
        var current = ""
        var start = 0
        for (index, scalar) in expanded.unicodeScalars.enumerated() {
            if scalar == " " || scalar == "\t" {
                if !current.isEmpty { parts.append((Substring(current), offsetBase + start)) }
                current = ""
            } else {
                if current.isEmpty { start = index }
                current.unicodeScalars.append(scalar)
            }
        }
        if !current.isEmpty { parts.append((Substring(current), offsetBase + start)) }
        guard parts.count == 5 else {
            throw ParseError(
                offset: offsetBase,
                message:
                    "a cron schedule has 5 fields (minute hour day-of-month month day-of-week), found \(parts.count)",
                hint: parts.count == 6
                    ? "seconds are not supported; drop the first field" : "for example \"*/5 * * * *\"")
        }
        var masks: [UInt64] = []
        for (index, part) in parts.enumerated() {
            masks.append(try Self.parseField(part.text, Self.fields[index], offset: part.offset))
        }
        minutes = masks[0]
        hours = UInt32(masks[1])
        daysOfMonth = UInt32(masks[2])
        months = UInt16(masks[3])
        // Fold 7 into 0 (both are Sunday).
        daysOfWeek = UInt8((masks[4] | (masks[4] >> 7)) & 0x7F)
        dayFieldsAreAlternatives = !parts[2].text.hasPrefix("*") && !parts[4].text.hasPrefix("*")
    }

    private static func parseField(_ text: Substring, _ field: Field, offset: Int) throws(ParseError) -> UInt64 {
        var mask: UInt64 = 0
        var itemOffset = offset
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            defer { itemOffset += item.unicodeScalars.count + 1 }
            guard !item.isEmpty else {
                throw ParseError(offset: itemOffset, message: "empty item in the \(field.name) field")
            }
            var rangePart = item
            var step = 1
            if let slash = item.firstIndex(of: "/") {
                rangePart = item[..<slash]
                let stepText = item[item.index(after: slash)...]
                guard let value = Int(stepText), value > 0 else {
                    throw ParseError(
                        offset: itemOffset + rangePart.unicodeScalars.count + 1,
                        message: "step '\(stepText)' in the \(field.name) field must be a whole number above 0")
                }
                step = value
            }
            var low: Int
            var high: Int
            if rangePart == "*" {
                (low, high) = (field.range.lowerBound, field.name == "day of week" ? 6 : field.range.upperBound)
            } else if let dash = rangePart.dropFirst().firstIndex(of: "-") {
                low = try value(rangePart[..<dash], field, offset: itemOffset)
                high = try value(
                    rangePart[rangePart.index(after: dash)...], field,
                    offset: itemOffset + rangePart[..<dash].unicodeScalars.count + 1)
                guard low <= high else {
                    throw ParseError(
                        offset: itemOffset, message: "range \(rangePart) in the \(field.name) field runs backwards",
                        hint:
                            "write the smaller value first, or use a list: \(high)-\(field.range.upperBound),\(field.range.lowerBound)-\(low)"
                    )
                }
            } else {
                low = try value(rangePart, field, offset: itemOffset)
                // `5/15` means from 5 to the end in steps of 15.
                high = item.contains("/") ? field.range.upperBound : low
            }
            for value in stride(from: low, through: high, by: step) { mask |= 1 << UInt64(value) }
        }
        return mask
    }

    private static func value(_ text: Substring, _ field: Field, offset: Int) throws(ParseError) -> Int {
        if let number = Int(text) {
            guard field.range.contains(number) else {
                throw ParseError(
                    offset: offset,
                    message:
                        "\(number) is outside the \(field.name) field's range \(field.range.lowerBound)-\(field.range.upperBound)"
                )
            }
            return number
        }
        if let index = field.names.firstIndex(of: text.lowercased()) { return field.firstNameValue + index }
        throw ParseError(
            offset: offset, message: "'\(text)' is not a value of the \(field.name) field",
            hint: field.names.isEmpty
                ? "use numbers \(field.range.lowerBound)-\(field.range.upperBound)"
                : Suggestion.hint(for: String(text), in: field.names)
                    ?? "use numbers or \(field.names.joined(separator: ", "))")
    }

    // MARK: - Matching

    func matchesDay(month: Int, day: Int, weekday: Int) -> Bool {
        guard months & (1 << UInt16(month)) != 0 else { return false }
        let dayOfMonth = daysOfMonth & (1 << UInt32(day)) != 0
        let dayOfWeek = daysOfWeek & (1 << UInt8(weekday)) != 0
        return dayFieldsAreAlternatives ? (dayOfMonth || dayOfWeek) : (dayOfMonth && dayOfWeek)
    }

    /// Whether a local date (days since 1970-01-01) matches the month and day fields.
    func matches(day: Int) -> Bool {
        let date = CivilTime.civil(fromDays: day)
        return matchesDay(month: date.month, day: date.day, weekday: CivilTime.weekday(ofDays: day))
    }

    /// Whether a local wall-clock minute matches.
    public func matches(_ time: CivilTime) -> Bool {
        minutes & (1 << UInt64(time.minute)) != 0 && hours & (1 << UInt32(time.hour)) != 0
            && matchesDay(month: time.month, day: time.day, weekday: time.weekday)
    }

    // MARK: - Next fire

    /// How far ahead `nextFire` looks before deciding a schedule never fires (leap days recur within 8 years).
    static let searchDays = 366 * 8 + 2

    /// The first instant strictly after `instant` (seconds since 1970) whose wall-clock time in `zone` matches,
    /// or nil when the schedule never fires (`0 0 30 2 *`).
    public func nextFire(after instant: Int, in zone: TimeZone) -> Int? {
        let offsets = OffsetLookup(zone: zone)
        let minutes = minutesOfDay()
        let startDay = CivilTime.floorDiv(instant + offsets.offset(at: instant), 86_400) - 1
        var day = startDay
        while day < startDay + Self.searchDays {
            defer { day += 1 }
            guard matches(day: day) else { continue }
            let midnight = day * 86_400
            if let offset = offsets.steadyOffset(aroundDay: midnight) {
                // No clock change near this day: wall time maps to instants one to one and in order.
                for minute in minutes where midnight + minute * 60 - offset > instant {
                    return midnight + minute * 60 - offset
                }
                continue
            }
            // A clock change: collect this day's and the next day's candidates and take the earliest, since a
            // repeated hour puts later wall times at earlier instants.
            var best: Int?
            for candidateDay in [day, day + 1] where matches(day: candidateDay) {
                for minute in minutes {
                    for candidate in offsets.instants(forWall: candidateDay * 86_400 + minute * 60)
                    where candidate > instant {
                        best = min(best ?? candidate, candidate)
                    }
                }
            }
            if let best { return best }
            day += 1
        }
        return nil
    }

    public func nextFire(after date: Date, in zone: TimeZone) -> Date? {
        nextFire(after: Int(date.timeIntervalSince1970.rounded(.down)), in: zone).map {
            Date(timeIntervalSince1970: TimeInterval($0))
        }
    }

    /// Minutes since local midnight that match the hour and minute fields, ascending.
    private func minutesOfDay() -> [Int] {
        var result: [Int] = []
        for hour in 0..<24 where hours & (1 << UInt32(hour)) != 0 {
            for minute in 0..<60 where minutes & (1 << UInt64(minute)) != 0 { result.append(hour * 60 + minute) }
        }
        return result
    }

    /// The longest wait between two consecutive fires within a year from `instant` (including the wait into
    /// the following year), for checks like "polls slower than the session's TTL"; nil if it never fires.
    /// Walks day by day, so `* 9-17 * * 1-5` costs a year of days, not 140,000 fires.
    public func longestGap(from instant: Int, in zone: TimeZone) -> Int? {
        let offsets = OffsetLookup(zone: zone)
        let minutes = minutesOfDay()
        guard !minutes.isEmpty else { return nil }
        var sameDayGap = 0
        for (earlier, later) in zip(minutes, minutes.dropFirst()) {
            sameDayGap = max(sameDayGap, (later - earlier) * 60)
        }
        let startDay = CivilTime.floorDiv(instant + offsets.offset(at: instant), 86_400)
        var longest = 0
        var previousLast: Int?
        var firstFireDay: Int?
        for day in startDay..<startDay + Self.searchDays where matches(day: day) {
            let midnight = day * 86_400
            let first: Int
            let last: Int
            if let offset = offsets.steadyOffset(aroundDay: midnight) {
                first = midnight + minutes.first! * 60 - offset
                last = midnight + minutes.last! * 60 - offset
                longest = max(longest, sameDayGap)
            } else {
                // A clock change near this day: map every minute and measure the real gaps.
                let fires = minutes.flatMap { offsets.instants(forWall: midnight + $0 * 60) }.sorted()
                guard let earliest = fires.first, let latest = fires.last else { continue }
                for (earlier, later) in zip(fires, fires.dropFirst()) { longest = max(longest, later - earlier) }
                (first, last) = (earliest, latest)
            }
            if let previousLast { longest = max(longest, first - previousLast) }
            previousLast = last
            if firstFireDay == nil { firstFireDay = day }
            if let firstFireDay, day > firstFireDay + 366 { break }
        }
        return firstFireDay == nil ? nil : longest
    }
}

/// UTC offsets of a zone, with the arithmetic to turn a wall-clock time back into instants.
struct OffsetLookup {
    let zone: TimeZone

    func offset(at instant: Int) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
    }

    /// The zone's offset on the local day starting at `midnight` (wall seconds), when no clock change falls
    /// within a day either side of it; nil when one does and wall times must be mapped one by one.
    func steadyOffset(aroundDay midnight: Int) -> Int? {
        let before = offset(at: midnight - 14 * 3600 - 86_400)
        let after = offset(at: midnight + 86_400 + 14 * 3600 + 86_400)
        return before == after ? before : nil
    }

    /// The instants whose local time is `wall` (seconds since 1970 as if the wall clock were UTC): none in a
    /// spring-forward gap, two in an autumn overlap, one otherwise.
    func instants(forWall wall: Int) -> [Int] {
        // Offsets lie within -12h…+14h, so the instant lies within wall-14h…wall+12h.
        let early = offset(at: wall - 14 * 3600 - 1)
        let late = offset(at: wall + 12 * 3600 + 1)
        var result: [Int] = []
        for candidateOffset in early == late ? [early] : [early, late] {
            let candidate = wall - candidateOffset
            if offset(at: candidate) == candidateOffset, !result.contains(candidate) { result.append(candidate) }
        }
        return result.sorted()
    }
}

/// A wall-clock minute, decomposed without Foundation's calendar (fast and the same on every platform).
public struct CivilTime: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    /// 0 is Sunday.
    public var weekday: Int

    /// The wall-clock time of `instant` in `zone`.
    public init(instant: Int, zone: TimeZone) {
        let local = instant + zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
        let days = Self.floorDiv(local, 86_400)
        let seconds = local - days * 86_400
        let date = Self.civil(fromDays: days)
        self.init(
            year: date.year, month: date.month, day: date.day, hour: seconds / 3600, minute: seconds % 3600 / 60,
            weekday: Self.weekday(ofDays: days))
    }

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, weekday: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.weekday = weekday
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    static func weekday(ofDays days: Int) -> Int {
        ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday (4)
    }

    /// Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic Gregorian date.
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
