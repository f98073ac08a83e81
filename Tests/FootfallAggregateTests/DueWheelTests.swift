import FootfallCore
@testable import FootfallAggregate
import FootfallTestSupport
import Testing

/// The tracker's tick looks only at the devices its ``DueWheel`` names. These tests hold it to
/// the tick that settled every device every slot: same hours, same days, same counters, and
/// the same devices held after every frame (so every slot decision, visit end and forgotten
/// device falls in the same tick).
@Suite("Due wheel")
struct DueWheelTests {
    /// Frames of `devices` made-up devices over `hours` hours from `start`: each device comes
    /// and goes in visits of random length and strength, some vendor-assigned (resident
    /// candidates), then a third of them again two days later; each frame stamped up to
    /// `jitter` seconds before it arrives (out of order, as frames of several sources are).
    static func stream(seed: UInt64, start: Int64, hours: Int64, devices: UInt64, jitter: Int64) -> [Observation] {
        var random = SplitMix64(seed: seed)
        var frames: [(sent: Int64, frame: Observation)] = []
        let end = start + hours * 3600
        for n in 1 ... devices {
            let fixed = n % 7 == 0
            var t = start + Int64.random(in: 0 ..< 3600, using: &random)
            while t < end {
                let length = Int64.random(in: 1 ..< 2400, using: &random)
                let every = Int64.random(in: 1 ..< 90, using: &random)
                let dBm = Int8.random(in: -90 ..< -40, using: &random)
                let sensor = Int.random(in: 0 ... 1, using: &random)
                var s = t
                while s < min(t + length, end) {
                    // Sent at `s`, stamped up to `jitter` seconds earlier: frames arrive out of order.
                    let stamped = s - (jitter > 0 ? Int64.random(in: 0 ... jitter, using: &random) : 0)
                    frames.append((s, Scene.frame(n, at: stamped, sensor: sensor, dBm: dBm, fixed: fixed)))
                    s += every
                }
                t += length + Int64.random(in: 30 ..< 7200, using: &random)
            }
        }
        // Two days later, the same devices once more for an hour.
        let later = end + 2 * 86400 + 1234
        for n in 1 ... devices where n % 3 == 0 {
            frames.append((later + Int64(n) * 7, Scene.frame(n, at: later + Int64(n) * 7, dBm: -55)))
            frames.append((later + Int64(n) * 7 + 900, Scene.frame(n, at: later + Int64(n) * 7 + 900, dBm: -60)))
        }
        return frames.sorted { $0.sent < $1.sent }.map(\.frame)
    }

    /// Runs `frames` through a tracker, either ticking by the wheel or sweeping every device,
    /// with a key rotation after `resetAfter` frames; returns everything observable.
    static func run(_ frames: [Observation], settings: Settings, sweep: Bool, resetAfter: Int) -> (reports: [HourReport], counters: TrackerCounters, held: [Int]) {
        var tracker = Tracker(settings: settings)
        tracker.sweepsEveryDevice = sweep
        var reports: [HourReport] = []
        var held: [Int] = []
        for (i, frame) in frames.enumerated() {
            tracker.observe(frame)
            held.append(tracker.trackedDevices)
            if !sweep, i % 97 == 0 { checkQueue(tracker) }
            if i == resetAfter { tracker.reset() }
            reports += tracker.takeClosedHours()
        }
        reports += tracker.finish()
        return (reports, tracker.counters, held)
    }

    /// Every visit-end and forget check in the wheel belongs to a device still held that has
    /// it queued, one each: no entry outlives its device (its index may be reused) and none
    /// is queued twice.
    static func checkQueue(_ tracker: borrowing Tracker) {
        let queued = tracker.dueWheel.queuedCounts()
        var close = 0, evict = 0
        for d in tracker.devices.indices where tracker.devices[d].live {
            if tracker.devices[d].closeQueued { close += 1 }
            if tracker.devices[d].evictQueued { evict += 1 }
        }
        #expect(queued[.close, default: 0] == close)
        #expect(queued[.evict, default: 0] == evict)
    }

    static let rules: [VisitRules] = [
        VisitRules(),
        // Gap not a whole number of slots, lateness of a whole slot, a short resident rule.
        VisitRules(slotSeconds: 10, visitGapSeconds: 95, presenceTailSeconds: 40, minimumDwellSeconds: 30, latenessSeconds: 10, residentHours: 1, residentWindowSeconds: 600, residentCoverage: 0.5),
        // One-second slots: an hour and a gap are longer than the wheel, so checks come round early.
        VisitRules(slotSeconds: 1, visitGapSeconds: 1200, presenceTailSeconds: 300, minimumDwellSeconds: 60, latenessSeconds: 0),
        VisitRules(slotSeconds: 60, visitGapSeconds: 1200, presenceTailSeconds: 540, latenessSeconds: 0),
        VisitRules(slotSeconds: 30, visitGapSeconds: 30, presenceTailSeconds: 0, minimumDwellSeconds: 0, latenessSeconds: 15),
    ]

    @Test(arguments: 0 ..< rules.count)
    func theWheelDecidesEverySlotAndForgetsEveryDeviceInTheSameTickAsASweepOfAllDevices(rulesIndex: Int) {
        let settings = Scene.settings(rules: Self.rules[rulesIndex])
        let slot = Int64(Self.rules[rulesIndex].slotSeconds)
        // Across the spring-forward night in Prague (2024-03-31 02:00 → 03:00) and midnight.
        let start: Int64 = 1_711_832_400 // 2024-03-30 22:00 local
        let frames = Self.stream(seed: UInt64(rulesIndex) + 1, start: start, hours: 8, devices: slot == 1 ? 40 : 120, jitter: Int64(Self.rules[rulesIndex].latenessSeconds) + 2)
        let wheel = Self.run(frames, settings: settings, sweep: false, resetAfter: frames.count / 2)
        let sweep = Self.run(frames, settings: settings, sweep: true, resetAfter: frames.count / 2)
        #expect(wheel.counters.evicted > 0, "the stream forgets devices")
        #expect(wheel.counters == sweep.counters)
        #expect(Self.firstDifference(wheel.held, sweep.held) == nil, "the same number of devices is held after every frame")
        #expect(wheel.reports.count == sweep.reports.count)
        #expect(Self.firstDifference(wheel.reports, sweep.reports) == nil, "the same hours and days")
    }

    /// The first index where two sequences differ (a short failure message, not two dumps).
    static func firstDifference<T: Equatable>(_ a: [T], _ b: [T]) -> Int? {
        for i in 0 ..< min(a.count, b.count) where a[i] != b[i] { return i }
        return a.count == b.count ? nil : min(a.count, b.count)
    }

    /// The entries of the bucket of `slot`, its blocks given back.
    static func drain(_ wheel: inout DueWheel, _ slot: Int64) -> [DueWheel.Entry] {
        let bucket = wheel.take(slot)
        var out: [DueWheel.Entry] = []
        var block = bucket.head
        while block >= 0 {
            for i in 0 ..< wheel.entries(in: block, of: bucket) { out.append(wheel.entry(block, i)) }
            let read = block
            block = wheel.nextBlock(after: block)
            wheel.release(read)
        }
        return out
    }

    @Test func aCheckDueBeyondTheWheelComesRoundEarlyAndIsQueuedAgain() {
        var wheel = DueWheel(horizonSlots: 10)
        #expect(wheel.size == 64)
        #expect(wheel.advance(to: 100) == nil, "the first tick only sets the wheel's time")
        wheel.push(device: 3, kind: .evict, due: 100 + 500)
        wheel.push(device: 4, kind: .pending, due: 101)
        wheel.push(device: 5, kind: .close, due: 50)
        // Slot 101: the pending slot and the check already due; the far one waits a lap.
        #expect(wheel.advance(to: 101) == 101 ... 101)
        let first = Self.drain(&wheel, 101)
        #expect(first.map(\.device) == [4, 5] && first.map(\.kind) == [.pending, .close])
        #expect(wheel.advance(to: 163) == 102 ... 163)
        var seen: [Int] = []
        for slot: Int64 in 102 ... 163 { seen += Self.drain(&wheel, slot).map(\.device) }
        #expect(seen.isEmpty)
        #expect(wheel.advance(to: 1000) == 164 ... 227, "a jump takes one lap")
        let far = Self.drain(&wheel, 164)
        #expect(far.map(\.device) == [3] && far.first?.kind == .evict)
    }

    @Test func aBucketSpansBlocksAndGivesThemBackForReuse() {
        var wheel = DueWheel(horizonSlots: 10)
        _ = wheel.advance(to: 0)
        // 200 entries in one slot (four blocks of 64), 10 in the next.
        for d in 0 ..< 200 { wheel.push(device: d, kind: .pending, due: 1) }
        for d in 0 ..< 10 { wheel.push(device: 1000 + d, kind: .close, due: 2) }
        _ = wheel.advance(to: 2)
        #expect(Self.drain(&wheel, 1).map(\.device) == Array(0 ..< 200), "in the order queued")
        #expect(Self.drain(&wheel, 2).map(\.device) == Array(1000 ..< 1010))
        // The blocks given back carry the next slots' entries.
        for d in 0 ..< 250 { wheel.push(device: d, kind: .evict, due: 3) }
        _ = wheel.advance(to: 3)
        let again = Self.drain(&wheel, 3)
        #expect(again.count == 250 && again.allSatisfy { $0.kind == .evict })
    }
}
