import ArgumentParser
import FootfallCore
import FootfallGateway
import FootfallPipeline
import Foundation

/// `footfall check-config FILE`: validates a configuration and says what it means.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and print what it means.",
        discussion: """
            Runs every check footfall run runs before capturing (the opt-out file is readable, \
            the output directory writable or creatable) and warns about zones without a sensor \
            and an interface shared by sensors of different zones, and about a system clock that is \
            not set or not synchronised. Exit status: 0 valid, 78 invalid.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The configuration file (YAML).")
    var file: String

    @Option(name: .shortAndLong, help: "The --output that run will be given (checked instead of output.directory).")
    var output: String?

    func run() throws {
        let (text, valid) = ConfigCheck.run(path: file, outputDirectory: output)
        if valid {
            print(text)
            // The clock `run` would start with (the same checks run makes before counting).
            let wall = SystemGatewayClock().wallNanos()
            if !SystemClockCheck.isSane(wallNanos: wall) {
                print("warning: the system clock says \(SystemClockCheck.describe(wall)), before 2024: footfall run will wait for it to be set (NTP or an RTC) before counting")
            }
            if SystemClockCheck.synchronised() == false {
                print("warning: the system clock is not synchronised yet (systemd-timesyncd has not reached a time server)")
            }
        } else {
            printError(text)
            throw exitStatus(.configuration)
        }
    }
}
