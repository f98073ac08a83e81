/// The privacy section of the configuration (see PRIVACY.md for what each knob guarantees).
public struct PrivacySettings: Sendable, Equatable {
    /// When the key is replaced and destroyed (P4). Never longer than 24 h.
    public var rotation: KeyRotation
    /// Smallest device count that is published (P7); smaller counts are withheld.
    public var k: Int
    /// What happens to frames from locally administered (randomised) addresses.
    public var randomisedAddresses: RandomisedAddressPolicy
    /// Strict mode (P5): one key per zone, hourly rotation, no flows.
    public var strict: Bool
    /// A file of MAC addresses whose frames are dropped before hashing (P16).
    public var optOutFile: String?
    /// Frames weaker than this (dBm) are dropped before hashing (P12); `nil` keeps all.
    public var rssiFloor: Int?
    /// Differential privacy on published counts (P8); `nil` = off.
    public var epsilon: Double?

    /// The largest ε per published cell (P8). One device touches up to 4 cells of each row
    /// it is in (devices, visitors or passers-by, peak and average present), so an hour
    /// costs it up to 4 ε × (its zones + 1); with ε = 1 that is already 12 for a device in
    /// two zones, and a day multiplies it by the opening hours (PRIVACY.md, P8).
    public static let maximumEpsilon = 1.0

    public init(rotation: KeyRotation = .daily(hour: 4, minute: 0), k: Int = 5, randomisedAddresses: RandomisedAddressPolicy = .group, strict: Bool = false, optOutFile: String? = nil, rssiFloor: Int? = nil, epsilon: Double? = nil) {
        self.rotation = rotation
        self.k = k
        self.randomisedAddresses = randomisedAddresses
        self.strict = strict
        self.optOutFile = optOutFile
        self.rssiFloor = rssiFloor
        self.epsilon = epsilon
    }
}

/// When the pseudonym key is replaced (and the old one destroyed).
public enum KeyRotation: Sendable, Equatable {
    /// Every day at this local time (pick an hour when the store is closed).
    case daily(hour: Int, minute: Int)
    /// At the top of every hour.
    case hourly
}

/// What to do with frames whose transmitter address is locally administered (randomised).
///
/// Phones that randomise pick a new address for every scan, or every few scans, so one
/// phone shows up as dozens of addresses an hour: counting addresses counts scans, not
/// people (10–50× too many in the reference captures, see docs/accuracy.md).
public enum RandomisedAddressPolicy: String, Sendable, Equatable, CaseIterable {
    /// Each address is a device (within the key period only). Overcounts phones that rotate
    /// their address; meant for comparisons and for sites where few devices randomise.
    case count
    /// Drop them before hashing: only vendor-assigned addresses are counted.
    case ignore
    /// The default. Frames from randomised addresses are grouped by the keyed fingerprint of
    /// their element layout (P10), within the key period only: one group stands for the
    /// phones of one model and software version nearby, which over a few minutes is usually
    /// one phone. Groups are never residents. Vendor-assigned addresses are counted one by
    /// one as before.
    case group
}

// MARK: - Validation (the configuration loader calls these; tests call them too)

/// A privacy setting that cannot be accepted, naming the configuration key and saying what
/// would be accepted. Never contains an address.
public struct PrivacySettingsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The configuration key, e.g. `privacy.k`.
    public var key: String
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}

extension KeyRotation {
    /// The longest time one key may live (P4): a pseudonym can link a device's sightings for
    /// at most one day.
    public static let maximumPeriodSeconds = 24 * 3600

    /// Checks the rotation time. The two cases can never be longer than 24 h by construction
    /// (``KeySchedule`` also caps the real interval at 24 h across DST changes).
    public func validate() throws(PrivacySettingsError) {
        switch self {
        case .hourly:
            return
        case .daily(let hour, let minute):
            guard (0 ... 23).contains(hour), (0 ... 59).contains(minute) else {
                throw PrivacySettingsError(key: "privacy.key_rotation", message: "daily rotation time must be HH:MM between 00:00 and 23:59")
            }
        }
    }

    /// For a configuration that states the rotation as a period: longer than 24 h is always
    /// refused; 1 h means hourly, 24 h means daily at 04:00 local time; anything else is refused.
    /// - Parameter seconds: the configured period.
    /// - Returns: the rotation to use (`.hourly` for 3600 s, `.daily(hour: 4, minute: 0)` for 86400 s).
    public static func fromPeriod(seconds: Int) throws(PrivacySettingsError) -> KeyRotation {
        if seconds > maximumPeriodSeconds {
            throw PrivacySettingsError(key: "privacy.key_rotation", message: "a key may live at most 24 h (got \(seconds) s); use hourly or daily")
        }
        switch seconds {
        case 3600: return .hourly
        case maximumPeriodSeconds: return .daily(hour: 4, minute: 0)
        default:
            throw PrivacySettingsError(key: "privacy.key_rotation", message: "supported periods are 1 h (hourly) and 24 h (daily at a local time); got \(seconds) s")
        }
    }
}

extension PrivacySettings {
    /// The default smallest published count (P7).
    public static let defaultK = 5
    /// The smallest `k` a production configuration may use: with k = 1 every single device
    /// would be published.
    public static let minimumK = 2

    /// The rotation actually used: strict mode forces hourly rotation (P5).
    public var effectiveRotation: KeyRotation { strict ? .hourly : rotation }

    /// Whether zone-to-zone flows may be computed and published; never in strict mode (P5),
    /// where one device's pseudonyms in two zones are unrelated anyway.
    public var flowsEnabled: Bool { !strict }

    /// How many independent keys the ``KeyStore`` needs: one per zone in strict mode (P5).
    public func keySlotCount(zoneCount: Int) -> Int { strict ? max(1, zoneCount) : 1 }

    /// The key slot for a frame heard by a sensor placed in zone `sensorZone`.
    @inlinable
    public func keySlot(sensorZone: Int) -> Int { strict ? sensorZone : 0 }

    /// Checks every privacy knob; the configuration loader calls this after parsing.
    /// - Parameter production: `false` only for tests and `evaluate` runs, which may use k = 1.
    public func validate(production: Bool = true) throws(PrivacySettingsError) {
        try rotation.validate()
        let floor = production ? Self.minimumK : 1
        guard k >= floor else {
            throw PrivacySettingsError(key: "privacy.k", message: "must be at least \(floor) (got \(k)); the default is \(Self.defaultK)")
        }
        if let epsilon {
            guard epsilon.isFinite, epsilon > 0, epsilon <= PrivacySettings.maximumEpsilon else {
                throw PrivacySettingsError(key: "privacy.epsilon", message: "must be a number in (0, 1], or absent to turn noise off (see PRIVACY.md, P8, for the budget)")
            }
        }
        if let rssiFloor {
            guard (-120 ... 0).contains(rssiFloor) else {
                throw PrivacySettingsError(key: "privacy.rssi_floor", message: "must be a dBm value between -120 and 0")
            }
        }
    }
}
