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

    public init(rotation: KeyRotation = .daily(hour: 4, minute: 0), k: Int = 5, randomisedAddresses: RandomisedAddressPolicy = .count, strict: Bool = false, optOutFile: String? = nil, rssiFloor: Int? = nil, epsilon: Double? = nil) {
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

/// What to do with frames whose transmitter address is locally administered.
public enum RandomisedAddressPolicy: String, Sendable, Equatable, CaseIterable {
    /// Count them like any other address (within the key period only).
    case count
    /// Drop them before hashing.
    case ignore
}
