import Foundation
import Testing

/// `footfall report` as a planner gets it: three fixture days replayed by the built binary,
/// the report written from their files, and the page rendered by headless Chromium.
@Suite("Planners' report in Chromium", .serialized)
struct ReportInChromiumTests {
    static let config = Tools.packageRoot.appendingPathComponent("config/examples/brno-lab.yaml").path
    /// Three Thursdays: weeks 6, 10 and 11 of 2024, so week 11 has a week before it.
    static let days = ["2024-02-08", "2024-03-07", "2024-03-14"]
    static let chromium = Tools.tool("chromium") ?? Tools.tool("chromium-browser")

    /// Replays the three days into one directory and writes the report of it.
    static func replayAndReport() throws -> (output: URL, html: URL, report: Tools.RunResult) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-report-\(UUID().uuidString)")
        let output = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        for day in days {
            let replay = try Footfall.run(["replay", "--config", config, "--output", output.path,
                                           Tools.fixture("\(day)_position_1.pcap") + "@position_1", Tools.fixture("\(day)_position_2.pcap") + "@position_2"])
            #expect(replay.status == 0, "replay \(day): \(replay.stderr)")
        }
        let html = dir.appendingPathComponent("report.html")
        let report = try Footfall.run(["report", output.path, "--config", config, "--output", html.path])
        return (output, html, report)
    }

    /// The ALL row's visitors of every hourly file of a day, added up, and the `avg_present`
    /// text of the hour with the most people present, read straight from the CSV files.
    static func expectedHeadline(_ output: URL, day: String) throws -> (visitorHours: Int, busiest: String) {
        var sum = 0
        var best = (value: 0.0, text: "")
        for name in try FileManager.default.contentsOfDirectory(atPath: output.path).sorted() where name.hasPrefix("heatmap-\(day)T") {
            let text = try String(contentsOf: output.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\r\n") where line.contains(",ALL,") {
                let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                sum += Int(f[3]) ?? 0
                if let v = Double(f[5]), v > best.value { best = (v, f[5]) }
            }
        }
        return (sum, best.text)
    }

    @Test func theReportOfThreeReplayedDaysIsOneSmallFileThatFetchesNothing() throws {
        let (output, html, report) = try Self.replayAndReport()
        defer { try? FileManager.default.removeItem(at: output.deletingLastPathComponent()) }
        #expect(report.status == 0, "\(report.stderr)")
        let data = try Data(contentsOf: html)
        #expect(data.count < 3_000_000)
        let text = String(decoding: data, as: UTF8.self)
        // No script, no stylesheet or frame from elsewhere, and every reference is inside the file.
        for forbidden in ["<script", "<link", "<iframe", "<object", "<embed", "@import", "url(http", "url(//"] {
            #expect(!text.lowercased().contains(forbidden), "the report contains \(forbidden)")
        }
        let references = try Regex(#"(?:href|src)\s*=\s*"([^"]*)""#)
        for match in text.matches(of: references) {
            let value = String(text[match.range]).split(separator: "\"", maxSplits: 1)[1]
            #expect(value.hasPrefix("data:") || value.hasPrefix("#"), "an external reference: \(value.prefix(60))")
        }
        // The only URLs are the SVG namespace names, which are never fetched.
        let urls = text.matches(of: try Regex(#"https?://[^"\s<)]*"#)).map { String(text[$0.range]) }
        #expect(Set(urls).isSubset(of: ["http://www.w3.org/2000/svg"]), "\(Set(urls))")
        // The floor plan is embedded.
        #expect(text.contains("data:image/svg+xml;base64,"))
    }

    @Test(.enabled(if: Self.chromium != nil || Tools.isCI, "Chromium is not installed (apt-get install chromium), so the report cannot be rendered; .ci/run installs it"))
    func theReportRendersInHeadlessChromiumWithoutConsoleErrorsAndShowsZonesDaysAndHeadlines() throws {
        let chromium = try #require(Self.chromium, "chromium is not installed")
        let (output, html, report) = try Self.replayAndReport()
        defer { try? FileManager.default.removeItem(at: output.deletingLastPathComponent()) }
        #expect(report.status == 0, "\(report.stderr)")
        let profile = output.deletingLastPathComponent().appendingPathComponent("profile")
        let netLog = output.deletingLastPathComponent().appendingPathComponent("net-log.json")
        // No name resolves, so nothing can be fetched; the network log records every request
        // the page tries (`--no-sandbox`: the tests run as root).
        let result = try Tools.run(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0", "--log-net-log=\(netLog.path)",
            "--dump-dom", html.absoluteString,
        ])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        // The page has no script, so any console line (an error, a warning, a failed load) is
        // something wrong with the page.
        let console = result.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }
        #expect(console.isEmpty, "console messages: \(console)")
        // Requests made for the page carry its file:// origin in their isolation key (the
        // browser's own update checks do not); none may go anywhere but the file itself.
        let log = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: netLog)) as? [String: Any])
        let events = log["events"] as? [[String: Any]] ?? []
        let fetched = events.compactMap { $0["params"] as? [String: Any] }.filter { ($0["network_isolation_key"] as? String)?.contains("file://") == true }
            .compactMap { $0["url"] as? String }.filter { !$0.hasPrefix("file:") && !$0.hasPrefix("data:") }
        #expect(!events.isEmpty, "the network log was written")
        #expect(fetched.isEmpty, "the page fetched \(fetched)")
        let dom = result.stdout
        #expect(dom.contains("Laboratory"), "the zone's name from the configuration")
        #expect(dom.contains("BUT Brno, room SC6.61"))
        for (day, label) in zip(Self.days, ["Thu 8 Feb 2024", "Thu 7 Mar 2024", "Thu 14 Mar 2024"]) {
            #expect(dom.contains(label), "\(day) is shown")
            let expected = try Self.expectedHeadline(output, day: day)
            #expect(expected.visitorHours > 0)
            let row = try #require(dom.range(of: "data-date=\"\(day)\"").map { String(dom[$0.lowerBound...].prefix(900)) })
            #expect(row.contains("<td class=\"visitor-hours\">\(expected.visitorHours)"), "visitor-hours of \(day): \(expected.visitorHours) in \(row)")
            #expect(row.contains("<td class=\"present\">\(expected.busiest)</td>"), "busiest hour's people present of \(day): \(expected.busiest)")
            // The day's visitors and passers-by, from its day file (written by the replay).
            let daily = try String(contentsOf: output.appendingPathComponent("daily-\(day).csv"), encoding: .utf8)
            let all = try #require(daily.split(separator: "\r\n").first { $0.hasPrefix("\(day),ALL,") }).split(separator: ",", omittingEmptySubsequences: false)
            #expect(row.contains("<td class=\"visitors\">\(all[3])</td><td class=\"passersby\">\(all[4])</td>"), "day totals of \(day) in \(row)")
        }
        #expect(dom.contains("2024-W11") && dom.contains("2024-W10") && dom.contains("2024-W06"))
        #expect(dom.contains("How long visitors stayed") && dom.contains("class=\"part-heard\""))
    }
}
