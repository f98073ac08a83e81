import ArgumentParser
import FootfallConfig
import FootfallCore
import FootfallOutput
import Foundation

/// `footfall report DIR --config F --output R.html`: the planners' report, one self-contained
/// HTML file with the weeks and days side by side, the floor plan and a day × hour grid per
/// zone. Reads only footfall's own files (the hourly CSV files and the configuration).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the store planners' report of an output directory as one HTML file.",
        discussion: """
        Weeks and days side by side (visitor-hours, busiest hour, most people present), the \
        floor plan (site.floor_plan, zones[].area) coloured by zone with the movements between \
        zones as arrows, and a day × hour grid of visitors per zone with zone names from the \
        configuration. One HTML file with inline CSS and SVG: no script, nothing fetched from \
        elsewhere; it prints on A4 landscape. Every number is as written in the hourly files.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The output directory with the hourly CSV files.")
    var outputDirectory: String

    @Option(help: "The configuration the files were written with (zone names, floor plan, k).")
    var config: String

    @Option(name: .shortAndLong, help: "The HTML file to write (e.g. report.html).")
    var output: String

    @Option(help: "First local day of the period (YYYY-MM-DD; default: the first day with files).")
    var from: String?

    @Option(help: "Last local day of the period (YYYY-MM-DD; default: the last day with files).")
    var to: String?

    static func isDate(_ text: String) -> Bool {
        let c = Array(text.utf8)
        let digits = [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy { $0 < c.count && c[$0] >= 48 && c[$0] <= 57 }
        return c.count == 10 && digits && c[4] == UInt8(ascii: "-") && c[7] == UInt8(ascii: "-")
    }

    func validate() throws {
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, !Self.isDate(value) { throw ValidationError("\(name) must be a date YYYY-MM-DD") }
        }
        if let from, let to, from > to { throw ValidationError("--from must not be after --to") }
        guard output.lowercased().hasSuffix(".html") || output.lowercased().hasSuffix(".htm") else {
            throw ValidationError("--output must name an .html file")
        }
    }

    func run() throws {
        let logger = global.makeLogger()
        let settings: Settings
        do {
            settings = try ConfigLoader.load(path: config)
        } catch {
            printError(error.description)
            throw exitStatus(of: error)
        }
        do {
            let report = try PlannerReport.read(directory: outputDirectory, settings: settings, from: from, to: to)
            let bytes = try report.write(to: output)
            logger.debug("report written", metadata: ["report.days": "\(report.days.count)", "report.bytes": "\(bytes)"])
            print(output)
        } catch {
            printError("footfall report: \(error.message)")
            throw exitStatus(of: error)
        }
    }
}
