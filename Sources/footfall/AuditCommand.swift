import ArgumentParser
import FootfallCore
import FootfallConfig
import FootfallOutput
import Foundation

/// `footfall audit <output-dir>`: checks an output directory the way a privacy auditor would
/// (PRIVACY.md). Exits 0 with a one-line summary when clean, 1 with `file:line: finding`
/// lines otherwise, 2 when the directory cannot be read.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check an output directory for anything that could identify a person.",
        discussion: """
        Checks file names and headers, looks for MAC-like tokens (any spelling) and runs of 12 \
        or more hex digits, requires hour_start on the hour, no published count below k and \
        no file older than the retention. Findings name file and line, never the text found.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The output directory to check.")
    var outputDirectory: String

    @Option(name: .shortAndLong, help: "The configuration the files were written with: takes k and the retention from it.")
    var config: String?

    @Option(help: "Smallest count that may be published (default: privacy.k of --config, else 5).")
    var k: Int?

    @Option(help: "Retention in days (default: output.retention_days of --config, else 90); 0 skips the age check.")
    var retentionDays: Int?

    func validate() throws {
        if let k, k < 1 { throw ValidationError("--k must be at least 1") }
        if let retentionDays, retentionDays < 0 { throw ValidationError("--retention-days must be 0 or more") }
    }

    func run() throws {
        let now = Int64(Date().timeIntervalSince1970)
        var k = 5, retentionDays = 90
        if let config {
            do {
                let settings = try ConfigLoader.load(path: config)
                k = settings.privacy.k
                retentionDays = settings.output.retentionDays
            } catch {
                printError("\(error)")
                throw exitStatus(of: error)
            }
        }
        k = self.k ?? k
        retentionDays = self.retentionDays ?? retentionDays
        let report: AuditReport
        do {
            report = try Audit.run(directory: outputDirectory, k: k, retentionDays: retentionDays == 0 ? nil : retentionDays, now: now)
        } catch {
            FileHandle.standardError.write(Data("footfall audit: \(error.description)\n".utf8))
            throw exitStatus(of: error)
        }
        print(report.text)
        if !report.isClean { throw exitStatus(.failure) }
    }
}
