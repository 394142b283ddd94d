import Libvirt
import Testing

@testable import Migration

@Suite struct MigrationCheckTests {
    let xml = """
        <domain type='kvm'>
          <name>db1</name>
          <cpu mode='custom' match='exact'><model fallback='forbid'>Skylake-Server</model></cpu>
          <devices>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2' cache='writeback'/>
              <source file='/var/lib/libvirt/images/db1.qcow2'/>
              <target dev='vda' bus='virtio'/>
            </disk>
            <disk type='file' device='cdrom'>
              <source file='/iso/install.iso'/>
              <target dev='sda' bus='sata'/>
              <readonly/>
            </disk>
            <disk type='block' device='disk'>
              <driver name='qemu' type='raw' cache='none'/>
              <source dev='/dev/mapper/shared-lun'/>
              <target dev='vdb' bus='virtio'/>
            </disk>
          </devices>
        </domain>
        """

    @Test func theDomainXMLGivesTypeCPUAndDisks() throws {
        let definition = try DomainDefinition(xml: self.xml)
        #expect(definition.type == "kvm")
        #expect(definition.cpuMode == "custom")
        #expect(definition.cpuXML?.contains("Skylake-Server") == true)
        #expect(definition.disks.map(\.target) == ["vda", "sda", "vdb"])
        #expect(definition.disks[0].path == "/var/lib/libvirt/images/db1.qcow2")
        #expect(definition.disks[0].cacheMode == "writeback")
        #expect(definition.disks[1].readOnly && definition.disks[1].device == "cdrom")
        #expect(definition.disks[2].path == "/dev/mapper/shared-lun")
    }

    @Test func aDiskTheDestinationDoesNotSeeFailsUnlessItIsCopied() throws {
        let definition = try DomainDefinition(xml: self.xml)
        let sharedLunOnly = { (path: String) in path == "/dev/mapper/shared-lun" }
        let refused = MigrationCheck.storage(definition, copyStorage: false, destinationSees: sharedLunOnly)
        #expect(refused[0].status == .fail)
        #expect(refused[0].detail.contains("vda (/var/lib/libvirt/images/db1.qcow2)"))
        #expect(!refused[0].detail.contains("sda"))  // the CD-ROM is not moved
        let copied = MigrationCheck.storage(definition, copyStorage: true, destinationSees: sharedLunOnly)
        #expect(copied[0].status == .pass)
    }

    @Test func aSharedDiskWithAnUnsafeCacheModeFails() throws {
        let definition = try DomainDefinition(xml: self.xml)
        let results = MigrationCheck.storage(definition, copyStorage: false) { _ in true }
        #expect(results[0].status == .pass)
        #expect(results[1].status == .fail)
        #expect(results[1].detail.contains("vda cache=writeback"))
        #expect(!results[1].detail.contains("vdb"))  // cache=none is safe
    }

    @Test(arguments: [
        (UInt64(256) << 20, UInt64(4096) << 20, CheckResult.Status.pass),
        (UInt64(256) << 20, UInt64(300) << 20, .warn),
        (UInt64(8192) << 20, UInt64(4096) << 20, .fail),
    ])
    func destinationMemory(needed: UInt64, free: UInt64, status: CheckResult.Status) {
        #expect(MigrationCheck.memoryResult(needed: needed, free: free).status == status)
    }

    @Test func theCPUComparisonCountsOnlyWhenTheSourcePassesIt() {
        #expect(MigrationCheck.cpuResult(source: .identical, destination: .incompatible).status == .fail)
        #expect(MigrationCheck.cpuResult(source: .incompatible, destination: .incompatible).status == .warn)
        #expect(MigrationCheck.cpuResult(source: .identical, destination: .superset).status == .pass)
    }

    @Test func anyFailureRefuses() {
        #expect(MigrationCheck.wouldMigrate([CheckResult("a", .pass, ""), CheckResult("b", .warn, "")]))
        #expect(!MigrationCheck.wouldMigrate([CheckResult("a", .pass, ""), CheckResult("b", .fail, "")]))
    }

    /// The TLS check connects to `qemu+tls://HOST/system` for the host each URI names.
    @Test(arguments: [
        ("qemu+tcp://10.77.0.2/system", "10.77.0.2"),
        ("qemu+ssh://root@hostB/system?keyfile=/k", "hostB"),
        ("qemu+tls://hostB:16514/system", "hostB"),
        ("qemu+tcp://[fd00::2]/system", "fd00::2"),
    ])
    func theHostOfAURI(uri: String, host: String) {
        #expect(MigrationCheck.host(of: uri) == host)
        #expect(!MigrationCheck.bracketed(host).contains("[") || host.contains(":"))
    }

    @Test(arguments: ["qemu:///system", "test:///default", "hostb"])
    func aLocalURIOrAnAliasNamesNoHost(uri: String) {
        #expect(MigrationCheck.host(of: uri) == nil)
    }

    @Test func anIPv6HostIsBracketedInTheURI() {
        #expect(MigrationCheck.bracketed("fd00::2") == "[fd00::2]")
        #expect(MigrationCheck.bracketed("hostB") == "hostB")
    }
}
