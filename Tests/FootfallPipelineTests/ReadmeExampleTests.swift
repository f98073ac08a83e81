@testable import FootfallPipeline
import Foundation
import Testing

/// README.md is the front door: the replay its Quick start runs and the rows it shows as
/// what that replay writes must be what footfall does today, not what it did when the page
/// was written.
@Suite("README example")
struct ReadmeExampleTests {
    static func readme() throws -> String {
        try String(contentsOfFile: repositoryRoot + "/README.md", encoding: .utf8)
    }

    /// The arguments of the `footfall replay` command in README's Quick start.
    static func quickStartReplay(_ readme: String) throws -> (config: String, captures: [String]) {
        let line = try #require(readme.split(separator: "\n").first { $0.contains("footfall replay ") }, "README has no replay command")
        let words = line[line.range(of: "footfall replay ")!.upperBound...].split(separator: " ").map(String.init)
        var config: String?, captures: [String] = []
        var i = 0
        while i < words.count {
            switch words[i] {
            case "--config": config = words[i + 1]; i += 2
            case "--output": i += 2
            default: captures.append(words[i]); i += 1
            }
        }
        return (try #require(config, "README's replay names no --config"), captures)
    }

    /// The CSV lines of the example under "## What you get": the header, then rows.
    static func exampleRows(_ readme: String) throws -> [String] {
        let section = try #require(readme.range(of: "## What you get"), "README has no What you get section")
        let rest = readme[section.upperBound...]
        let open = try #require(rest.range(of: "```\nhour_start,"), "no CSV example under What you get")
        let body = rest[rest.index(open.lowerBound, offsetBy: 4)...]
        let close = try #require(body.range(of: "```"))
        return body[..<close.lowerBound].split(separator: "\n").map(String.init)
    }

    @Test func theRowsReadmeShowsAreWhatItsQuickStartReplayWrites() throws {
        let readme = try Self.readme()
        let (config, captures) = try Self.quickStartReplay(readme)
        #expect(captures.count == 2, "the Quick start replays both sniffers")
        let rows = try Self.exampleRows(readme)
        #expect(rows.count >= 2)
        let out = NSTemporaryDirectory() + "footfall-readme-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        _ = try Replay.run(configPath: repositoryRoot + "/" + config, outputDirectory: out,
                           arguments: captures.map { repositoryRoot + "/" + $0 })
        // The hour of the example rows names the file: 2024-03-14T14:00:00+01:00 → heatmap-2024-03-14T14.csv.
        let hour = try #require(rows.dropFirst().first?.split(separator: ",").first)
        let name = "heatmap-" + hour.prefix(13) + ".csv"
        let written = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
            .split(separator: "\r\n").map(String.init)
        #expect(rows[0] == written.first, "README's header is not the file's")
        for row in rows.dropFirst() {
            #expect(written.contains(row), "README shows a row \(name) does not hold: \(row)")
        }
    }
}
