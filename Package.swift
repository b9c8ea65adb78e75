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
    ],
    targets: [
        .systemLibrary(
            name: "CLua",
            path: "Sources/CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        .target(name: "CLuaBridge", dependencies: ["CLua"]),
        .target(name: "LuaHost", dependencies: ["CLua", "CLuaBridge"]),
        .executableTarget(
            name: "cxrun",
            dependencies: [
                "LuaHost",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "cxrun-bench", dependencies: ["LuaHost", "CLuaBridge", "CLua"]),
        .testTarget(name: "LuaHostTests", dependencies: ["LuaHost", "CLuaBridge", "CLua"]),
        .testTarget(name: "CLITests", dependencies: ["cxrun"]),
    ]
)
