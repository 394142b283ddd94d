internal import CLibvirt

/// An error reported by libvirt: its error number, the part of libvirt that raised it, its message and
/// the C function that failed.
public struct LibvirtError: Error, Sendable, Hashable {
    /// What went wrong. The corresponding C type is `virErrorNumber`.
    public var code: Code
    /// Which part of libvirt raised the error. The corresponding C type is `virErrorDomain`, renamed so it
    /// is not confused with ``Domain``.
    public var subsystem: Subsystem
    /// libvirt's own message, for example `Requested operation is not valid: domain is not running`.
    public var message: String
    /// The C function that failed, for example `virDomainMigrateToURI3`.
    public var function: String

    public init(code: Code, subsystem: Subsystem = Subsystem(rawValue: 0), message: String, function: String) {
        self.code = code
        self.subsystem = subsystem
        self.message = message
        self.function = function
    }
}

extension LibvirtError {
    /// A libvirt error number (`virErrorNumber`): a struct, because new libvirt releases add numbers.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        private init(_ number: virErrorNumber) { self.rawValue = Int32(number.rawValue) }

        public var description: String { "\(self.rawValue)" }

        /// An internal error in libvirt. The corresponding C error is `VIR_ERR_INTERNAL_ERROR`.
        public static var internalError: Code { Code(VIR_ERR_INTERNAL_ERROR) }
        /// The driver does not support the call. The corresponding C error is `VIR_ERR_NO_SUPPORT`.
        public static var notSupported: Code { Code(VIR_ERR_NO_SUPPORT) }
        /// A URI could not be parsed. The corresponding C error is `VIR_ERR_INVALID_ARG`.
        public static var invalidArgument: Code { Code(VIR_ERR_INVALID_ARG) }
        /// No connection could be made. The corresponding C error is `VIR_ERR_NO_CONNECT`.
        public static var noConnection: Code { Code(VIR_ERR_NO_CONNECT) }
        /// A system call failed, for example connecting a socket. The corresponding C error is
        /// `VIR_ERR_SYSTEM_ERROR`.
        public static var systemError: Code { Code(VIR_ERR_SYSTEM_ERROR) }
        /// An RPC to the daemon failed. The corresponding C error is `VIR_ERR_RPC`.
        public static var rpcFailed: Code { Code(VIR_ERR_RPC) }
        /// The domain was not found. The corresponding C error is `VIR_ERR_NO_DOMAIN`.
        public static var noDomain: Code { Code(VIR_ERR_NO_DOMAIN) }
        /// The operation is not valid now, for example on a domain that is not running. The corresponding C
        /// error is `VIR_ERR_OPERATION_INVALID`.
        public static var operationInvalid: Code { Code(VIR_ERR_OPERATION_INVALID) }
        /// The operation failed. The corresponding C error is `VIR_ERR_OPERATION_FAILED`.
        public static var operationFailed: Code { Code(VIR_ERR_OPERATION_FAILED) }
        /// The job was aborted, for example by ``Domain/abortJob()``. The corresponding C error is
        /// `VIR_ERR_OPERATION_ABORTED`.
        public static var operationAborted: Code { Code(VIR_ERR_OPERATION_ABORTED) }
        /// The operation timed out. The corresponding C error is `VIR_ERR_OPERATION_TIMEOUT`.
        public static var operationTimeout: Code { Code(VIR_ERR_OPERATION_TIMEOUT) }
        /// The migration would be unsafe, for example because of a disk cache mode. The corresponding C
        /// error is `VIR_ERR_MIGRATE_UNSAFE`.
        public static var migrationUnsafe: Code { Code(VIR_ERR_MIGRATE_UNSAFE) }
        /// The argument is not supported. The corresponding C error is `VIR_ERR_ARGUMENT_UNSUPPORTED`.
        public static var argumentUnsupported: Code { Code(VIR_ERR_ARGUMENT_UNSUPPORTED) }
        /// A domain with this name or UUID exists already. The corresponding C error is `VIR_ERR_DOM_EXIST`.
        public static var domainExists: Code { Code(VIR_ERR_DOM_EXIST) }
        /// The XML is invalid. The corresponding C error is `VIR_ERR_XML_ERROR`.
        public static var xmlError: Code { Code(VIR_ERR_XML_ERROR) }
        /// Authentication with the daemon failed. The corresponding C error is `VIR_ERR_AUTH_FAILED`.
        public static var authenticationFailed: Code { Code(VIR_ERR_AUTH_FAILED) }
        /// The requested operation is not supported here. The corresponding C error is
        /// `VIR_ERR_OPERATION_UNSUPPORTED`.
        public static var operationUnsupported: Code { Code(VIR_ERR_OPERATION_UNSUPPORTED) }
        /// The CPU is incompatible. The corresponding C error is `VIR_ERR_CPU_INCOMPATIBLE`.
        public static var cpuIncompatible: Code { Code(VIR_ERR_CPU_INCOMPATIBLE) }
        /// `VIR_ERR_AGENT_UNRESPONSIVE`: the guest agent does not answer (or there is none).
        public static var agentUnresponsive: Code { Code(VIR_ERR_AGENT_UNRESPONSIVE) }

        /// Lets `catch LibvirtError.Code.operationAborted` match a thrown error.
        public static func ~= (pattern: Code, error: any Error) -> Bool {
            (error as? LibvirtError)?.code == pattern
        }
    }

    /// The part of libvirt that raised an error (`virErrorDomain`).
    public struct Subsystem: RawRepresentable, Sendable, Hashable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        private init(_ value: virErrorDomain) { self.rawValue = Int32(value.rawValue) }

        /// The remote driver (`qemu+tcp://`, `qemu+ssh://`). The corresponding C value is `VIR_FROM_REMOTE`.
        public static var remote: Subsystem { Subsystem(VIR_FROM_REMOTE) }
        /// The QEMU driver. The corresponding C value is `VIR_FROM_QEMU`.
        public static var qemu: Subsystem { Subsystem(VIR_FROM_QEMU) }
        /// The RPC layer. The corresponding C value is `VIR_FROM_RPC`.
        public static var rpc: Subsystem { Subsystem(VIR_FROM_RPC) }
    }

    /// Reads the calling thread's last libvirt error. Call it synchronously, right after the failing call:
    /// libvirt keeps the last error per thread, and a Swift task may resume on another thread after `await`.
    ///
    /// The corresponding C function is `virGetLastError`.
    internal static func last(_ function: String) -> LibvirtError {
        guard let error = virGetLastError() else {
            return LibvirtError(
                code: .internalError,
                message: "\(function) failed without reporting an error",
                function: function
            )
        }
        var message = error.pointee.message.map { String(cString: $0) } ?? "unknown libvirt error"
        while message.hasSuffix("\n") { message.removeLast() }
        return LibvirtError(
            code: Code(rawValue: error.pointee.code),
            subsystem: Subsystem(rawValue: error.pointee.domain),
            message: message,
            function: function
        )
    }
}

extension LibvirtError: CustomStringConvertible {
    public var description: String { self.message }
}

/// Throws the thread's last libvirt error when `result` is negative.
@discardableResult
internal func check(_ result: Int32, _ function: String) throws(LibvirtError) -> Int32 {
    guard result >= 0 else { throw .last(function) }
    return result
}

/// Throws the thread's last libvirt error when `pointer` is `NULL`.
internal func check<Pointer>(_ pointer: Pointer?, _ function: String) throws(LibvirtError) -> Pointer {
    guard let pointer else { throw .last(function) }
    return pointer
}
// Rule for this module: never `await` between a C call and its `check`; the last error is thread-local.
