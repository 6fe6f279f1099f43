// swift-tools-version:6.1
import PackageDescription

let strictness: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        .library(name: "Workflow", targets: ["Workflow"]),
        .library(name: "Journal", targets: ["Journal"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // C libraries from Debian, imported as-is; shim.h wraps what Swift cannot call directly.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Secrets sealed with libsodium in the workspace, and the redactor every output goes through.
        .target(name: "Secrets", dependencies: ["CSodium"], swiftSettings: strictness),
        // The workflow language: YAML, MESSAGING.md, expressions, targets, durations, cron, validation.
        .target(
            name: "Workflow",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strictness
        ),
        // HTTP on libcurl: the transport every HTTP network client and webhook uses.
        .target(name: "Transport", dependencies: ["CCurl"], swiftSettings: strictness),
        // NexusMessaging over HTTP (protocols/nexus.md).
        .target(name: "Nexus", dependencies: ["Transport", "Workflow", "Secrets"], swiftSettings: strictness),
        // Local servers that speak each network's protocol, written from protocols/*.md (never from the
        // clients), for tests, the demo and users' dry runs.
        .target(
            name: "Sandbox",
            dependencies: [
                "Workflow",
                "CSodium",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictness
        ),
        // posix_spawn's GNU extensions (close every other descriptor, change directory) and pipe2: not in Glibc's
        // Swift module.
        .target(name: "_ChildProcessCShims"),
        // Networks' command-line tools as child processes: explicit argv, clean environment, timeout.
        .target(
            name: "ChildProcess",
            dependencies: [
                "Transport", "_ChildProcessCShims", .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            swiftSettings: strictness),
        // masumi-agent-messenger through its official CLI (protocols/masumi.md), one child process per call.
        .target(
            name: "Masumi",
            dependencies: ["Transport", "Workflow", "ChildProcess"],
            swiftSettings: strictness),
        // The TBX-1 envelope (protocols/transmissionbot.md §7.4): PQXDH, Double Ratchet, sealed sender. libsodium
        // for the curve, hash and AEAD work; swift-crypto only for ML-KEM-768. No networking.
        .target(
            name: "TBX1", dependencies: ["CSodium", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictness),
        // TransmissionBot accounts: the state file (and later the HTTP client), on TBX-1.
        .target(
            name: "TransmissionBot", dependencies: ["TBX1", "Secrets", "Workflow", "Transport", "ChildProcess"],
            swiftSettings: strictness),
        // The engine: rules → policies → handlers, two strikes, scheduling, tick; reaches networks only
        // through Messenger.
        .target(
            name: "Engine",
            dependencies: [
                "Workflow", "Journal", "Transport", "Nexus", "Masumi", "TransmissionBot", "Secrets", "CSodium",
                "ChildProcess", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictness),
        // What GRDB does not expose: sqlite3_db_config is variadic, so it needs C.
        .target(name: "_JournalCShims", linkerSettings: [.linkedLibrary("sqlite3")]),
        // The run journal: runs, steps, intents, inbox, checkpoints, leases, on SQLite in WAL mode.
        .target(
            name: "Journal",
            dependencies: ["_JournalCShims", "Secrets", "Workflow", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictness
        ),
        // Exercises the journal from its own process: the benchmarks and the crash and contention tests.
        .executableTarget(
            name: "journal-harness",
            dependencies: ["Journal"],
            path: "Benchmarks/journal-harness",
            swiftSettings: strictness
        ),
        // The engine's throughput against the sandbox, for scripts/bench-engine.
        .executableTarget(
            name: "engine-bench", dependencies: ["Engine", "Journal", "Nexus", "Sandbox", "Transport", "Workflow"],
            path: "Benchmarks/engine-bench", swiftSettings: strictness),
        // The masumi client around the sandbox's CLI stand-in, for scripts/bench-masumi.
        .executableTarget(
            name: "masumi-bench", dependencies: ["Engine", "Masumi", "Sandbox", "Transport", "Workflow"],
            path: "Benchmarks/masumi-bench", swiftSettings: strictness),
        // TBX-1 through the sandbox TransmissionBot server, for scripts/bench-transmissionbot.
        .executableTarget(
            name: "tb-bench", dependencies: ["Sandbox", "TransmissionBot", "Transport"], path: "Benchmarks/tb-bench",
            swiftSettings: strictness),
        // Polls many sessions through NexusClient, for scripts/bench-nexus.
        .executableTarget(
            name: "nexus-bench", dependencies: ["Nexus", "Transport"], path: "Benchmarks/nexus-bench",
            swiftSettings: strictness),
        // Bakes the checkout's git revision into the build, for `switchboard --version`.
        .plugin(name: "GitRevision", capability: .buildTool(), path: "Plugins/GitRevision"),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "Workflow",
                "Journal",
                "Engine",
                "Transport",
                "Nexus",
                "Masumi",
                "Sandbox",
                "Secrets",
                "TransmissionBot",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictness,
            plugins: ["GitRevision"]
        ),

        // Test files go under one directory per test process, removed when it exits.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strictness),
        .testTarget(name: "WorkflowTests", dependencies: ["Workflow", "TestSupport"], swiftSettings: strictness),
        .testTarget(
            name: "SwitchboardCLITests",
            dependencies: [
                "switchboard", "journal-harness", "Engine", "Journal", "Masumi", "Nexus", "Sandbox", "Transport",
                "Workflow", "TransmissionBot", "TBX1", "TestSupport",
            ],
            exclude: ["Snapshots"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "JournalTests",
            dependencies: [
                "Journal", "journal-harness", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "NexusTests", dependencies: ["Nexus", "Sandbox", "Transport", "Workflow", "TestSupport"],
            swiftSettings: strictness),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine", "ChildProcess", "Journal", "Nexus", "Sandbox", "Transport", "Workflow", "TestSupport",
                // A full disk, simulated by capping the journal's writer connection (`max_page_count`).
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictness),
        .testTarget(
            name: "TBX1Tests", dependencies: ["TBX1", "CSodium"], resources: [.copy("Resources/tbx1_vectors.json")],
            swiftSettings: strictness),
        .testTarget(
            name: "TransmissionBotSandboxTests", dependencies: ["Sandbox", "Transport", "CSodium", "TBX1"],
            swiftSettings: strictness),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CSodium", "CCurl"], swiftSettings: strictness),
        .testTarget(name: "SecretsTests", dependencies: ["Secrets", "TestSupport"], swiftSettings: strictness),
        .testTarget(
            name: "TransmissionBotTests", dependencies: ["TransmissionBot", "TBX1", "Secrets", "TestSupport"],
            swiftSettings: strictness),
    ],
    swiftLanguageModes: [.v6]
)
