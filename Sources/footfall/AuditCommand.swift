import ArgumentParser
import FootfallOutput
import Foundation

/// `footfall audit <output-dir>`: checks an output directory the way a privacy auditor would
/// (PRIVACY.md). Exits 0 with a one-line summary when clean, 1 with `file:line: finding`
/// lines otherwise.
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

    @Argument(help: "The output directory to check.")
    var outputDirectory: String

    @Option(help: "Smallest count that may be published (privacy.k).")
    var k: Int = 5

    @Option(help: "Retention in days (output.retention_days); 0 skips the age check.")
    var retentionDays: Int = 90

    func validate() throws {
        guard k >= 1 else { throw ValidationError("--k must be at least 1") }
        guard retentionDays >= 0 else { throw ValidationError("--retention-days must be 0 or more") }
    }

    func run() throws {
        let now = Int64(Date().timeIntervalSince1970)
        let report: AuditReport
        do {
            report = try Audit.run(directory: outputDirectory, k: k, retentionDays: retentionDays == 0 ? nil : retentionDays, now: now)
        } catch {
            throw ValidationError(error.description)
        }
        print(report.text)
        if !report.isClean { throw ExitCode(1) }
    }
}
