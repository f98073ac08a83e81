import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallTestSupport
import Testing

/// P7 by people: every published value, and every difference of two published values of an
/// hour that a reader can relate, describes 0 or at least k distinct devices — checked by
/// brute force over random hours whose zones overlap, built from explicit sets of devices.
@Suite("P7 suppression by people, P8 decisions on true counts")
struct SuppressionByPeopleTests {
    static let oneVisitorFiveVisits = HourReport(hourStart: 1_709_820_000, utcOffsetSeconds: 3600, partial: false, zones: [
        ZoneHour(zone: "entrance", devices: 40, visitors: 30, visits: 34, averagePresent: 6, peakPresent: 30, medianDwellSeconds: 420, p90DwellSeconds: 900, passersby: 10),
        // One person, five visits of 180 s each.
        ZoneHour(zone: "bakery", devices: 1, visitors: 1, visits: 5, averagePresent: 0.25, peakPresent: 1, medianDwellSeconds: 180, p90DwellSeconds: 180, passersby: 0),
        ZoneHour(zone: ZoneHour.siteWide, devices: 40, visitors: 30, visits: 39, averagePresent: 6.25, peakPresent: 30, medianDwellSeconds: 400, p90DwellSeconds: 900, passersby: 10),
    ], flows: [])

    static func assertNothingAboutTheBakeryVisitor(_ bakery: PublishedZoneRow, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(bakery.devices == .withheld, sourceLocation: sourceLocation)
        #expect(bakery.visitors == .withheld, sourceLocation: sourceLocation)
        #expect(bakery.visits == .withheld, "visits=5 of one person published", sourceLocation: sourceLocation)
        #expect(bakery.averagePresent == .withheld, sourceLocation: sourceLocation)
        #expect(bakery.peakPresent == .withheld, sourceLocation: sourceLocation)
        #expect(bakery.medianDwellSeconds == .withheld, "one person's dwell published", sourceLocation: sourceLocation)
        #expect(bakery.p90DwellSeconds == .withheld, sourceLocation: sourceLocation)
    }

    @Test func aZoneWithOnePersonMakingFiveVisitsPublishesNothingAboutThem() {
        let out = Suppression.publish(Self.oneVisitorFiveVisits, privacy: PrivacySettings(k: 5))
        Self.assertNothingAboutTheBakeryVisitor(out.zones[1])
        // The site row stays (the entrance goes with the bakery, so that ALL − entrance does not
        // give the bakery away).
        #expect(out.zones[2].visitors == .value(30))
    }

    @Test(arguments: [0.1, 0.5, 1.0])
    func withNoiseAZoneWithOnePersonMakingFiveVisitsStillPublishesNothingAboutThem(epsilon: Double) {
        for _ in 0 ..< 200 {
            let out = Suppression.publish(Self.oneVisitorFiveVisits, privacy: PrivacySettings(k: 5, epsilon: epsilon))
            Self.assertNothingAboutTheBakeryVisitor(out.zones[1])
            // Exact dwell is never published under noise.
            for row in out.zones {
                #expect(row.medianDwellSeconds?.value == nil && row.p90DwellSeconds?.value == nil)
            }
        }
    }

    /// A random hour built from sets: devices per zone overlap; each cell's true set is known.
    struct SetHour {
        var report: HourReport
        /// The true set of devices behind each count cell: (row, column) or flow index.
        var rowSets: [[HeatmapColumn: Set<Int>]]
        var flowSets: [Set<Int>]
    }

    static func randomHour(seed: Int) -> SetHour {
        var rng = SeededGenerator(seed: UInt64(seed) &* 0x9E37_79B9)
        let zoneCount = Int.random(in: 1 ... 5, using: &rng)
        let people = Int.random(in: 0 ... [8, 20, 60][seed % 3], using: &rng)
        var inZone = Array(repeating: Set<Int>(), count: zoneCount)
        var visitorIn = Array(repeating: Set<Int>(), count: zoneCount)
        for person in 0 ..< people {
            // Each person is heard in one to all zones (overlap), a visitor in some of them.
            let heard = (0 ..< zoneCount).filter { _ in Double.random(in: 0 ..< 1, using: &rng) < 0.5 }
            for z in heard.isEmpty ? [Int.random(in: 0 ..< zoneCount, using: &rng)] : heard {
                inZone[z].insert(person)
                if Bool.random(using: &rng) { visitorIn[z].insert(person) }
            }
        }
        func row(_ zone: String, devices: Set<Int>, visitors: Set<Int>) -> (ZoneHour, [HeatmapColumn: Set<Int>]) {
            let peak = Set(visitors.filter { _ in Bool.random(using: &rng) })
            let passers = devices.subtracting(visitors)
            // Some visitors come back: more visits than visitors.
            let visits = visitors.count + visitors.filter { _ in Int.random(in: 0 ..< 4, using: &rng) == 0 }.count * 3
            let dwell: Double? = visitors.isEmpty ? nil : Double(Int.random(in: 60 ... 3000, using: &rng))
            let hour = ZoneHour(zone: zone, devices: devices.count, visitors: visitors.count, visits: visits,
                                averagePresent: Double(visitors.count) / 3, peakPresent: peak.count,
                                medianDwellSeconds: dwell, p90DwellSeconds: dwell.map { $0 * 2 }, passersby: passers.count)
            return (hour, [.devices: devices, .visitors: visitors, .peakPresent: peak, .passersby: passers])
        }
        var rows = (0 ..< zoneCount).map { row("z\($0)", devices: inZone[$0], visitors: visitorIn[$0]) }
        let allDevices = inZone.reduce(into: Set<Int>()) { $0.formUnion($1) }
        let allVisitors = visitorIn.reduce(into: Set<Int>()) { $0.formUnion($1) }
        rows.append(row(ZoneHour.siteWide, devices: allDevices, visitors: allVisitors))
        var flows: [FlowCount] = []
        var flowSets: [Set<Int>] = []
        for a in 0 ..< zoneCount { for b in 0 ..< zoneCount where a != b {
            let moved = Set(visitorIn[a].intersection(visitorIn[b]).filter { _ in Bool.random(using: &rng) })
            guard !moved.isEmpty else { continue }
            flows.append(FlowCount(from: "z\(a)", to: "z\(b)", transitions: moved.count))
            flowSets.append(moved)
        } }
        let report = HourReport(hourStart: 1_709_820_000, utcOffsetSeconds: 3600, partial: false, zones: rows.map(\.0), flows: flows)
        return SetHour(report: report, rowSets: rows.map(\.1), flowSets: flowSets)
    }

    static func cell(_ row: PublishedZoneRow, _ column: HeatmapColumn) -> Published<Int> {
        switch column {
        case .devices: row.devices
        case .visitors: row.visitors
        case .peakPresent: row.peakPresent
        case .passersby: row.passersby
        default: .withheld
        }
    }

    @Test(arguments: 1 ... 300)
    func noPublishedValueNorDifferenceOfRelatedValuesIsACountBelowKInRandomOverlappingHours(seed: Int) {
        let hour = Self.randomHour(seed: seed)
        let k = [2, 3, 5, 10][seed % 4]
        let out = Suppression.apply(hour.report, k: k)
        // Every published count of people with its true set and the zone it belongs to
        // (nil for the site row; a flow belongs to both its zones).
        var published: [(what: String, value: Int, set: Set<Int>, zones: Set<String>)] = []
        for (r, row) in out.zones.enumerated() {
            for column in [HeatmapColumn.devices, .visitors, .peakPresent, .passersby] {
                if let v = Self.cell(row, column).value {
                    let set = hour.rowSets[r][column]!
                    #expect(v == set.count)
                    published.append(("\(row.zone).\(column.rawValue)", v, set, row.zone == ZoneHour.siteWide ? [] : [row.zone]))
                }
            }
        }
        for (f, flow) in out.flows.enumerated() {
            if let v = flow.transitions.value { published.append(("\(flow.from)→\(flow.to)", v, hour.flowSets[f], [flow.from, flow.to, "flow \(f)"])) }
        }
        for p in published { #expect(p.value == 0 || p.value >= k, "\(p.what) = \(p.value) published with k = \(k)") }
        // Brute force over every pair a reader can relate — within a row, a zone and the
        // site, a flow and its zones or the site: where one set contains the other, the
        // difference is a count of people and must be 0 or at least k. (Two different zones
        // are not related: a reader cannot know that one's people contain the other's.)
        var nestedSmall: [String] = []
        for i in published.indices { for j in published.indices where i != j {
            let (a, b) = (published[i], published[j])
            let related = a.zones.isEmpty || b.zones.isEmpty || a.zones.isSubset(of: b.zones) || b.zones.isSubset(of: a.zones)
            guard related, a.set.isSubset(of: b.set) else { continue }
            let difference = b.value - a.value
            if difference > 0 && difference < k { nestedSmall.append("\(b.what) − \(a.what) = \(difference) people") }
        } }
        #expect(nestedSmall.isEmpty, "differences that are counts of people below k = \(k): \(nestedSmall.prefix(4))")
        // Columns that are not counts of people are guarded by the visitors they describe.
        for (r, row) in out.zones.enumerated() where row.visitors.isWithheld {
            #expect(row.visits.isWithheld && row.averagePresent.isWithheld, "\(row.zone): visits or presence published without its visitors")
            if hour.report.zones[r].medianDwellSeconds != nil {
                #expect(row.medianDwellSeconds == .withheld && row.p90DwellSeconds == .withheld, "\(row.zone): dwell published without its visitors")
            }
        }
        // devices = visitors + passersby: never exactly one of the three withheld.
        for row in out.zones { #expect([row.devices, row.visitors, row.passersby].filter(\.isWithheld).count != 1) }
    }

    @Test(arguments: 1 ... 40)
    func withNoiseTheDecisionsAreThoseOfTheTrueCounts(seed: Int) {
        let hour = Self.randomHour(seed: seed)
        let exact = Suppression.apply(hour.report, k: 5)
        let noisy = Suppression.publish(hour.report, privacy: PrivacySettings(k: 5, epsilon: 0.5))
        for (e, n) in zip(exact.zones, noisy.zones) {
            for column in [HeatmapColumn.devices, .visitors, .peakPresent, .passersby] {
                #expect(Self.cell(e, column).isWithheld == Self.cell(n, column).isWithheld, "\(e.zone).\(column.rawValue): the noisy count decided")
                if let v = Self.cell(n, column).value { #expect(v == 0 || v >= 5) }
            }
            // Dwell, visits and flows have no bounded sensitivity to one device: not published with noise.
            #expect(n.medianDwellSeconds?.value == nil && n.p90DwellSeconds?.value == nil)
            #expect(n.visits.value == nil || n.visits.value == 0)
        }
        let flowsWithheld = noisy.flows.allSatisfy { $0.transitions.isWithheld }
        #expect(flowsWithheld)
    }

    @Test func epsilonAboveOneIsRejected() {
        #expect(throws: PrivacySettingsError.self) { try PrivacySettings(epsilon: 1.5).validate() }
        #expect(throws: PrivacySettingsError.self) { try PrivacySettings(epsilon: 10).validate() }
        #expect((try? PrivacySettings(epsilon: 1).validate()) != nil)
        #expect((try? PrivacySettings(epsilon: 0.1).validate()) != nil)
    }
}
