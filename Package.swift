// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "kvmmigrate",
    products: [
        .library(name: "Libvirt", targets: ["Libvirt"]),
        .library(name: "Journal", targets: ["Journal"]),
        .library(name: "Migration", targets: ["Migration"]),
        .library(name: "Cluster", targets: ["Cluster"]),
        .library(name: "Verification", targets: ["Verification"]),
        .library(name: "Session", targets: ["Session"]),
        .library(name: "Trace", targets: ["Trace"]),
        .library(name: "Chart", targets: ["Chart"]),
        .library(name: "Audit", targets: ["Audit"]),
        .library(name: "MetricsExport", targets: ["MetricsExport"]),
        .executable(name: "kvmmigrate", targets: ["kvmmigrate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The only place C enters the package.
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"]), .yum(["libvirt-devel"]), .brew(["libvirt"])]
        ),
        .target(
            name: "Libvirt",
            dependencies: ["CLibvirt"],
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")]
        ),
        // Crash-safe operation records and locks; knows nothing of libvirt or clusters.
        .target(name: "Journal"),
        // A run's trace as JSON Lines: the record, its writer and its reader; knows nothing of libvirt.
        .target(name: "Trace"),
        // A trace drawn as SVG (and PNG through rsvg-convert); knows nothing of libvirt.
        .target(name: "Chart", dependencies: ["Trace"]),
        // A session's figures and the running totals as Prometheus text for node_exporter's textfile collector,
        // written atomically (named apart from swift-metrics' Metrics module, which swift-prometheus brings).
        .target(
            name: "MetricsExport",
            dependencies: [
                "Session", "Migration", "Cluster", .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "Migration",
            dependencies: ["Libvirt", "Journal", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Cluster",
            dependencies: [
                "Libvirt", "Journal",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Yams", package: "Yams"),
            ],
            // The lab's kill -9 and hold-after-step hooks (ClusterJournal) exist in debug builds only.
            swiftSettings: [.define("KVMMIGRATE_TEST_HOOKS", .when(configuration: .debug))]
        ),
        // After any migration, whoever made it: where libvirt runs each guest against what the guest cluster's
        // files, CF and SF say, and the clocks; repairs with the restore's own code.
        .target(
            name: "Verification",
            dependencies: ["Libvirt", "Journal", "Cluster", .product(name: "Logging", package: "swift-log")]
        ),
        // One whole operation (checks, lock, cluster prepare, migration, restore, verify), composed from its
        // siblings Migration and Cluster, so that it is testable and reusable without the command line.
        .target(
            name: "Session",
            dependencies: [
                "Libvirt", "Journal", "Migration", "Cluster", "Verification", "Trace",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The audit trail: each operation's start, steps and outcome to the system log (syslog(3)), whatever the
        // output mode.
        .target(
            name: "Audit",
            dependencies: ["Migration", "Session", "Cluster", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "kvmmigrate",
            dependencies: [
                "Libvirt", "Migration", "Cluster", "Verification", "Session", "Trace", "Chart", "Audit",
                "MetricsExport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt"]),
        .testTarget(name: "JournalTests", dependencies: ["Journal"]),
        .testTarget(name: "MigrationTests", dependencies: ["Migration", "Libvirt"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Journal", "Libvirt"]),
        .testTarget(name: "VerificationTests", dependencies: ["Verification", "Cluster", "Libvirt"]),
        .testTarget(
            name: "SessionTests",
            dependencies: ["Session", "Migration", "Cluster", "Verification", "Libvirt", "Trace"]
        ),
        .testTarget(name: "TraceTests", dependencies: ["Trace"]),
        .testTarget(name: "ChartTests", dependencies: ["Chart", "Trace"]),
        .testTarget(
            name: "AuditTests",
            dependencies: ["Audit", "Session", "Migration", "Cluster", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "MetricsExportTests", dependencies: ["MetricsExport", "Session", "Migration", "Libvirt"]),
        .testTarget(name: "kvmmigrateTests", dependencies: ["kvmmigrate", "Migration", "Libvirt"]),
        .testTarget(name: "LabTests", dependencies: ["Libvirt", "Migration", "Cluster", "Journal", "Trace"]),
    ],
    swiftLanguageModes: [.v6]
)
