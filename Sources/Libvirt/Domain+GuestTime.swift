internal import CLibvirt
import Foundation

extension Domain {
    /// The guest's own clock, as its QEMU guest agent reports it.
    ///
    /// The corresponding C function is `virDomainGetTime`. It needs a guest agent in the guest, connected on a
    /// `org.qemu.guest_agent.0` channel, and a connection that is not read-only.
    ///
    /// - Returns: The guest's time since the Unix epoch.
    /// - Throws: ``LibvirtError``: `VIR_ERR_AGENT_UNRESPONSIVE` (``LibvirtError/Code/agentUnresponsive``) when
    ///   no agent answers, `VIR_ERR_OPERATION_INVALID` when the domain is not running.
    public func guestTime() throws(LibvirtError) -> Duration {
        var seconds: Int64 = 0
        var nanoseconds: UInt32 = 0
        try check(virDomainGetTime(self.pointer, &seconds, &nanoseconds, 0), "virDomainGetTime")
        return .seconds(seconds) + .nanoseconds(Int64(nanoseconds))
    }

    /// Sets the guest's clock through its QEMU guest agent.
    ///
    /// The corresponding C function is `virDomainSetTime`.
    ///
    /// - Parameter time: The time to set, since the Unix epoch. `nil` asks the agent to set the guest's system
    ///   clock from its hardware clock, which QEMU keeps in step with the host (`VIR_DOMAIN_TIME_SYNC`): the way
    ///   to catch a guest's clock up after a migration.
    public func setGuestTime(_ time: Duration?) throws(LibvirtError) {
        if let time {
            let (seconds, attoseconds) = time.components
            let nanoseconds = UInt32(clamping: max(0, attoseconds / 1_000_000_000))
            try check(virDomainSetTime(self.pointer, seconds, nanoseconds, 0), "virDomainSetTime")
        } else {
            try check(
                virDomainSetTime(self.pointer, 0, 0, UInt32(VIR_DOMAIN_TIME_SYNC.rawValue)),
                "virDomainSetTime"
            )
        }
    }

    /// Whether the domain's definition has a QEMU guest agent channel (`org.qemu.guest_agent.0`), and whether
    /// libvirt sees the agent connected on it. Reads the live XML (`virDomainGetXMLDesc`).
    public func guestAgentChannel() throws(LibvirtError) -> GuestAgentChannel {
        GuestAgentChannel(domainXML: try self.xmlDescription())
    }
}

/// A domain's QEMU guest agent channel, as its XML describes it.
public enum GuestAgentChannel: Sendable, Hashable {
    /// No `org.qemu.guest_agent.0` channel: the guest's clock cannot be read through libvirt.
    case none
    /// The channel exists; `connected` is libvirt's view of the agent (`state='connected'`).
    case present(connected: Bool)

    /// Reads it from a domain XML: the `<target>` element named `org.qemu.guest_agent.0`, and its `state`.
    public init(domainXML xml: String) {
        guard
            let name = xml.range(of: "name='org.qemu.guest_agent.0'")
                ?? xml.range(of: "name=\"org.qemu.guest_agent.0\""),
            let open = xml[..<name.lowerBound].range(of: "<target", options: .backwards)
        else {
            self = .none
            return
        }
        let element = xml[open.lowerBound...].prefix { $0 != ">" }
        self = .present(connected: element.contains("state='connected'") || element.contains("state=\"connected\""))
    }
}
