import FootfallConfig
import FootfallCore
import Testing

/// ``validYAML`` with `buffer_mib` on both live sensors (line 19 for s1, line 23 for s2) and a
/// third sensor fed from files (lines 24–26).
private let bufferYAML = """
\(validYAML.replacingOccurrences(of: "    interface: wlan1", with: "    interface: wlan1\n    buffer_mib: 16"))
    buffer_mib: 64
  - id: s3
    zone: aisles
    file: true
"""

@Suite("Configuration: capture buffer (sensors[].buffer_mib)")
struct CaptureBufferConfigTests {
    @Test func withoutBufferMiBEverySensorKeepsLibpcapsTwoMiBDefault() throws {
        let s = try ConfigLoader.parse(yaml: validYAML)
        #expect(s.sensors.map(\.captureBufferMiB) == [2, 2])
        #expect(Sensor.defaultCaptureBufferMiB == 2)
    }

    @Test func bufferMiBIsReadPerLiveSensorAndShownByCheckConfig() throws {
        let s = try ConfigLoader.parse(yaml: bufferYAML)
        #expect(s.sensors.map(\.captureBufferMiB) == [16, 64, 2])
        let summary = ConfigSummary.text(for: s)
        #expect(summary.contains("s1 in zone entrance: monitor interface wlan1, capture buffer 16 MiB"), "\(summary)")
        #expect(summary.contains("s2 in zone checkout: TZSP from 127.0.0.2 on lo port 37008, capture buffer 64 MiB"), "\(summary)")
        #expect(summary.contains("s3 in zone aisles: capture files (file@sensor on the command line)\n"), "\(summary)")
    }

    @Test(arguments: [
        ("    buffer_mib: 16", "    buffer_mib: 0", 19, "sensors[0].buffer_mib", "capture buffer in MiB between 1 and 1024"),
        ("    buffer_mib: 64", "    buffer_mib: 2048", 23, "sensors[1].buffer_mib", "between 1 and 1024"),
        ("    buffer_mib: 64", "    buffer_mib: big", 23, "sensors[1].buffer_mib", "capture buffer in MiB"),
        ("    buffer_mib: 64", "    buffer_mib: 1.5", 23, "sensors[1].buffer_mib", "capture buffer in MiB"),
        ("    file: true", "    file: true\n    buffer_mib: 8", 27, "sensors[2].buffer_mib", "a sensor fed from files has none"),
        ("    buffer_mib: 64", "    bufer_mib: 64", 23, "sensors[1].bufer_mib", "unknown key \"bufer_mib\""),
    ])
    func aBadBufferMiBIsOneErrorNamingItsKeyAndLine(old: String, new: String, line: Int, path: String, words: String) {
        precondition(bufferYAML.contains(old))
        let found = errors(bufferYAML.replacingOccurrences(of: old, with: new))
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.line == line, "\(found)")
        #expect(found.first?.path == path, "\(found)")
        #expect(found.first?.message.contains(words) == true, "\(found)")
        #expect(found.first?.description.hasPrefix("footfall.yaml:\(line): \(path): ") == true, "\(found)")
    }
}
