import Foundation

/// The functions expressions may call (DESIGN.md §7). Names are case-sensitive.
public enum Function: String, Sendable, CaseIterable {
    case contains, startsWith, endsWith, matches, lower, upper, trim, truncate, json, fromJSON, `default`

    /// What each parameter must be, for the checker.
    var parameters: [ValueType] {
        switch self {
        case .contains: [.any, .any]
        case .startsWith, .endsWith, .matches: [.string, .string]
        case .lower, .upper, .trim: [.string]
        case .truncate: [.string, .number]
        case .json: [.any]
        case .fromJSON: [.string]
        case .default: [.any, .any]
        }
    }

    var result: ValueType {
        switch self {
        case .contains, .startsWith, .endsWith, .matches: .bool
        case .lower, .upper, .trim, .truncate, .json: .string
        case .fromJSON, .default: .any
        }
    }

    var signature: String {
        "\(rawValue)(\(parameters.map(\.rawValue).joined(separator: ", ")))"
    }

    struct EvaluationError: Error {
        var message: String
    }

    func call(_ arguments: [Value]) throws(EvaluationError) -> Value {
        switch self {
        case .contains:
            switch arguments[0] {
            case .array(let items): return .bool(items.contains { ExpressionEvaluator.looselyEqual($0, arguments[1]) })
            default:
                return .bool(arguments[0].interpolated.lowercased().contains(arguments[1].interpolated.lowercased()))
            }
        case .startsWith:
            return .bool(arguments[0].interpolated.lowercased().hasPrefix(arguments[1].interpolated.lowercased()))
        case .endsWith:
            return .bool(arguments[0].interpolated.lowercased().hasSuffix(arguments[1].interpolated.lowercased()))
        case .matches:
            let regex = try Self.regex(arguments[1].interpolated)
            return .bool(arguments[0].interpolated.contains(regex))
        case .lower: return .string(arguments[0].interpolated.lowercased())
        case .upper: return .string(arguments[0].interpolated.uppercased())
        case .trim: return .string(arguments[0].interpolated.trimmingCharacters(in: .whitespacesAndNewlines))
        case .truncate:
            let text = arguments[0].interpolated
            guard case .number(let limit) = arguments[1], limit >= 0, limit.isFinite else {
                throw EvaluationError(message: "truncate needs a length of 0 or more")
            }
            let count = Int(min(limit, 1e9))
            return .string(text.count <= count ? text : String(text.prefix(max(0, count - 1))) + "…")
        case .json: return .string(JSONText.encode(arguments[0]))
        case .fromJSON:
            do {
                return try JSONText.decode(arguments[0].interpolated)
            } catch {
                throw EvaluationError(message: "fromJSON: \(error)")
            }
        case .default: return arguments[0] == .null || arguments[0] == .string("") ? arguments[1] : arguments[0]
        }
    }

    /// Patterns are Swift regular expressions; a bad one is reported by `validate` when written as a literal.
    static func regex(_ pattern: String) throws(EvaluationError) -> Regex<AnyRegexOutput> {
        do {
            return try Regex(pattern)
        } catch {
            throw EvaluationError(message: "invalid regular expression '\(pattern)': \(error)")
        }
    }
}

/// The coarse types the checker reasons with.
public enum ValueType: String, Sendable {
    case any, null, bool, number, string, array, object

    init(of value: Value) {
        switch value {
        case .null: self = .null
        case .bool: self = .bool
        case .number: self = .number
        case .string: self = .string
        case .array: self = .array
        case .object: self = .object
        }
    }
}
