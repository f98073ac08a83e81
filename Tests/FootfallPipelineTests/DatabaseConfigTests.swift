import FootfallConfig
import FootfallCore
import Foundation
import Testing

/// `site.id` and `output.database`: every refusal names the file, line and key.
@Suite("Configuration of the chain's database")
struct DatabaseConfigTests {
    static let base = """
        site:
          id: prague-03
          time_zone: Europe/Prague
        zones:
          - id: a
        sensors:
          - id: s1
            zone: a
            interface: wlan1
        output:
          directory: /tmp/out
          retention_days: 30
          database:

        """

    static func yaml(_ database: String, siteID: Bool = true) -> String {
        var text = base + database.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n") + "\n"
        if !siteID { text = text.replacingOccurrences(of: "  id: prague-03\n", with: "") }
        return text
    }

    /// A password file of the given mode, owned by the user running the tests.
    static func secret(mode: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-secret-\(UInt32.random(in: 0 ... .max))").path
        FileManager.default.createFile(atPath: path, contents: Data("s3cret\n".utf8), attributes: [.posixPermissions: mode])
        return path
    }

    @Test func aCompleteDatabaseSectionIsReadWithVerifyFullByDefault() throws {
        let secret = try Self.secret(mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let settings = try ConfigLoader.parse(yaml: Self.yaml("url: postgresql://store_prague_03@db.example.com:6432/chain\npassword_file: \(secret)"))
        let db = try #require(settings.output.database)
        #expect(settings.site.id == "prague-03")
        #expect(db.host == "db.example.com" && db.port == 6432 && db.user == "store_prague_03" && db.database == "chain")
        #expect(db.tls == .verifyFull)
        #expect(db.passwordFile == secret)
        #expect(db.retentionDays == 30, "defaults to output.retention_days")
        #expect(db.url == "postgresql://store_prague_03@db.example.com:6432/chain")
    }

    @Test func aDatabaseWithoutSiteIDIsRefusedNamingTheSiteLine() {
        let found = errors(Self.yaml("url: postgresql://u@127.0.0.1/db\ntls: disable", siteID: false))
        #expect(found.contains { $0.path == "site" && $0.line != nil && $0.message.contains("site.id") }, "\(found)")
    }

    @Test(arguments: ["Prague-03", "-prague", "", "prague_03", "a b", String(repeating: "a", count: 65)])
    func siteIDsOutsideTheAlphabetAreRefused(id: String) {
        let found = errors(Self.yaml("url: postgresql://u@127.0.0.1/db\ntls: disable").replacingOccurrences(of: "id: prague-03", with: "id: \"\(id)\""))
        #expect(found.contains { $0.path == "site.id" && $0.line == 2 }, "\(found)")
    }

    @Test func aPasswordFileOthersCanReadIsRefusedWithItsMode() throws {
        let secret = try Self.secret(mode: 0o644)
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let found = errors(Self.yaml("url: postgresql://u@db.example.com/db\npassword_file: \(secret)"))
        #expect(found.contains { $0.path == "output.database.password_file" && $0.line == 15 && $0.message.contains("0644") && $0.message.contains("0600") }, "\(found)")
        #expect(!found.contains { $0.message.contains("s3cret") })
    }

    @Test(.enabled(if: geteuid() == 0, "skipped: changing a file's owner needs root (CI runs the tests as root)"))
    func aPasswordFileOwnedBySomeoneElseIsRefused() throws {
        let secret = try Self.secret(mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: secret) }
        #expect(chown(secret, 65534, 65534) == 0)
        let found = errors(Self.yaml("url: postgresql://u@db.example.com/db\npassword_file: \(secret)"))
        #expect(found.contains { $0.path == "output.database.password_file" && $0.message.contains("owned by uid 65534") }, "\(found)")
    }

    @Test func tlsCanBeOffOnlyForALoopbackServer() {
        #expect(errors(Self.yaml("url: postgresql://u@127.0.0.1:5432/db\ntls: disable")).isEmpty)
        #expect(errors(Self.yaml("url: postgresql://u@[::1]:5432/db\ntls: disable")).isEmpty)
        let found = errors(Self.yaml("url: postgresql://u@db.example.com/db\ntls: disable"))
        #expect(found.contains { $0.path == "output.database.tls" && $0.line == 15 && $0.message.contains("loopback") }, "\(found)")
        #expect(errors(Self.yaml("url: postgresql://u@127.0.0.1/db\ntls: prefer")).contains { $0.path == "output.database.tls" })
    }

    @Test(arguments: [
        ("postgresql://u:secret@db.example.com/db", "password_file"),
        ("mysql://u@db.example.com/db", "postgresql://"),
        ("postgresql://db.example.com/db", "user"),
        ("postgresql://u@db.example.com:99999/db", "port"),
        ("postgresql://u@db.example.com", "database"),
    ])
    func malformedURLsAreRefusedSayingWhatIsWrong(url: String, hint: String) {
        let found = errors(Self.yaml("url: \(url)"))
        #expect(found.contains { $0.path == "output.database.url" && $0.line == 14 && $0.message.contains(hint) }, "\(found)")
        #expect(!found.contains { $0.description.contains("secret") }, "a password in a URL is never echoed")
    }
}
