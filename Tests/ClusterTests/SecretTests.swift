import Cluster
import Testing

@Suite struct SecretTests {
    @Test func secretIsNeverShown() {
        let secret = Secret("D0860AB04E1B8FA3")
        let shown = everythingShown(secret)
        #expect(!shown.contains("D0860AB04E1B8FA3"))
        #expect(shown.contains("********"))
        #expect(secret.description == "********")
        #expect(secret.debugDescription == "********")
    }

    @Test func secretInsideAnotherValueIsNeverShown() {
        struct Holder {
            var user = "sfuser"
            var password = Secret("D0860AB04E1B8FA3")
        }
        let shown = everythingShown(Holder())
        #expect(!shown.contains("D0860AB04E1B8FA3"))
        #expect(shown.contains("sfuser"))
        #expect(!everythingShown([Secret("D0860AB04E1B8FA3")]).contains("D0860AB04E1B8FA3"))
        #expect(!everythingShown(Optional(Secret("D0860AB04E1B8FA3")) as Any).contains("D0860AB04E1B8FA3"))
    }

    @Test func revealedValueAndEqualityUseTheValue() {
        #expect(Secret("a").revealedValue == "a")
        #expect(Secret("a") == Secret("a"))
        #expect(Secret("a") != Secret("b"))
    }

    @Test func secretIsNotEncodable() {
        // `Secret` must never reach JSON by accident.
        #expect(!(Secret("x") is any Encodable))
    }
}
