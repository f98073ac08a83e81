import ArgumentParser
import FootfallCore
import FootfallCapture
import FootfallPipeline
import Logging

/// `footfall stats`: what is in a set of capture files, before any configuration.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count frames, probe requests and distinct devices in capture files.",
        discussion: """
        Reads the files in the order given (pcap or pcapng, link type radiotap 127 or raw \
        802.11 105) and prints totals over all of them: frames, probe requests, probe \
        requests with a bad FCS, malformed frames, distinct source addresses of probe \
        requests, and the same per UTC hour. Addresses are counted under a random key made \
        for this run and destroyed at exit; no address is printed or stored.

        Exit status:
          0   every file was read to its end
          64  bad arguments
          65  a file is damaged (cut short, or a record cannot be read); stderr
              names the file and the byte offset, and the numbers printed count
              every record before the damage; or records were dropped for their
              time (before 2000, or more than 1 h from their neighbours), which
              stderr names the same way
          66  a file cannot be opened or is not an 802.11 capture; nothing is
              printed
        """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Argument(help: ArgumentHelp("Capture files, read in order.", valueName: "capture"))
    var captures: [String] = []

    func validate() throws {
        if captures.isEmpty {
            throw ValidationError("Give at least one capture file, e.g. `footfall stats capture.pcap`.")
        }
    }

    func run() async throws {
        let logger = global.makeHardenedLogger()
        var collector = StatsCollector()
        var damaged = false
        for path in captures {
            logger.debug("reading capture file", metadata: ["capture.file": "\(path)"])
            do {
                try collector.add(file: path)
            } catch where error.footfallError.code == .data {
                printError("footfall stats: warning: \(error.message)")
                damaged = true
            } catch {
                printError("footfall stats: error: \(error.message)")
                throw exitStatus(of: error)
            }
        }
        for message in collector.droppedTimes {
            printError("footfall stats: warning: \(message)")
            damaged = true
        }
        let statistics = collector.finish()
        print(json ? statistics.json() : statistics.table())
        logger.debug("capture files read", metadata: ["stats.files": "\(captures.count)", "stats.frames": "\(statistics.frames)"])
        if damaged {
            printError("footfall stats: some input was damaged; the numbers above count everything before the damage (exit status 65)")
            throw exitStatus(.data)
        }
    }
}
