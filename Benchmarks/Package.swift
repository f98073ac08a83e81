// swift-tools-version:6.1
//
// Benchmarks for footfall's hot path (docs/performance.md), in their own package so
// that the collector itself does not depend on the benchmark library.
//
//   swift package --package-path Benchmarks benchmark                    # run, print results
//   swift package --package-path Benchmarks benchmark thresholds check   # fail on a regression
//   swift package --package-path Benchmarks --allow-writing-to-package-directory \
//       benchmark thresholds update                                      # store new thresholds
import PackageDescription

let package = Package(
    name: "footfall-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "footfall", path: "../"),
        // The MallocInterposer trait gives the malloc counts without jemalloc on Linux.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "FootfallBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "FootfallCore", package: "footfall"),
                .product(name: "FootfallIngest", package: "footfall"),
                .product(name: "FootfallAggregate", package: "footfall"),
                .product(name: "FootfallCapture", package: "footfall"),
                .product(name: "FootfallConfig", package: "footfall"),
                .product(name: "FootfallPipeline", package: "footfall"),
            ],
            path: "Benchmarks/FootfallBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
