internal import CLibvirt
import Foundation

/// A libvirt domain (a virtual machine) seen through one connection.
///
/// `@unchecked Sendable` for the same reason as ``Connection``: the pointer is immutable and libvirt's API
/// is thread-safe per object.
public final class Domain: @unchecked Sendable {
    internal let pointer: virDomainPtr
    /// The connection the domain was looked up through; the domain keeps it open.
    public let connection: Connection

    internal init(pointer: virDomainPtr, connection: Connection) {
        self.pointer = pointer
        self.connection = connection
    }

    deinit {
        virDomainFree(self.pointer)
    }

    /// The domain's name.
    ///
    /// The corresponding C function is `virDomainGetName`.
    public var name: String {
        virDomainGetName(self.pointer).map { String(cString: $0) } ?? ""
    }

    /// The domain's UUID in its 36-character form.
    ///
    /// The corresponding C function is `virDomainGetUUIDString`.
    public func uuid() throws(LibvirtError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        try check(virDomainGetUUIDString(self.pointer, &buffer), "virDomainGetUUIDString")
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The domain's state and the reason it is in it.
    ///
    /// The corresponding C function is `virDomainGetState`.
    public func state() throws(LibvirtError) -> DomainStateInfo {
        var state: Int32 = 0
        var reason: Int32 = 0
        try check(virDomainGetState(self.pointer, &state, &reason, 0), "virDomainGetState")
        return DomainStateInfo(state: DomainState(rawValue: state), reason: reason)
    }

    /// Whether the domain is running (or paused) rather than shut off.
    ///
    /// The corresponding C function is `virDomainIsActive`.
    public func isActive() throws(LibvirtError) -> Bool {
        try check(virDomainIsActive(self.pointer), "virDomainIsActive") == 1
    }

    /// Whether the domain has a persistent definition.
    ///
    /// The corresponding C function is `virDomainIsPersistent`.
    public func isPersistent() throws(LibvirtError) -> Bool {
        try check(virDomainIsPersistent(self.pointer), "virDomainIsPersistent") == 1
    }

    /// Basic figures: maximum and current memory and the number of virtual CPUs.
    ///
    /// The corresponding C function is `virDomainGetInfo`.
    public func info() throws(LibvirtError) -> DomainInfo {
        var info = virDomainInfo()
        try check(virDomainGetInfo(self.pointer, &info), "virDomainGetInfo")
        return DomainInfo(
            maximumMemoryKiB: UInt64(info.maxMem),
            memoryKiB: UInt64(info.memory),
            virtualCPUs: Int(info.nrVirtCpu),
            cpuTime: .nanoseconds(Int64(clamping: info.cpuTime))
        )
    }

    /// The domain's XML description.
    ///
    /// The corresponding C function is `virDomainGetXMLDesc`.
    ///
    /// - Parameter migratable: Ask for the XML suitable for migration (`VIR_DOMAIN_XML_MIGRATABLE`).
    public func xmlDescription(migratable: Bool = false) throws(LibvirtError) -> String {
        let flags = migratable ? UInt32(VIR_DOMAIN_XML_MIGRATABLE.rawValue) : 0
        let xml = try check(virDomainGetXMLDesc(self.pointer, flags), "virDomainGetXMLDesc")
        defer { free(xml) }
        return String(cString: xml)
    }

    // MARK: - Lifecycle

    /// Starts a defined domain. The corresponding C function is `virDomainCreate`.
    public func start() throws(LibvirtError) {
        try check(virDomainCreate(self.pointer), "virDomainCreate")
    }

    /// Stops the domain at once, like pulling the plug. The corresponding C function is `virDomainDestroy`.
    public func destroy() throws(LibvirtError) {
        try check(virDomainDestroy(self.pointer), "virDomainDestroy")
    }

    /// Removes the domain's persistent definition. The corresponding C function is `virDomainUndefine`.
    public func undefine() throws(LibvirtError) {
        try check(virDomainUndefine(self.pointer), "virDomainUndefine")
    }

    /// Pauses the domain's virtual CPUs. The corresponding C function is `virDomainSuspend`.
    public func suspend() throws(LibvirtError) {
        try check(virDomainSuspend(self.pointer), "virDomainSuspend")
    }

    /// Resumes a paused domain. The corresponding C function is `virDomainResume`.
    public func resume() throws(LibvirtError) {
        try check(virDomainResume(self.pointer), "virDomainResume")
    }
}

/// Memory and CPU figures of a domain (`virDomainInfo`).
public struct DomainInfo: Sendable, Hashable {
    public var maximumMemoryKiB: UInt64
    public var memoryKiB: UInt64
    public var virtualCPUs: Int
    public var cpuTime: Duration
}
