import ArgumentParser
import FootfallCore
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
            and an interface shared by sensors of different zones. Exit status: 0 valid, 78 invalid.
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
        } else {
            printError(text)
            throw exitStatus(.configuration)
        }
    }
}
