@testable import FootfallChain
import FootfallAggregate
import FootfallCore
import FootfallOutput
import Foundation
import Logging
import PostgresNIO
import Testing

/// The throwaway PostgreSQL the chain tests use, started by `scripts/test-postgres.sh start`
/// (CI does this in `.ci/run`), which exports its URL and password file.
///
/// Without it the tests skip, saying why; in CI (`CI=true`) they run anyway and fail, so a
/// CI machine without the server cannot pass by skipping.
enum ChainTestServer {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["FOOTFALL_TEST_DATABASE_URL"]
    static let passwordFile = environment["FOOTFALL_TEST_DATABASE_PASSWORD_FILE"]
    static var inCI: Bool { environment["CI"].map { !$0.isEmpty } ?? false }
    /// Run the tests: a server is there, or CI requires one.
    static var shouldRun: Bool { url != nil || inCI }
    static let skipReason: Comment = "skipped: no test PostgreSQL (FOOTFALL_TEST_DATABASE_URL is unset); start one with: eval \"$(scripts/test-postgres.sh start)\" (CI does, and there these tests never skip)"

    static let logger: Logger = {
        var logger = Logger(label: "chain-test")
        logger.logLevel = .warning
        return logger
    }()

    /// The server's superuser settings for `database`.
    static func superuser(database: String = "postgres") throws -> DatabaseSettings {
        guard let url else {
            Issue.record("CI=true but FOOTFALL_TEST_DATABASE_URL is unset: .ci/run must start scripts/test-postgres.sh")
            throw Unavailable()
        }
        guard case .success(let parts) = DatabaseSettings.parseURL(url) else { throw Unavailable() }
        return DatabaseSettings(host: parts.host, port: parts.port, user: parts.user, database: database, passwordFile: passwordFile, tls: .disable, retentionDays: 3650)
    }

    struct Unavailable: Error {}

    /// A fresh database of its own (tests run in parallel), migrated; dropped by `drop()`.
    static func makeDatabase(migrated: Bool = true) async throws -> TestDatabase {
        let name = "footfall_t_" + String(UInt64.random(in: 0 ... .max), radix: 16)
        let admin = try await ChainConnection.connect(try superuser(), logger: logger)
        try await admin.run(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        await admin.close()
        let db = TestDatabase(name: name, settings: try superuser(database: name))
        if migrated {
            let c = try await db.connect()
            _ = try await c.migrate()
            await c.close()
        }
        return db
    }
}

/// One test's database on the test server.
struct TestDatabase: Sendable {
    let name: String
    let settings: DatabaseSettings

    func connect() async throws -> ChainConnection {
        try await ChainConnection.connect(settings, logger: ChainTestServer.logger)
    }

    /// Runs a script of statements (each ending with `;` at a line's end) as the superuser.
    func script(_ text: String) async throws {
        let c = try await connect()
        for statement in text.components(separatedBy: ";\n") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            try await c.run(PostgresQuery(unsafeSQL: statement))
        }
        await c.close()
    }

    /// Runs SQL as the superuser, returning the rows.
    @discardableResult
    func sql(_ text: String) async throws -> [PostgresRow] {
        let c = try await connect()
        defer { Task { await c.close() } }
        return try await c.run(PostgresQuery(unsafeSQL: text))
    }

    func drop() async {
        guard let admin = try? await ChainConnection.connect(try ChainTestServer.superuser(), logger: ChainTestServer.logger) else { return }
        _ = try? await admin.run(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
        await admin.close()
    }

    /// Every heatmap row of a site as the files show them: hour → rows (zone order).
    func heatmap(site: String) async throws -> [Int64: [HeatmapFileRow]] {
        let rows = try await sql("""
            SELECT extract(epoch FROM hour_start)::int8, zone, devices::int8, visitors::int8, visits::int8, avg_present, peak_present::int8,
                   median_dwell_s::int8, p90_dwell_s::int8, passersby::int8, array_to_string(suppressed, ';'), partial,
                   dwell_0_5m::int8, dwell_5_15m::int8, dwell_15_30m::int8, dwell_30_60m::int8, dwell_60m_plus::int8, listened_s::int8
            FROM footfall.heatmap WHERE site_id = '\(site)' ORDER BY hour_start, zone
            """)
        var result: [Int64: [HeatmapFileRow]] = [:]
        for row in rows {
            let (start, zone, devices, visitors, visits, avg, peak, median, p90, passersby, suppressed, _, d0, d1, d2, d3, d4, listened) =
                try row.decode((Int64, String, Int?, Int?, Int?, Double?, Int?, Int?, Int?, Int?, String, Bool, Int?, Int?, Int?, Int?, Int?, Int?).self)
            result[start, default: []].append(HeatmapFileRow(zone: zone, devices: devices, visitors: visitors, visits: visits, averagePresent: avg, peakPresent: peak,
                                                         medianDwellSeconds: median, p90DwellSeconds: p90, passersby: passersby,
                                                         dwellBands: [d0, d1, d2, d3, d4], listenedSeconds: listened,
                                                         suppressed: suppressed.isEmpty ? [] : suppressed.split(separator: ";").map(String.init)))
        }
        return result
    }

    func flows(site: String) async throws -> [Int64: [FlowFileRow]] {
        let rows = try await sql("""
            SELECT extract(epoch FROM hour_start)::int8, from_zone, to_zone, transitions::int8, array_to_string(suppressed, ';')
            FROM footfall.flows WHERE site_id = '\(site)' ORDER BY hour_start, from_zone, to_zone
            """)
        var result: [Int64: [FlowFileRow]] = [:]
        for row in rows {
            let (start, from, to, transitions, suppressed) = try row.decode((Int64, String, String, Int?, String).self)
            result[start, default: []].append(FlowFileRow(from: from, to: to, transitions: transitions, suppressed: suppressed.isEmpty ? [] : suppressed.split(separator: ";").map(String.init)))
        }
        return result
    }

    /// A fingerprint of every stored row version (`xmin` changes when a row is rewritten).
    func rowVersions() async throws -> [String] {
        try await sql("SELECT site_id || '/' || hour_start || '/' || zone || '/' || xmin::text FROM footfall.heatmap UNION ALL SELECT site_id || '/' || hour_start || '/' || from_zone || '>' || to_zone || '/' || xmin::text FROM footfall.flows ORDER BY 1")
            .map { try $0.decode(String.self) }
    }

    func count(_ table: String, site: String? = nil) async throws -> Int {
        let filter = site.map { " WHERE site_id = '\($0)'" } ?? ""
        return try await sql("SELECT count(*) FROM footfall.\(table)\(filter)").first!.decode(Int.self)
    }
}

/// The hour files of a directory as the database should hold them.
func filesAsRows(_ directory: String) throws -> (heatmap: [Int64: [HeatmapFileRow]], flows: [Int64: [FlowFileRow]]) {
    var heatmap: [Int64: [HeatmapFileRow]] = [:]
    var flows: [Int64: [FlowFileRow]] = [:]
    for hour in try ShippingJournal(directory: directory).allHours() {
        let h = try HourFileReader.read(directory: directory, hour: hour)
        heatmap[h.hourStart] = h.heatmapRows.sorted { $0.zone < $1.zone }
        if !h.flowRows.isEmpty { flows[h.hourStart] = h.flowRows.sorted { ($0.from, $0.to) < ($1.from, $1.to) } }
    }
    return (heatmap, flows)
}

/// A scratch directory removed by the caller.
func scratchDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-chain-\(UInt64.random(in: 0 ... .max))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Writes hours with footfall's own suppression and writer (Europe/Prague, k = 5): zones a
/// and b, where b is small enough to be withheld, and flows, one of them withheld.
func writeHours(_ directory: String, starts: [Int64], partial: Bool = false, scale: Int = 1, extraFlow: Bool = false) throws {
    let clock = HourClock(identifier: "Europe/Prague")!
    let writer = HourFileWriter(directory: directory, clock: clock)
    for (i, start) in starts.enumerated() {
        let n = 10 + i * scale
        var flows = [FlowCount(from: "a", to: "b", transitions: n), FlowCount(from: "b", to: "a", transitions: 3)]
        if extraFlow { flows.append(FlowCount(from: "a", to: "a", transitions: 6)) }
        let report = HourReport(hourStart: start, utcOffsetSeconds: clock.utcOffset(at: start), partial: partial, zones: [
            ZoneHour(zone: "a", devices: n, visitors: n - 2, visits: n - 1, averagePresent: Double(n) / 3, peakPresent: n / 2, medianDwellSeconds: 300, p90DwellSeconds: 900, passersby: 2),
            ZoneHour(zone: "b", devices: 3, visitors: 2, visits: 2, averagePresent: 0.5, peakPresent: 1, medianDwellSeconds: 200, p90DwellSeconds: 400, passersby: 1),
            ZoneHour(zone: ZoneHour.siteWide, devices: n + 3, visitors: n, visits: n + 1, averagePresent: Double(n) / 2.5, peakPresent: n / 2 + 1, medianDwellSeconds: 320, p90DwellSeconds: 1000, passersby: 3),
        ], flows: flows)
        try writer.write(Suppression.publish(report, privacy: PrivacySettings()))
    }
}

/// A configuration file for `footfall push` against `db`.
func pushConfig(directory: String, site: String, db: TestDatabase, user: String? = nil, passwordFile: String? = nil) throws -> String {
    let path = directory + "-config.yaml"
    let settings = db.settings
    let yaml = """
        site:
          id: \(site)
          time_zone: Europe/Prague
        zones:
          - id: a
          - id: b
        sensors:
          - id: s1
            zone: a
            file: true
        output:
          directory: \(directory)
          database:
            url: postgresql://\(user ?? settings.user)@\(settings.host):\(settings.port)/\(settings.database)
            password_file: \(passwordFile ?? settings.passwordFile ?? "")
            tls: disable

        """
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
