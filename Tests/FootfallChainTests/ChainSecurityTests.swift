@testable import FootfallChain
import FootfallCore
import FootfallOutput
import FootfallTestSupport
import Foundation
import PostgresNIO
import Testing

/// Who may write what (row-level security, docs/chain.md) and TLS with verify-full.
@Suite("The chain's database: least privilege and TLS", .enabled(if: ChainTestServer.shouldRun, ChainTestServer.skipReason))
struct ChainSecurityTests {
    /// The SQL blocks of docs/chain.md after `<!-- chain-roles: <part> -->`.
    static func rolesSQL(_ part: String) throws -> String {
        let doc = try String(contentsOf: packageRoot.appendingPathComponent("docs/chain.md"), encoding: .utf8)
        let marker = "<!-- chain-roles: \(part) -->"
        guard let range = doc.range(of: marker) else { throw DocError(message: "docs/chain.md has no \(marker)") }
        let rest = doc[range.upperBound...]
        guard let open = rest.range(of: "```sql\n"), let close = rest[open.upperBound...].range(of: "```") else {
            throw DocError(message: "no ```sql block after \(marker)")
        }
        return String(rest[open.upperBound ..< close.lowerBound])
    }

    struct DocError: Error { var message: String }

    /// A 0600 file holding `password`, owned by the user running the tests.
    static func passwordFile(_ password: String, in dir: String, name: String) throws -> String {
        let path = dir + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
        return path
    }

    @Test func storeRoleCannotWriteAnotherStoresRows() async throws {
        let db = try await ChainTestServer.makeDatabase()
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Role names are global to the server: give this run's their own.
        let tag = String(UInt32.random(in: 0 ... .max), radix: 16)
        let storeGroup = "footfall_store_\(tag)", analystGroup = "footfall_analyst_\(tag)"
        let roleA = "store_a_\(tag)", roleB = "store_b_\(tag)", analyst = "analyst_\(tag)"
        let passwordA = UUID().uuidString, passwordB = UUID().uuidString, passwordAnalyst = UUID().uuidString
        func named(_ sql: String) -> String {
            sql.replacingOccurrences(of: "footfall_store", with: storeGroup).replacingOccurrences(of: "footfall_analyst", with: analystGroup)
        }
        try await db.script(named(try Self.rolesSQL("once")))
        let perStore = try Self.rolesSQL("per store")
        for (role, site, password) in [(roleA, "store-a", passwordA), (roleB, "store-b", passwordB)] {
            let sql = named(perStore).replacingOccurrences(of: "store_prague_03", with: role).replacingOccurrences(of: "prague-03", with: site)
                .replacingOccurrences(of: "change-me", with: password)
            try await db.script(sql)
        }
        try await db.script(named(try Self.rolesSQL("per analyst")).replacingOccurrences(of: "analyst_jana", with: analyst).replacingOccurrences(of: "change-me", with: passwordAnalyst))
        defer {
            let cleanup = db
            Task {
                await cleanup.drop()
                _ = try? await ChainTestServer.makeAdminRun("DROP ROLE IF EXISTS \(roleA), \(roleB), \(analyst), \(storeGroup), \(analystGroup)")
            }
        }
        func login(_ role: String, _ password: String) throws -> DatabaseSettings {
            var s = db.settings
            s.user = role
            s.passwordFile = try Self.passwordFile(password, in: dir, name: role)
            return s
        }
        let asA = try login(roleA, passwordA), asB = try login(roleB, passwordB), asAnalyst = try login(analyst, passwordAnalyst)
        let dirA = dir + "/a", dirB = dir + "/b"
        try FileManager.default.createDirectory(atPath: dirA, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dirB, withIntermediateDirectories: true)
        try writeHours(dirA, starts: [ChainPushTests.morning])
        try writeHours(dirB, starts: [ChainPushTests.morning, ChainPushTests.morning + 3600], scale: 7)

        // Each store ships its own hours with its own role.
        #expect(try await HourShipper(directory: dirA, site: "store-a", settings: asA, logger: ChainTestServer.logger).shipPending().shipped == 1)
        #expect(try await HourShipper(directory: dirB, site: "store-b", settings: asB, logger: ChainTestServer.logger).shipPending().shipped == 2)
        let bBefore = try await db.heatmap(site: "store-b")
        #expect(try bBefore == filesAsRows(dirB).heatmap)

        // Store A's role shipping as store B: refused by the policy, nothing written.
        let forged = dir + "/forged"
        try FileManager.default.createDirectory(atPath: forged, withIntermediateDirectories: true)
        try writeHours(forged, starts: [ChainPushTests.morning, ChainPushTests.morning + 7200], scale: 50)
        await #expect {
            _ = try await HourShipper(directory: forged, site: "store-b", settings: asA, logger: ChainTestServer.logger).shipPending()
        } throws: { error in
            (error as? ChainError)?.code == .refused && "\(error)".contains("row-level security")
        }
        // Updating or deleting B's rows as A finds no row to change.
        let a = try await ChainConnection.connect(asA, logger: ChainTestServer.logger)
        let updated = try await a.run("WITH u AS (UPDATE footfall.heatmap SET devices = 0 WHERE site_id = 'store-b' RETURNING 1) SELECT count(*)::int8 FROM u").first!.decode(Int.self)
        let deleted = try await a.run("WITH d AS (DELETE FROM footfall.flows WHERE site_id = 'store-b' RETURNING 1) SELECT count(*)::int8 FROM d").first!.decode(Int.self)
        let seen = try await a.run("SELECT count(DISTINCT site_id)::int8 FROM footfall.heatmap").first!.decode(Int.self)
        // Nor can it reach a partition directly, around the policy.
        await #expect(throws: ChainError.self) { try await a.run("SELECT count(*) FROM footfall.heatmap_2024_03") }
        await a.close()
        #expect(updated == 0 && deleted == 0)
        #expect(seen == 1, "a store sees only its own rows")
        #expect(try await db.heatmap(site: "store-b") == bBefore)
        #expect(try await db.flows(site: "store-b") == filesAsRows(dirB).flows)

        // The analyst reads every store and writes nothing.
        let reader = try await ChainConnection.connect(asAnalyst, logger: ChainTestServer.logger)
        #expect(try await reader.run("SELECT count(DISTINCT site_id)::int8 FROM footfall.site_day").first!.decode(Int.self) == 2)
        await #expect(throws: ChainError.self) { try await reader.run("DELETE FROM footfall.heatmap") }
        await reader.close()
        #expect(try await db.count("heatmap") == 9)
    }

    @Test func tlsVerifyFullConnectsOnlyToAServerCertifiedByTheConfiguredCA() async throws {
        guard let serverDir = ProcessInfo.processInfo.environment["FOOTFALL_TEST_POSTGRES_DIR"] else {
            Issue.record("FOOTFALL_TEST_POSTGRES_DIR is unset: start the server with scripts/test-postgres.sh")
            return
        }
        // A throwaway CA and a server certificate for 127.0.0.1 and localhost, made now.
        let dir = serverDir + "/tls-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
            set -e
            cd '\(dir)'
            ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            openssl req -x509 $ec -keyout ca.key -out ca.pem -days 1 -subj /CN=footfall-test-ca 2>/dev/null
            openssl req -x509 $ec -keyout other.key -out other.pem -days 1 -subj /CN=someone-else 2>/dev/null
            openssl req $ec -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile san.ext 2>/dev/null
            chmod 600 server.key
            chown postgres:postgres server.key server.pem
            chmod 755 .
            """
        let made = try runProgram("/bin/bash", ["-c", script])
        try #require(made.status == 0, "openssl: \(made.stderr)")
        let db = try await ChainTestServer.makeDatabase()
        try await db.sql("ALTER SYSTEM SET ssl_cert_file = '\(dir)/server.pem'")
        try await db.sql("ALTER SYSTEM SET ssl_key_file = '\(dir)/server.key'")
        try await db.sql("ALTER SYSTEM SET ssl = on")
        try await db.sql("SELECT pg_reload_conf()")
        defer {
            let cleanup = db
            Task {
                try? await cleanup.script("ALTER SYSTEM RESET ssl;\nALTER SYSTEM RESET ssl_cert_file;\nALTER SYSTEM RESET ssl_key_file;\nSELECT pg_reload_conf();\n")
                await cleanup.drop()
            }
        }
        try await Task.sleep(for: .milliseconds(300))

        var trusted = db.settings
        trusted.tls = .verifyFull
        trusted.caFile = dir + "/ca.pem"
        let secure = try await ChainConnection.connect(trusted, logger: ChainTestServer.logger)
        let encrypted = try await secure.run("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first!.decode(Bool.self)
        await secure.close()
        #expect(encrypted)

        // The same server under a CA the gateway does not trust: refused, as a TLS error.
        var untrusted = trusted
        untrusted.caFile = dir + "/other.pem"
        await #expect {
            _ = try await ChainConnection.connect(untrusted, logger: ChainTestServer.logger, connectTimeout: .seconds(5))
        } throws: { error in
            (error as? ChainError)?.code == .tls
        }
        // And shipping through verify-full works end to end.
        let hours = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: hours) }
        try writeHours(hours, starts: [ChainPushTests.morning])
        #expect(try await HourShipper(directory: hours, site: "tls-store", settings: trusted, logger: ChainTestServer.logger).shipPending().shipped == 1)
    }
}

extension ChainTestServer {
    static func makeAdminRun(_ sql: String) async throws {
        let admin = try await ChainConnection.connect(try superuser(), logger: logger)
        try await admin.run(PostgresNIO.PostgresQuery(unsafeSQL: sql))
        await admin.close()
    }
}
