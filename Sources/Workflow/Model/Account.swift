/// One identity on one network.
public struct Account: Sendable {
    public enum Settings: Sendable {
        case nexus(Nexus)
        case transmissionBot(TransmissionBot)
        case masumi(Masumi)
    }

    /// NexusMessaging over HTTP (protocols/nexus.md).
    public struct Nexus: Sendable {
        public static let defaultServer = "https://messaging.md"
        /// The server's default session TTL (nexus.md §5): 61 minutes.
        public static let defaultTTL = Interval(seconds: 3660)

        public var server: Located<String>?
        public var agentID: Located<String>
        /// TTL of the sessions this account creates; also the TTL assumed for sessions it polls.
        public var ttl: Interval
        public var insecure: Bool
    }

    /// TransmissionBot: end-to-end encrypted inboxes (protocols/transmissionbot.md).
    public struct TransmissionBot: Sendable {
        public enum Driver: String, Sendable, CaseIterable { case native, cli }
        public static let defaultServer = "https://api.transmissionbot.com"

        public var state: Located<String>
        public var server: Located<String>?
        public var driver: Driver
        public var executable: Located<String>?
        public var passphrase: Located<Template>?
        public var insecure: Bool
        /// Handles or agent ids whose contact requests are accepted without asking anyone; other requests
        /// arrive as messages for the rules.
        public var acceptContactsFrom: [Located<String>] = []
    }

    /// masumi-agent-messenger through its CLI (protocols/masumi.md).
    public struct Masumi: Sendable {
        public static let defaultExecutable = "masumi-agent-messenger"

        public var profile: Located<String>?
        public var agent: Located<String>
        public var executable: Located<String>?
        public var timeout: Interval
    }

    public var name: String
    public var location: SourceLocation
    public var settings: Settings

    public var network: Network {
        switch settings {
        case .nexus: .nexus
        case .transmissionBot: .transmissionbot
        case .masumi: .masumi
        }
    }
}
