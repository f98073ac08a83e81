import FootfallCore
import FootfallIngest
import Foundation
import Yams

/// The sections of the configuration file, one reader per section: each checks its keys,
/// types and ranges and records every problem with its line and key path.
extension NodeReader {
    mutating func settings(_ root: Field) -> Settings? {
        guard let top = mapping(root, allowed: ["site", "zones", "sensors", "privacy", "output", "visits", "metrics"], what: "the configuration") else { return nil }
        let site = require(top, "site", in: root).flatMap { self.site($0) }
        // A plan that is given but broken has its own error; the areas then go unchecked
        // rather than being told that there is no plan.
        var planGiven = false
        if let plan = top["site"]?.node["floor_plan"], !NodeReader.isNull(plan) { planGiven = true }
        let plan = site?.floorPlan ?? (planGiven ? FloorPlan(path: "") : nil)
        let zones = require(top, "zones", in: root).flatMap { self.zones($0, floorPlan: plan) }
        let sensors = require(top, "sensors", in: root).flatMap { self.sensors($0, zones: zones ?? []) }
        let privacy = top["privacy"].map { self.privacy($0) } ?? PrivacySettings()
        let output = top["output"].map { self.output($0) } ?? OutputSettings()
        let visits = top["visits"].map { self.visits($0) } ?? VisitRules()
        let metrics = top["metrics"].map { self.metrics($0) } ?? MetricsSettings()
        if let output, output.database != nil, let site, site.id == nil, let siteField = top["site"] {
            fail(siteField, "missing key \"id\": a store shipping to the chain's database needs site.id (e.g. id: prague-03)")
            return nil
        }
        guard let site, let zones, let sensors, let privacy, let output, let visits, let metrics else { return nil }
        return Settings(site: site, zones: zones, sensors: sensors, privacy: privacy, output: output, visits: visits, metrics: metrics)
    }

    mutating func site(_ field: Field) -> Site? {
        guard let m = mapping(field, allowed: ["name", "id", "time_zone", "opening_hours", "floor_plan"], what: "the site") else { return nil }
        let name = m["name"].flatMap { string($0, what: "the site's name") } ?? "footfall site"
        let id = m["id"].map { siteID($0) }
        if let id, id == nil { return nil }
        var zone: HourClock?
        if let tzField = require(m, "time_zone", in: field), let text = string(tzField, what: "an IANA time zone such as Europe/Prague") {
            // The one place a time zone is looked up by name: every user of local time takes
            // this clock from the settings.
            if let clock = HourClock(identifier: text), text.contains("/") || text == "UTC" {
                zone = clock
            } else {
                fail(tzField, "expected an IANA time zone such as Europe/Prague, got \"\(text)\" (not known to this system's tz database)")
            }
        }
        let hours = m["opening_hours"].map { openingHours($0) } ?? .alwaysOpen
        var plan: FloorPlan?
        var planOK = true
        if let f = m["floor_plan"], !NodeReader.isNull(f.node) {
            plan = floorPlan(f)
            planOK = plan != nil
        }
        guard let zone, let hours, planOK else { return nil }
        return Site(name: name, clock: zone, openingHours: hours, floorPlan: plan, id: id ?? nil)
    }

    /// `site.floor_plan`: an SVG or PNG file, relative to the configuration file. Read and
    /// checked when the file's directory is known, so a report never finds it missing.
    mutating func floorPlan(_ field: Field) -> FloorPlan? {
        guard let text = string(field, what: "the path of an SVG or PNG floor plan") else { return nil }
        let lower = text.lowercased()
        guard !text.isEmpty, lower.hasSuffix(".svg") || lower.hasSuffix(".png") else {
            fail(field, "expected the path of an SVG or PNG file (ending in .svg or .png), got \(NodeReader.shown(field.node))")
            return nil
        }
        guard let baseDirectory else { return FloorPlan(path: text) }
        let path = text.hasPrefix("/") ? text : (baseDirectory as NSString).appendingPathComponent(text)
        switch FloorPlanFile.bounds(ofFileAt: path) {
        case .success(let bounds): return FloorPlan(path: path, bounds: bounds)
        case .failure(let problem):
            fail(field, "\(problem.message): \"\(text)\"")
            return nil
        }
    }

    static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    mutating func openingHours(_ field: Field) -> OpeningHours? {
        if case .scalar(let s) = field.node {
            if s.string == "always" { return .alwaysOpen }
            fail(field, "expected \"always\" or a mapping of weekdays to hours such as mon-fri: \"08:00-20:00\", got \(NodeReader.shown(field.node))")
            return nil
        }
        guard case .mapping(let mapping) = field.node else {
            fail(field, "expected \"always\" or a mapping of weekdays to hours, got \(NodeReader.shown(field.node))")
            return nil
        }
        var week: [Int: [ClosedRange<Int>]] = [:]
        var seen = Set<Int>()
        var ok = true
        for (key, value) in mapping {
            let keyText = key.scalar?.string ?? ""
            let keyField = Field(node: key, path: field.child(keyText))
            guard let days = NodeReader.days(keyText) else {
                fail(keyField, "expected a weekday (mon … sun), a range such as mon-fri, or a list such as sat,sun")
                ok = false
                continue
            }
            for day in days where !seen.insert(day).inserted {
                fail(keyField, "\(NodeReader.weekdays[day - 1]) is given more than once")
                ok = false
            }
            let valueField = Field(node: value, path: field.child(keyText))
            guard let text = string(valueField, what: "hours such as \"08:00-20:00\" or \"closed\"") else { ok = false; continue }
            guard let ranges = NodeReader.ranges(text) else {
                fail(valueField, "expected hours such as \"08:00-20:00\", \"08:00-12:00, 13:00-18:00\", \"22:00-02:00\" or \"closed\", in order and not overlapping, got \"\(text)\"")
                ok = false
                continue
            }
            for day in days where !ranges.isEmpty { week[day] = ranges }
        }
        return ok ? .weekly(week) : nil
    }

    /// `mon`, `mon-fri`, `sat,sun` → ISO weekdays (1 = Monday).
    static func days(_ text: String) -> [Int]? {
        var result: [Int] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            let ends = part.split(separator: "-").map(String.init)
            if ends.count == 1, let d = weekdays.firstIndex(of: ends[0]) {
                result.append(d + 1)
            } else if ends.count == 2, let a = weekdays.firstIndex(of: ends[0]), let b = weekdays.firstIndex(of: ends[1]), a <= b {
                result.append(contentsOf: (a + 1) ... (b + 1))
            } else {
                return nil
            }
        }
        return result.isEmpty ? nil : result
    }

    /// `"08:00-20:00, 21:00-22:00"` → minutes `[open, close)` as `open...close`; `closed` → none.
    static func ranges(_ text: String) -> [ClosedRange<Int>]? {
        if text.trimmingCharacters(in: .whitespaces) == "closed" { return [] }
        var result: [ClosedRange<Int>] = []
        for part in text.split(separator: ",") {
            let ends = part.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
            guard ends.count == 2, let open = minutes(ends[0]), var close = minutes(ends[1]), open < 1440, open != close else { return nil }
            // "22:00-02:00" runs into the next morning: close after 24:00 (the gate reads it so).
            if close < open { close += 1440 }
            if let last = result.last, last.upperBound > open { return nil }
            result.append(open ... close)
        }
        return result.isEmpty ? nil : result
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
              (0 ... 24).contains(h), (0 ... 59).contains(m), h * 60 + m <= 1440 else { return nil }
        return h * 60 + m
    }

    mutating func zones(_ field: Field, floorPlan: FloorPlan?) -> [Zone]? {
        guard let items = sequence(field, what: "the zones") else { return nil }
        if items.isEmpty { fail(field, "at least one zone is needed") }
        if items.count > 64 { fail(field, "at most 64 zones are supported") }
        var zones: [Zone] = []
        var ok = !items.isEmpty && items.count <= 64
        var ids = Set<String>()
        for item in items {
            guard let m = mapping(item, allowed: ["id", "name", "rssi_threshold", "area"], what: "a zone") else { ok = false; continue }
            let id = require(m, "id", in: item).flatMap { identifier($0) }
            if let id, let idField = m["id"], !ids.insert(id).inserted { fail(idField, "zone id \"\(id)\" is used twice"); ok = false }
            let name = m["name"].flatMap { string($0, what: "the zone's display name") }
            let threshold = m["rssi_threshold"].map { int($0, -100 ... 0, what: "an integer dBm") } ?? -75
            let area = m["area"].map { self.area($0, floorPlan: floorPlan) } ?? []
            guard let id, let threshold, let area, m["name"] == nil || name != nil else { ok = false; continue }
            zones.append(Zone(id: id, name: name ?? id, rssiThreshold: threshold, area: area))
        }
        return ok ? zones : nil
    }

    /// `zones[].area`: the zone's outline on the floor plan, a list of at least three
    /// `[x, y]` corners in the plan's coordinates, each inside the plan.
    mutating func area(_ field: Field, floorPlan: FloorPlan?) -> [PlanPoint]? {
        guard let items = sequence(field, what: "the zone's outline on the floor plan, a list of [x, y] corners") else { return nil }
        guard let floorPlan else {
            fail(field, "a zone area is drawn on the floor plan; give site.floor_plan too (or remove the area)")
            return nil
        }
        guard (3 ... 256).contains(items.count) else {
            fail(field, "expected 3 to 256 corners [x, y], got \(items.count)")
            return nil
        }
        var points: [PlanPoint] = []
        for item in items {
            guard case .sequence(let pair) = item.node, pair.count == 2,
                  case .scalar(let xs) = pair[0], case .scalar(let ys) = pair[1],
                  let x = Double(xs.string), let y = Double(ys.string), x.isFinite, y.isFinite else {
                fail(item, "expected a corner [x, y] of two numbers in the floor plan's coordinates, got \(NodeReader.shown(item.node))")
                return nil
            }
            let point = PlanPoint(x: x, y: y)
            if let b = floorPlan.bounds, !b.contains(point) {
                fail(item, "the corner [\(xs.string), \(ys.string)] lies outside the floor plan (x \(b.x)…\(b.x + b.width), y \(b.y)…\(b.y + b.height))")
                return nil
            }
            points.append(point)
        }
        return points
    }

    mutating func sensors(_ field: Field, zones: [Zone]) -> [Sensor]? {
        guard let items = sequence(field, what: "the sensors") else { return nil }
        if items.isEmpty { fail(field, "at least one sensor is needed") }
        var sensors: [Sensor] = []
        var ok = !items.isEmpty
        var ids = Set<String>()
        var senders = Set<String>()
        var streams: [String: StreamProtocol] = [:]
        for item in items {
            guard let m = mapping(item, allowed: ["id", "zone", "interface", "tzsp", "peekremote", "file"], what: "a sensor") else { ok = false; continue }
            let id = require(m, "id", in: item).flatMap { identifier($0) }
            if let id, let idField = m["id"], !ids.insert(id).inserted { fail(idField, "sensor id \"\(id)\" is used twice"); ok = false }
            var zone: Int?
            if let zoneField = require(m, "zone", in: item), let zoneID = string(zoneField, what: "a zone id") {
                zone = zones.firstIndex { $0.id == zoneID }
                if zone == nil, !zones.isEmpty {
                    fail(zoneField, "no zone has the id \"\(zoneID)\" (zones: \(zones.map(\.id).joined(separator: ", ")))")
                }
            }
            let feeds = ["interface", "tzsp", "peekremote", "file"].filter { m[$0] != nil }
            var feed: Sensor.Feed?
            if feeds.count != 1 {
                fail(item, "a sensor needs exactly one of interface, tzsp, peekremote or file (got \(feeds.isEmpty ? "none" : feeds.joined(separator: ", ")))")
            } else if let f = m["interface"] {
                feed = string(f, what: "a network interface name such as wlan1").map { .interface($0) }
            } else if let f = m["tzsp"] {
                feed = stream(f, protocol: .tzsp, senders: &senders, streams: &streams)
            } else if let f = m["peekremote"] {
                feed = stream(f, protocol: .peekremote, senders: &senders, streams: &streams)
            } else if let f = m["file"] {
                if let on = bool(f) {
                    if on { feed = .file } else { fail(f, "file: false is not a feed; remove the sensor or give it interface, tzsp or peekremote") }
                }
            }
            guard let id, let zone, let feed else { ok = false; continue }
            sensors.append(Sensor(id: id, zone: zone, feed: feed))
        }
        return ok ? sensors : nil
    }

    /// The UDP stream protocols a sensor can be fed by.
    enum StreamProtocol: String {
        case tzsp
        case peekremote

        var name: String { self == .tzsp ? "TZSP" : "PEEKREMOTE" }
        var defaultPort: Int { self == .tzsp ? 37008 : 5000 }
    }

    /// A `tzsp:` or `peekremote:` feed: `{interface, port, sender}`.
    ///
    /// - Parameters:
    ///   - senders: (interface, port, sender) already taken, so one access point feeds one sensor.
    ///   - streams: the protocol each (interface, port) already carries: one capture reads a
    ///     port, so TZSP and PEEKREMOTE cannot share one.
    mutating func stream(_ field: Field, protocol proto: StreamProtocol, senders: inout Set<String>, streams: inout [String: StreamProtocol]) -> Sensor.Feed? {
        guard let m = mapping(field, allowed: ["interface", "port", "sender"], what: "a \(proto.name) feed") else { return nil }
        let interface = m["interface"].map { string($0, what: "a network interface name such as lo or eth0") } ?? "any"
        let port = m["port"].map { int($0, 1 ... 65535, what: "a UDP port") } ?? proto.defaultPort
        if let interface, let port {
            let key = "\(interface)/\(port)"
            if let other = streams[key], other != proto {
                fail(m["port"] ?? field, "port \(port) on \(interface) already receives \(other.name) for another sensor; give \(proto.name) its own port")
            } else {
                streams[key] = proto
            }
        }
        var sender: String?
        if let senderField = require(m, "sender", in: field), let text = string(senderField, what: "the access point's IPv4 address") {
            if NodeReader.isIPv4(text) {
                sender = text
                if !senders.insert("\(interface ?? "")/\(port ?? 0)/\(text)").inserted {
                    fail(senderField, "another sensor already receives from \(text) on this interface and port")
                }
            } else {
                fail(senderField, "expected the access point's IPv4 address (dotted quad such as 192.0.2.10), got \"\(text)\"")
            }
        }
        guard let interface, let port, let sender else { return nil }
        switch proto {
        case .tzsp: return .tzsp(interface: interface, port: UInt16(port), senderAddress: sender)
        case .peekremote: return .peekRemote(interface: interface, port: UInt16(port), senderAddress: sender)
        }
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isASCII) && Int(p).map { (0 ... 255).contains($0) } == true
        }
    }

    mutating func privacy(_ field: Field) -> PrivacySettings? {
        guard let m = mapping(field, allowed: ["rotation", "k", "randomised_addresses", "strict", "opt_out_file", "rssi_floor", "epsilon"], what: "the privacy settings") else { return nil }
        var p = PrivacySettings()
        var ok = true
        if let f = m["strict"] { if let v = bool(f) { p.strict = v } else { ok = false } }
        if let f = m["rotation"] {
            if let text = string(f, what: "a rotation"), let rotation = NodeReader.rotation(text) {
                p.rotation = rotation
            } else {
                if case .scalar = f.node {
                    fail(f, "expected \"daily HH:MM\" or \"hourly\" (a key may live at most 24 h), got \(NodeReader.shown(f.node))")
                }
                ok = false
            }
        } else if p.strict {
            p.rotation = .hourly
        }
        if p.strict, p.rotation != .hourly, let f = m["rotation"] {
            fail(f, "strict mode rotates the key every hour; use rotation: hourly (or leave it out)")
            ok = false
        }
        if let f = m["k"] { if let v = int(f, 2 ... 1000, what: "an integer k") { p.k = v } else { ok = false } }
        if let f = m["randomised_addresses"] {
            if let text = string(f, what: "group, count or ignore"), let v = RandomisedAddressPolicy(rawValue: text) {
                p.randomisedAddresses = v
            } else {
                if case .scalar = f.node { fail(f, "expected group, count or ignore, got \(NodeReader.shown(f.node))") }
                ok = false
            }
        }
        if let f = m["opt_out_file"], !NodeReader.isNull(f.node) {
            if let v = string(f, what: "a file path") { p.optOutFile = v } else { ok = false }
        }
        if let f = m["rssi_floor"], !NodeReader.isNull(f.node) {
            if let v = int(f, -120 ... 0, what: "an integer dBm") { p.rssiFloor = v } else { ok = false }
        }
        if let f = m["epsilon"], !NodeReader.isNull(f.node) {
            if let v = double(f, what: "a number in (0, 1] (or null for off)", where: { $0 > 0 && $0 <= PrivacySettings.maximumEpsilon }) { p.epsilon = v } else { ok = false }
        }
        guard ok else { return nil }
        // The privacy module's own rules, as a second line of defence.
        do {
            try p.validate()
        } catch {
            fail(field, error.message)
            return nil
        }
        return p
    }

    /// `daily 04:00` or `hourly`; anything with a longer period (weekly, every 48h …) is
    /// refused because a key must not outlive a day (P4).
    static func rotation(_ text: String) -> KeyRotation? {
        let words = text.split(separator: " ").map(String.init)
        if words == ["hourly"] { return .hourly }
        if words.count == 2, words[0] == "daily", let m = minutes(words[1]), m < 1440 {
            return .daily(hour: m / 60, minute: m % 60)
        }
        return nil
    }

    mutating func output(_ field: Field) -> OutputSettings? {
        guard let m = mapping(field, allowed: ["directory", "retention_days", "database"], what: "the output settings") else { return nil }
        var o = OutputSettings()
        var ok = true
        if let f = m["directory"] {
            if let v = string(f, what: "a directory path"), !v.isEmpty { o.directory = v } else { ok = false }
        }
        if let f = m["retention_days"] { if let v = int(f, 1 ... 3650, what: "a number of days") { o.retentionDays = v } else { ok = false } }
        if let f = m["database"], !NodeReader.isNull(f.node) {
            if let d = database(f, defaultRetention: o.retentionDays) { o.database = d } else { ok = false }
        }
        return ok ? o : nil
    }

    mutating func visits(_ field: Field) -> VisitRules? {
        guard let m = mapping(field, allowed: ["slot_seconds", "visit_gap_seconds", "presence_tail_seconds", "minimum_dwell_seconds", "lateness_seconds", "resident_hours", "resident_window_seconds", "resident_coverage", "phone_probe_rate", "crowd_window_seconds", "peak_margin_db"], what: "the visit rules") else { return nil }
        var v = VisitRules()
        var ok = true
        if let f = m["slot_seconds"] {
            if let s = int(f, 1 ... 900, what: "a number of seconds"), 900 % s == 0 { v.slotSeconds = s } else {
                if errors.last?.path != f.path { fail(f, "expected a divisor of 900 seconds (e.g. 10, 30, 60, 300), got \(NodeReader.shown(f.node))") }
                ok = false
            }
        }
        if let f = m["visit_gap_seconds"] {
            if let s = int(f, v.slotSeconds ... 1800, what: "a number of seconds (at least slot_seconds)") { v.visitGapSeconds = s } else { ok = false }
        } else if v.visitGapSeconds < v.slotSeconds {
            v.visitGapSeconds = v.slotSeconds
        }
        if let f = m["minimum_dwell_seconds"] { if let s = int(f, 0 ... 3600, what: "a number of seconds") { v.minimumDwellSeconds = s } else { ok = false } }
        if let f = m["lateness_seconds"] {
            if let s = int(f, 0 ... v.slotSeconds, what: "a number of seconds (at most slot_seconds)") { v.latenessSeconds = s } else { ok = false }
        } else {
            v.latenessSeconds = min(v.latenessSeconds, v.slotSeconds)
        }
        if let f = m["presence_tail_seconds"] {
            if let s = int(f, 0 ... v.visitGapSeconds, what: "a number of seconds (at most visit_gap_seconds)") { v.presenceTailSeconds = s } else { ok = false }
        } else {
            v.presenceTailSeconds = min(v.presenceTailSeconds, v.visitGapSeconds)
        }
        if let f = m["resident_hours"] { if let s = int(f, 1 ... 24, what: "a number of hours") { v.residentHours = s } else { ok = false } }
        let longestWindow = VisitRules.maximumResidentWindowSlots * v.slotSeconds
        if let f = m["resident_window_seconds"] {
            if let s = int(f, v.slotSeconds ... longestWindow, what: "a number of seconds (1 to 64 slots)") { v.residentWindowSeconds = s } else { ok = false }
        } else {
            v.residentWindowSeconds = max(v.slotSeconds, min(v.residentWindowSeconds, longestWindow))
        }
        if let f = m["resident_coverage"] {
            if let c = double(f, what: "a share of slots in (0, 1], e.g. 0.9", where: { $0 > 0 && $0 <= 1 }) { v.residentCoverage = c } else { ok = false }
        }
        if let f = m["phone_probe_rate"] {
            if let r = int(f, 0 ... 100_000, what: "probe units per phone and hour (0 counts each layout once)") { v.phoneProbeRate = r } else { ok = false }
        }
        if let f = m["crowd_window_seconds"] {
            if let s = int(f, v.slotSeconds ... 3600, what: "a number of seconds (at least slot_seconds)") { v.crowdWindowSeconds = s } else { ok = false }
        } else {
            v.crowdWindowSeconds = max(v.slotSeconds, v.crowdWindowSeconds)
        }
        if let f = m["peak_margin_db"] {
            if let d = int(f, 0 ... 60, what: "decibels above the zone's rssi_threshold (0 turns the rule off)") { v.peakMarginDB = d } else { ok = false }
        }
        return ok ? v : nil
    }

    mutating func metrics(_ field: Field) -> MetricsSettings? {
        guard let m = mapping(field, allowed: ["enabled", "address", "port"], what: "the metrics settings") else { return nil }
        var s = MetricsSettings()
        var ok = true
        if let f = m["enabled"] { if let v = bool(f) { s.enabled = v } else { ok = false } }
        if let f = m["address"] { if let v = string(f, what: "an IP address to listen on"), !v.isEmpty { s.address = v } else { ok = false } }
        if let f = m["port"] { if let v = int(f, 1 ... 65535, what: "a TCP port") { s.port = UInt16(v) } else { ok = false } }
        return ok ? s : nil
    }
}
