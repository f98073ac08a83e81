import FootfallTestSupport
import Foundation
import Testing

/// The layout rules docs/architecture.md promises a reader, checked so that they stay true.
@Suite("Source layout")
struct SourceLayoutTests {
    /// A reader can hold one file in mind: no source file grows past 600 lines (the tracker
    /// was 924 before it was split by what happens when).
    @Test func noSourceFileHasMoreThan600Lines() throws {
        let sources = FootfallTestSupport.packageRoot.appendingPathComponent("Sources")
        let walker = try #require(FileManager.default.enumerator(atPath: sources.path))
        var checked = 0
        while let path = walker.nextObject() as? String {
            guard path.hasSuffix(".swift") else { continue }
            let text = try String(contentsOfFile: sources.path + "/" + path, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count - (text.hasSuffix("\n") ? 1 : 0)
            #expect(lines <= 600, "Sources/\(path) has \(lines) lines")
            checked += 1
        }
        #expect(checked > 50)
    }
}
