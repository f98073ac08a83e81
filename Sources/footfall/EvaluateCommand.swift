import ArgumentParser
import FootfallCore
import FootfallPipeline

/// `footfall evaluate [--json] --config F --ground-truth CSV... capture@sensor...`: how close
/// the hourly people-present estimate comes to hand counts.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Compare the hourly people-present estimate (avg_present of the ALL row) with hand counts.",
        discussion: """
            Runs the replay pipeline over the captures without writing files or suppressing \
            small counts, and compares each local hour's avg_present of the ALL row with the \
            time-weighted mean of the ground truth (CSV with the columns datetime and \
            occupancy, local time, ; or , separated, nan = unknown). Hours without ground \
            truth are skipped; hours without any frame count as an estimate of 0. Prints \
            MAE, RMSE and Pearson r over all hours. Hand-counted hours outside the \
            captures' time are named in a warning; captures and ground truth without an \
            hour in common are an error (exit status 65) naming both time ranges.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print one JSON object: {\"hours\": [{\"hour_start\", \"estimate\", \"truth\"}...], \"mae\", \"rmse\", \"r\"}.")
    var json = false

    @Option(name: .shortAndLong, help: "The configuration file (YAML).")
    var config: String

    @Option(name: .customLong("ground-truth"), parsing: .upToNextOption, help: "Occupancy CSV files (datetime, occupancy); their rows are merged.")
    var groundTruth: [String] = []

    @Argument(help: "Capture files (pcap or pcapng), each as <file>@<sensor id>.")
    var captures: [String] = []

    /// `--ground-truth a.csv b.csv day.pcap@position_1` reads on to the captures; the values
    /// that name a capture (`<file>@<sensor id>`, a sensor id has no `/` or `.`) go back to them.
    var split: (truth: [String], captures: [String]) {
        var truth: [String] = []
        var moved: [String] = []
        for value in groundTruth {
            if let at = value.lastIndex(of: "@"), case let sensor = value[value.index(after: at)...],
               !sensor.isEmpty, !sensor.contains("/"), !sensor.contains(".") {
                moved.append(value)
            } else {
                truth.append(value)
            }
        }
        return (truth, moved + captures)
    }

    func validate() throws {
        let (truth, captures) = split
        if truth.isEmpty { throw ValidationError("name at least one ground-truth CSV file with --ground-truth") }
        if captures.isEmpty { throw ValidationError("name at least one capture as <file>@<sensor id>") }
        for capture in captures {
            do { _ = try ReplayInput(argument: capture) } catch { throw ValidationError(error.message) }
        }
    }

    func run() throws {
        let logger = global.makeHardenedLogger()
        let (truth, captures) = split
        logger.debug("evaluation starting", metadata: ["evaluate.captures": "\(captures.count)", "evaluate.ground_truth_files": "\(truth.count)"])
        do {
            let evaluation = try Evaluate.run(configPath: config, groundTruth: truth, arguments: captures)
            for warning in evaluation.warnings { printError("footfall evaluate: warning: \(warning)") }
            print(json ? evaluation.json : evaluation.table)
        } catch {
            printError((error.isConfiguration ? "" : "footfall evaluate: error: ") + error.message)
            throw exitStatus(of: error)
        }
    }
}
