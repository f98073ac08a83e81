import FootfallCore
import FootfallIngest
import FootfallAggregate
import Testing

/// P6 (allow-listed output) and P7 (small-count suppression with complementary suppression).
@Suite("P6 output allow-list, P7 small counts")
struct SuppressionTests {
    static func row(_ zone: String, devices: Int, visitors: Int, passersby: Int, visits: Int? = nil, peak: Int? = nil) -> ZoneHour {
        ZoneHour(zone: zone, devices: devices, visitors: visitors, visits: visits ?? visitors, averagePresent: Double(visitors) / 2,
                 peakPresent: peak ?? visitors, medianDwellSeconds: visitors > 0 ? 600 : nil, p90DwellSeconds: visitors > 0 ? 1500 : nil, passersby: passersby)
    }

    static func hour(_ zones: [ZoneHour], flows: [FlowCount] = []) -> HourReport {
        HourReport(hourStart: 1_709_820_000, utcOffsetSeconds: 3600, partial: false, zones: zones, flows: flows)
    }

    @Test func smallCountsAreSuppressed() {
        let report = Self.hour([
            Self.row("entrance", devices: 40, visitors: 30, passersby: 10),
            Self.row("bakery", devices: 3, visitors: 2, passersby: 1),
            Self.row("tills", devices: 25, visitors: 21, passersby: 4),
            Self.row(ZoneHour.siteWide, devices: 68, visitors: 53, passersby: 15),
        ], flows: [FlowCount(from: "entrance", to: "bakery", transitions: 2), FlowCount(from: "entrance", to: "tills", transitions: 19)])
        let out = Suppression.apply(report, k: 5)
        let bakery = out.zones[1]
        #expect(bakery.devices == .withheld)
        #expect(bakery.visitors == .withheld)
        #expect(bakery.passersby == .withheld)
        #expect(bakery.visits == .withheld)
        #expect(bakery.peakPresent == .withheld)
        #expect(bakery.averagePresent == .withheld)   // its zone has fewer than k visitors
        #expect(bakery.medianDwellSeconds == .withheld) // based on fewer than k visits
        #expect(bakery.p90DwellSeconds == .withheld)
        #expect(bakery.isSuppressed)
        #expect(bakery.suppressed.contains(.devices))
        #expect(out.flows[0].transitions == .withheld)
        // 19 transitions of people who are among the tills' 21 visitors: the difference, 2,
        // would be a count of people, so the flow goes (rule 5).
        #expect(out.flows[1].transitions == .withheld)
        // Nothing published anywhere is a count in 1..<k.
        for row in out.zones {
            for cell in [row.devices, row.visitors, row.visits, row.peakPresent, row.passersby] {
                if let v = cell.value { #expect(v == 0 || v >= 5) }
            }
        }
        // Large counts in the big zones survive.
        #expect(out.zones[0].visitors == .value(30))
        #expect(out.zones[3].devices == .value(68))
    }

    @Test func zeroIsPublishedBecauseItDescribesNobody() {
        let out = Suppression.apply(Self.hour([Self.row("a", devices: 0, visitors: 0, passersby: 0), Self.row(ZoneHour.siteWide, devices: 0, visitors: 0, passersby: 0)]), k: 5)
        #expect(out.zones[0].devices == .value(0))
        #expect(out.zones[0].medianDwellSeconds == nil)
        #expect(!out.zones[0].isSuppressed)
    }

    /// What an attacker can compute from one published hour: in each column, the site row
    /// minus the published zone rows is the total of the withheld zone rows; in each row,
    /// devices − visitors − passersby relates the three. Neither may give away one withheld
    /// value, or a total below k.
    static func assertNothingRecoverable(_ report: HourReport, k: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let out = Suppression.apply(report, k: k)
        let site = out.zones.firstIndex { $0.zone == ZoneHour.siteWide }!
        let zoneRows = out.zones.indices.filter { $0 != site }
        let publishedPaths: [KeyPath<PublishedZoneRow, Published<Int>>] = [\.devices, \.visitors, \.visits, \.peakPresent, \.passersby]
        let rawPaths: [KeyPath<ZoneHour, Int>] = [\.devices, \.visitors, \.visits, \.peakPresent, \.passersby]
        let columns: [(PublishedZoneRow) -> Published<Int>] = publishedPaths.map { kp in { $0[keyPath: kp] } }
        let raw: [(ZoneHour) -> Int] = rawPaths.map { kp in { $0[keyPath: kp] } }
        for (column, rawColumn) in zip(columns, raw) {
            let hidden = zoneRows.filter { column(out.zones[$0]).isWithheld }
            if column(out.zones[site]).isWithheld {
                // The site total is withheld: the zones must not add up to it in full view.
                let nonZeroZones = zoneRows.filter { rawColumn(report.zones[$0]) > 0 }
                if !nonZeroZones.isEmpty { #expect(!hidden.isEmpty, sourceLocation: sourceLocation) }
            } else if !hidden.isEmpty {
                let recoverableTotal = hidden.reduce(0) { $0 + rawColumn(report.zones[$1]) }
                #expect(hidden.count >= 2, "one withheld cell would equal site minus published", sourceLocation: sourceLocation)
                #expect(recoverableTotal >= k, "the withheld cells add up to a small count", sourceLocation: sourceLocation)
            }
        }
        for row in out.zones {
            let trio = [row.devices, row.visitors, row.passersby]
            #expect(trio.filter(\.isWithheld).count != 1, "devices = visitors + passersby would give it away", sourceLocation: sourceLocation)
        }
        for row in out.zones {
            for cell in columns.map({ $0(row) }) {
                if let v = cell.value { #expect(v == 0 || v >= k, sourceLocation: sourceLocation) }
            }
        }
    }

    @Test func suppressedValueCannotBeRecoveredBySubtraction() {
        // One small zone among big ones: withholding it alone would let site − others = 3.
        let report = Self.hour([
            Self.row("entrance", devices: 40, visitors: 30, passersby: 10),
            Self.row("bakery", devices: 3, visitors: 3, passersby: 0),
            Self.row("tills", devices: 25, visitors: 21, passersby: 4),
            Self.row(ZoneHour.siteWide, devices: 68, visitors: 54, passersby: 14),
        ])
        let out = Suppression.apply(report, k: 5)
        // The next smallest zone (tills) is withheld too, so site − entrance = 28 covers both.
        #expect(out.zones[1].devices == .withheld)
        #expect(out.zones[2].devices == .withheld)
        #expect(out.zones[0].devices == .value(40))
        #expect(out.zones[3].devices == .value(68))
        Self.assertNothingRecoverable(report, k: 5)

        // Two small zones that add up to less than k: a third must go.
        let tiny = Self.hour([
            Self.row("a", devices: 1, visitors: 1, passersby: 0),
            Self.row("b", devices: 2, visitors: 2, passersby: 0),
            Self.row("c", devices: 9, visitors: 9, passersby: 0),
            Self.row("d", devices: 30, visitors: 30, passersby: 0),
            Self.row(ZoneHour.siteWide, devices: 42, visitors: 42, passersby: 0),
        ])
        let tinyOut = Suppression.apply(tiny, k: 5)
        #expect(tinyOut.zones[2].devices == .withheld)
        #expect(tinyOut.zones[3].devices == .value(30))
        Self.assertNothingRecoverable(tiny, k: 5)

        // One zone only: withholding it means withholding the site total too.
        let single = Self.hour([Self.row("a", devices: 3, visitors: 3, passersby: 0), Self.row(ZoneHour.siteWide, devices: 8, visitors: 8, passersby: 0)])
        let singleOut = Suppression.apply(single, k: 5)
        #expect(singleOut.zones[1].devices == .withheld)
        Self.assertNothingRecoverable(single, k: 5)
    }

    @Test func withinRowRelationDoesNotRevealAWithheldCount() {
        // visitors 20, passersby 2: devices − visitors would reveal passersby = 2.
        let report = Self.hour([
            Self.row("a", devices: 22, visitors: 20, passersby: 2),
            Self.row("b", devices: 30, visitors: 30, passersby: 0),
            Self.row(ZoneHour.siteWide, devices: 52, visitors: 50, passersby: 2),
        ])
        let out = Suppression.apply(report, k: 5)
        #expect(out.zones[0].passersby == .withheld)
        #expect(out.zones[0].devices.isWithheld || out.zones[0].visitors.isWithheld)
        Self.assertNothingRecoverable(report, k: 5)
    }

    @Test(arguments: 1 ... 40)
    func randomHoursNeverLeaveARecoverableSmallCount(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed))
        let zoneCount = Int.random(in: 1 ... 6, using: &rng)
        var zones: [ZoneHour] = []
        for z in 0 ..< zoneCount {
            let small = Bool.random(using: &rng)
            let visitors = small ? Int.random(in: 0 ... 6, using: &rng) : Int.random(in: 0 ... 60, using: &rng)
            let passersby = Int.random(in: 0 ... 8, using: &rng)
            zones.append(Self.row("z\(z)", devices: visitors + passersby, visitors: visitors, passersby: passersby,
                                  visits: visitors + Int.random(in: 0 ... 3, using: &rng), peak: min(visitors, Int.random(in: 0 ... 9, using: &rng))))
        }
        let total = Self.row(ZoneHour.siteWide, devices: zones.reduce(0) { $0 + $1.devices }, visitors: zones.reduce(0) { $0 + $1.visitors },
                             passersby: zones.reduce(0) { $0 + $1.passersby }, visits: zones.reduce(0) { $0 + $1.visits }, peak: zones.reduce(0) { $0 + $1.peakPresent })
        let k = [2, 3, 5, 10][seed % 4]
        Self.assertNothingRecoverable(Self.hour(zones + [total]), k: k)
    }

    /// P6: what can be published is exactly the documented columns: no field for an
    /// identifier, a pseudonym or a finer time exists in the published types.
    @Test func publishedRowsHoldOnlyAllowListedColumns() {
        let out = Suppression.apply(Self.hour([Self.row("a", devices: 10, visitors: 8, passersby: 2), Self.row(ZoneHour.siteWide, devices: 10, visitors: 8, passersby: 2)],
                                              flows: [FlowCount(from: "a", to: "b", transitions: 7)]), k: 5)
        let rowFields = Set(Mirror(reflecting: out.zones[0]).children.compactMap(\.label))
        #expect(rowFields == ["zone", "devices", "visitors", "visits", "averagePresent", "peakPresent", "medianDwellSeconds", "p90DwellSeconds", "passersby", "dwellBands", "suppressed"])
        let flowFields = Set(Mirror(reflecting: out.flows[0]).children.compactMap(\.label))
        #expect(flowFields == ["from", "to", "transitions"])
        let hourFields = Set(Mirror(reflecting: out).children.compactMap(\.label))
        #expect(hourFields == ["hourStart", "utcOffsetSeconds", "partial", "zones", "flows", "k", "listenedSeconds", "days"])
        // A day (daily-*.csv, P18): a date, counts and a dwell, nothing finer.
        let day = Suppression.publish(DayReport(date: "2024-03-07", partial: false, zones: [ZoneDay(zone: "a", devices: 10, visitors: 8, passersby: 2, visits: 9, medianDwellSeconds: 600)]), privacy: PrivacySettings())
        #expect(Set(Mirror(reflecting: day).children.compactMap(\.label)) == ["date", "partial", "zones", "k"])
        #expect(Set(Mirror(reflecting: day.zones[0]).children.compactMap(\.label)) == ["zone", "devices", "visitors", "passersby", "visits", "medianDwellSeconds", "dwellBands", "suppressed"])
        #expect(out.hourStart % 3600 == 0)
        #expect(HeatmapColumn.allCases.map(\.rawValue) == ["devices", "visitors", "visits", "avg_present", "peak_present", "median_dwell_s", "p90_dwell_s", "passersby",
                                                         "dwell_0_5m", "dwell_5_15m", "dwell_15_30m", "dwell_30_60m", "dwell_60m_plus"])
    }

    /// P7 for the dwell bands: a band of fewer than k visits is withheld, and because the
    /// bands add up to `visits`, a second band goes with it; across zones as for any count.
    @Test func aSmallDwellBandIsWithheldWithASecondOneSoVisitsDoNotRevealIt() {
        var a = Self.row("a", devices: 30, visitors: 22, passersby: 8, visits: 24)
        a.dwellBands = [12, 3, 5, 4, 0]
        var b = Self.row("b", devices: 30, visitors: 22, passersby: 8, visits: 24)
        b.dwellBands = [10, 6, 8, 0, 0]
        var all = Self.row(ZoneHour.siteWide, devices: 60, visitors: 44, passersby: 16, visits: 48)
        all.dwellBands = [22, 9, 13, 4, 0]
        let out = Suppression.apply(Self.hour([a, b, all]), k: 5)
        let bandsA = out.zones[0].dwellBands
        #expect(bandsA[1] == .withheld && bandsA[3] == .withheld, "3 and 4 visits are below k")
        // Within the row: never exactly one unknown cell among visits and the bands.
        for row in out.zones {
            let unknown = ([row.visits] + row.dwellBands).filter(\.isWithheld).count
            #expect(unknown != 1, "\(row.zone)")
        }
        // Across zones: ALL minus the published zone never gives a withheld band of a zone.
        for band in 0 ..< 5 where bandsA[band].isWithheld {
            #expect(out.zones[1].dwellBands[band].isWithheld || out.zones[2].dwellBands[band].isWithheld, "band \(band)")
        }
        #expect(out.zones[0].suppressed.contains(.dwell5To15Minutes))
    }

    /// A band is guarded by the people it describes: six short visits of two phones are two
    /// people, and are withheld however many visits they make.
    @Test func aDwellBandOfFewerThanKPeopleIsWithheldEvenWithManyVisits() {
        var a = Self.row("a", devices: 30, visitors: 22, passersby: 8, visits: 24)
        a.dwellBands = [12, 6, 6, 0, 0]
        a.dwellBandDevices = [10, 2, 6, 0, 0]
        var all = a
        all.zone = ZoneHour.siteWide
        let out = Suppression.apply(Self.hour([a, all]), k: 5)
        #expect(out.zones[0].dwellBands[1] == .withheld, "6 visits of 2 devices")
        #expect(out.zones[0].dwellBands[0] == .value(12) || out.zones[0].dwellBands[2] == .withheld)
        // Visits withheld (their visitors are): every band goes with them.
        var few = Self.row("a", devices: 4, visitors: 3, passersby: 1, visits: 9)
        few.dwellBands = [0, 9, 0, 0, 0]
        let hidden = Suppression.apply(Self.hour([few]), k: 5)
        let allWithheld = hidden.zones[0].dwellBands.allSatisfy { $0.isWithheld }
        #expect(allWithheld)
    }

    @Test func kBelowTwoIsRejectedInProduction() {
        #expect(throws: PrivacySettingsError.self) { try PrivacySettings(k: 1).validate() }
        #expect(throws: PrivacySettingsError.self) { try PrivacySettings(k: 0).validate(production: false) }
        #expect((try? PrivacySettings(k: 2).validate()) != nil)
        #expect((try? PrivacySettings(k: 1).validate(production: false)) != nil)
        #expect(PrivacySettings().k == 5)
    }
}
