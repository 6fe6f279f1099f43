import Engine
import Foundation
import Journal

/// Prometheus text (format 0.0.4) for `run --metrics` and `tick --metrics-file`: what this process counted
/// (ticks, polls, messages, sends, failures, escalations, poll latency) and what the journal knows, which
/// holds across processes (intents by status, strikes, blocked intents, paused sources, the nearest session
/// expiry).
final class MetricsRegistry: @unchecked Sendable {
    static let buckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    private let lock = NSLock()
    private var ticks = 0
    private var polls = 0
    private var messages = 0
    private var sent = 0
    private var failures = 0
    private var escalations = 0
    private var renewals = 0
    private var bucketCounts = [Int](repeating: 0, count: MetricsRegistry.buckets.count)
    private var latencySum = 0.0
    private var latencyCount = 0
    private var lastTick: Date?

    func record(_ report: TickReport, at time: Date = Date()) {
        lock.withLock {
            guard !report.leaseHeld else { return }
            ticks += 1
            polls += report.sourcesPolled
            messages += report.messagesReceived
            sent += report.sent
            failures += report.failures.count
            escalations += report.escalations
            renewals += report.renewals
            for seconds in report.pollSeconds {
                latencySum += seconds
                latencyCount += 1
                for (index, bound) in Self.buckets.enumerated() where seconds <= bound { bucketCounts[index] += 1 }
            }
            lastTick = time
        }
    }

    func render(journal: JournalMetrics?, now: Date = Date()) -> String {
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { text += "\(name)\(sample.labels) \(Self.format(sample.value))\n" }
        }
        lock.withLock {
            metric("switchboard_ticks_total", "counter", "Ticks this process ran.", [("", Double(ticks))])
            metric("switchboard_polls_total", "counter", "Sources polled.", [("", Double(polls))])
            metric(
                "switchboard_messages_received_total", "counter", "New messages journaled.", [("", Double(messages))])
            metric("switchboard_sent_total", "counter", "Effects delivered.", [("", Double(sent))])
            metric(
                "switchboard_failures_total", "counter", "Polls, effects and runs that failed.",
                [("", Double(failures))])
            metric("switchboard_escalations_total", "counter", "Escalations raised.", [("", Double(escalations))])
            metric("switchboard_renewals_total", "counter", "Sessions renewed.", [("", Double(renewals))])
            var cumulative: [(String, Double)] = zip(Self.buckets, bucketCounts).map {
                ("{le=\"\(Self.format($0.0))\"}", Double($0.1))
            }
            let count = Double(latencyCount)
            cumulative.append(("{le=\"+Inf\"}", count))
            text += "# HELP switchboard_poll_duration_seconds How long each poll took.\n"
            text += "# TYPE switchboard_poll_duration_seconds histogram\n"
            for (labels, value) in cumulative {
                text += "switchboard_poll_duration_seconds_bucket\(labels) \(Self.format(value))\n"
            }
            text += "switchboard_poll_duration_seconds_sum \(Self.format(latencySum))\n"
            text += "switchboard_poll_duration_seconds_count \(Self.format(count))\n"
            if let lastTick {
                metric(
                    "switchboard_last_tick_timestamp_seconds", "gauge", "When the last tick ended (Unix time).",
                    [("", lastTick.timeIntervalSince1970)])
            }
        }
        if let journal {
            let statuses = ["pending", "sent", "failed", "blocked", "unknown"]
            metric(
                "switchboard_intents", "gauge", "Intents in the journal by status.",
                statuses.map { ("{status=\"\($0)\"}", Double(journal.intents[$0] ?? 0)) })
            metric(
                "switchboard_blocked_intents", "gauge", "Intents blocked until `switchboard resolve`.",
                [("", Double(journal.intents["blocked"] ?? 0))])
            metric(
                "switchboard_strikes", "gauge", "Failed attempts of the intents on record.",
                [("", Double(journal.strikes))])
            metric(
                "switchboard_journal_escalations", "gauge", "Escalations on record (open ones below).",
                [("", Double(journal.escalations))])
            metric(
                "switchboard_open_escalations", "gauge", "Escalations not resolved.",
                [("", Double(journal.openEscalations))])
            metric(
                "switchboard_paused_sources", "gauge", "Sources paused after failing twice.",
                [("", Double(journal.pausedSources))])
            metric(
                "switchboard_open_waits", "gauge", "Runs waiting for a reply or a deadline.",
                [("", Double(journal.openWaits))])
            metric(
                "switchboard_journal_messages", "gauge", "Messages in the journal's inbox.",
                [("", Double(journal.messages))])
            if let expiry = journal.nearestSessionExpiry {
                metric(
                    "switchboard_session_expiry_seconds", "gauge", "Seconds until the soonest session expiry.",
                    [("", expiry.timeIntervalSince(now))])
            }
        }
        return text
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }
}
