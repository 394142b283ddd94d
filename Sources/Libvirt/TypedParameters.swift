internal import CLibvirt

/// A read-only view of a `virTypedParameter` array owned by the caller's scope.
///
/// Accepts any integer type libvirt may use for a field (`int`, `uint`, `llong`, `ullong`), because the
/// type of some fields differs between hypervisors and libvirt versions.
internal struct TypedParameters {
    private let parameters: virTypedParameterPtr?
    private let count: Int32

    init(_ parameters: virTypedParameterPtr?, count: Int32) {
        LibvirtRuntime.initialized
        self.parameters = parameters
        self.count = count
    }

    /// The parameter named `name`, or `nil` when absent. The corresponding C function is `virTypedParamsGet`.
    private func parameter(_ name: String) -> virTypedParameter? {
        guard let parameters = self.parameters else { return nil }
        return virTypedParamsGet(parameters, self.count, name)?.pointee
    }

    /// The value of the integer field `name` as an unsigned 64-bit number, or `nil` when absent or negative.
    func uint64(_ name: String) -> UInt64? {
        guard let parameter = self.parameter(name) else { return nil }
        switch virTypedParameterType(UInt32(parameter.type)) {
        case VIR_TYPED_PARAM_ULLONG: return parameter.value.ul
        case VIR_TYPED_PARAM_LLONG: return parameter.value.l >= 0 ? UInt64(parameter.value.l) : nil
        case VIR_TYPED_PARAM_UINT: return UInt64(parameter.value.ui)
        case VIR_TYPED_PARAM_INT: return parameter.value.i >= 0 ? UInt64(parameter.value.i) : nil
        default: return nil
        }
    }

    /// The value of the integer field `name` as a signed 64-bit number, or `nil` when absent.
    func int64(_ name: String) -> Int64? {
        guard let parameter = self.parameter(name) else { return nil }
        switch virTypedParameterType(UInt32(parameter.type)) {
        case VIR_TYPED_PARAM_ULLONG: return Int64(clamping: parameter.value.ul)
        case VIR_TYPED_PARAM_LLONG: return parameter.value.l
        case VIR_TYPED_PARAM_UINT: return Int64(parameter.value.ui)
        case VIR_TYPED_PARAM_INT: return Int64(parameter.value.i)
        default: return nil
        }
    }

    /// The value of the boolean field `name`, or `nil` when absent.
    func bool(_ name: String) -> Bool? {
        guard let parameter = self.parameter(name),
            virTypedParameterType(UInt32(parameter.type)) == VIR_TYPED_PARAM_BOOLEAN
        else { return nil }
        return parameter.value.b != 0
    }

    /// The value of the string field `name`, or `nil` when absent.
    func string(_ name: String) -> String? {
        guard let parameter = self.parameter(name),
            virTypedParameterType(UInt32(parameter.type)) == VIR_TYPED_PARAM_STRING,
            let value = parameter.value.s
        else { return nil }
        return String(cString: value)
    }

    /// Every value of the string field `name` (some migration parameters may appear several times).
    func strings(_ name: String) -> [String] {
        guard let parameters = self.parameters else { return [] }
        return (0..<Int(self.count)).compactMap { index in
            let parameter = parameters[index]
            guard Self.name(of: parameter) == name,
                virTypedParameterType(UInt32(parameter.type)) == VIR_TYPED_PARAM_STRING,
                let value = parameter.value.s
            else { return nil }
            return String(cString: value)
        }
    }

    private static func name(of parameter: virTypedParameter) -> String {
        withUnsafeBytes(of: parameter.field) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The names of all parameters, in order.
    var names: [String] {
        guard let parameters = self.parameters else { return [] }
        return (0..<Int(self.count)).map { Self.name(of: parameters[$0]) }
    }
}

/// An outgoing `virTypedParameter` array that Swift owns: freed with `virTypedParamsFree` when dropped.
internal struct TypedParameterBuilder: ~Copyable {
    private var parameters: virTypedParameterPtr? = nil
    private var count: Int32 = 0
    private var capacity: Int32 = 0

    init() { LibvirtRuntime.initialized }

    deinit { virTypedParamsFree(self.parameters, self.count) }

    /// Adds an unsigned 64-bit field. The corresponding C function is `virTypedParamsAddULLong`.
    mutating func add(_ name: String, _ value: UInt64) throws(LibvirtError) {
        try check(
            virTypedParamsAddULLong(&self.parameters, &self.count, &self.capacity, name, value),
            "virTypedParamsAddULLong"
        )
    }

    /// Adds a signed 32-bit field. The corresponding C function is `virTypedParamsAddInt`.
    mutating func add(_ name: String, _ value: Int32) throws(LibvirtError) {
        try check(
            virTypedParamsAddInt(&self.parameters, &self.count, &self.capacity, name, value),
            "virTypedParamsAddInt"
        )
    }

    /// Adds a boolean field. The corresponding C function is `virTypedParamsAddBoolean`.
    mutating func add(_ name: String, _ value: Bool) throws(LibvirtError) {
        try check(
            virTypedParamsAddBoolean(&self.parameters, &self.count, &self.capacity, name, value ? 1 : 0),
            "virTypedParamsAddBoolean"
        )
    }

    /// Adds a string field; a name may be added several times where libvirt allows a list.
    /// The corresponding C function is `virTypedParamsAddString`.
    mutating func add(_ name: String, _ value: String) throws(LibvirtError) {
        try check(
            virTypedParamsAddString(&self.parameters, &self.count, &self.capacity, name, value),
            "virTypedParamsAddString"
        )
    }

    /// The number of fields added so far.
    var fieldCount: Int { Int(self.count) }

    /// Calls `body` with the C array; the pointer is valid only during the call.
    func withUnsafeParameters<Result, Failure: Error>(
        _ body: (virTypedParameterPtr?, Int32) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(self.parameters, self.count)
    }

    /// Calls `body` with a read-only view of the fields added so far.
    func withView<Result, Failure: Error>(_ body: (TypedParameters) throws(Failure) -> Result) throws(Failure) -> Result
    {
        try body(TypedParameters(self.parameters, count: self.count))
    }
}
