// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "cxrun",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cxrun", targets: ["cxrun"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.25.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLua",
            path: "Sources/CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        .target(name: "CLuaBridge", dependencies: ["CLua"]),
        // Line editing and history for cxrun repl on a terminal: libedit, loaded when the REPL first reads a line.
        .target(name: "CLineEditor", linkerSettings: [.linkedLibrary("dl")]),
        // Shared by every side: the JSON value type and its codec.
        .target(name: "JSONCore"),
        // Shared by the API client and the sandbox tenant: webhook signatures, calendar arithmetic.
        .target(name: "CXShared", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Host Lua lives in .lua files, embedded at build time (nothing to find at run time).
        // A run's thread is a NIO event loop: the scheduler and the I/O of its bindings share it.
        .target(
            name: "LuaHost",
            dependencies: ["CLua", "CLuaBridge", "JSONCore", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            resources: [.embedInCode("Lua/prelude.lua")]
        ),
        // How cxrun opens its SQLite files (audit log, tenant state); the C shim reaches a variadic SQLite call.
        .target(name: "CSQLiteShim"),
        .target(name: "SQLiteSupport", dependencies: ["CSQLiteShim", .product(name: "GRDB", package: "GRDB.swift")]),
        // The API client: tokens, transport (retries, rate limit), endpoints, webhooks. No Lua.
        .target(
            name: "CXone",
            dependencies: [
                "JSONCore", "CXShared",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Bindings, run context, audit store, configuration: where Lua meets the API.
        .target(
            name: "Runbook",
            dependencies: [
                "LuaHost", "CXone", "CXShared", "JSONCore", "SQLiteSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            resources: [.embedInCode("Lua/runbook.lua"), .embedInCode("Lua/testing.lua"), .embedInCode("Lua/repl.lua"), .embedInCode("Lua/plancheck.lua")]
        ),
        .target(
            name: "SandboxTenant",
            dependencies: [
                "JSONCore", "CXShared", "SQLiteSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.yaml")]
        ),
        // The CLI: sees only the Runbook facade and the sandbox tenant.
        .executableTarget(
            name: "cxrun",
            dependencies: [
                "SandboxTenant", "Runbook", "CXShared", "CLineEditor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The benchmarks start a throwaway PostgreSQL as the tests do (TestSupport).
        .executableTarget(name: "cxrun-bench", dependencies: ["LuaHost", "Runbook", "SandboxTenant", "CXone", "JSONCore", "TestSupport"]),
        // Fuzz targets (`make fuzz` builds them with libFuzzer; a plain build replays a corpus).
        .target(name: "FuzzSupport", path: "fuzz/Support"),
        .executableTarget(name: "fuzz-json", dependencies: ["JSONCore", "FuzzSupport"], path: "fuzz/json", exclude: ["corpus"]),
        .executableTarget(
            name: "fuzz-bridge", dependencies: ["LuaHost", "CLua", "CLuaBridge", "JSONCore", "FuzzSupport"], path: "fuzz/bridge", exclude: ["corpus"]),
        .executableTarget(name: "fuzz-config", dependencies: ["Runbook", "JSONCore", "FuzzSupport"], path: "fuzz/config", exclude: ["corpus"]),
        .executableTarget(
            name: "fuzz-lua", dependencies: ["Runbook", "SandboxTenant", "CXone", "JSONCore", "FuzzSupport"], path: "fuzz/lua", exclude: ["corpus"]),
        // What the test targets share: scratch folders, captured output, a raw-socket hostile server.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "JSONCoreTests", dependencies: ["JSONCore"]),
        .testTarget(name: "LuaHostTests", dependencies: ["LuaHost", "CLuaBridge", "CLua", "JSONCore", "TestSupport"]),
        .testTarget(
            name: "CXoneTests",
            dependencies: [
                "CXone", "JSONCore", "TestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .testTarget(
            name: "SandboxTenantTests",
            dependencies: [
                "SandboxTenant", "JSONCore", "CXShared", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RunbookTests",
            dependencies: [
                "Runbook", "CXone", "CXShared", "LuaHost", "SandboxTenant", "JSONCore", "TestSupport", "SQLiteSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "CLITests", dependencies: ["cxrun", "Runbook", "JSONCore", "TestSupport"]),
    ]
)
