import ArgumentParser
import FootfallCore
import FootfallGateway

/// `footfall run --config F [--output DIR]`: the live collector on the store gateway.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Capture probe requests from every live source in the configuration and write hourly files.",
        discussion: """
            Sources are monitor-mode interfaces (sensors[].interface) and TZSP or PEEKREMOTE streams \
            from access points (sensors[].tzsp, sensors[].peekremote). Runs until SIGTERM or SIGINT, then writes the hour in progress \
            with partial=true and exits 0. SIGHUP reloads zone thresholds, sensor placement, opening \
            hours, the RSSI floor, k and the opt-out file without losing counts or changing the key; \
            an invalid file is refused and the running configuration stays in force. Logs go to \
            stderr (journald under systemd). See docs/operating.md.

            Exit status: 0 after a clean shutdown, 78 for an invalid configuration, 1 otherwise.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .shortAndLong, help: "The configuration file (YAML).")
    var config: String

    @Option(name: .shortAndLong, help: "Directory for the CSV files (overrides output.directory).")
    var output: String?

    func run() async throws {
        let logger = global.makeLogger()
        do {
            try await Gateway.run(configPath: config, outputDirectory: output, logger: logger)
        } catch {
            printError((error.isConfiguration ? "" : "footfall run: error: ") + error.message)
            throw exitStatus(of: error)
        }
    }
}
