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

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: FootfallTestSupport.packageRoot.appendingPathComponent(relativePath), encoding: .utf8)
    }

    /// README.md is a front door, not a manual: at most 16 KB, the rest in docs/.
    @Test func readmeIsAtMost16KB() throws {
        let size = try Self.text("README.md").utf8.count
        #expect(size <= 16 * 1024, "README.md is \(size) bytes")
    }

    /// Every relative link in README.md, PRIVACY.md and docs/*.md names a file that exists, so
    /// a reader who follows one never lands on nothing.
    @Test func everyRelativeLinkInTheDocumentationResolves() throws {
        let root = FootfallTestSupport.packageRoot
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        let link = try Regex(#"\]\(([^)#\s]+)(#[^)]*)?\)"#)
        var checked = 0
        for document in ["README.md", "PRIVACY.md"] + docs {
            let directory = (document as NSString).deletingLastPathComponent
            for match in try Self.text(document).matches(of: link) {
                guard let target = match.output[1].substring.map(String.init),
                      !target.contains("://"), !target.hasPrefix("mailto:") else { continue }
                let path = directory.isEmpty ? target : directory + "/" + target
                #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path), "\(document) links to \(target), which does not exist")
                checked += 1
            }
        }
        #expect(checked > 20)
    }

    /// docs/architecture.md's module table is Package.swift's: every module under Sources/ is
    /// a row, every row is a module, and the aggregate side does not depend on the ingest side.
    @Test func theArchitectureDocumentNamesEveryModuleOfThePackage() throws {
        let root = FootfallTestSupport.packageRoot
        let modules = Set(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path).filter { !$0.hasPrefix(".") })
        let architecture = try Self.text("docs/architecture.md")
        let row = try Regex(#"(?m)^\| `([A-Za-z-]+)` \|"#)
        let rows = Set(architecture.matches(of: row).compactMap { $0.output[1].substring.map(String.init) })
        #expect(rows == modules, "in the table, not in Sources/: \(rows.subtracting(modules).sorted()); in Sources/, not in the table: \(modules.subtracting(rows).sorted())")
        let manifest = try Self.text("Package.swift")
        let aggregate = try #require(manifest.firstMatch(of: try Regex(#"name: "FootfallAggregate",\s*dependencies: \[([^\]]*)\]"#)))
        let dependencies = try #require(aggregate.output[1].substring)
        #expect(dependencies.contains("FootfallCore"))
        #expect(!dependencies.contains("FootfallIngest"), "FootfallAggregate must not see raw addresses or keys")
    }
}
