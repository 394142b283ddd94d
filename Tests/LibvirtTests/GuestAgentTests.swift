import Testing

@testable import Libvirt

/// A domain's guest agent: the channel its XML declares, and the guest's clock through it.
@Suite struct GuestAgentTests {
    @Test func aConnectedAgentChannelIsFound() {
        let xml = """
            <domain><devices>
              <channel type='unix'>
                <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-1-g/org.qemu.guest_agent.0'/>
                <target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>
                <address type='virtio-serial' controller='0' bus='0' port='1'/>
              </channel>
            </devices></domain>
            """
        #expect(GuestAgentChannel(domainXML: xml) == .present(connected: true))
    }

    @Test func aChannelWithoutAnAgentIsDisconnected() {
        let xml = """
            <channel type='unix'><target state="disconnected" type="virtio" name="org.qemu.guest_agent.0"/></channel>
            """
        #expect(GuestAgentChannel(domainXML: xml) == .present(connected: false))
    }

    @Test func otherChannelsAreNoAgent() {
        let xml =
            "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0' state='connected'/></channel>"
        #expect(GuestAgentChannel(domainXML: xml) == GuestAgentChannel.none)
        #expect(GuestAgentChannel(domainXML: "<domain/>") == GuestAgentChannel.none)
    }

}

extension TestDriverTests {
    /// libvirt's test driver answers `virDomainGetTime` with a fixed clock: 627319920 s (1989-11-17). In the
    /// serialized suite: another of its tests pauses the shared fake domain.
    @Test func theGuestsClockIsReadThroughTheAgent() throws {
        let connection = try Connection(uri: "test:///default")
        let time = try connection.domain(named: "test").guestTime()
        #expect(time.components.seconds == 627_319_920)
    }
}
