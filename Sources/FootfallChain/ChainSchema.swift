/// The `footfall` schema in the chain's PostgreSQL, as numbered migrations.
///
/// `footfall db migrate` applies the missing ones in order, in one transaction, under an
/// advisory lock (two gateways migrating at once wait for each other), and records each in
/// `footfall.schema_version`. A migration, once released, is never edited: a change is a new
/// migration.
public enum ChainSchema {
    public struct Migration: Sendable {
        public var version: Int
        public var description: String
        public var sql: [String]
    }

    /// The newest version this footfall writes against; the shipper refuses an older schema.
    public static var currentVersion: Int { migrations.last!.version }

    public static let migrations: [Migration] = [
        Migration(version: 1, description: "heatmap and flows by site and hour, monthly partitions, analysts' views", sql: [
            """
            CREATE TABLE footfall.heatmap (
                site_id        text        NOT NULL CHECK (site_id ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
                hour_start     timestamptz NOT NULL,
                local_start    timestamp   NOT NULL,
                zone           text        NOT NULL,
                devices        integer,
                visitors       integer,
                visits         integer,
                avg_present    double precision,
                peak_present   integer,
                median_dwell_s integer,
                p90_dwell_s    integer,
                passersby      integer,
                dwell_0_5m     integer,
                dwell_5_15m    integer,
                dwell_15_30m   integer,
                dwell_30_60m   integer,
                dwell_60m_plus integer,
                listened_s     integer,
                suppressed     text[]      NOT NULL DEFAULT '{}',
                partial        boolean     NOT NULL,
                PRIMARY KEY (site_id, hour_start, zone)
            ) PARTITION BY RANGE (hour_start)
            """,
            """
            CREATE TABLE footfall.flows (
                site_id     text        NOT NULL CHECK (site_id ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
                hour_start  timestamptz NOT NULL,
                local_start timestamp   NOT NULL,
                from_zone   text        NOT NULL,
                to_zone     text        NOT NULL,
                transitions integer,
                suppressed  text[]      NOT NULL DEFAULT '{}',
                PRIMARY KEY (site_id, hour_start, from_zone, to_zone)
            ) PARTITION BY RANGE (hour_start)
            """,
            "COMMENT ON TABLE footfall.heatmap IS 'One row per site, hour and zone (zone ALL: the whole site), as in the store''s heatmap-*.csv; NULL where the store withheld a value (fewer than k people)'",
            "COMMENT ON TABLE footfall.flows IS 'One row per site, hour and zone pair, as in the store''s flows-*.csv; NULL where withheld'",
            "COMMENT ON COLUMN footfall.heatmap.local_start IS 'The store''s local wall-clock label of the hour; two hours share one on the night the clocks go back'",
            // Which store each database role ships for; the row-level security policies in
            // docs/chain.md read it through footfall.site_of(current_user).
            """
            CREATE TABLE footfall.store_roles (
                role_name name PRIMARY KEY,
                site_id   text NOT NULL UNIQUE CHECK (site_id ~ '^[a-z0-9][a-z0-9-]{0,63}$')
            )
            """,
            """
            CREATE FUNCTION footfall.site_of(role_name name) RETURNS text
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
            AS $$ SELECT s.site_id FROM footfall.store_roles s WHERE s.role_name = site_of.role_name $$
            """,
            // Partitions are created on demand by whichever store ships the month's first hour;
            // a store role may not run DDL, so this function (owned by the schema's owner) does
            // it for them, and nothing else. Months are UTC calendar months.
            """
            CREATE FUNCTION footfall.ensure_month(t timestamptz) RETURNS void
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC'
            AS $$
            DECLARE
                first timestamptz := date_trunc('month', t);
                next  timestamptz := date_trunc('month', t) + interval '1 month';
                suffix text := to_char(t, 'YYYY_MM');
            BEGIN
                IF to_regclass('footfall.heatmap_' || suffix) IS NOT NULL AND to_regclass('footfall.flows_' || suffix) IS NOT NULL THEN
                    RETURN;
                END IF;
                PERFORM pg_advisory_xact_lock(hashtext('footfall.partitions'));
                IF to_regclass('footfall.heatmap_' || suffix) IS NULL THEN
                    EXECUTE format('CREATE TABLE footfall.%I PARTITION OF footfall.heatmap FOR VALUES FROM (%L) TO (%L)', 'heatmap_' || suffix, first, next);
                END IF;
                IF to_regclass('footfall.flows_' || suffix) IS NULL THEN
                    EXECUTE format('CREATE TABLE footfall.%I PARTITION OF footfall.flows FOR VALUES FROM (%L) TO (%L)', 'flows_' || suffix, first, next);
                END IF;
            END
            $$
            """,
            "REVOKE ALL ON FUNCTION footfall.ensure_month(timestamptz) FROM PUBLIC",
            "REVOKE ALL ON FUNCTION footfall.site_of(name) FROM PUBLIC",
            // Views for analysts. Distinct counts (devices, visitors, visits) do not add across
            // hours: the same person in two hours is one person, not two. A day is therefore
            // described by what does add (person-hours, transitions) and by maxima.
            """
            CREATE VIEW footfall.site_day AS
            SELECT site_id,
                   local_start::date                        AS local_day,
                   count(*)                                 AS hours,
                   count(*) FILTER (WHERE partial)          AS partial_hours,
                   sum(avg_present)                         AS person_hours,
                   max(peak_present)                        AS peak_present,
                   max(visitors)                            AS busiest_hour_visitors,
                   count(*) FILTER (WHERE avg_present IS NULL OR visitors IS NULL) AS hours_withheld
            FROM footfall.heatmap
            WHERE zone = 'ALL'
            GROUP BY site_id, local_start::date
            """,
            "COMMENT ON VIEW footfall.site_day IS 'Per site and local day (the ALL row): person-hours (sum of avg_present) and peaks. No daily visitor total: distinct counts do not add across hours'",
            """
            CREATE VIEW footfall.busiest_hours AS
            SELECT site_id,
                   extract(isodow FROM local_start)::int    AS iso_weekday,
                   extract(hour FROM local_start)::int      AS local_hour,
                   count(avg_present)                       AS days,
                   round(avg(avg_present)::numeric, 2)      AS mean_present,
                   max(peak_present)                        AS peak_present
            FROM footfall.heatmap
            WHERE zone = 'ALL' AND NOT partial
            GROUP BY site_id, 3, 2
            """,
            "COMMENT ON VIEW footfall.busiest_hours IS 'Per site, weekday and local hour of day: mean people present over the days published, for ranking a store''s busiest hours'",
            """
            CREATE VIEW footfall.flows_day AS
            SELECT site_id, local_start::date AS local_day, from_zone, to_zone,
                   sum(transitions) AS transitions,
                   count(*) FILTER (WHERE transitions IS NULL) AS hours_withheld
            FROM footfall.flows
            GROUP BY site_id, local_start::date, from_zone, to_zone
            """,
            "COMMENT ON VIEW footfall.flows_day IS 'Zone-to-zone transitions per site and local day (transitions are events, so they add); withheld hours are counted, not guessed'",
        ]),
        // Two stores creating the same month at once: the second waits on the advisory lock
        // but may still see the catalogue as it was, so it tries to create the partition
        // again. The duplicate is the expected outcome, not an error.
        Migration(version: 2, description: "ensure_month tolerates a partition created concurrently", sql: [
            """
            CREATE OR REPLACE FUNCTION footfall.ensure_month(t timestamptz) RETURNS void
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC'
            AS $$
            DECLARE
                first timestamptz := date_trunc('month', t);
                next  timestamptz := date_trunc('month', t) + interval '1 month';
                suffix text := to_char(t, 'YYYY_MM');
            BEGIN
                IF to_regclass('footfall.heatmap_' || suffix) IS NOT NULL AND to_regclass('footfall.flows_' || suffix) IS NOT NULL THEN
                    RETURN;
                END IF;
                PERFORM pg_advisory_xact_lock(hashtext('footfall.partitions'));
                BEGIN
                    EXECUTE format('CREATE TABLE footfall.%I PARTITION OF footfall.heatmap FOR VALUES FROM (%L) TO (%L)', 'heatmap_' || suffix, first, next);
                EXCEPTION WHEN duplicate_table THEN NULL;
                END;
                BEGIN
                    EXECUTE format('CREATE TABLE footfall.%I PARTITION OF footfall.flows FOR VALUES FROM (%L) TO (%L)', 'flows_' || suffix, first, next);
                EXCEPTION WHEN duplicate_table THEN NULL;
                END;
            END
            $$
            """,
            "REVOKE ALL ON FUNCTION footfall.ensure_month(timestamptz) FROM PUBLIC",
        ]),
    ]

    /// Statements run before any migration, idempotent.
    static let bootstrap: [String] = [
        "CREATE SCHEMA IF NOT EXISTS footfall",
        """
        CREATE TABLE IF NOT EXISTS footfall.schema_version (
            version     integer     PRIMARY KEY,
            description text        NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )
        """,
    ]
}
