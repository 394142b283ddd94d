import Foundation
import Libvirt
import Migration
import Testing

@testable import kvmmigrate

@Suite struct GlyphsTests {
    @Test(arguments: [
        ("UTF-8", true), ("utf8", true), ("UTF8", true), ("ANSI_X3.4-1968", false), ("ISO-8859-1", false),
        ("", false),
    ])
    func codesetNames(_ codeset: String, _ utf8: Bool) {
        #expect(Glyphs.isUTF8(codeset: codeset) == utf8)
    }

    /// The variables are read as setlocale reads them: LC_ALL, then LC_CTYPE, then LANG; empty ones are not set.
    @Test(arguments: [
        (["LANG": "C.UTF-8"], true),
        (["LC_CTYPE": "C.UTF-8", "LANG": "C"], true),
        (["LC_ALL": "C", "LC_CTYPE": "C.UTF-8", "LANG": "C.UTF-8"], false),
        (["LC_ALL": "", "LANG": "C.UTF-8"], true),
        (["LC_ALL": "C.UTF-8", "LANG": "C"], true),
        (["LANG": "C"], false),
        (["LANG": "POSIX"], false),
        ([:], false),
        (["LANG": "xx_NOWHERE.UTF-8"], false),  // not installed: setlocale refuses it and the C locale stays
    ])
    func theLocaleDecides(_ environment: [String: String], _ utf8: Bool) {
        #expect(Glyphs.localeIsUTF8(environment) == utf8, "\(environment)")
    }

    @Test func asciiStandInsReplaceEveryOtherCharacter() {
        let ascii = Glyphs(unicode: false)
        #expect(ascii.text("✓ guest1: done") == "ok guest1: done")
        #expect(ascii.text("✗ guest2: failed") == "FAIL guest2: failed")
        #expect(ascii.text("Migrating domain1…") == "Migrating domain1...")
        #expect(ascii.text("300 → 400 ms │ ─ — ↳ ± ×") == "300 -> 400 ms | - - -> +/- x")
        #expect(ascii.text("名前 e\u{301}") == "?? e")
        #expect(ascii.text("plain ASCII") == "plain ASCII")
        #expect(Glyphs(unicode: true).text("✓ → …") == "✓ → …")
        #expect(ascii.text(String(Glyphs.standIns.keys.map(Character.init))).utf8.allSatisfy { $0 < 0x80 })
    }
}
