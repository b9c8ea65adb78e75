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
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLua",
            path: "Sources/CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        .target(name: "CLuaBridge", dependencies: ["CLua"]),
        // Shared by every side: the JSON value type and its codec.
        .target(name: "JSONCore"),
        // Shared by the API client and the sandbox tenant: webhook signatures.
        .target(name: "CXShared", dependencies: ["JSONCore", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "LuaHost", dependencies: ["CLua", "CLuaBridge", "JSONCore"]),
        // How cxrun opens its SQLite files (audit log, tenant state).
        .target(name: "SQLiteSupport", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // The API client: tokens, transport (retries, rate limit), endpoints, webhooks. No Lua.
        .target(
            name: "CXone",
            dependencies: ["JSONCore", "CXShared", .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        // Bindings, run context, audit store, configuration: where Lua meets the API.
        .target(
            name: "Runbook",
            dependencies: [
                "LuaHost", "CXone", "JSONCore", "CXShared", "SQLiteSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "SandboxTenant",
            dependencies: [
                "JSONCore", "CXShared", "SQLiteSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.yaml")]
        ),
        .executableTarget(
            name: "cxrun",
            dependencies: [
                "LuaHost", "SandboxTenant", "Runbook", "CXone", "JSONCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "cxrun-bench", dependencies: ["LuaHost", "Runbook", "SandboxTenant", "CXone", "JSONCore"]),
        .testTarget(name: "LuaHostTests", dependencies: ["LuaHost", "CLuaBridge", "CLua", "JSONCore"]),
        .testTarget(
            name: "SandboxTenantTests",
            dependencies: [
                "SandboxTenant", "JSONCore", "CXShared",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "RunbookTests",
            dependencies: [
                "Runbook", "CXone", "LuaHost", "SandboxTenant", "JSONCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "CLITests", dependencies: ["cxrun", "JSONCore"]),
    ]
)
