/// A length of time as users write it: `90s`, `3m`, `1h30m`, `2d`. Whole seconds.
public struct Interval: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var seconds: Int

    public init(seconds: Int) { self.seconds = seconds }

    public static func minutes(_ minutes: Int) -> Interval { Interval(seconds: minutes * 60) }

    private static let units: [(suffix: Character, seconds: Int)] = [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]

    /// Parses `1h30m` and the like: units d, h, m, s, each at most once and in that order. Nil if malformed.
    public init?(parsing text: String) {
        var total = 0
        var digits = ""
        var nextUnit = 0
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            guard !digits.isEmpty, let unit = Self.units.firstIndex(where: { $0.suffix == character }),
                unit >= nextUnit, digits.count <= 9, let amount = Int(digits)
            else { return nil }
            total += amount * Self.units[unit].seconds
            digits = ""
            nextUnit = unit + 1
        }
        guard digits.isEmpty, nextUnit > 0 else { return nil }
        seconds = total
    }

    /// The canonical spelling: `5400` seconds is `1h30m`, zero is `0s`.
    public var description: String {
        guard seconds > 0 else { return "0s" }
        var remaining = seconds
        var text = ""
        for unit in Self.units where remaining >= unit.seconds {
            text += "\(remaining / unit.seconds)\(unit.suffix)"
            remaining %= unit.seconds
        }
        return text
    }

    public static func < (lhs: Interval, rhs: Interval) -> Bool { lhs.seconds < rhs.seconds }
}
