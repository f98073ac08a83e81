@testable import FootfallCore
import Testing

/// The tracker asks its hours through a ``UTCOffsetCache``; every answer must be the one the
/// time zone gives uncached, or hours would be cut differently around a transition.
@Suite("UTC offset cache")
struct UTCOffsetCacheTests {
    /// Zones with hour DST (Prague), half-hour offsets and DST (St John's, Lord Howe), a
    /// quarter-hour offset (Kathmandu), a standard offset changed for good (Moscow 2011 and
    /// 2014, Samoa's skipped day in 2011) and DST abolished (São Paulo 2019), plus UTC.
    static let zones = ["Europe/Prague", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu", "Europe/Moscow", "Pacific/Apia", "America/Sao_Paulo", "UTC"]

    /// 2008-01-01 … 2025-01-01 every 397 minutes, each instant followed by one 5,000 s back
    /// and one 3,599 s ahead (callers go back and forth); wherever the uncached offset
    /// changes between two samples, every minute between them is asked too, so each
    /// transition's edge is crossed one minute at a time.
    @Test(arguments: zones)
    func cachedOffsetsAndHoursAreTheTimeZonesOwnAcrossEveryTransition(zone: String) throws {
        let clock = try #require(HourClock(identifier: zone))
        var cache = UTCOffsetCache()
        var mismatches = 0
        var transitionsCrossed = 0
        func check(_ t: Int64) {
            if clock.utcOffset(at: t, cache: &cache) != clock.utcOffset(at: t) { mismatches += 1 }
            if clock.hour(containing: t, cache: &cache) != clock.hour(containing: t) { mismatches += 1 }
        }
        let step: Int64 = 397 * 60
        var previous = Int64(1_199_145_600)  // 2008-01-01T00:00:00Z
        var previousOffset = clock.utcOffset(at: previous)
        var t = previous + step
        while t < 1_735_689_600 {  // 2025-01-01T00:00:00Z
            let offset = clock.utcOffset(at: t)
            if offset != previousOffset {
                transitionsCrossed += 1
                for minute in stride(from: previous, through: t, by: 60) { check(minute) }
            }
            check(t)
            check(t - 5_000)
            check(t + 3_599)
            previous = t
            previousOffset = offset
            t += step
        }
        #expect(mismatches == 0)
        if zone == "Europe/Prague" { #expect(transitionsCrossed == 34) }  // two a year, 17 years
        if zone == "UTC" { #expect(transitionsCrossed == 0) }
    }
}
