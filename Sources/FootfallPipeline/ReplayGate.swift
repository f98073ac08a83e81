import FootfallCore

/// PLACEHOLDER until the privacy module's `Gate` is merged: the checks that need nothing but
/// the public fields of a probe request (bad FCS, RSSI floor, randomised-address policy,
/// opening hours). It cannot apply an opt-out list, so replay refuses configurations that
/// name one until the real gate is in.
struct PlaceholderGate {
    let rssiFloor: Int?
    let ignoreRandomised: Bool
    let openingHours: OpeningHours
    let clock: HourClock
    /// Opening-hours decision cached per local hour (the hours in the config are given in
    /// minutes, so the cache is per minute-aligned hour and rebuilt once per hour).
    var cachedHour = LocalHour(start: .min, end: .min, utcOffsetSeconds: 0)

    init(settings: Settings, clock: HourClock) {
        rssiFloor = settings.privacy.rssiFloor
        ignoreRandomised = settings.privacy.randomisedAddresses == .ignore
        openingHours = settings.site.openingHours
        self.clock = clock
    }

    mutating func admits(_ request: borrowing ProbeRequest) -> Bool {
        if request.badFCS { return false }
        if let floor = rssiFloor, let signal = request.signalDBm, Int(signal) < floor { return false }
        if ignoreRandomised, request.source.isLocallyAdministered { return false }
        return isOpen(nanos: request.timestampNanos)
    }

    mutating func isOpen(nanos: Int64) -> Bool {
        guard case .weekly(let week) = openingHours else { return true }
        let second = nanos >= 0 ? nanos / 1_000_000_000 : (nanos + 1) / 1_000_000_000 - 1
        if second < cachedHour.start || second >= cachedHour.end { cachedHour = clock.hour(containing: second) }
        let local = LocalTime(utcSeconds: second, utcOffsetSeconds: cachedHour.utcOffsetSeconds)
        let minute = local.hour * 60 + local.minute
        return (week[local.weekday] ?? []).contains { $0.lowerBound <= minute && minute < $0.upperBound }
    }
}

/// When the key is replaced, in capture time (P4). PLACEHOLDER for the privacy module's
/// `KeySchedule`; same rule: `daily HH:MM` local time, or every local hour.
struct RotationSchedule {
    let rotation: KeyRotation
    let clock: HourClock

    /// The first rotation instant strictly after `second`.
    func next(after second: Int64) -> Int64 {
        switch rotation {
        case .hourly:
            return clock.hour(containing: second).end
        case .daily(let hour, let minute):
            let offset = Int64(clock.utcOffset(at: second))
            let localDay = (second + offset) - ((second + offset) % 86_400 + 86_400) % 86_400
            var day = localDay
            while true {
                let localInstant = day + Int64(hour * 3600 + minute * 60)
                let candidate = localInstant - Int64(clock.utcOffset(at: localInstant - offset))
                if candidate > second { return candidate }
                day += 86_400
            }
        }
    }
}
