// swift-tools-version:6.0
// recommender: a PostgreSQL 15 extension whose scoring core is written in Swift.
//
// Targets (see README "Architecture"):
//   CPostgresShim    C: the module magic, every V1 entry point, and every PostgreSQL call, each one
//                    guarded by PG_TRY so that no PostgreSQL error ever unwinds through Swift.
//   COpenBLAS        system library: OpenBLAS (BLAS + LAPACK) from Debian's libopenblas-dev.
//   CCholmod         system library: CHOLMOD (SuiteSparse) from Debian's libsuitesparse-dev, for the
//                    sparse model's LDL' factorisation (SANSA.swift).
//   RecommenderCore  pure Swift, imports nothing of PostgreSQL: models, re-rankers, explanations.
//   RecommenderGlue  Swift: the @_cdecl functions the C entry points call; loads data through the
//                    shim, caches models per backend, maps errors to codes.
//   ServeBench       bench/serve-bench: a microbenchmark of recommend() per call (swift run).
import PackageDescription

let package = Package(
    name: "recommender",
    products: [
        .library(name: "recommender", type: .dynamic,
                 targets: ["CPostgresShim", "RecommenderGlue"]),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CCholmod", path: "Sources/CCholmod"),
        .target(
            name: "CPostgresShim",
            path: "Sources/CPostgresShim",
            cSettings: [.unsafeFlags(["-I/usr/include/postgresql/15/server", "-fvisibility=default"])]
        ),
        .target(
            name: "RecommenderCore",
            dependencies: ["COpenBLAS", "CCholmod"],
            path: "Sources/RecommenderCore",
            swiftSettings: [.unsafeFlags(["-Ounchecked"]) ].filter { _ in false }
        ),
        .target(
            name: "RecommenderGlue",
            dependencies: ["RecommenderCore", "CPostgresShim"],
            path: "Sources/RecommenderGlue"
        ),
        // bench/serve-bench: recommend()'s per-call time with and without the reused scratch
        .executableTarget(
            name: "ServeBench",
            dependencies: ["RecommenderCore"],
            path: "bench/serve-bench"
        ),
        .testTarget(
            name: "RecommenderCoreTests",
            dependencies: ["RecommenderCore"],
            path: "Tests/RecommenderCoreTests"
        ),
    ],
    swiftLanguageModes: [.v5]
)
