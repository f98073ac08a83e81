/// One probe request after the gate and the pseudonymiser: everything the aggregation
/// needs and nothing that identifies a device.
public struct Observation: Sendable {
    /// Capture time, nanoseconds since the Unix epoch (UTC).
    public var timestampNanos: Int64
    /// The device, keyed under the current key period.
    public var device: Pseudonym
    /// The element-layout fingerprint, keyed under the current key period (P10).
    public var fingerprint: Pseudonym
    /// Index of the sensor in the configuration's sensor list.
    public var sensor: Int
    /// dBm, or `nil` when the source reports none.
    public var signalDBm: Int8?
    /// The transmitter used a locally administered (randomised) address.
    public var randomised: Bool

    public init(timestampNanos: Int64, device: Pseudonym, fingerprint: Pseudonym, sensor: Int, signalDBm: Int8?, randomised: Bool) {
        self.timestampNanos = timestampNanos
        self.device = device
        self.fingerprint = fingerprint
        self.sensor = sensor
        self.signalDBm = signalDBm
        self.randomised = randomised
    }
}
