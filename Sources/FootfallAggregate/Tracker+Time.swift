import FootfallCore

/// The tracker's clock: the watermark decides slots, forgets devices and closes hours.
extension Tracker {

    var watermark: Int64 { newestNanos &- latenessNanos }

    /// Runs when the watermark crosses a slot boundary: decides the slots no frame can reach
    /// any more, forgets devices gone longer than the visit gap, closes complete hours.
    mutating func tick() {
        let w = watermark
        let wSeconds = w.floorDiv(1_000_000_000)
        // Devices are kept to the end of the hour they were last heard in, so a device that
        // comes back within the hour is still one device in that hour's distinct counts.
        let currentHourStartNanos = clock.hourStart(containing: wSeconds) * 1_000_000_000
        let goneBefore = min(w &- Int64(rules.visitGapSeconds) * 1_000_000_000 &- slotNanos, currentHourStartNanos)
        // Slot x ends by `w` exactly when x < wSlot (and by `goneBefore` when x < goneSlot);
        // as offsets from the slot base, one compare per test.
        let wSlot = w.floorDiv(slotNanos) &- slotBase
        let goneSlot = goneBefore.floorDiv(slotNanos) &- slotBase
        for d in devices.indices {
            // Chunks never move, and nothing below adds devices: the pointer stays valid.
            let device = devices.pointer(at: d)
            guard device.pointee.live else { continue }
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
            // is the last slot it was heard in.)
            guard device.pointee.newer.isEmpty, !device.pointee.resident, device.pointee.presentSlots < keepSlots,
                  Int64(device.pointee.lastDecidedOffset) < goneSlot else { continue }
            if device.pointee.visitOpen { closeVisit(device: d, before: .max) }
            index.remove(device.pointee.pseudonym, in: devices)
            device.pointee.live = false
            freeList.append(Int32(d))
            counters.evicted += 1
        }
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
