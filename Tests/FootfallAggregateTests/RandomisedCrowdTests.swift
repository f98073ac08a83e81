import FootfallCore
@testable import FootfallAggregate
@testable import FootfallIngest
import Testing

/// A layout of randomised addresses is as many devices as its probe rate says phones
/// (RandomisedCrowd.swift, docs/crowds.md), and what that takes ends with the key period.
@Suite("Randomised crowd")
struct RandomisedCrowdTests {
    /// `phones` phones of one layout, each scanning every 60 s at its own second of the
    /// minute with a fresh address and four frames 20 ms apart, for an hour from 10:00.
    static func crowd(_ phones: Int, layout: UInt64 = 7, keys: KeyStore = Scene.keys) -> [Observation] {
        var list: [Observation] = []
        var address: UInt64 = 1_000
        for minute in 0 ..< 60 {
            for p in 0 ..< phones {
                address += 1
                let t = Scene.tenAM + Int64(minute * 60 + p % 60)
                for f in 0 ..< 4 {
                    var o = Scene.frame(address, at: t, layout: layout, keys: keys)
                    o.timestampNanos += Int64(f) * 20_000_000
                    list.append(o)
                }
            }
        }
        return list.sorted { $0.timestampNanos < $1.timestampNanos }
    }

    /// Scene settings with the phone rate of those phones: 60 scans × 4 frames an hour.
    static func settings(rate: Int = 240) -> Settings {
        var settings = Scene.settings()
        settings.visits.phoneProbeRate = rate
        return settings
    }

    @Test(arguments: [1, 10, 40])
    func aLayoutIsAsManyDevicesAsItsRateIsPhones(phones: Int) {
        let all = Scene.row(Scene.run(Self.crowd(phones), settings: Self.settings()).reports.first, "ALL")
        let devices = Double(all?.devices ?? 0)
        // The lanes follow the rate over the window; the hour holds the most the window saw.
        #expect(devices >= 0.8 * Double(phones) && devices <= 1.25 * Double(phones) + 1, "\(phones) phones: \(devices) devices")
        #expect((all?.averagePresent ?? 0) >= 0.7 * Double(phones))
    }

    @Test func withoutAPhoneRateALayoutIsOneDeviceWhateverItsRate() {
        let all = Scene.row(Scene.run(Self.crowd(40), settings: Self.settings(rate: 0)).reports.first, "ALL")
        #expect(all?.devices == 1)
    }

    @Test func aLayoutsRateAndAddressCountsEndWithTheKeyPeriod() {
        let keys = KeyStore()
        var tracker = Tracker(settings: Self.settings())
        for o in Self.crowd(20, keys: keys) where o.timestampNanos < (Scene.tenAM + 1800) * 1_000_000_000 { tracker.observe(o) }
        #expect(tracker.crowd.layoutCount == 1)
        #expect(tracker.crowd.cache.contains { $0.address != 0 })
        tracker.endKeyPeriod(at: Scene.tenAM + 1800)
        keys.rotate()
        // Nothing keyed by the old key is left: no layout, no address in the cache.
        #expect(tracker.crowd.layoutCount == 0)
        #expect(tracker.crowd.cache.allSatisfy { $0.address == 0 && $0.count == 0 && $0.sensor == 0 && $0.lane == 0 })
        #expect(tracker.crowd.victims.allSatisfy { $0 == 0 })
        #expect(tracker.crowd.keys.allSatisfy { $0 == 0 })
        _ = tracker.finish()
    }

    @Test func newAddressesOfALayoutTakeItsLanesInTurn() {
        // 240 units an hour per phone is 4 per one-minute slot: 20 addresses of one frame
        // per slot for ten slots are five phones.
        var crowd = RandomisedCrowd(phoneProbeRate: 240, windowSeconds: 600, slotSeconds: 60)
        let layout = Scene.layout(7)
        var address: UInt64 = 1
        for slot in Int64(0) ..< 10 {
            for _ in 0 ..< 20 {
                _ = crowd.entity(layout: layout, address: Scene.device(address), sensor: 0, slot: slot)
                address += 1
            }
        }
        // 15 new addresses in the next slot: lanes 0…4 in turn, three times over, whatever
        // the addresses' pseudonyms are.
        var lanes: [Pseudonym] = []
        for _ in 0 ..< 15 {
            lanes.append(crowd.entity(layout: layout, address: Scene.device(address), sensor: 0, slot: 10))
            address += 1
        }
        #expect(Set(lanes).count == 5)
        #expect(lanes[0 ..< 5] == lanes[5 ..< 10] && lanes[5 ..< 10] == lanes[10 ..< 15])
        // An address keeps its lane: its later frames go where its first one went.
        for (i, earlier) in lanes.enumerated() {
            #expect(crowd.entity(layout: layout, address: Scene.device(address - 15 + UInt64(i)), sensor: 0, slot: 10) == earlier)
        }
    }

    @Test func aCrowdSplitIntoLanesCountsTheSameUnderAnyKey() {
        // Ten phones of one layout scanning every five minutes: sparse enough that which
        // lane an address takes decides which lanes stay present. Under two fresh keys (two
        // runs) the hour is the same, because lanes are taken in turn, not by a keyed hash.
        func sparse(_ keys: KeyStore) -> [Observation] {
            var list: [Observation] = []
            var address: UInt64 = 1_000
            for scan in 0 ..< 12 {
                for p in 0 ..< 10 {
                    address += 1
                    let t = Scene.tenAM + Int64(scan * 300 + p * 29)
                    for f in 0 ..< 4 {
                        var o = Scene.frame(address, at: t, layout: 7, keys: keys)
                        o.timestampNanos += Int64(f) * 20_000_000
                        list.append(o)
                    }
                }
            }
            return list
        }
        let settings = Self.settings(rate: 48)
        let first = Scene.run(sparse(KeyStore()), settings: settings).reports
        let second = Scene.run(sparse(KeyStore()), settings: settings).reports
        #expect((Scene.row(first.first, "ALL")?.devices ?? 0) > 1, "the layout was split into lanes")
        #expect(first == second)
    }

    @Test func anAddressIsRecognisedWhileFewerThanFourOthersShareItsCacheSet() {
        // Which addresses share a set of the cache follows their keyed pseudonyms, so an
        // address pushed out and heard again would count again under one key and not under
        // another. Here five pseudonyms with the same set bits: the first sends its eight
        // counted frames, others arrive, then it is heard once more.
        func unitsAfter(others: Int) -> UInt32 {
            var crowd = RandomisedCrowd(phoneProbeRate: 240, windowSeconds: 600, slotSeconds: 60)
            let layout = Scene.layout(7)
            func address(_ i: UInt64) -> Pseudonym { Pseudonym(value: i << 40 | 0x1234 << 20 | 1) }
            for _ in 0 ..< 8 { _ = crowd.entity(layout: layout, address: address(1), sensor: 0, slot: 0) }
            for i in 0 ..< UInt64(others) { _ = crowd.entity(layout: layout, address: address(2 + i), sensor: 0, slot: 0) }
            _ = crowd.entity(layout: layout, address: address(1), sensor: 0, slot: 0)
            return crowd.layouts[0].ring.reduce(0, +)
        }
        // Three others share its set: it is still in the cache, its ninth frame does not count.
        #expect(unitsAfter(others: 3) == 8 + 3)
        // Four others: the oldest entry (its own) was replaced, so it counts again (the limit
        // docs/crowds.md states).
        #expect(unitsAfter(others: 4) == 8 + 4 + 1)
    }
}
