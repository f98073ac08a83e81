import FootfallCore

/// Optional differential privacy on published counts (P8), off by default.
///
/// Each count gets independent two-sided geometric noise (the discrete Laplace mechanism of
/// Ghosh, Roughgarden & Sundararajan, "Universally utility-maximizing privacy mechanisms",
/// 2009): `P(X = x) = (1 − α) / (1 + α) · α^|x|` with `α = exp(−ε)`, which is ε-differentially
/// private for a count that one device changes by at most 1. Mean 0, variance
/// `2α / (1 − α)²`. Noisy counts are clamped at 0 and then suppressed as usual, so the
/// suppression decision itself rests on noisy values.
///
/// What ε covers is stated in PRIVACY.md: it is per published cell; one device touches several
/// cells of an hour (its zone rows, the site row, flows) and several hours, and the guarantees
/// add up (basic composition).
public enum DifferentialPrivacy {
    /// `α = exp(−ε)` for sensitivity 1.
    public static func alpha(epsilon: Double) -> Double { (-epsilon).exponential }

    /// One draw of two-sided geometric noise.
    /// - Parameters:
    ///   - epsilon: privacy parameter, > 0.
    ///   - rng: the random source; production passes `SystemRandomNumberGenerator` (the OS
    ///     CSPRNG), tests a seeded generator.
    public static func noise<R: RandomNumberGenerator>(epsilon: Double, using rng: inout R) -> Int {
        let a = alpha(epsilon: epsilon)
        // The difference of two i.i.d. geometric variables on {0, 1, …} with success
        // probability 1 − α is two-sided geometric with parameter α.
        return geometric(alpha: a, using: &rng) - geometric(alpha: a, using: &rng)
    }

    /// A geometric variable on {0, 1, …}: `P(G = g) = (1 − α) α^g`, by inversion:
    /// `G = ⌊ln U / ln α⌋` for U uniform in (0, 1].
    static func geometric<R: RandomNumberGenerator>(alpha: Double, using rng: inout R) -> Int {
        // 53 random bits → U in (0, 1]; never 0, so the logarithm is finite.
        let u = (Double(rng.next() >> 11) + 1) / 9_007_199_254_740_992.0
        let g = (u.logarithm / alpha.logarithm).rounded(.down)
        return g < 1e9 ? Int(g) : 1_000_000_000
    }

    /// The report with noise on every count and on `avg_present` (continuous Laplace noise of
    /// scale 1/ε: one device adds at most 1 to the mean number present). Dwell statistics are
    /// left as they are: they are withheld below k visits, and ε does not cover them.
    public static func addNoise<R: RandomNumberGenerator>(to report: HourReport, epsilon: Double, using rng: inout R) -> HourReport {
        precondition(epsilon > 0 && epsilon.isFinite)
        var out = report
        func noisy(_ value: Int) -> Int { max(0, value + noise(epsilon: epsilon, using: &rng)) }
        for i in out.zones.indices {
            out.zones[i].devices = noisy(out.zones[i].devices)
            out.zones[i].visitors = noisy(out.zones[i].visitors)
            out.zones[i].visits = noisy(out.zones[i].visits)
            out.zones[i].peakPresent = noisy(out.zones[i].peakPresent)
            out.zones[i].passersby = noisy(out.zones[i].passersby)
            out.zones[i].dwellBands = out.zones[i].dwellBands.map(noisy)
            out.zones[i].averagePresent = max(0, out.zones[i].averagePresent + laplace(scale: 1 / epsilon, using: &rng))
        }
        for i in out.flows.indices {
            out.flows[i].transitions = noisy(out.flows[i].transitions)
        }
        return out
    }

    /// Continuous Laplace noise with the given scale, by inversion.
    static func laplace<R: RandomNumberGenerator>(scale: Double, using rng: inout R) -> Double {
        let u = (Double(rng.next() >> 11) + 0.5) / 9_007_199_254_740_992.0 - 0.5  // (−0.5, 0.5)
        let sign: Double = u < 0 ? -1 : 1
        return -scale * sign * (1 - 2 * abs(u)).logarithm
    }
}

extension Double {
    /// `exp` and `log` without Foundation (the core is pure Swift).
    fileprivate var exponential: Double { Double.exp(self) }
    fileprivate var logarithm: Double { Double.log(self) }

    /// e^x by range reduction x = n·ln2 + r, |r| ≤ ln2/2, and a Taylor series for e^r.
    fileprivate static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709 { return .infinity }
        if x < -745 { return 0 }
        let ln2 = 0.693_147_180_559_945_309_417_232_121_458
        let n = (x / ln2).rounded()
        let r = x - n * ln2
        var term = 1.0, sum = 1.0
        for i in 1 ... 25 {
            term *= r / Double(i)
            sum += term
        }
        return sum * Double(sign: .plus, exponent: Int(n), significand: 1)
    }

    /// ln x for x > 0: x = m·2^e with m in [1, 2), ln m = 2 atanh((m − 1)/(m + 1)).
    fileprivate static func log(_ x: Double) -> Double {
        if x.isNaN || x < 0 { return .nan }
        if x == 0 { return -.infinity }
        if x.isInfinite { return x }
        let e = x.exponent
        let m = x.significand
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var term = s, sum = 0.0
        var k = 1.0
        while k < 80 {
            sum += term / k
            term *= s2
            k += 2
        }
        return 2 * sum + Double(e) * 0.693_147_180_559_945_309_417_232_121_458
    }
}
