import FootfallCore
import FootfallIngest
import Foundation

/// What a validated configuration means, in words, for `footfall check-config`.
public enum ConfigSummary {
    public static func text(for settings: Settings) -> String {
        var lines: [String] = []
        let site = settings.site
        lines.append("site: \(site.name)")
        let now = Int64(Date.timeIntervalSinceReferenceDate + Date.timeIntervalBetween1970AndReferenceDate)
        let offset = LocalTime(utcSeconds: now, utcOffsetSeconds: site.clock.utcOffset(at: now)).offsetText(separator: ":")
        lines.append("time zone: \(site.timeZone) (UTC\(offset) now)")
        lines.append("opening hours: \(openingHours(site.openingHours))")
        if let plan = site.floorPlan {
            let drawn = settings.zones.filter { !$0.area.isEmpty }.count
            lines.append("floor plan: \((plan.path as NSString).lastPathComponent) (\(drawn) of \(settings.zones.count) zones drawn on it; used by footfall report only)")
        }
        lines.append("zones (\(settings.zones.count)):")
        for zone in settings.zones {
            let name = zone.name == zone.id ? "" : " \"\(zone.name)\""
            lines.append("  \(zone.id)\(name): placed at \(zone.rssiThreshold) dBm or stronger")
        }
        lines.append("sensors (\(settings.sensors.count)):")
        for sensor in settings.sensors {
            let zone = settings.zones[sensor.zone].id
            lines.append("  \(sensor.id) in zone \(zone): \(feed(sensor.feed))")
        }
        let p = settings.privacy
        switch p.rotation {
        case .hourly: lines.append("key rotation: every hour, on the hour (old key destroyed)")
        case .daily(let h, let m): lines.append("key rotation: daily at \(pad2(h)):\(pad2(m)) local time (old key destroyed)")
        }
        lines.append("k: counts below \(p.k) are withheld")
        lines.append("strict mode: \(p.strict ? "on (one key per zone, no flows)" : "off")")
        let randomised = switch p.randomisedAddresses {
        case .group: "grouped by keyed element fingerprint within the key period"
        case .count: "each address counted as a device within the key period"
        case .ignore: "ignored (dropped before hashing)"
        }
        lines.append("randomised addresses: \(randomised)")
        lines.append("opt-out list: \(p.optOutFile ?? "none")")
        lines.append("RSSI floor: \(p.rssiFloor.map { "frames below \($0) dBm dropped" } ?? "none")")
        lines.append("differential privacy: \(p.epsilon.map { "epsilon \($0)" } ?? "off")")
        let v = settings.visits
        lines.append("visits: slot \(v.slotSeconds) s, gap \(v.visitGapSeconds) s, presence tail \(v.presenceTailSeconds) s, minimum dwell \(v.minimumDwellSeconds) s, lateness \(v.latenessSeconds) s")
        lines.append("visits count once heard \(v.peakMarginDB) dB above the zone's threshold\(v.peakMarginDB == 0 ? " (rule off)" : "")")
        lines.append("residents: fixed addresses heard in \(Int((v.residentCoverage * 100).rounded())) % of the slots of \(v.residentWindowSeconds / 60) min, or present \(v.residentHours) h in a key period")
        lines.append("output: \(settings.output.directory), kept \(settings.output.retentionDays) days")
        let metrics = settings.metrics
        lines.append("metrics: \(metrics.enabled ? "on \(metrics.address):\(metrics.port)" : "off")")
        return lines.joined(separator: "\n")
    }

    static func openingHours(_ hours: OpeningHours) -> String {
        switch hours {
        case .alwaysOpen: return "always open"
        case .weekly(let week):
            let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            return (1 ... 7).map { day in
                let ranges = week[day] ?? []
                let text = ranges.isEmpty ? "closed" : ranges.map { "\(time($0.lowerBound))-\(time($0.upperBound))" }.joined(separator: ", ")
                return "\(names[day - 1]) \(text)"
            }.joined(separator: "; ")
        }
    }

    static func feed(_ feed: Sensor.Feed) -> String {
        switch feed {
        case .interface(let name): "monitor interface \(name)"
        case .tzsp(let interface, let port, let sender): "TZSP from \(sender) on \(interface) port \(port)"
        case .peekRemote(let interface, let port, let sender): "PEEKREMOTE from \(sender) on \(interface) port \(port)"
        case .file: "capture files (file@sensor on the command line)"
        }
    }

    static func time(_ minutes: Int) -> String { "\(pad2(minutes / 60)):\(pad2(minutes % 60))" }
    static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}

