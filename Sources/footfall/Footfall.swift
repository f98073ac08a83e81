import ArgumentParser
import FootfallPipeline

@main
struct Footfall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "footfall",
        abstract: "Anonymous in-store Wi-Fi footfall: probe requests in, hourly heatmap CSV files out.",
        version: FootfallPipelineVersion.string,
        // One file per subcommand; add new ones here.
        subcommands: [
            StatsCommand.self,
            CheckConfigCommand.self,
            ReplayCommand.self,
            EvaluateCommand.self,
            AuditCommand.self,
            RenderCommand.self,
            ReportCommand.self,
            RunCommand.self,
            PushCommand.self,
            DatabaseCommand.self,
        ]
    )
}
