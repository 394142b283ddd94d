import Foundation
import Testing

@testable import Libvirt

@Suite struct BlockingCallTests {
    /// The calling thread's name as the kernel keeps it (what `top -H` shows).
    static func kernelThreadName() -> String? {
        (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
            .trimmingCharacters(in: .newlines)
    }

    @Test func theBodyRunsOnANamedThreadOfItsOwn() async {
        let name = await runBlocking(named: "job stats") { Self.kernelThreadName() }
        #expect(name == "job stats")
    }

    @Test func aLongNameIsCutToWhatLinuxKeeps() async {
        let name = await runBlocking(named: "migrate a-guest-with-a-long-name") { Self.kernelThreadName() }
        #expect(name == "migrate a-guest")
        #expect(threadName("résumé résumé résumé") == "résumé résum")
    }

    @Test func aBodyThatDoesNotThrowNeedsNoTry() async {
        // Failure is inferred as Never: no `try` at the call site.
        let value = await runBlocking(named: "answer") { 42 }
        #expect(value == 42)
    }

    @Test func aTypedErrorReachesTheCallerTyped() async {
        do throws(LibvirtError) {
            _ = try await runBlocking(named: "connect") { () throws(LibvirtError) -> Connection in
                try Connection(uri: "nosuchdriver:///x")
            }
            Issue.record("connecting to a driver that does not exist succeeded")
        } catch {
            // The error was read on the thread that failed, and its type survived the hop.
            #expect(error.function == "virConnectOpenAuth")
            #expect(!error.message.isEmpty)
        }
    }

    @Test func aLibvirtCallReturnsItsValue() async throws {
        let state = try await runBlocking(named: "state") { () throws(LibvirtError) -> DomainStateInfo in
            try Connection(uri: "test:///default", readOnly: true).domain(named: "test").state()
        }
        #expect(state.isActive)
    }
}
