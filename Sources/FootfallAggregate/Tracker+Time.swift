import FootfallCore

/// The tracker's clock: the watermark decides slots, forgets devices and closes hours.
extension Tracker {

    var watermark: Int64 { newestNanos &- latenessNanos }

    /// Runs when the watermark crosses a slot boundary: decides the slots no frame can reach
    /// any more, forgets devices gone longer than the visit gap, closes complete hours.
    /// Only the devices the ``DueWheel`` names for the slots passed are looked at.
    mutating func tick() {
        let w = watermark
        let wSeconds = w.floorDiv(1_000_000_000)
        // Devices are kept to the end of the hour they were last heard in, so a device that
        // comes back within the hour is still one device in that hour's distinct counts.
        let currentHourStartNanos = clock.hourStart(containing: wSeconds, cache: &utcOffsets) * 1_000_000_000
        let goneBefore = min(w &- Int64(rules.visitGapSeconds) * 1_000_000_000 &- slotNanos, currentHourStartNanos)
        let wSlotAbsolute = w.floorDiv(slotNanos)
        // Slots before this one lie in hours that are over.
        let hourStartSlot = (currentHourStartNanos / 1_000_000_000).floorDiv(slotSeconds)
        if let due = dueWheel.advance(to: wSlotAbsolute), slotBase != .min {
            let wSlot = wSlotAbsolute &- slotBase
            let goneSlot = goneBefore.floorDiv(slotNanos) &- slotBase
            for slot in due {
                let bucket = dueWheel.take(slot)
                var block = bucket.head
                while block >= 0 {
                    for i in 0 ..< dueWheel.entries(in: block, of: bucket) where !sweepsEveryDevice {
                        let entry = dueWheel.entry(block, i)
                        let d = entry.device
                        guard d < devices.count else { continue }
                        let device = devices.pointer(at: d)
                        // Left behind by a device forgotten earlier in this tick.
                        guard device.pointee.live else { continue }
                        switch entry.kind {
                        case .pending: break
                        case .close: device.pointee.closeQueued = false
                        case .evict: device.pointee.evictQueued = false
                        }
                        settle(device: d, wSlot: wSlot, goneSlot: goneSlot)
                        scheduleChecks(device: d)
                    }
                    let read = block
                    block = dueWheel.nextBlock(after: block)
                    dueWheel.release(read)
                }
            }
            if sweepsEveryDevice {
                for d in devices.indices { settle(device: d, wSlot: wSlot, goneSlot: goneSlot) }
            } else if hourStartSlot != sweptHourStartSlot {
                sweptHourStartSlot = hourStartSlot
                sweepHour(wSlot: wSlot, goneSlot: goneSlot)
            }
        }
        sweptHourStartSlot = hourStartSlot
        let delay = Int64(rules.visitGapSeconds) + slotSeconds
        while let first = hours.first, first.hour.end + delay <= wSeconds {
            var hour = hours.removeFirst()
            closedReports.append(report(for: &hour, partial: false, listenedUntil: hour.hour.end))
            tallyDay(hour.hour, hour.day)
            closedThrough = hour.hour.end
            lastHourIndex = 0
        }
        nextTickNanos = (w.floorDiv(slotNanos) + 1) * slotNanos + latenessNanos
    }

    /// What a tick does for one device (the same whichever entry of the wheel names it, and
    /// doing only what is due, so settling a device twice in a tick is settling it once).
    /// Slot x ends by the watermark exactly when x < `wSlot` (and by the forget limit when
    /// x < `goneSlot`); both are offsets from the slot base, so each test is one compare.
    mutating func settle(device d: Int, wSlot: Int64, goneSlot: Int64) {
        // Chunks never move, and nothing below adds devices: the pointer stays valid.
        let device = devices.pointer(at: d)
        guard device.pointee.live else { return }
        if !device.pointee.older.isEmpty, Int64(device.pointee.older.offset) < wSlot {
            let older = device.pointee.older
            device.pointee.older = PackedSlot()
            finalize(device: d, wide(older))
        }
        if device.pointee.older.isEmpty, !device.pointee.newer.isEmpty, Int64(device.pointee.newer.offset) < wSlot {
            let newer = device.pointee.newer
            device.pointee.newer = PackedSlot()
            finalize(device: d, wide(newer))
        }
        // The visit is over once a silence longer than the visit gap is certain.
        if device.pointee.visitOpen, Int64(device.pointee.lastPlacedOffset) + maxGapSlots + 2 <= wSlot {
            closeVisit(device: d, before: .max)
        }
        // Gone: nothing pending, and the last slot it was heard in ended by `goneBefore`.
        // (Residents are never forgotten, and the last decided slot of any other device
        // is the last slot it was heard in.) Every wheel entry of a device forgotten now is
        // due by this tick: its pending slots were decided, its visit-end check is due no later
        // than the visit could end (before the forget limit), its forget check no later than
        // now; so none outlives it, and its index is reused only by a frame after the tick.
        guard device.pointee.newer.isEmpty, !device.pointee.resident, device.pointee.presentSlots < keepSlots,
              Int64(device.pointee.lastDecidedOffset) < goneSlot else { return }
        if device.pointee.visitOpen { closeVisit(device: d, before: .max) }
        index.remove(device.pointee.pseudonym, in: devices)
        device.pointee.live = false
        freeList.append(Int32(d))
        counters.evicted += 1
    }

    /// Queues what device `d` needs next in the wheel, if it has nothing queued for it:
    /// - a visit-end check while its visit is open, exactly when the visit can end (a device
    ///   cannot be forgotten before then: the forget limit is a visit gap behind its last
    ///   slot, the visit end at most a visit gap behind its last placed slot);
    /// - otherwise a forget check, no later than it can happen (``evictionDue(device:)``),
    ///   but only once the hour of its last slot is over: until then the sweep at the end of
    ///   that hour settles it (``sweepHour()``), so the many devices of an hour queue nothing.
    /// A pending slot queues itself when it is heard (`observe`), and settling it calls this.
    mutating func scheduleChecks(device d: Int) {
        let device = devices.pointer(at: d)
        guard device.pointee.live, !sweepsEveryDevice else { return }
        if device.pointee.visitOpen {
            guard !device.pointee.closeQueued else { return }
            device.pointee.closeQueued = true
            dueWheel.push(device: d, kind: .close,
                          due: slotBase &+ Int64(device.pointee.lastPlacedOffset) &+ maxGapSlots &+ 2)
            return
        }
        // Residents and devices present for an hour are never forgotten (until a new key);
        // a device with a pending slot is looked at when that slot is decided.
        guard !device.pointee.evictQueued, !device.pointee.resident, device.pointee.presentSlots < keepSlots,
              device.pointee.newer.isEmpty, device.pointee.lastDecidedOffset != PackedSlot.none,
              slotBase &+ Int64(device.pointee.lastDecidedOffset) < sweptHourStartSlot else { return }
        device.pointee.evictQueued = true
        dueWheel.push(device: d, kind: .evict, due: evictionDue(device: d))
    }

    /// The first tick of an hour settles every device once: the devices last heard in the
    /// hour before are forgotten here if their visit gap is over, and queue a forget check
    /// otherwise (``scheduleChecks(device:)``). Once an hour instead of once a slot.
    mutating func sweepHour(wSlot: Int64, goneSlot: Int64) {
        for d in devices.indices {
            settle(device: d, wSlot: wSlot, goneSlot: goneSlot)
            scheduleChecks(device: d)
        }
    }

    /// The first slot (absolute) in whose tick device `d` could be forgotten, as far as its
    /// last decided slot tells: a visit gap and two slots after it, and not before the end of
    /// its hour (devices are kept to the end of the hour they were last heard in, see
    /// `tick`). `.min` when nothing is decided yet (checked at the next tick).
    mutating func evictionDue(device d: Int) -> Int64 {
        let decided = devices[d].lastDecidedOffset
        guard decided != PackedSlot.none else { return .min }
        let last = slotBase &+ Int64(decided)
        // goneSlot ≤ ⌊(w − gap)/slot⌋ − 1 ≤ wSlot − ⌊gap/slot⌋ − 1, so last < goneSlot needs
        // wSlot ≥ last + ⌊gap/slot⌋ + 2.
        let afterGap = last &+ gapSlotsFloor &+ 2
        // last < ⌊hourStart(w)/slot⌋ needs an hour to start at or after the end of slot
        // `last`: the end of the hour holding that slot's last second, or later.
        let hourEnd = clock.hour(containing: (last &+ 1) &* slotSeconds &- 1, cache: &utcOffsets).end
        return max(afterGap, hourEnd.floorDiv(slotSeconds))
    }

    /// Ends every open visit (end of input, key rotation); tails stop at the newest frame's
    /// slot, because nothing is known about the time after it.
    mutating func closeAllVisits() {
        guard newestNanos != .min else { return }
        let limit = newestNanos.floorDiv(slotNanos) + 1
        for d in devices.indices where devices[d].live && devices[d].visitOpen {
            closeVisit(device: d, before: limit)
        }
    }

    /// Ends device `d`'s visit: its presence continues for the tail after the last placed
    /// slot, in the last zone, but not into slot `limit` or later.
    mutating func closeVisit(device d: Int, before limit: Int64) {
        devices[d].visitOpen = false
        guard !devices[d].resident, tailSlots > 0 else { return }
        let from = wide(devices[d].lastPlacedOffset) + 1
        let to = min(from + tailSlots, limit)
        if to > from { addPresence(device: d, zone: devices[d].lastZone, from: from, to: to) }
    }

    mutating func finalizeAllPending() {
        for d in devices.indices where devices[d].live {
            let older = devices[d].older, newer = devices[d].newer
            devices[d].older = PackedSlot()
            devices[d].newer = PackedSlot()
            if !older.isEmpty { finalize(device: d, wide(older)) }
            if !newer.isEmpty { finalize(device: d, wide(newer)) }
        }
    }
}
