@testable import FootfallChain
import FootfallCore
import FootfallOutput
import FootfallTestSupport
import Foundation
import Testing

/// `footfall push` and the shipper behind it, against a real PostgreSQL.
@Suite("Shipping hours to the chain's database", .enabled(if: ChainTestServer.shouldRun, ChainTestServer.skipReason))
struct ChainPushTests {
    /// 2024-03-07 09:00 Europe/Prague (08:00 UTC).
    static let morning: Int64 = 1_709_798_400

    @Test func pushOfAReplayedDayHoldsExactlyTheRowsOfTheFilesAndASecondPushChangesNothing() async throws {
        let db = try await ChainTestServer.makeDatabase()
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures/brno-sc6-61").path
        let replay = try FootfallExecutable.run([
            "replay", "--config", "config/examples/brno-lab.yaml", "--output", dir,
            "\(fixtures)/2024-03-07_position_1.pcap@position_1", "\(fixtures)/2024-03-07_position_2.pcap@position_2",
        ])
        try #require(replay.status == 0, "\(replay.stderr)")
        let config = try pushConfig(directory: dir, site: "brno-lab", db: db)
        defer { try? FileManager.default.removeItem(atPath: config) }

        let first = try FootfallExecutable.run(["push", "--config", config])
        #expect(first.status == 0, "\(first.stderr)")
        let files = try filesAsRows(dir)
        try #require(files.heatmap.count >= 3, "the replayed day has several hours")
        #expect(first.stdout.contains("shipped \(files.heatmap.count) hour(s)"), "\(first.stdout)")

        // Exactly the files' rows, value for value, NULL where withheld.
        let stored = try await db.heatmap(site: "brno-lab")
        #expect(stored == files.heatmap)
        #expect(try await db.flows(site: "brno-lab") == files.flows)
        let fileDevices = files.heatmap.values.flatMap { $0 }.filter { $0.zone == "ALL" }.compactMap(\.devices).reduce(0, +)
        let dbDevices = try await db.sql("SELECT coalesce(sum(devices), 0)::int8 FROM footfall.heatmap WHERE zone = 'ALL'").first!.decode(Int.self)
        #expect(dbDevices == fileDevices && fileDevices > 0)

        // A second push sends nothing and rewrites no row.
        let versions = try await db.rowVersions()
        let second = try FootfallExecutable.run(["push", "--config", config])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("shipped 0 hour(s)"), "\(second.stdout)")
        #expect(try await db.rowVersions() == versions)

        // Even with the journal gone, shipping everything again leaves every row as it was.
        try FileManager.default.removeItem(atPath: dir + "/" + ShippingJournal.fileName)
        let third = try FootfallExecutable.run(["push", "--config", config])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stdout.contains("shipped \(files.heatmap.count) hour(s)"), "\(third.stdout)")
        #expect(try await db.rowVersions() == versions)

        // The shipping journal is not an audit finding.
        let audit = try FootfallExecutable.run(["audit", dir, "--retention-days", "0"])
        #expect(audit.status == 0, "\(audit.stdout)")
        await db.drop()
    }

    @Test func twoStoresSitSideBySideUnderTheirOwnSiteIDs() async throws {
        let db = try await ChainTestServer.makeDatabase()
        let dirA = try scratchDirectory(), dirB = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dirA); try? FileManager.default.removeItem(atPath: dirB) }
        try writeHours(dirA, starts: [Self.morning, Self.morning + 3600])
        try writeHours(dirB, starts: [Self.morning, Self.morning + 3600, Self.morning + 7200], scale: 5)
        for (dir, site) in [(dirA, "store-a"), (dirB, "store-b")] {
            let report = try await HourShipper(directory: dir, site: site, settings: db.settings, logger: ChainTestServer.logger).shipPending()
            #expect(report.shipped == (site == "store-a" ? 2 : 3))
        }
        #expect(try await db.heatmap(site: "store-a") == filesAsRows(dirA).heatmap)
        #expect(try await db.heatmap(site: "store-b") == filesAsRows(dirB).heatmap)
        #expect(try await db.count("heatmap") == 15)
        // The analysts' day view: one row per store, person-hours add, peaks do not.
        let days = try await db.sql("SELECT site_id, hours::int8, person_hours FROM footfall.site_day ORDER BY site_id").map { try $0.decode((String, Int, Double?).self) }
        #expect(days.map(\.0) == ["store-a", "store-b"])
        #expect(days.map(\.1) == [2, 3])
        let published = try filesAsRows(dirA).heatmap.values.flatMap { $0 }.filter { $0.zone == "ALL" }.compactMap(\.averagePresent)
        if published.isEmpty {
            #expect(days[0].2 == nil, "every hour's avg_present withheld: no person-hours")
        } else {
            #expect(abs((days[0].2 ?? -1) - published.reduce(0, +)) < 1e-9)
        }
        await db.drop()
    }

    @Test func aPartialHourIsReplacedByItsFinalVersionWithoutLeftoverRows() async throws {
        let db = try await ChainTestServer.makeDatabase()
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shipper = HourShipper(directory: dir, site: "s1", settings: db.settings, logger: ChainTestServer.logger)
        // The partial hour at a shutdown has a flow its final version does not.
        try writeHours(dir, starts: [Self.morning], partial: true, extraFlow: true)
        #expect(try await shipper.shipPending().shipped == 1)
        #expect(try await db.sql("SELECT bool_and(partial) FROM footfall.heatmap").first!.decode(Bool.self) == true)
        #expect(try await db.count("flows") == 3)

        try writeHours(dir, starts: [Self.morning], partial: false, scale: 0)
        #expect(try ShippingJournal(directory: dir).pending().count == 1, "a rewritten hour is pending again")
        #expect(try await shipper.shipPending().shipped == 1)
        #expect(try await db.sql("SELECT bool_or(partial) FROM footfall.heatmap").first!.decode(Bool.self) == false)
        #expect(try await db.heatmap(site: "s1") == filesAsRows(dir).heatmap)
        #expect(try await db.flows(site: "s1") == filesAsRows(dir).flows)
        #expect(try await db.count("flows") == 2)
        await db.drop()
    }

    @Test func theNightTheClocksGoBackKeepsBothHoursThatShareOneLocalLabel() async throws {
        let db = try await ChainTestServer.makeDatabase()
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 2024-10-27 in Prague: 02:00 CEST (00:00 UTC) and 02:00 CET (01:00 UTC).
        let first: Int64 = 1_729_987_200
        try writeHours(dir, starts: [first - 3600, first, first + 3600, first + 7200])
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("heatmap-") }.sorted()
        #expect(names.contains("heatmap-2024-10-27T02+0200.csv") && names.contains("heatmap-2024-10-27T02+0100.csv"))
        #expect(try await HourShipper(directory: dir, site: "s1", settings: db.settings, logger: ChainTestServer.logger).shipPending().shipped == 4)
        let rows = try await db.sql("""
            SELECT to_char(local_start, 'YYYY-MM-DD HH24:MI'), extract(epoch FROM hour_start)::int8 FROM footfall.heatmap
            WHERE zone = 'ALL' ORDER BY hour_start
            """).map { try $0.decode((String, Int64).self) }
        #expect(rows.map(\.0) == ["2024-10-27 01:00", "2024-10-27 02:00", "2024-10-27 02:00", "2024-10-27 03:00"])
        #expect(rows.map(\.1) == [first - 3600, first, first + 3600, first + 7200])
        #expect(try await db.heatmap(site: "s1") == filesAsRows(dir).heatmap)
        // The day view counts the long day's hours, both 02:00s included.
        #expect(try await db.sql("SELECT hours::int8 FROM footfall.site_day").first!.decode(Int.self) == 4)
        await db.drop()
    }

    @Test func pushWithTheDatabaseDownFailsClearlyInBoundedTimeAndALaterPushCatchesUp() async throws {
        let db = try await ChainTestServer.makeDatabase()
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeHours(dir, starts: (0 ..< 6).map { Self.morning + Int64($0) * 3600 })
        // Nothing listens on this port: the database is down.
        var down = db.settings
        down.port = try freeTCPPort()
        let downConfig = try pushConfig(directory: dir, site: "s1", db: TestDatabase(name: db.name, settings: down))
        defer { try? FileManager.default.removeItem(atPath: downConfig) }
        let started = ContinuousClock.now
        let failed = try FootfallExecutable.run(["push", "--config", downConfig, "--connect-timeout", "3"])
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(failed.status == 69, "\(failed.stdout)\(failed.stderr)")
        #expect(failed.stderr.contains("cannot reach the chain's database at \(down.host):\(down.port)"), "\(failed.stderr)")
        #expect(try ShippingJournal(directory: dir).pending().count == 6, "nothing is acknowledged")

        let config = try pushConfig(directory: dir, site: "s1", db: db)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let later = try FootfallExecutable.run(["push", "--config", config])
        #expect(later.status == 0, "\(later.stderr)")
        #expect(try await db.heatmap(site: "s1") == filesAsRows(dir).heatmap)
        await db.drop()
    }

    @Test func aConnectionLostMidPushLosesNoHourAndTheNextPushCompletesIt() async throws {
        let db = try await ChainTestServer.makeDatabase()
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Hours on both sides of a month's end (UTC): 2024-03-31 20:00 … 2024-04-01 03:00 UTC.
        let lastOfMarch: Int64 = 1_711_915_200
        try writeHours(dir, starts: (0 ..< 8).map { lastOfMarch + Int64($0) * 3600 })
        let c = try await db.connect()
        try await c.ensureMonth(lastOfMarch)
        try await c.ensureMonth(lastOfMarch + 7 * 3600)
        // Hold April's partition so the shipper stops there, then cut its connection.
        let lock = try await db.connect()
        try await lock.run("BEGIN")
        try await lock.run("LOCK TABLE footfall.heatmap_2024_04 IN ACCESS EXCLUSIVE MODE")
        let shipper = HourShipper(directory: dir, site: "s1", settings: db.settings, logger: ChainTestServer.logger)
        let push = Task { try await shipper.shipPending() }
        var waited = 0
        // Counted in March's partition: the table as a whole waits for April's lock.
        func march() async throws -> Int { try await db.sql("SELECT count(*)::int8 FROM footfall.heatmap_2024_03").first!.decode(Int.self) }
        while try await march() < 12, waited < 200 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        // Let the shipper reach April's lock, then kill its backend as a broken link would.
        try await Task.sleep(for: .milliseconds(300))
        try await c.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> \(try await lock.run("SELECT pg_backend_pid()").first!.decode(Int32.self))")
        let result = await push.result
        try await lock.run("ROLLBACK")
        await lock.close()
        await c.close()
        guard case .failure(let error) = result else {
            Issue.record("the push should have failed when its connection was cut")
            return
        }
        #expect((error as? ChainError)?.code == .unreachable, "\(error)")
        // March's four hours are in and acknowledged; April's are pending, none half-written.
        #expect(try await march() == 12)
        #expect(try await db.count("heatmap") == 12)
        #expect(try ShippingJournal(directory: dir).pending().count == 4)
        #expect(try await shipper.shipPending().shipped == 4)
        #expect(try await db.heatmap(site: "s1") == filesAsRows(dir).heatmap)
        #expect(try await db.flows(site: "s1") == filesAsRows(dir).flows)
        await db.drop()
    }

    @Test func pruneDropsWholeMonthsAndRowsPastRetentionAndKeepsTheRest() async throws {
        let db = try await ChainTestServer.makeDatabase()
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Hours in January, February and March 2024.
        let january: Int64 = 1_704_103_200, february: Int64 = 1_706_781_600, march: Int64 = 1_709_798_400
        try writeHours(dir, starts: [january, february, february + 86400 * 10, march])
        _ = try await HourShipper(directory: dir, site: "s1", settings: db.settings, logger: ChainTestServer.logger).shipPending()
        let c = try await db.connect()
        // Now: 2024-03-07 09:00 UTC; 30 days back is 2024-02-06: January goes whole, the
        // first February hour goes by row, the later one stays.
        let result = try await c.prune(olderThanDays: 30, now: march + 3600)
        await c.close()
        #expect(result.droppedPartitions.sorted() == ["flows_2024_01", "heatmap_2024_01"])
        #expect(result.deletedRows == 3 + 2)
        let left = try await db.sql("SELECT DISTINCT extract(epoch FROM hour_start)::int8 FROM footfall.heatmap ORDER BY 1").map { try $0.decode(Int64.self) }
        #expect(left == [february + 86400 * 10, march])
        await db.drop()
    }

    @Test func storesCreatingTheSameMonthAtOnceAllSucceed() async throws {
        let db = try await ChainTestServer.makeDatabase()
        // Eight connections ask for the same new month at the same moment.
        let july: Int64 = 1_719_835_200
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0 ..< 8 {
                group.addTask {
                    let c = try await db.connect()
                    do {
                        try await c.ensureMonth(july)
                    } catch {
                        await c.close()
                        throw error
                    }
                    await c.close()
                }
            }
            try await group.waitForAll()
        }
        let partitions = try await db.sql("SELECT count(*)::int8 FROM pg_class WHERE relname IN ('heatmap_2024_07', 'flows_2024_07')").first!.decode(Int.self)
        #expect(partitions == 2)
        await db.drop()
    }

    @Test func migrateCreatesTheSchemaOnceAndRecordsItsVersion() async throws {
        let db = try await ChainTestServer.makeDatabase(migrated: false)
        let c = try await db.connect()
        #expect(try await c.schemaVersion() == 0)
        #expect(try await c.migrate() == ChainSchema.migrations.map(\.version))
        #expect(try await c.migrate() == [])
        #expect(try await c.schemaVersion() == ChainSchema.currentVersion)
        // Every key leads with site_id (ready for Citus: it is the distribution column).
        let keys = try await c.run("""
            SELECT c.relname::text, a.attname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'footfall' AND i.indisprimary AND c.relname IN ('heatmap', 'flows')
            """).map { try $0.decode((String, String).self) }
        #expect(keys.count == 2 && keys.allSatisfy { $0.1 == "site_id" })
        await c.close()
        await db.drop()
    }

    /// P19: nothing reaches the chain that the hour files do not show. The tables have the
    /// files' columns, plus the store's id and the hour's local label, and nothing else.
    @Test func chainTablesHoldOnlyTheColumnsOfTheHourFiles() async throws {
        let db = try await ChainTestServer.makeDatabase()
        func columns(_ table: String) async throws -> Set<String> {
            Set(try await db.sql("SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'footfall' AND table_name = '\(table)'").map { try $0.decode(String.self) })
        }
        let added: Set<String> = ["site_id", "local_start"]
        #expect(try await columns("heatmap") == Set(HeatmapCSV.heatmapHeader.split(separator: ",").map(String.init)).union(added))
        #expect(try await columns("flows") == Set(HeatmapCSV.flowsHeader.split(separator: ",").map(String.init)).union(added))
        // No other table holds store data (store_roles maps database roles to site ids).
        let tables = try await db.sql("SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'footfall' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1").map { try $0.decode(String.self) }
        #expect(tables == ["flows", "heatmap", "schema_version", "store_roles"])
        await db.drop()
    }
}

/// A TCP port on 127.0.0.1 nothing listens on (bound and released).
func freeTCPPort() throws -> Int {
    let result = try runProgram("/usr/bin/env", ["python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
    return Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 1
}
