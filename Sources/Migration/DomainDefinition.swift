import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// What the migration checks need from a domain's XML: its type, its CPU definition and its disks.
public struct DomainDefinition: Sendable, Hashable {
    public struct Disk: Sendable, Hashable {
        /// The target name, for example `vda`.
        public var target: String
        /// `disk`, `cdrom`, `floppy`, `lun`.
        public var device: String
        /// `file`, `block`, `network`, `volume`.
        public var type: String
        /// The file or device path, when the disk has one.
        public var path: String?
        /// The cache mode (`none`, `writeback`, …), when set.
        public var cacheMode: String?
        public var readOnly: Bool
        public var shareable: Bool
    }

    /// `kvm` or `qemu`.
    public var type: String
    /// The `<cpu>` element as XML, when the domain has one.
    public var cpuXML: String?
    /// The CPU mode (`custom`, `host-model`, `host-passthrough`, `maximum`), when set.
    public var cpuMode: String?
    public var disks: [Disk]

    /// Reads a domain XML document.
    public init(xml: String) throws(MigrationError) {
        let document: XMLDocument
        do {
            document = try XMLDocument(xmlString: xml, options: [])
        } catch {
            throw MigrationError(.invalidRequest, "the domain XML cannot be read: \(error.localizedDescription)")
        }
        let root = document.rootElement()
        self.type = root?.attribute(forName: "type")?.stringValue ?? "kvm"
        let cpu = root?.elements(forName: "cpu").first
        self.cpuXML = cpu?.xmlString
        self.cpuMode = cpu?.attribute(forName: "mode")?.stringValue
        let disks = root?.elements(forName: "devices").first?.elements(forName: "disk") ?? []
        self.disks = disks.map { disk in
            let source = disk.elements(forName: "source").first
            return Disk(
                target: disk.elements(forName: "target").first?.attribute(forName: "dev")?.stringValue ?? "?",
                device: disk.attribute(forName: "device")?.stringValue ?? "disk",
                type: disk.attribute(forName: "type")?.stringValue ?? "file",
                path: source?.attribute(forName: "file")?.stringValue ?? source?.attribute(forName: "dev")?.stringValue,
                cacheMode: disk.elements(forName: "driver").first?.attribute(forName: "cache")?.stringValue,
                readOnly: !disk.elements(forName: "readonly").isEmpty,
                shareable: !disk.elements(forName: "shareable").isEmpty
            )
        }
    }
}
