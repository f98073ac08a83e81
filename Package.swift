// swift-tools-version:6.1
//
// footfall — an in-store Wi-Fi footfall collector.
//
// Modules are split by what they depend on and, in the pure core, at the pseudonymiser (see
// docs/architecture.md):
//   CPcap              system library: libpcap headers, nothing else
//   FootfallCore       pure Swift vocabulary both sides share: settings, site clock, Pseudonym,
//                      Observation; nothing that can name a raw address or a key
//   FootfallIngest     left of the pseudonymiser: wire formats → RawMAC → gate → key epoch →
//                      pseudonymiser → Observation; the only module that can read raw bits,
//                      unkeyed fingerprints or key words
//   FootfallAggregate  right of it: tracker, hour report, suppression, noise → the published
//                      hour; it does not depend on FootfallIngest, so it cannot see RawMAC
//   FootfallPlatform   the few OS calls the privacy guarantees need (core dumps, locked key memory)
//   FootfallCapture    owns every libpcap call (files, live interfaces, UDP streams)
//   FootfallConfig     the YAML config file, validated with key and line in every error
//   FootfallOutput     the file system: atomic CSV files, retention, audit
//   FootfallPipeline   wires sources → core → outputs for stats, replay, run and evaluate
//   FootfallChain      the chain's PostgreSQL: schema, shipping the hour files, pruning
//   footfall           the command-line tool (thin)
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "footfall",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "footfall", targets: ["footfall"]),
        // Libraries for the benchmark package (Benchmarks/), which depends on this one by path.
        .library(name: "FootfallCore", targets: ["FootfallCore"]),
        .library(name: "FootfallIngest", targets: ["FootfallIngest"]),
        .library(name: "FootfallAggregate", targets: ["FootfallAggregate"]),
        .library(name: "FootfallCapture", targets: ["FootfallCapture"]),
        .library(name: "FootfallConfig", targets: ["FootfallConfig"]),
        .library(name: "FootfallPipeline", targets: ["FootfallPipeline"]),
        .library(name: "FootfallCrowd", targets: ["FootfallCrowd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        .target(
            name: "FootfallCore",
            swiftSettings: strictSwift
        ),
        .target(
            name: "FootfallIngest",
            dependencies: ["FootfallCore"],
            swiftSettings: strictSwift
        ),
        // Deliberately not dependent on FootfallIngest: the compiler keeps raw addresses,
        // unkeyed fingerprints and key bytes out of everything that counts and publishes.
        .target(
            name: "FootfallAggregate",
            dependencies: ["FootfallCore"],
            swiftSettings: strictSwift
        ),
        .target(
            name: "FootfallPlatform",
            dependencies: ["FootfallCore", "FootfallIngest"],
            swiftSettings: strictSwift
        ),
        .target(
            name: "FootfallCapture",
            dependencies: [
                "CPcap",
                "FootfallCore",
                "FootfallIngest",
                "FootfallPlatform",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "FootfallConfig",
            dependencies: [
                "FootfallCore",
                "FootfallIngest",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "FootfallOutput",
            dependencies: [
                "FootfallCore",
                "FootfallAggregate",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "FootfallPipeline",
            dependencies: [
                "FootfallCore",
                "FootfallIngest",
                "FootfallAggregate",
                "FootfallPlatform",
                "FootfallCapture",
                "FootfallConfig",
                "FootfallOutput",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift
        ),
        // The chain's PostgreSQL: schema, migrations, shipping hour files (the outbox), pruning.
        .target(
            name: "FootfallChain",
            dependencies: [
                "FootfallCore",
                "FootfallOutput",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSwift
        ),
        // `footfall run`: live sources, lifecycle, metrics endpoint.
        .target(
            name: "FootfallGateway",
            dependencies: [
                "FootfallCore",
                "FootfallIngest",
                "FootfallAggregate",
                "FootfallPlatform",
                "FootfallCapture",
                "FootfallConfig",
                "FootfallOutput",
                "FootfallPipeline",
                "FootfallChain",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "footfall",
            dependencies: [
                "FootfallCore",
                "FootfallPipeline",
                "FootfallPlatform",
                "FootfallGateway",
                "FootfallChain",
                "FootfallConfig",
                "FootfallOutput",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // libFuzzer entry point for the frame parser; see docs/development.md "Fuzzing".
        .executableTarget(
            name: "footfall-fuzz",
            dependencies: ["FootfallIngest"],
            swiftSettings: strictSwift
        ),
        // Test targets mirror the modules; FootfallPrivacyTests cuts across them.
        .testTarget(
            name: "FootfallCoreTests",
            dependencies: ["FootfallCore", "FootfallTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "FootfallIngestTests",
            dependencies: ["FootfallIngest", "FootfallCore", "FootfallTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "FootfallAggregateTests",
            dependencies: ["FootfallAggregate", "FootfallCore", "FootfallIngest", "FootfallOutput", "FootfallTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "FootfallCaptureTests",
            dependencies: ["FootfallCapture", "FootfallCore", "FootfallIngest", "FootfallTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "FootfallPipelineTests",
            dependencies: [
                "FootfallPipeline", "FootfallConfig", "FootfallOutput", "FootfallCore",
                "FootfallIngest", "FootfallAggregate", "FootfallCrowd",
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift
        ),
        // Helpers shared by the test targets: the identifier scanner, running the executable, a
        // recording log handler, a seeded generator.
        .target(
            name: "FootfallTestSupport",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/FootfallTestSupport",
            swiftSettings: strictSwift
        ),
        // Synthetic crowds from the labelled single-phone captures (docs/crowds.md): the
        // generator for the crowd tests and benchmarks, and a command that writes one.
        .target(
            name: "FootfallCrowd",
            path: "Tests/FootfallCrowd",
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "footfall-crowd",
            dependencies: ["FootfallCrowd"],
            path: "Tests/FootfallCrowdTool",
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "FootfallGatewayTests",
            dependencies: [
                "FootfallGateway",
                "FootfallCapture",
                "FootfallPipeline",
                "FootfallConfig",
                "FootfallOutput",
                "FootfallCore",
                "FootfallIngest",
                "FootfallAggregate",
                "FootfallTestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSwift
        ),
        // The chain's database against a throwaway PostgreSQL (scripts/test-postgres.sh).
        .testTarget(
            name: "FootfallChainTests",
            dependencies: [
                "FootfallChain",
                "FootfallGateway",
                "FootfallAggregate",
                "FootfallOutput",
                "FootfallCore",
                "FootfallTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // Everything an auditor runs to check the privacy promises (PRIVACY.md).
        .testTarget(
            name: "FootfallPrivacyTests",
            dependencies: [
                "FootfallCore",
                "FootfallIngest",
                "FootfallAggregate",
                "FootfallCapture",
                "FootfallGateway",
                "FootfallPlatform",
                "FootfallOutput",
                "FootfallPipeline",
                "FootfallTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // Runs the built `footfall` binary against real captures (tshark is the oracle).
        .testTarget(
            name: "FootfallIntegrationTests",
            dependencies: ["FootfallTestSupport"],
            swiftSettings: strictSwift
        ),
    ]
)
