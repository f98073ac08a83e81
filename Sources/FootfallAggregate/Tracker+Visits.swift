import FootfallCore

/// Slot decisions, visits, residents and presence: what happens to a device's slot once no
/// frame can change it any more.
extension Tracker {
    /// Decides one slot of one device: its zone (the zone of the sensor that heard it
    /// strongest) and whether the signal reached that zone's threshold.
    mutating func finalize(device d: Int, _ slot: SlotAggregate) {
        guard !devices[d].resident else { return }
        if noteHeard(device: d, slot: slot.slot) { return }
        let zone = sensorZone[Int(slot.sensor)]
        let placed = slot.rank == SlotAggregate.noSignal || slot.rank >= zoneThreshold[Int(zone)]
        guard let h = hourIndex(forSlot: slot.slot) else { counters.afterClose += 1; return }
        // A placed slot is recorded as presence below, which also says the device was heard
        // in the zone that hour; a slot too weak to place only says that.
        guard placed else {
            markHeard(device: d, hour: h, zone: zone)
            return
        }

        let s = slot.slot
        let lastPlaced = wide(devices[d].lastPlacedOffset)
        // How far above the zone's threshold this slot was heard (a frame without signal
        // reading is taken as near: the source cannot tell).
        let margin = slot.rank == SlotAggregate.noSignal ? Int16.max : slot.rank &- zoneThreshold[Int(zone)]
        if devices[d].visitOpen, s - lastPlaced - 1 <= maxGapSlots {
            devices[d].visitPeak = max(devices[d].visitPeak, margin)
            // Bridge the gap in the last zone, then the slot itself.
            let last = devices[d].lastZone
            devices[d].lastPlacedOffset = narrow(s)
            if s - lastPlaced > 1 {
                addPresence(device: d, zone: last, from: lastPlaced + 1, to: s)
            }
            if zone != last && !strict, let hs = hourIndex(forSlot: s) {
                hours[hs].transitions.append(Transition(
                    localID: devices[d].localID, visitStart: devices[d].visitStartOffset, from: UInt8(last), to: UInt8(zone)))
            }
        } else {
            if devices[d].visitOpen { closeVisit(device: d, before: s) }
            devices[d].visitOpen = true
            devices[d].visitPeak = margin
            devices[d].visitStartOffset = narrow(s)
            devices[d].lastPlacedOffset = narrow(s)
            for z in 0 ..< zoneIDs.count { zoneDwell[d * zoneIDs.count + z] = 0 }
        }
        addPresence(device: d, zone: zone, from: s, to: s + 1)
        devices[d].lastZone = zone

        if devices[d].presentSlots >= residentSlots && !devices[d].group {
            makeResident(device: d)
        }
    }

    /// Records that device `d` was heard in `zone` in hour `h` without being placed there.
    /// One mark per device, hour and zone (a repeat of the device's last mark is skipped;
    /// the hour's report merges any other repeats).
    mutating func markHeard(device d: Int, hour h: Int, zone: Int32) {
        let localID = devices[d].localID
        let last = Int(devices[d].markIndex)
        if last >= 0, last < hours[h].marks.count {
            let mark = hours[h].marks[last]
            if mark.localID == localID && mark.zone == zone { return }
        }
        devices[d].markIndex = Int32(hours[h].marks.count)
        hours[h].marks.append(HeardMark(localID: localID, zoneIndex: UInt8(zone)))
    }

    /// The fast resident rule, once per heard slot: a vendor-assigned address heard (at any
    /// strength) in at least `residentMinimumHeard` of the last window's slots is a fixed
    /// device. One shift, one `or` and one population count.
    /// - Returns: whether the device has just become a resident.
    mutating func noteHeard(device d: Int, slot s: Int64) -> Bool {
        let newest = wide(devices[d].lastDecidedOffset)
        let shift = newest == .min ? 64 : s - newest
        if shift > 0 {
            devices[d].heardMask = shift >= 64 ? 0 : devices[d].heardMask << UInt64(shift)
            devices[d].lastDecidedOffset = narrow(s)
            devices[d].heardMask |= 1
        } else if shift > -64 {
            devices[d].heardMask |= UInt64(1) << UInt64(-shift)
        }
        guard !devices[d].randomised,
              (devices[d].heardMask & residentWindowMask).nonzeroBitCount >= residentMinimumHeard else { return false }
        makeResident(device: d)
        return true
    }

    /// From now on the device is left out of every figure of every hour still open.
    mutating func makeResident(device d: Int) {
        devices[d].resident = true
        devices[d].visitOpen = false
        counters.residents += 1
        let localID = devices[d].localID
        for i in hours.indices { hours[i].residents.insert(localID) }
    }

    /// Records that device `d` was in `zone` during slots `[from, to)`, split at hour
    /// boundaries; extends the device's last run where it simply continues.
    mutating func addPresence(device d: Int, zone: Int32, from: Int64, to: Int64) {
        var start = from
        let zc = zoneIDs.count
        while start < to {
            guard let h = hourIndex(forSlot: start) else {
                counters.afterClose += 1
                start += 1
                continue
            }
            let hourEndSlot = hours[h].hour.end / slotSeconds
            let end = min(to, hourEndSlot)
            let n = end - start
            // Dwell runs to the end of the last placed slot; the presence tail is not dwell.
            let dwellEnd = wide(devices[d].lastPlacedOffset) + 1
            zoneDwell[d * zc + Int(zone)] += Int32(max(0, min(end, dwellEnd) - start))
            devices[d].presentSlots += Int32(n)
            let localID = devices[d].localID
            let visitStart = devices[d].visitStartOffset
            let zoneDwellAtEnd = zoneDwell[d * zc + Int(zone)]
            let visitDwellAtEnd = Int32(min(end, dwellEnd) - wide(visitStart))
            let base = hours[h].firstSlot
            // The device's last run, if it is in this hour (the index may name another
            // hour's run, so the run's own device, visit, zone and end are checked).
            let r = Int(devices[d].runIndex)
            if r >= 0, r < hours[h].runs.count, hours[h].runs[r].continues(
                localID: localID, visitStart: visitStart, zone: zone, at: Int32(start - base)) {
                hours[h].runs[r].extend(to: Int32(end - base), zoneDwellAtEnd: zoneDwellAtEnd, visitDwellAtEnd: visitDwellAtEnd, peakAtEnd: devices[d].visitPeak)
            } else {
                devices[d].runIndex = Int32(hours[h].runs.count)
                hours[h].runs.append(Run(
                    localID: localID, visitStart: visitStart, start: Int32(start - base), end: Int32(end - base),
                    zone: zone, zoneDwellAtEnd: zoneDwellAtEnd, visitDwellAtEnd: visitDwellAtEnd, peakAtEnd: devices[d].visitPeak))
            }
            start = end
        }
    }

    /// The open hour that holds a slot, opened on first use; `nil` when that hour has
    /// already been closed (only possible for forced decisions after a close).
    mutating func hourIndex(forSlot slot: Int64) -> Int? {
        let second = slot * slotSeconds
        if lastHourIndex < hours.count, hours[lastHourIndex].hour.start <= second, second < hours[lastHourIndex].hour.end {
            return lastHourIndex
        }
        if second < closedThrough { return nil }
        for i in hours.indices where hours[i].hour.start <= second && second < hours[i].hour.end {
            lastHourIndex = i
            return i
        }
        let hour = clock.hour(containing: second, cache: &utcOffsets)
        var accumulator = HourAccumulator(hour: hour, firstSlot: hour.start.floorDiv(slotSeconds))
        precondition(hour.end / slotSeconds - accumulator.firstSlot < Int64(Run.maximumSlot), "an hour spans more slots than a run can hold")
        for d in devices.indices where devices[d].live && devices[d].resident {
            accumulator.residents.insert(devices[d].localID)
        }
        let position = hours.firstIndex { $0.hour.start > accumulator.hour.start } ?? hours.count
        hours.insert(accumulator, at: position)
        lastHourIndex = position
        return position
    }
}
