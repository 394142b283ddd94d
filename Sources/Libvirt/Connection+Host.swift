internal import CLibvirt
import Foundation

/// How a CPU definition compares with what a host can run (`virCPUCompareResult`).
public enum CPUComparison: Sendable, Hashable {
    /// The host cannot provide this CPU. The corresponding C value is `VIR_CPU_COMPARE_INCOMPATIBLE`.
    case incompatible
    /// The host's CPU is the same. The corresponding C value is `VIR_CPU_COMPARE_IDENTICAL`.
    case identical
    /// The host's CPU offers more. The corresponding C value is `VIR_CPU_COMPARE_SUPERSET`.
    case superset
}

extension Connection {
    /// The host's free memory, in bytes.
    ///
    /// The corresponding C function is `virNodeGetFreeMemory` (which returns 0 on error).
    public func freeMemory() throws(LibvirtError) -> UInt64 {
        let bytes = virNodeGetFreeMemory(self.pointer)
        guard bytes > 0 else { throw .last("virNodeGetFreeMemory") }
        return UInt64(bytes)
    }

    /// Compares a guest CPU definition (a `<cpu>` element) with what this host's hypervisor can provide.
    ///
    /// The corresponding C function is `virConnectCompareHypervisorCPU`.
    ///
    /// - Parameter virtualizationType: The domain type, `kvm` or `qemu`.
    public func compareHypervisorCPU(
        _ xml: String,
        virtualizationType: String? = nil
    ) throws(LibvirtError)
        -> CPUComparison
    {
        let result = try check(
            virConnectCompareHypervisorCPU(self.pointer, nil, nil, nil, virtualizationType, xml, 0),
            "virConnectCompareHypervisorCPU"
        )
        switch result {
        case Int32(VIR_CPU_COMPARE_IDENTICAL.rawValue): return .identical
        case Int32(VIR_CPU_COMPARE_SUPERSET.rawValue): return .superset
        default: return .incompatible
        }
    }

    /// Whether one of this host's storage pools has a volume at `path`: storage the host sees at the same path.
    ///
    /// The corresponding C function is `virStorageVolLookupByPath`.
    public func hasStorageVolume(atPath path: String) -> Bool {
        guard let volume = virStorageVolLookupByPath(self.pointer, path) else { return false }
        virStorageVolFree(volume)
        return true
    }
}
