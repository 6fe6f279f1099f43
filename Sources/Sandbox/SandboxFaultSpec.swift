internal import Foundation

/// A fault written as text, for `switchboard sandbox --fault` and `POST /sandbox/faults`:
///
/// - `nexus:[METHOD ]PATH=EFFECT[*N]`: the next N requests whose path starts with PATH (`*` for any), with
///   METHOD if given. EFFECT is `status:CODE`, `proxy:CODE` (an HTML page), `rate-limit:SECONDS`,
///   `latency:SECONDS`, `drop` (the connection closes mid-body), `malformed` (JSON that is not) or
///   `oversized:BYTES`.
/// - `transmissionbot:[METHOD ]PATH=EFFECT[*N]`: the same, on the TransmissionBot listener, in its error envelope.
/// - `masumi:COMMAND=EFFECT[*N]`: the next N calls of a CLI command (`thread reply`). EFFECT is
///   `error:CODE[:EXIT]` (exit 1 unless given), `stored-timeout[:CODE]` (the write is stored, then
///   `SPACETIMEDB_MESSAGE_TIMEOUT` or CODE with exit 2), `garbage`, `truncated` or `latency:SECONDS`.
public enum SandboxFaultSpec: Sendable {
    case nexus(SandboxFault, method: String?, pathPrefix: String?, times: Int)
    case transmissionBot(SandboxFault, method: String?, pathPrefix: String?, times: Int)
    case masumi(MasumiSandbox.Fault.Effect, command: String, times: Int)

    /// The sandbox a fault is for, as the spec names it.
    public enum Network: String, Sendable {
        case nexus
        case transmissionBot = "transmissionbot"
        case masumi
    }

    public var network: Network {
        switch self {
        case .nexus: .nexus
        case .transmissionBot: .transmissionBot
        case .masumi: .masumi
        }
    }

    public static let help = """
        nexus:[METHOD ]PATH=EFFECT[*N] or transmissionbot:[METHOD ]PATH=EFFECT[*N], EFFECT one of status:CODE, \
        proxy:CODE, rate-limit:SECONDS, latency:SECONDS, drop, malformed, oversized:BYTES (PATH a prefix such as \
        /v1/sessions, or *); masumi:COMMAND=EFFECT[*N], EFFECT one of error:CODE[:EXIT], stored-timeout[:CODE], garbage, truncated, \
        latency:SECONDS
        """

    public static func parse(_ text: String) throws(SandboxError) -> SandboxFaultSpec {
        func fail(_ why: String) -> SandboxError {
            SandboxError(message: "fault '\(text)': \(why) (expected \(help))")
        }
        guard let colon = text.firstIndex(of: ":"), let equals = text.firstIndex(of: "="), colon < equals else {
            throw fail("no NETWORK:WHAT=EFFECT")
        }
        let network = text[..<colon]
        let what = text[text.index(after: colon)..<equals].trimmingCharacters(in: .whitespaces)
        var effect = Substring(text[text.index(after: equals)...])
        var times = 1
        if let star = effect.lastIndex(of: "*") {
            guard let count = Int(effect[effect.index(after: star)...]), (1...10_000).contains(count) else {
                throw fail("*N needs a count from 1 to 10000")
            }
            times = count
            effect = effect[..<star]
        }
        let parts = effect.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func number(_ index: Int) throws(SandboxError) -> Double {
            guard parts.count == index + 1, let value = Double(parts[index]), value >= 0, value.isFinite else {
                throw fail("'\(parts[0])' takes one number")
            }
            return value
        }
        func none() throws(SandboxError) {
            guard parts.count == 1 else { throw fail("'\(parts[0])' takes no value") }
        }
        guard !what.isEmpty else { throw fail("nothing to match before '='") }
        switch Network(rawValue: String(network)) {
        case .nexus, .transmissionBot:
            let words = what.split(separator: " ", maxSplits: 1).map(String.init)
            let method = words.count == 2 ? words[0].uppercased() : nil
            let path = words.last ?? "*"
            guard path == "*" || path.hasPrefix("/") else { throw fail("a PATH starts with / (or is *)") }
            let fault: SandboxFault
            switch parts[0] {
            case "status":
                fault = .status(Int(try number(1)))
            case "proxy":
                fault = .proxyPage(Int(try number(1)))
            case "rate-limit":
                fault = .rateLimited(retryAfter: Int(try number(1)))
            case "latency":
                fault = .latency(try number(1))
            case "drop":
                try none()
                fault = .dropConnection
            case "malformed":
                try none()
                fault = .malformedJSON
            case "oversized":
                fault = .oversized(bytes: Int(try number(1)))
            default:
                throw fail("unknown \(network) effect '\(parts[0])'")
            }
            if case .status(let code) = fault, !(400...599).contains(code) { throw fail("status is 400 to 599") }
            if case .proxyPage(let code) = fault, !(400...599).contains(code) { throw fail("proxy is 400 to 599") }
            let prefix = path == "*" ? nil : path
            return network == "nexus"
                ? .nexus(fault, method: method, pathPrefix: prefix, times: times)
                : .transmissionBot(fault, method: method, pathPrefix: prefix, times: times)
        case .masumi:
            let effect: MasumiSandbox.Fault.Effect
            switch parts[0] {
            case "error":
                guard (2...3).contains(parts.count), !parts[1].isEmpty else { throw fail("error takes CODE[:EXIT]") }
                let exit = parts.count == 3 ? Int32(parts[2]) : 1
                guard let exit, (1...2).contains(exit) else { throw fail("the CLI's error exits are 1 and 2") }
                effect = .error(code: parts[1], exitCode: exit, persist: false)
            case "stored-timeout":
                guard parts.count <= 2 else { throw fail("stored-timeout takes at most a CODE") }
                effect = .error(
                    code: parts.count == 2 ? parts[1] : "SPACETIMEDB_MESSAGE_TIMEOUT", exitCode: 2, persist: true)
            case "garbage":
                try none()
                effect = .garbage
            case "truncated":
                try none()
                effect = .truncated
            case "latency":
                effect = .latency(try number(1))
            default:
                throw fail("unknown masumi effect '\(parts[0])'")
            }
            return .masumi(effect, command: what, times: times)
        case nil:
            throw fail("the network is nexus, transmissionbot or masumi")
        }
    }

    /// Queues the fault on the sandbox it is for; a fault for a sandbox not given is dropped.
    public func apply(
        nexus: FaultPlan? = nil, transmissionBot: FaultPlan? = nil, masumi: MasumiSandbox? = nil
    ) {
        switch self {
        case .nexus(let fault, let method, let prefix, let times):
            nexus?.inject(fault, pathPrefix: prefix, method: method, times: times)
        case .transmissionBot(let fault, let method, let prefix, let times):
            transmissionBot?.inject(fault, pathPrefix: prefix, method: method, times: times)
        case .masumi(let effect, let command, let times):
            for _ in 0..<times { masumi?.inject(.init(command: command, effect: effect)) }
        }
    }
}
