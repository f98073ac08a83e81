import ArgumentParser
import FootfallCore
import FootfallPipeline
import Foundation

/// `footfall check-config FILE`: validates a configuration and says what it means.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and print what it means."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The configuration file (YAML).")
    var file: String

    func run() throws {
        let (text, valid) = ConfigCheck.run(path: file)
        if valid {
            print(text)
        } else {
            printError(text)
            throw exitStatus(.configuration)
        }
    }
}
