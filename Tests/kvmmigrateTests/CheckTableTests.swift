import Foundation
import Libvirt
import Migration
import Testing

@testable import kvmmigrate

@Suite struct CheckTableTests {
    static let results = [
        CheckResult(
            "hosts-answer",
            .pass,
            "both libvirt daemons answer (qemu+tcp://10.77.0.1/system, qemu+tcp://10.77.0.2/system)"
        ),
        CheckResult("destination-memory", .warn, "the destination has 412 MiB free, the guest needs 256 MiB and more"),
        CheckResult(
            "guest-cpu",
            .fail,
            "libvirt says the destination's CPU is incompatible: host CPU does not provide required features: svm"
        ),
        CheckResult("storage-reachable", .skipped, "not checked: an earlier check failed"),
        CheckResult(
            "migration-address-answers-from-here-too",
            .skipped,
            "no-spaces-at-all-in-this-detail-/var/lib/libvirt/images/a-very-long-disk-image-name.qcow2"
        ),
    ]

    @Test func everyStatusLabelIsWhole() {
        let table = CheckReport.table(Self.results, wouldMigrate: false)
        let lines = table.split(separator: "\n")
        #expect(lines[0].hasPrefix("PASS     hosts-answer "))
        #expect(lines[3].hasPrefix("SKIPPED  storage-reachable "))
        #expect(!table.contains("SKIPPE "))
        #expect(lines.last == "The migration would be refused (1 check failed).")
        // Without SKIPPED, the status column is as wide as before.
        let passing = CheckReport.table([CheckResult("a", .pass, "fine")], wouldMigrate: true)
        #expect(passing.hasPrefix("PASS  a  fine\n"))
    }

    @Test(arguments: [30, 40, 60, 79, 80, 120])
    func noLineIsWiderThanTheWidthGiven(_ width: Int) {
        let table = CheckReport.table(Self.results, wouldMigrate: false, width: width)
        for line in table.split(separator: "\n") {
            #expect(Columns.width(of: line) <= width, "\(line)")
        }
        for label in ["PASS", "WARN", "FAIL", "SKIPPED"] {
            #expect(table.split(separator: "\n").contains { $0.hasPrefix(label + " ") }, "\(label) at \(width)")
        }
        // Nothing of a detail is lost.
        for result in Self.results {
            let words = result.detail.split(separator: " ")
            let flat = table.replacingOccurrences(of: "\n", with: "").replacingOccurrences(of: " ", with: "")
            #expect(words.allSatisfy { flat.contains($0) }, "\(result.name) at \(width)")
        }
    }

    @Test func theTableIsASCIIWhenTheLocaleIsNotUTF8() {
        let results = [CheckResult("guest-cpu", .warn, "300 → 400 ms … ✓")]
        let table = CheckReport.table(results, wouldMigrate: true, width: 80, glyphs: Glyphs(unicode: false))
        #expect(table.utf8.allSatisfy { $0 < 0x80 })
        #expect(table.contains("300 -> 400 ms ... ok"))
    }
}
