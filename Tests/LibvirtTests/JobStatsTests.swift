import Testing

@testable import Libvirt

@Suite struct JobStatsTests {
    /// What libvirt 9.0 reports for a completed migration (field names and types as in `virsh domjobinfo`).
    private func completedMigrationParameters() throws -> TypedParameterBuilder {
        var builder = TypedParameterBuilder()
        try builder.add("operation", Int32(2))
        try builder.add("time_elapsed", UInt64(2_412))
        try builder.add("time_elapsed_net", UInt64(2_410))
        try builder.add("downtime", UInt64(37))
        try builder.add("downtime_net", UInt64(35))
        try builder.add("setup_time", UInt64(9))
        try builder.add("data_total", UInt64(277_086_208))
        try builder.add("data_processed", UInt64(4_403_112))
        try builder.add("data_remaining", UInt64(0))
        try builder.add("memory_total", UInt64(277_086_208))
        try builder.add("memory_processed", UInt64(4_403_112))
        try builder.add("memory_remaining", UInt64(0))
        try builder.add("memory_constant", UInt64(66_870))
        try builder.add("memory_normal", UInt64(765))
        try builder.add("memory_normal_bytes", UInt64(3_133_440))
        try builder.add("memory_bps", UInt64(1_262_383_104))
        try builder.add("memory_dirty_rate", UInt64(12))
        try builder.add("memory_page_size", UInt64(4096))
        try builder.add("memory_iteration", UInt64(3))
        try builder.add("memory_postcopy_requests", UInt64(0))
        try builder.add("auto_converge_throttle", Int32(20))
        try builder.add("success", true)
        return builder
    }

    @Test func completedMigrationStatisticsDecodeWithUnits() throws {
        let stats = try self.completedMigrationParameters().withView { JobStats(type: .completed, $0) }
        #expect(stats.type == .completed)
        #expect(stats.operation == 2)
        #expect(stats.timeElapsed == .milliseconds(2_412))
        #expect(stats.timeElapsedNet == .milliseconds(2_410))
        #expect(stats.downtime == .milliseconds(37))
        #expect(stats.downtimeNet == .milliseconds(35))
        #expect(stats.setupTime == .milliseconds(9))
        #expect(stats.dataTotal == 277_086_208)
        #expect(stats.dataProcessed == 4_403_112)
        #expect(stats.dataRemaining == 0)
        #expect(stats.memoryConstantPages == 66_870)
        #expect(stats.memoryNormalPages == 765)
        #expect(stats.memoryNormalBytes == 3_133_440)
        #expect(stats.memoryBytesPerSecond == 1_262_383_104)
        #expect(stats.memoryDirtyRate == 12)
        #expect(stats.memoryPageSize == 4096)
        #expect(stats.memoryIteration == 3)
        #expect(stats.memoryPostCopyRequests == 0)
        #expect(stats.autoConvergeThrottle == 20)
        #expect(stats.success == true)
        #expect(stats.errorMessage == nil)
        #expect(stats.diskTotal == nil)
        #expect(stats.compressionBytes == nil)
    }

    @Test func fieldsTheHypervisorDidNotReportStayNil() {
        let stats = TypedParameterBuilder().withView { JobStats(type: .unbounded, $0) }
        #expect(stats == JobStats(type: .unbounded))
        #expect(stats.type.isActive)
    }

    @Test func failedJobCarriesItsErrorMessage() throws {
        var builder = TypedParameterBuilder()
        try builder.add("success", false)
        try builder.add("errmsg", "operation aborted: migration out job: canceled by client")
        let stats = builder.withView { JobStats(type: .failed, $0) }
        #expect(stats.success == false)
        #expect(stats.errorMessage == "operation aborted: migration out job: canceled by client")
        #expect(!stats.type.isActive)
    }

    @Test(arguments: [
        (JobType.none, "none", false), (.bounded, "bounded", true), (.unbounded, "unbounded", true),
        (.completed, "completed", false), (.failed, "failed", false), (.cancelled, "cancelled", false),
        (JobType(rawValue: 99), "type 99", false),
    ])
    func jobTypesNameThemselves(type: JobType, name: String, active: Bool) {
        #expect(type.description == name)
        #expect(type.isActive == active)
    }
}
