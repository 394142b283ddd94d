internal import CLibvirt

extension Domain {
    /// Migrates the domain to the daemon at `destinationURI`, peer to peer: the source daemon connects to the
    /// destination itself, so only this connection is needed.
    ///
    /// **Blocks until the migration ends**, which can take minutes: call it from a dedicated thread, never from
    /// the cooperative pool. ``abortJob()`` from another thread makes it fail with
    /// ``LibvirtError/Code/operationAborted`` and the guest keeps running here.
    /// ``MigrationFlags/peerToPeer`` is always added. The corresponding C function is `virDomainMigrateToURI3`.
    ///
    /// - Parameters:
    ///   - destinationURI: The destination daemon's libvirt URI, as the *source* daemon reaches it.
    ///   - parameters: Typed migration parameters.
    ///   - flags: Migration flags.
    /// - Throws: ``LibvirtError`` when the migration fails or is aborted.
    public func migrate(
        to destinationURI: String,
        parameters: MigrationParameters = MigrationParameters(),
        flags: MigrationFlags = [.live]
    ) throws(LibvirtError) {
        let list = try parameters.typedParameters()
        let flags = flags.union(.peerToPeer)
        let result = list.withUnsafeParameters { parameters, count in
            virDomainMigrateToURI3(self.pointer, destinationURI, parameters, UInt32(count), flags.rawValue)
        }
        try check(result, "virDomainMigrateToURI3")
    }

    /// Aborts the domain's current job, such as a running migration.
    ///
    /// The corresponding C function is `virDomainAbortJob`.
    public func abortJob() throws(LibvirtError) {
        try check(virDomainAbortJob(self.pointer), "virDomainAbortJob")
    }

    /// Pauses a post-copy migration whose connection broke, or that runs, so that it can be resumed later with
    /// ``MigrationFlags/postCopyResume`` (a post-copy migration cannot be undone).
    ///
    /// The corresponding C function is `virDomainAbortJobFlags` with `VIR_DOMAIN_ABORT_JOB_POSTCOPY`.
    public func pausePostCopy() throws(LibvirtError) {
        try check(
            virDomainAbortJobFlags(self.pointer, UInt32(VIR_DOMAIN_ABORT_JOB_POSTCOPY.rawValue)),
            "virDomainAbortJobFlags"
        )
    }

    /// Sets the longest time the guest may be paused at the end of a live migration. Takes effect in the
    /// running migration.
    ///
    /// The corresponding C function is `virDomainMigrateSetMaxDowntime`.
    public func setMaximumDowntime(_ downtime: Duration) throws(LibvirtError) {
        let milliseconds = UInt64(max(1, downtime / .milliseconds(1)))
        try check(virDomainMigrateSetMaxDowntime(self.pointer, milliseconds, 0), "virDomainMigrateSetMaxDowntime")
    }

    /// The longest time the guest may be paused at the end of a live migration.
    ///
    /// The corresponding C function is `virDomainMigrateGetMaxDowntime`.
    public func maximumDowntime() throws(LibvirtError) -> Duration {
        var milliseconds: UInt64 = 0
        try check(virDomainMigrateGetMaxDowntime(self.pointer, &milliseconds, 0), "virDomainMigrateGetMaxDowntime")
        return .milliseconds(Int64(clamping: milliseconds))
    }

    /// Sets the migration bandwidth cap in MiB/s. Takes effect in the running migration.
    ///
    /// The corresponding C function is `virDomainMigrateSetMaxSpeed`.
    public func setMaximumSpeed(mebibytesPerSecond: UInt64) throws(LibvirtError) {
        try check(
            virDomainMigrateSetMaxSpeed(self.pointer, UInt(mebibytesPerSecond), 0),
            "virDomainMigrateSetMaxSpeed"
        )
    }

    /// The migration bandwidth cap in MiB/s.
    ///
    /// The corresponding C function is `virDomainMigrateGetMaxSpeed`.
    public func maximumSpeed() throws(LibvirtError) -> UInt64 {
        var speed: UInt = 0
        try check(virDomainMigrateGetMaxSpeed(self.pointer, &speed, 0), "virDomainMigrateGetMaxSpeed")
        return UInt64(speed)
    }

    /// Switches a running migration that was started with ``MigrationFlags/postCopy`` to post-copy: the guest
    /// runs on the destination from now on and fetches the rest of its memory from here. Cannot be undone.
    ///
    /// The corresponding C function is `virDomainMigrateStartPostCopy`.
    public func startPostCopy() throws(LibvirtError) {
        try check(virDomainMigrateStartPostCopy(self.pointer, 0), "virDomainMigrateStartPostCopy")
    }
}
