// swift-tools-version:5.9
// A command-line todo list over mizu-sync, using the package in bindings/swift.
import PackageDescription

let package = Package(
    name: "mizu-todo",
    platforms: [.macOS(.v12)],
    dependencies: [.package(path: "../../../bindings/swift")],
    targets: [
        .executableTarget(
            name: "mizu-todo",
            dependencies: [.product(name: "MizuSync", package: "swift")]
        ),
    ]
)
