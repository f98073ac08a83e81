import FootfallCore
import FootfallIngest
import FootfallAggregate
import Foundation
import Testing

/// P8: optional geometric (discrete Laplace) noise, off by default.
@Suite("P8 differential privacy")
struct DifferentialPrivacyTests {
    /// 200 000 draws from a seeded generator (so the test gives the same answer every run)
    /// compared with the distribution's closed forms: P(X = x) = (1 − α)/(1 + α) · α^|x|,
    /// mean 0, variance 2α/(1 − α)², P(|X| ≥ t) = 2α^t/(1 + α). The bounds are several
    /// standard errors wide.
    @Test(arguments: [0.5, 1.0, 2.0])
    func geometricNoiseHasTheDocumentedDistribution(epsilon: Double) {
        var rng = SeededGenerator(seed: 0xF00_7FA11 ^ UInt64(epsilon * 1000))
        let n = 200_000
        var sum = 0.0, sumSquares = 0.0
        var zeros = 0, tail3 = 0, positive = 0, negative = 0
        for _ in 0 ..< n {
            let x = DifferentialPrivacy.noise(epsilon: epsilon, using: &rng)
            sum += Double(x)
            sumSquares += Double(x * x)
            if x == 0 { zeros += 1 }
            if abs(x) >= 3 { tail3 += 1 }
            if x > 0 { positive += 1 } else if x < 0 { negative += 1 }
        }
        let a = exp(-epsilon)
        #expect(abs(DifferentialPrivacy.alpha(epsilon: epsilon) - a) < 1e-12)
        let variance = 2 * a / ((1 - a) * (1 - a))
        let mean = sum / Double(n)
        let sampleVariance = sumSquares / Double(n) - mean * mean
        #expect(abs(mean) < 6 * (variance / Double(n)).squareRoot())
        #expect(abs(sampleVariance - variance) / variance < 0.05)
        let pZero = (1 - a) / (1 + a)
        #expect(abs(Double(zeros) / Double(n) - pZero) < 0.01)
        let pTail = 2 * pow(a, 3) / (1 + a)
        #expect(abs(Double(tail3) / Double(n) - pTail) < 0.01)
        // Symmetric.
        #expect(abs(positive - negative) < 6 * Int(Double(n).squareRoot()))
    }

    @Test func noiseIsOffByDefault() {
        #expect(PrivacySettings().epsilon == nil)
        let report = HourReport(hourStart: 0, utcOffsetSeconds: 0, partial: false, zones: [ZoneHour(zone: "a", devices: 17, visitors: 12, visits: 13, peakPresent: 12, passersby: 5)], flows: [])
        let published = Suppression.publish(report, privacy: PrivacySettings())
        #expect(published.zones[0].devices == .value(17))
        #expect(published.zones[0].visitors == .value(12))
    }

    @Test func noisyCountsAreNeverNegativeAndStillSuppressed() {
        var rng = SeededGenerator(seed: 42)
        let report = HourReport(hourStart: 0, utcOffsetSeconds: 0, partial: false, zones: [ZoneHour(zone: "a", devices: 1, visitors: 1, visits: 1, peakPresent: 1, passersby: 0), ZoneHour(zone: ZoneHour.siteWide, devices: 1, visitors: 1, visits: 1, peakPresent: 1, passersby: 0)], flows: [FlowCount(from: "a", to: "b", transitions: 1)])
        for _ in 0 ..< 500 {
            let noisy = DifferentialPrivacy.addNoise(to: report, epsilon: 0.5, using: &rng)
            for z in noisy.zones { #expect(z.devices >= 0 && z.visitors >= 0 && z.averagePresent >= 0) }
            let out = Suppression.apply(noisy, k: 5)
            for z in out.zones { if let v = z.devices.value { #expect(v == 0 || v >= 5) } }
        }
        #expect(throws: PrivacySettingsError.self) { try PrivacySettings(epsilon: 0).validate() }
        #expect(throws: PrivacySettingsError.self) { try PrivacySettings(epsilon: .infinity).validate() }
    }
}
