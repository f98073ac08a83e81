@testable import FootfallCore
import Testing

@Suite("Civil dates")
struct CivilDateTests {
    /// `days(fromCivil:)` and `civil(fromDays:)` are inverse over four centuries around the
    /// epoch, including leap days and the Gregorian century rules (1900 no, 2000 yes).
    @Test func daysFromCivilAndCivilFromDaysAreInverse() {
        for days in stride(from: Int64(-80_000), through: 80_000, by: 1) {
            let (y, m, d) = LocalTime.civil(fromDays: days)
            #expect(LocalTime.days(fromCivil: y, month: m, day: d) == days)
        }
        #expect(LocalTime.days(fromCivil: 1970, month: 1, day: 1) == 0)
        #expect(LocalTime.days(fromCivil: 2000, month: 2, day: 29) == 11_016)
        #expect(LocalTime.days(fromCivil: 2024, month: 3, day: 31) == 19_813)
        #expect(LocalTime.days(fromCivil: 1900, month: 3, day: 1) - LocalTime.days(fromCivil: 1900, month: 2, day: 28) == 1)
    }
}
