// Shared by every fuzz target (compiled into each; see Fuzz/run).

/// The fuzzer's bytes as text: UTF-8, with an invalid sequence replaced, as a node's file is decoded.
func fuzzText(_ data: UnsafePointer<UInt8>, _ size: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
}

/// Stops the run when an invariant is broken; libFuzzer reports it as a crash and saves the input.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

/// Requires two texts to have the same bytes (`==` on `String` compares canonical equivalence, not bytes).
func requireSameBytes(_ actual: String, _ expected: String, _ message: @autoclosure () -> String) {
    require(Array(actual.utf8) == Array(expected.utf8), message())
}

/// The value of an expression that must not throw; a throw is a broken invariant.
func mustSucceed<T>(_ message: @autoclosure () -> String, _ body: () throws -> T) -> T {
    do {
        return try body()
    } catch {
        fatalError("invariant broken: \(message()): \(error)")
    }
}
