import FootfallCore
import struct Foundation.Date
import FootfallOutput
import Logging
import PostgresNIO

/// What footfall does in the chain's database: migrate the schema, ship an hour, prune.
extension ChainConnection {
    /// Applies the migrations the database lacks; returns the versions applied (empty when
    /// the schema is current). Needs the rights of the schema's owner, not a store's role.
    public func migrate() async throws(ChainError) -> [Int] {
        try await transaction { c in
            try await c.query("SELECT pg_advisory_xact_lock(hashtext('footfall.migrate'))", logger: logger)
            for statement in ChainSchema.bootstrap { try await c.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
            var current = 0
            for try await version in try await c.query("SELECT coalesce(max(version), 0) FROM footfall.schema_version", logger: logger).decode(Int.self) {
                current = version
            }
            var applied: [Int] = []
            for migration in ChainSchema.migrations where migration.version > current {
                for statement in migration.sql { try await c.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await c.query("INSERT INTO footfall.schema_version (version, description) VALUES (\(migration.version), \(migration.description))", logger: logger)
                applied.append(migration.version)
            }
            return applied
        }
    }

    /// The schema's version, 0 when footfall's schema is not there.
    public func schemaVersion() async throws(ChainError) -> Int {
        let rows = try await run("SELECT CASE WHEN to_regclass('footfall.schema_version') IS NULL THEN 0 ELSE 1 END")
        guard let exists = try? rows.first?.decode(Int.self), exists == 1 else { return 0 }
        let versions = try await run("SELECT coalesce(max(version), 0) FROM footfall.schema_version")
        return (try? versions.first?.decode(Int.self)) ?? 0
    }

    /// Refuses to ship into a schema this footfall does not know.
    public func requireCurrentSchema() async throws(ChainError) {
        let version = try await schemaVersion()
        guard version >= ChainSchema.currentVersion else {
            throw ChainError(.schema, "the footfall schema in \(settings.database) at \(settings.host):\(settings.port) is at version \(version), this footfall needs \(ChainSchema.currentVersion): run `footfall db migrate --config F` as the schema's owner")
        }
    }

    /// Creates the UTC month's partitions of `hourStart` when missing (outside any hour's
    /// transaction, so the brief lock it may take is not held while rows are written).
    func ensureMonth(_ hourStart: Int64) async throws(ChainError) {
        try await run("SELECT footfall.ensure_month(to_timestamp(\(hourStart)))")
    }

    /// Writes one hour of one store in one statement (so one transaction): every row of its two files is
    /// inserted or, when already there (a partial version, or a push repeated), updated to
    /// what the files say now; rows of that hour the files no longer have (a partial hour's
    /// flow its final version lacks) are removed. A row whose values are unchanged is not
    /// written at all, so a repeated push changes nothing.
    ///
    /// Withheld values travel as `-1` in the arrays (postgres-nio encodes no NULL inside an
    /// array) and become NULL in the row; published values are never negative.
    public func ship(_ hour: ShippableHour, site: String) async throws(ChainError) {
        let rows = hour.heatmapRows
        let zones = rows.map(\.zone)
        func ints(_ values: [Int?]) -> [Int] { values.map { $0 ?? -1 } }
        let devices = ints(rows.map(\.devices)), visitors = ints(rows.map(\.visitors)), visits = ints(rows.map(\.visits))
        let averagePresent = rows.map { $0.averagePresent ?? -1 }
        let peak = ints(rows.map(\.peakPresent))
        let median = ints(rows.map(\.medianDwellSeconds))
        let p90 = ints(rows.map(\.p90DwellSeconds))
        let passersby = ints(rows.map(\.passersby))
        let bands = (0 ..< 5).map { b in ints(rows.map { $0.dwellBands.count == 5 ? $0.dwellBands[b] : nil }) }
        let listened = ints(rows.map(\.listenedSeconds))
        let suppressed = rows.map { $0.suppressed.joined(separator: ";") }
        let from = hour.flowRows.map(\.from), to = hour.flowRows.map(\.to)
        let transitions = ints(hour.flowRows.map(\.transitions))
        let flowSuppressed = hour.flowRows.map { $0.suppressed.joined(separator: ";") }
        // A bound timestamptz (not to_timestamp(…), which is only stable) lets the planner
        // prune to the hour's partition, so an hour's statements touch and lock that one only.
        let start = Date(timeIntervalSince1970: Double(hour.hourStart)), local = hour.localStart, partial = hour.partial
        // One statement, so one round trip and atomic without BEGIN/COMMIT: the four parts
        // touch disjoint rows (new or changed ones, and ones the files no longer have).
        try await run("""
            WITH heatmap_upsert AS (
                INSERT INTO footfall.heatmap AS h (site_id, hour_start, local_start, zone, devices, visitors, visits, avg_present, peak_present, median_dwell_s, p90_dwell_s, passersby,
                                                   dwell_0_5m, dwell_5_15m, dwell_15_30m, dwell_30_60m, dwell_60m_plus, listened_s, suppressed, partial)
                SELECT \(site), \(start), \(local)::timestamp, r.zone, nullif(r.devices, -1), nullif(r.visitors, -1), nullif(r.visits, -1),
                       nullif(r.avg_present, -1), nullif(r.peak_present, -1), nullif(r.median, -1), nullif(r.p90, -1), nullif(r.passersby, -1),
                       nullif(r.d0, -1), nullif(r.d1, -1), nullif(r.d2, -1), nullif(r.d3, -1), nullif(r.d4, -1), nullif(r.listened, -1),
                       string_to_array(r.suppressed, ';'), \(partial)
                FROM unnest(\(zones)::text[], \(devices)::int8[], \(visitors)::int8[], \(visits)::int8[], \(averagePresent)::float8[], \(peak)::int8[], \(median)::int8[], \(p90)::int8[], \(passersby)::int8[],
                            \(bands[0])::int8[], \(bands[1])::int8[], \(bands[2])::int8[], \(bands[3])::int8[], \(bands[4])::int8[], \(listened)::int8[], \(suppressed)::text[])
                     AS r(zone, devices, visitors, visits, avg_present, peak_present, median, p90, passersby, d0, d1, d2, d3, d4, listened, suppressed)
                ON CONFLICT (site_id, hour_start, zone) DO UPDATE SET
                    local_start = EXCLUDED.local_start, devices = EXCLUDED.devices, visitors = EXCLUDED.visitors, visits = EXCLUDED.visits,
                    avg_present = EXCLUDED.avg_present, peak_present = EXCLUDED.peak_present, median_dwell_s = EXCLUDED.median_dwell_s,
                    p90_dwell_s = EXCLUDED.p90_dwell_s, passersby = EXCLUDED.passersby,
                    dwell_0_5m = EXCLUDED.dwell_0_5m, dwell_5_15m = EXCLUDED.dwell_5_15m, dwell_15_30m = EXCLUDED.dwell_15_30m, dwell_30_60m = EXCLUDED.dwell_30_60m,
                    dwell_60m_plus = EXCLUDED.dwell_60m_plus, listened_s = EXCLUDED.listened_s, suppressed = EXCLUDED.suppressed, partial = EXCLUDED.partial
                WHERE (h.local_start, h.devices, h.visitors, h.visits, h.avg_present, h.peak_present, h.median_dwell_s, h.p90_dwell_s, h.passersby,
                       h.dwell_0_5m, h.dwell_5_15m, h.dwell_15_30m, h.dwell_30_60m, h.dwell_60m_plus, h.listened_s, h.suppressed, h.partial)
                      IS DISTINCT FROM
                      (EXCLUDED.local_start, EXCLUDED.devices, EXCLUDED.visitors, EXCLUDED.visits, EXCLUDED.avg_present, EXCLUDED.peak_present, EXCLUDED.median_dwell_s, EXCLUDED.p90_dwell_s, EXCLUDED.passersby,
                       EXCLUDED.dwell_0_5m, EXCLUDED.dwell_5_15m, EXCLUDED.dwell_15_30m, EXCLUDED.dwell_30_60m, EXCLUDED.dwell_60m_plus, EXCLUDED.listened_s, EXCLUDED.suppressed, EXCLUDED.partial)
                RETURNING 1
            ), heatmap_stale AS (
                DELETE FROM footfall.heatmap
                WHERE site_id = \(site) AND hour_start = \(start) AND zone <> ALL(\(zones)::text[])
                RETURNING 1
            ), flows_upsert AS (
                INSERT INTO footfall.flows AS f (site_id, hour_start, local_start, from_zone, to_zone, transitions, suppressed)
                SELECT \(site), \(start), \(local)::timestamp, r.from_zone, r.to_zone, nullif(r.transitions, -1), string_to_array(r.suppressed, ';')
                FROM unnest(\(from)::text[], \(to)::text[], \(transitions)::int8[], \(flowSuppressed)::text[]) AS r(from_zone, to_zone, transitions, suppressed)
                ON CONFLICT (site_id, hour_start, from_zone, to_zone) DO UPDATE SET
                    local_start = EXCLUDED.local_start, transitions = EXCLUDED.transitions, suppressed = EXCLUDED.suppressed
                WHERE (f.local_start, f.transitions, f.suppressed) IS DISTINCT FROM (EXCLUDED.local_start, EXCLUDED.transitions, EXCLUDED.suppressed)
                RETURNING 1
            ), flows_stale AS (
                DELETE FROM footfall.flows AS f
                WHERE f.site_id = \(site) AND f.hour_start = \(start)
                  AND NOT EXISTS (SELECT 1 FROM unnest(\(from)::text[], \(to)::text[]) AS k(from_zone, to_zone)
                                  WHERE k.from_zone = f.from_zone AND k.to_zone = f.to_zone)
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM heatmap_upsert) + (SELECT count(*) FROM heatmap_stale) + (SELECT count(*) FROM flows_upsert) + (SELECT count(*) FROM flows_stale)
            """)
    }

    /// Removes every hour that started more than `days` days before `now`: whole monthly
    /// partitions once their month is past, rows of the month that straddles the limit. So
    /// no hour outlives the retention, and the common case is a cheap `DROP TABLE`.
    /// - Returns: the partitions dropped and the rows deleted.
    public func prune(olderThanDays days: Int, now: Int64) async throws(ChainError) -> (droppedPartitions: [String], deletedRows: Int) {
        let cutoff = now - Int64(days) * 86400
        var dropped: [String] = []
        let rows = try await run("""
            SELECT c.relname::text
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            JOIN pg_namespace n ON n.oid = p.relnamespace
            WHERE n.nspname = 'footfall' AND p.relname IN ('heatmap', 'flows')
              AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz <= to_timestamp(\(cutoff))
            ORDER BY 1
            """)
        for row in rows {
            guard let name = try? row.decode(String.self) else { continue }
            // Names come from the catalogue and are footfall's own (heatmap_YYYY_MM).
            guard name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }) else { continue }
            try await run(PostgresQuery(unsafeSQL: "DROP TABLE footfall.\(name)"))
            dropped.append(name)
        }
        var deleted = 0
        for table in ["heatmap", "flows"] {
            let result = try await run(PostgresQuery(unsafeSQL: "WITH d AS (DELETE FROM footfall.\(table) WHERE hour_start <= to_timestamp($1) - interval '1 hour' RETURNING 1) SELECT count(*) FROM d", binds: binds(cutoff)))
            deleted += (try? result.first?.decode(Int.self)) ?? 0
        }
        return (dropped, deleted)
    }

    private func binds(_ value: Int64) -> PostgresBindings {
        var b = PostgresBindings()
        b.append(value)
        return b
    }
}
