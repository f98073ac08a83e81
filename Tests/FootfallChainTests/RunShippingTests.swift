@testable import FootfallChain
import FootfallAggregate
import FootfallCore
@testable import FootfallGateway
import FootfallOutput
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// `run`'s output side as `Gateway.run` wires it (writer, shipper, retention), against a real
/// PostgreSQL that goes away and comes back.
@Suite("run ships live hours", .enabled(if: ChainTestServer.shouldRun, ChainTestServer.skipReason))
struct RunShippingTests {
    final class TestClock: GatewayClock, @unchecked Sendable {
        let wall: Mutex<Int64>
        init(_ seconds: Int64) { wall = Mutex(seconds * 1_000_000_000) }
        func wallNanos() -> Int64 { wall.withLock { $0 } }
        func monotonicNanos() -> Int64 { wall.withLock { $0 } }
        func advance(hours: Int64) { wall.withLock { $0 += hours * 3_600_000_000_000 } }
    }

    func hour(_ start: Int64, devices: Int) -> PublishedHour {
        let report = HourReport(hourStart: start, utcOffsetSeconds: 3600, partial: false, zones: [
            ZoneHour(zone: "a", devices: devices, visitors: devices - 1, visits: devices, averagePresent: Double(devices) / 4, peakPresent: devices / 2, medianDwellSeconds: 400, p90DwellSeconds: 1200, passersby: 1),
            ZoneHour(zone: ZoneHour.siteWide, devices: devices + 2, visitors: devices, visits: devices + 1, averagePresent: Double(devices) / 3, peakPresent: devices / 2, medianDwellSeconds: 420, p90DwellSeconds: 1300, passersby: 2),
        ], flows: [FlowCount(from: "a", to: "a", transitions: 9)])
        return Suppression.publish(report, privacy: PrivacySettings())
    }

    /// Polls `condition` every 50 ms for up to `seconds`.
    func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    @Test func runShipsEachHourAsWrittenAndSurvivesADatabaseOutageWithoutLosingOne() async throws {
        let db = try await ChainTestServer.makeDatabase()
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 2024-03-07 09:00, 10:00 … local (UTC+1); the clock says it is 11:20 that day.
        let nine: Int64 = 1_709_798_400
        let clock = TestClock(nine + 2 * 3600 + 1200)
        let settings = Settings(
            site: Site(name: "live", clock: HourClock(identifier: "Europe/Prague")!, id: "live-store"),
            zones: [Zone(id: "a", name: "a", rssiThreshold: -70)],
            sensors: [Sensor(id: "s1", zone: 0, feed: .interface("wlan1"))],
            output: OutputSettings(directory: dir, retentionDays: 1, database: db.settings))
        let metrics = GatewayMetrics(sensorIDs: ["s1"], sourceNames: [])
        let (writer, shipperService, writerCore) = Gateway.outputServices(
            settings: settings, directory: dir, clock: HourClock(identifier: "Europe/Prague")!, metrics: metrics, logger: ChainTestServer.logger,
            gatewayClock: clock, shipperBackoff: (.milliseconds(100), .milliseconds(400)))
        let shipper = try #require(shipperService, "a configured database gives run a shipper")
        let group = ServiceGroup(configuration: .init(services: [.init(service: writer), .init(service: shipper)], logger: ChainTestServer.logger))
        let running = Task { try await group.run() }

        // The database is up: the hour is in it soon after it is written.
        writer.publish([hour(nine, devices: 11)])
        #expect(try await eventually(60) { try await db.count("heatmap") == 2 })

        // The database goes away (every connection cut, new ones refused) for two hours.
        try await ChainTestServer.makeAdminRun("ALTER DATABASE \(db.name) ALLOW_CONNECTIONS false")
        try await ChainTestServer.makeAdminRun("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(db.name)'")
        writer.publish([hour(nine + 3600, devices: 12)])
        writer.publish([hour(nine + 7200, devices: 13)])
        #expect(try await eventually(60) { metrics.exposition().contains("footfall_chain_pending_hours 2") })
        #expect(metrics.exposition().contains("footfall_chain_failures_total"))
        // Retention (1 day; every hour here is long past it) keeps what is not shipped.
        clock.advance(hours: 48)
        writerCore.sweepIfDue()
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        #expect(left.isSuperset(of: ["heatmap-2024-03-07T10.csv", "flows-2024-03-07T10.csv", "heatmap-2024-03-07T11.csv", "flows-2024-03-07T11.csv"]))
        #expect(!left.contains("heatmap-2024-03-07T09.csv"), "the shipped hour past retention is deleted")

        // It comes back: the pending hours are shipped without another hour being written.
        try await ChainTestServer.makeAdminRun("ALTER DATABASE \(db.name) ALLOW_CONNECTIONS true")
        #expect(try await eventually(60) { metrics.exposition().contains("footfall_chain_pending_hours 0") })
        let stored = try await db.heatmap(site: "live-store")
        #expect(stored.keys.sorted() == [nine, nine + 3600, nine + 7200])
        let files = try filesAsRows(dir).heatmap
        #expect(stored[nine + 3600] == files[nine + 3600] && stored[nine + 7200] == files[nine + 7200])
        let text = metrics.exposition()
        #expect(text.contains("footfall_chain_hours_shipped_total 3"))
        #expect(text.contains("footfall_chain_last_success_timestamp_seconds \(clock.wallNanos() / 1_000_000_000)"))

        writer.close()
        await group.triggerGracefulShutdown()
        _ = await running.result
        await db.drop()
    }
}
