import ArgumentParser
import FootfallCore
import FootfallOutput
import Foundation

extension HeatmapMetric: ExpressibleByArgument {}

/// `footfall render <output-dir>`: draws the hourly heatmap CSV files as one SVG picture per
/// local day, for store planners. Reads only the CSV files, so a picture shows exactly what
/// `footfall audit` checked.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Draw the hourly heatmap files of an output directory as one SVG picture per day.",
        discussion: """
        One row per zone (then ALL), one column per local hour, each cell coloured by the \
        chosen column on a colour-blind-safe scale with its value printed; withheld cells are \
        hatched, partial hours framed with a dashed line, hours without a file left blank. \
        Below the grid: the day's zone-to-zone transitions. Pictures are written as \
        heatmap-YYYY-MM-DD.svg into --output (default: the current directory, not the CSV \
        directory, which footfall audit expects to hold only CSV files).
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The output directory with the hourly CSV files.")
    var outputDirectory: String

    @Option(name: .shortAndLong, help: "A directory for the pictures (created if missing), or FILE.svg when one day is drawn (default: the current directory).")
    var output: String?

    @Option(help: "Draw only this local day (YYYY-MM-DD; default: every day present).")
    var day: String?

    @Option(help: "The column the cells are coloured by.")
    var metric: HeatmapMetric = .averagePresent

    @Option(help: "The site's IANA time zone (site.time_zone): labels the hours without a file exactly on a clock-change day.")
    var timeZone: String?

    func validate() throws {
        if let day {
            let c = Array(day.utf8)
            let digits = [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy { $0 < c.count && c[$0] >= 48 && c[$0] <= 57 }
            guard c.count == 10, digits, c[4] == UInt8(ascii: "-"), c[7] == UInt8(ascii: "-") else {
                throw ValidationError("--day must be a date YYYY-MM-DD")
            }
        }
        if let timeZone, HourClock(identifier: timeZone) == nil {
            throw ValidationError("--time-zone must be an IANA time zone such as Europe/Prague")
        }
    }

    func run() throws {
        let logger = global.makeLogger()
        let clock = timeZone.flatMap { HourClock(identifier: $0) }
        do {
            let written = try HeatmapPicture.render(directory: outputDirectory, output: output, day: day, metric: metric, clock: clock)
            logger.debug("pictures written", metadata: ["render.count": "\(written.count)"])
            for path in written { print(path) }
        } catch {
            printError("footfall render: \(error.message)")
            throw exitStatus(of: error)
        }
    }
}
