import ArgumentParser
import FootfallCore
import FootfallPipeline
import Foundation

/// `footfall replay --config F --output DIR capture@sensor...`: the collector run over
/// capture files, with time taken from the captures.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Turn capture files into hourly heatmap CSV files, as the live collector would.",
        discussion: """
            Records of all files are merged by capture time. End of input counts as a shutdown: \
            the last hour is written with partial=true.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .shortAndLong, help: "The configuration file (YAML).")
    var config: String

    @Option(name: .shortAndLong, help: "Directory for the CSV files (overrides output.directory).")
    var output: String?

    @Argument(help: "Capture files (pcap or pcapng), each as <file>@<sensor id>.")
    var captures: [String] = []

    func validate() throws {
        if captures.isEmpty { throw ValidationError("name at least one capture as <file>@<sensor id>") }
        for capture in captures {
            do { _ = try ReplayInput(argument: capture) } catch { throw ValidationError(error.message) }
        }
    }

    func run() throws {
        let logger = global.makeHardenedLogger()
        let summary: ReplaySummary
        do {
            let progress: (any ReplayProgress)? = TerminalProgress.isTerminal ? TerminalProgress() : nil
            logger.debug("replay starting", metadata: ["replay.captures": "\(captures.count)"])
            summary = try Replay.run(configPath: config, outputDirectory: output, arguments: captures, progress: progress)
        } catch {
            printError((error.isConfiguration ? "" : "footfall replay: error: ") + error.message)
            throw exitStatus(of: error)
        }
        let p = summary.parse
        var line = "replay: \(summary.filesWritten.count) files written (\(summary.hoursWritten) hours), \(p.frames) frames, \(p.probeRequests) probe requests, \(p.malformed) malformed"
        if summary.gated > 0 { line += ", \(summary.gated) dropped by the gate" }
        if summary.tracker.late > 0 { line += ", \(summary.tracker.late) late" }
        if summary.truncatedFiles > 0 { line += ", \(summary.truncatedFiles) damaged files" }
        printError(line)
        if !summary.damage.isEmpty {
            for message in summary.damage { printError("footfall replay: warning: \(message)") }
            printError("footfall replay: some input was damaged; the files above count everything before the damage (exit status 65)")
            throw exitStatus(.data)
        }
    }
}
