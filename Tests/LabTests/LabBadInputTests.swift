import Foundation
import Libvirt
import Testing

/// Each bad input gets one line on standard error, a documented exit code, and no change to any host.
extension LabTests {
    @Suite(.serialized) struct LabBadInputTests {
        let lab: Lab

        init() throws {
            self.lab = try Lab()
            try self.lab.reset()
        }

        /// Runs `kvmmigrate migrate` and checks the refusal as a user sees it.
        private func expectRefused(
            _ arguments: [String],
            exitCode: Int32,
            errorCode: String,
            mentioning: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            let result = try run(self.lab.binary, ["migrate"] + arguments + ["--json"])
            #expect(
                result.exitCode == exitCode,
                "\(result.standardError)",
                sourceLocation: sourceLocation
            )
            let lines = result.standardError.split(separator: "\n")
            #expect(lines.count == 1, "\(result.standardError)", sourceLocation: sourceLocation)
            #expect(lines.first?.hasPrefix("Error: ") == true, sourceLocation: sourceLocation)
            #expect(
                result.standardError.contains(mentioning),
                "\(result.standardError)",
                sourceLocation: sourceLocation
            )
            let document = try result.json
            #expect(document["exit_code"] as? Int == Int(exitCode), sourceLocation: sourceLocation)
            #expect(
                (document["error"] as? [String: Any])?["code"] as? String == errorCode,
                sourceLocation: sourceLocation
            )
            try self.lab.expectUnchanged(sourceLocation: sourceLocation)
        }

        @Test func unknownDomain() throws {
            try self.expectRefused(
                ["no-such-guest", self.lab.destinationURI, "-c", self.lab.sourceURI],
                exitCode: 2,
                errorCode: "domain-not-found",
                mentioning: "no-such-guest"
            )
        }

        @Test func unreachableDestination() throws {
            try self.expectRefused(
                [self.lab.domain, "qemu+tcp://10.77.0.99/system", "-c", self.lab.sourceURI],
                exitCode: 5,
                errorCode: "host-unreachable",
                mentioning: "10.77.0.99"
            )
        }

        @Test func unreachableSource() throws {
            try self.expectRefused(
                [self.lab.domain, self.lab.destinationURI, "-c", "qemu+tcp://10.77.0.1:1/system"],
                exitCode: 5,
                errorCode: "host-unreachable",
                mentioning: "10.77.0.1:1"
            )
        }

        /// libvirt, not kvmmigrate, says what is wrong with a URI: its one-line error, exit 5.
        @Test func malformedDestinationURI() throws {
            try self.expectRefused(
                [self.lab.domain, "qemu+tcp//10.77.0.2/system", "-c", self.lab.sourceURI],
                exitCode: 5,
                errorCode: "host-unreachable",
                mentioning: "cannot connect to the destination qemu+tcp//10.77.0.2/system"
            )
        }

        @Test func destinationIsTheSourceUnderAnotherSpelling() throws {
            try self.expectRefused(
                [self.lab.domain, "qemu+tcp://10.77.0.1:16509/system", "-c", self.lab.sourceURI],
                exitCode: 2,
                errorCode: "same-host",
                mentioning: "is the source host itself"
            )
        }

        @Test func domainNotRunning() throws {
            let source = try self.lab.source()
            let xml = try self.guestXML(named: "lab-stopped")
            let stopped = try source.defineDomain(xml: xml)
            defer { try? stopped.undefine() }
            try self.expectRefused(
                ["lab-stopped", self.lab.destinationURI, "-c", self.lab.sourceURI],
                exitCode: 2,
                errorCode: "domain-not-running",
                mentioning: "shut off"
            )
            #expect(self.lab.state(of: "lab-stopped", on: try self.lab.destination()) == nil)
        }

        @Test func destinationAlreadyRunsADomainOfThatName() throws {
            let destination = try self.lab.destination()
            let impostor = try destination.createDomain(xml: try self.guestXML(named: self.lab.domain))
            defer { try? impostor.destroy() }
            let result = try run(
                self.lab.binary,
                ["migrate", self.lab.domain, self.lab.destinationURI, "-c", self.lab.sourceURI, "--json"]
            )
            #expect(result.exitCode == 2, "\(result.standardError)")
            #expect(result.standardError.contains("already runs a domain '\(self.lab.domain)'"))
            #expect(
                try (result.json["error"] as? [String: Any])?["code"] as? String == "destination-has-domain"
            )
            // Nothing changed: the guest still runs on the source, the other domain still on the destination.
            #expect(self.lab.state(of: self.lab.domain, on: try self.lab.source())?.state == .running)
            #expect(try impostor.state().state == .running)
            #expect(try impostor.uuid() != (try self.lab.source().domain(named: self.lab.domain).uuid()))
        }

        /// The lab guest's definition under another name and a fresh UUID.
        private func guestXML(named name: String) throws -> String {
            let xml = try self.lab.source().domain(named: self.lab.domain).xmlDescription()
            return xml.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.contains("<uuid>") }
                .map { $0.contains("<name>") ? "  <name>\(name)</name>" : String($0) }
                .joined(separator: "\n")
        }
    }
}
