import FootfallCore
import FootfallOutput
import Logging

/// Ships the hour files of one output directory (the outbox) to the chain's database: every
/// hour not yet acknowledged in ``FootfallOutput/ShippingJournal``, oldest first, one
/// transaction per hour, each acknowledged in the journal only after its commit. A kill at
/// any point leaves either the hour unacknowledged (shipped again next time, changing
/// nothing) or shipped and acknowledged.
///
/// `footfall push` runs one round; `run`'s shipping service runs a round after every hour
/// written and retries with backoff while the database is away.
public struct HourShipper: Sendable {
    public let directory: String
    public let site: String
    public let settings: DatabaseSettings
    let logger: Logger
    let connectTimeout: Duration

    public init(directory: String, site: String, settings: DatabaseSettings, logger: Logger, connectTimeout: Duration = ChainConnection.defaultConnectTimeout) {
        self.directory = directory
        self.site = site
        self.settings = settings
        self.logger = logger
        self.connectTimeout = connectTimeout
    }

    /// What one round did.
    public struct Report: Sendable, Equatable {
        /// Hours written to the database and acknowledged.
        public var shipped = 0
        /// Hours whose files could not be read as footfall's own (skipped, still pending).
        public var skipped: [HourFileError] = []
        /// Hours still pending after the round (the skipped ones).
        public var pending = 0
        public init() {}
    }

    /// Hours waiting to be shipped now.
    public func pendingCount() -> Int {
        (try? ShippingJournal(directory: directory).pending().count) ?? 0
    }

    /// Ships every pending hour. A file that is not a well-formed hour file is reported
    /// (file and line), counted and skipped; the round goes on with the next hour.
    /// - Throws: ``ChainError`` when the database cannot be reached or refuses; hours
    ///   shipped before the failure stay shipped and acknowledged, the rest stay pending.
    public func shipPending() async throws(ChainError) -> Report {
        let journal = ShippingJournal(directory: directory)
        let hours: [ShippingJournal.PendingHour]
        do {
            hours = try journal.pending()
        } catch {
            throw ChainError(.configuration, error.message)
        }
        var report = Report()
        guard !hours.isEmpty else { return report }
        let connection = try await ChainConnection.connect(settings, logger: logger, connectTimeout: connectTimeout)
        do {
            try await connection.requireCurrentSchema()
            var months = Set<Int64>()
            for hour in hours {
                let shippable: ShippableHour
                do {
                    shippable = try HourFileReader.read(directory: directory, hour: hour)
                } catch {
                    report.skipped.append(error)
                    logger.error("hour file skipped: not a well-formed footfall hour file; it stays pending", metadata: ["chain.file": "\(error.file)", "chain.line": "\(error.line.map(String.init) ?? "-")", "chain.problem": "\(error.message)"])
                    continue
                }
                let month = ChainConnection.monthKey(shippable.hourStart)
                if !months.contains(month) {
                    try await connection.ensureMonth(shippable.hourStart)
                    months.insert(month)
                }
                try await connection.ship(shippable, site: site)
                do {
                    try journal.acknowledge(hour)
                } catch {
                    // Shipped but not recorded: it is shipped again next round, harmlessly.
                    logger.warning("cannot record a shipped hour in the journal; it will be shipped again", metadata: ["chain.error": "\(error.message)"])
                }
                report.shipped += 1
            }
        } catch {
            journal.sync()
            await connection.close()
            throw error
        }
        journal.sync()
        await connection.close()
        report.pending = report.skipped.count
        return report
    }
}

extension ChainConnection {
    /// Year × 12 + month (UTC) of a time: the partition an hour goes to.
    static func monthKey(_ seconds: Int64) -> Int64 {
        let local = LocalTime(utcSeconds: seconds, utcOffsetSeconds: 0)
        return Int64(local.year * 12 + local.month)
    }
}
