internal import CLibvirt
import Foundation

/// Process-wide libvirt setup, touched by every entry point of this module.
internal enum LibvirtRuntime {
    /// Initializes libvirt once: `virInitialize`, a silent error handler, the default event loop
    /// implementation and the thread that runs it.
    ///
    /// Without `virInitialize` even the `virTypedParams*` helpers crash when used from several threads,
    /// and without `virSetErrorFunc` libvirt prints every error to standard error.
    static let initialized: Void = {
        precondition(virInitialize() == 0, "virInitialize failed")
        virSetErrorFunc(nil) { _, _ in }
        precondition(virEventRegisterDefaultImpl() == 0, "virEventRegisterDefaultImpl failed")
        let thread = Thread {
            // Runs one iteration of libvirt's event loop at a time, forever: domain event callbacks,
            // keep-alive pings and connection-close callbacks all run on this thread.
            while virEventRunDefaultImpl() >= 0 {}
        }
        thread.name = "libvirt-event-loop"
        thread.start()
    }()
}

/// The version of the libvirt library this process is linked against.
///
/// The corresponding C function is `virGetVersion`.
public var libvirtLibraryVersion: LibvirtVersion {
    LibvirtRuntime.initialized
    var version: UInt = 0
    virGetVersion(&version, nil, nil)
    return LibvirtVersion(encoded: UInt64(version))
}

/// A libvirt or hypervisor version, as libvirt encodes it (`major * 1_000_000 + minor * 1_000 + release`).
public struct LibvirtVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var release: Int

    public init(major: Int, minor: Int, release: Int) {
        self.major = major
        self.minor = minor
        self.release = release
    }

    public init(encoded: UInt64) {
        self.major = Int(encoded / 1_000_000)
        self.minor = Int(encoded / 1_000 % 1_000)
        self.release = Int(encoded % 1_000)
    }

    public var description: String { "\(self.major).\(self.minor).\(self.release)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.major, lhs.minor, lhs.release) < (rhs.major, rhs.minor, rhs.release)
    }
}
