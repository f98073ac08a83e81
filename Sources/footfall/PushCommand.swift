import ArgumentParser
import FootfallChain
import FootfallConfig
import FootfallCore
import Foundation
import Logging

/// `footfall push --config F [DIR]`: ships every hour file of the directory that the chain's
/// database has not acknowledged yet (see docs/chain.md).
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Ship the hour files not yet in the chain's database (idempotent).",
        discussion: """
        One transaction per hour; an hour already there is replaced by what its files say now \
        (a partial hour by its final version), and a second push changes nothing. Exit status: \
        0 all shipped, 65 some files were not well-formed hour files (named on stderr, still \
        pending), 69 the database could not be reached (nothing lost; push again later), \
        77 refused (login, permissions, TLS), 78 invalid configuration.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .shortAndLong, help: "The configuration file (site.id and output.database).")
    var config: String

    @Argument(help: "The directory of hour files (default: output.directory of the configuration).")
    var directory: String?

    @Option(help: "Seconds to wait for the database to answer before giving up.")
    var connectTimeout: Int = 10

    func validate() throws {
        guard (1 ... 600).contains(connectTimeout) else { throw ValidationError("--connect-timeout must be between 1 and 600 seconds") }
    }

    func run() async throws {
        let logger = global.makeLogger()
        let (settings, database, site) = try ChainCommandSupport.load(config, needsSite: true)
        let directory = self.directory ?? settings.output.directory
        let shipper = HourShipper(directory: directory, site: site!, settings: database, logger: logger, connectTimeout: .seconds(connectTimeout))
        let report: HourShipper.Report
        do {
            report = try await shipper.shipPending()
        } catch {
            printError("footfall push: \(error.message)")
            throw exitStatus(of: error)
        }
        for problem in report.skipped { printError("footfall push: \(problem) (skipped; the hour stays pending)") }
        print("shipped \(report.shipped) hour(s) of \(site!) to \(database.url); \(report.pending) pending")
        if !report.skipped.isEmpty { throw exitStatus(.data) }
    }
}

/// `footfall db migrate|prune --config F`.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Create, migrate and prune the chain's database schema.",
        subcommands: [Migrate.self, Prune.self]
    )

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or migrate the footfall schema (as the schema's owner).",
            discussion: "Applies the missing migrations in one transaction and records them in footfall.schema_version. Safe to run again."
        )

        @OptionGroup var global: GlobalOptions

        @Option(name: .shortAndLong, help: "A configuration whose output.database names the schema owner's login.")
        var config: String

        func run() async throws {
            let logger = global.makeLogger()
            let (_, database, _) = try ChainCommandSupport.load(config, needsSite: false)
            do {
                let applied = try await ChainCommandSupport.withConnection(database, logger: logger) { try await $0.migrate() }
                print(applied.isEmpty
                      ? "the footfall schema in \(database.url) is current (version \(ChainSchema.currentVersion))"
                      : "migrated the footfall schema in \(database.url) to version \(ChainSchema.currentVersion) (applied \(applied.map(String.init).joined(separator: ", ")))")
            } catch let error as ChainError {
                printError("footfall db migrate: \(error.message)")
                throw exitStatus(of: error)
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the hours older than output.database.retention_days (run nightly).",
            discussion: "Drops whole monthly partitions that are past retention and deletes the older rows of the month that straddles the limit."
        )

        @OptionGroup var global: GlobalOptions

        @Option(name: .shortAndLong, help: "A configuration whose output.database names the schema owner's login.")
        var config: String

        func run() async throws {
            let logger = global.makeLogger()
            let (_, database, _) = try ChainCommandSupport.load(config, needsSite: false)
            do {
                let result = try await ChainCommandSupport.withConnection(database, logger: logger) {
                    try await $0.prune(olderThanDays: database.retentionDays, now: Int64(Date().timeIntervalSince1970))
                }
                print("pruned \(database.url) to \(database.retentionDays) days: \(result.droppedPartitions.count) partition(s) dropped\(result.droppedPartitions.isEmpty ? "" : " (\(result.droppedPartitions.joined(separator: ", ")))"), \(result.deletedRows) older row(s) deleted")
            } catch let error as ChainError {
                printError("footfall db prune: \(error.message)")
                throw exitStatus(of: error)
            }
        }
    }
}

enum ChainCommandSupport {
    /// Connects, runs `body` and closes the connection whether `body` returns or throws.
    static func withConnection<T>(_ database: DatabaseSettings, logger: Logger, _ body: (ChainConnection) async throws -> T) async throws -> T {
        let connection = try await ChainConnection.connect(database, logger: logger)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Loads the configuration and insists on `output.database` (and `site.id` for shipping).
    static func load(_ path: String, needsSite: Bool) throws -> (Settings, DatabaseSettings, String?) {
        let settings: Settings
        do {
            settings = try ConfigLoader.load(path: path)
        } catch {
            printError("\(error)")
            throw exitStatus(of: error)
        }
        let name = (path as NSString).lastPathComponent
        guard let database = settings.output.database else {
            printError("\(name): output.database: missing; this command needs the chain's database (url, password_file, tls)")
            throw exitStatus(.configuration)
        }
        if needsSite, settings.site.id == nil {
            printError("\(name): site.id: missing")
            throw exitStatus(.configuration)
        }
        return (settings, database, settings.site.id)
    }
}
