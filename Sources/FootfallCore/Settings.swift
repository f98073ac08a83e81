/// What a configuration file means, after validation. Built by `FootfallConfig` from the
/// YAML file, or by tests directly. Every field has the documented default.
public struct Settings: Sendable {
    public var site: Site
    public var zones: [Zone]
    public var sensors: [Sensor]
    public var privacy: PrivacySettings
    public var output: OutputSettings
    public var visits: VisitRules
    /// Reserved for the metrics endpoint.
    public var metrics: MetricsSettings

    public init(site: Site, zones: [Zone], sensors: [Sensor], privacy: PrivacySettings = .init(), output: OutputSettings = .init(), visits: VisitRules = .init(), metrics: MetricsSettings = .init()) {
        self.site = site
        self.zones = zones
        self.sensors = sensors
        self.privacy = privacy
        self.output = output
        self.visits = visits
        self.metrics = metrics
    }

    /// Index of the sensor with this id.
    public func sensorIndex(id: String) -> Int? { sensors.firstIndex { $0.id == id } }
    /// Index of the zone with this id.
    public func zoneIndex(id: String) -> Int? { zones.firstIndex { $0.id == id } }
}

public struct Site: Sendable {
    public var name: String
    /// The store's id in the chain's database (`site.id`); required when one is configured.
    public var id: String?
    /// The site's clock (`site.time_zone`), validated and built once, by the configuration.
    public let clock: HourClock
    public var openingHours: OpeningHours
    /// The drawing `footfall report` shows the zones on (`site.floor_plan`); counting never reads it.
    public var floorPlan: FloorPlan?

    /// IANA time zone identifier, e.g. `Europe/Prague`.
    public var timeZone: String { clock.identifier }

    public init(name: String, clock: HourClock, openingHours: OpeningHours = .alwaysOpen, floorPlan: FloorPlan? = nil, id: String? = nil) {
        self.name = name
        self.id = id
        self.clock = clock
        self.openingHours = openingHours
        self.floorPlan = floorPlan
    }

    /// For tests and hand-built settings, with a zone known to be valid.
    /// - Precondition: `timeZone` is an IANA time zone known to the system (the
    ///   configuration loader checks it, with file, line and key, before it builds a site).
    public init(name: String, timeZone: String, openingHours: OpeningHours = .alwaysOpen, floorPlan: FloorPlan? = nil) {
        guard let clock = HourClock(identifier: timeZone) else {
            preconditionFailure("unknown IANA time zone; FootfallConfig refuses it before building a Site")
        }
        self.init(name: name, clock: clock, openingHours: openingHours, floorPlan: floorPlan)
    }
}

/// When the site is open, in site local time. Frames outside are dropped before hashing (P13).
public enum OpeningHours: Sendable, Equatable {
    case alwaysOpen
    /// Per weekday (1 = Monday … 7 = Sunday), open intervals in minutes since local midnight,
    /// `[open, close)`; a weekday without an entry is closed.
    case weekly([Int: [ClosedRange<Int>]])
}

public struct Zone: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Smoothed RSSI (dBm) a device must reach at this zone's best sensor to be placed here.
    public var rssiThreshold: Int
    /// The zone's outline on the floor plan (`zones[].area`), empty when not drawn; only
    /// `footfall report` reads it.
    public var area: [PlanPoint]

    public init(id: String, name: String, rssiThreshold: Int, area: [PlanPoint] = []) {
        self.id = id
        self.name = name
        self.rssiThreshold = rssiThreshold
        self.area = area
    }

    /// The id of the site-wide row of every hour; no zone may take it.
    public static let siteWideID = "ALL"
}

public struct Sensor: Sendable, Equatable {
    public var id: String
    /// Index into ``Settings/zones``.
    public var zone: Int
    public var feed: Feed
    /// The kernel's capture buffer for this sensor's live source, in MiB (`buffer_mib`). It
    /// holds the packets that arrive while footfall is busy; when it fills, the kernel drops
    /// them (`footfall_kernel_dropped_total`). Sensors that share a stream share one buffer,
    /// the largest any of them asks for.
    public var captureBufferMiB: Int

    /// libpcap's own default on Linux, so a configuration without `buffer_mib` behaves as before.
    public static let defaultCaptureBufferMiB = 2
    /// What `buffer_mib` may be: the buffer is locked kernel memory on a small gateway.
    public static let captureBufferMiBRange = 1 ... 1024

    public init(id: String, zone: Int, feed: Feed, captureBufferMiB: Int = Sensor.defaultCaptureBufferMiB) {
        self.id = id
        self.zone = zone
        self.feed = feed
        self.captureBufferMiB = captureBufferMiB
    }

    /// What delivers a sensor's frames.
    public enum Feed: Sendable, Equatable {
        /// A monitor-mode interface on this machine (radiotap).
        case interface(String)
        /// An access point streaming TZSP to `interface`/`port`, recognised by its IPv4
        /// address (dotted quad) or, when set, by the sensor-MAC tag it sends.
        case tzsp(interface: String, port: UInt16, senderAddress: String)
        /// An access point streaming PEEKREMOTE (Cisco/Aruba remote capture) to
        /// `interface`/`port`, recognised by its IPv4 address (dotted quad).
        case peekRemote(interface: String, port: UInt16, senderAddress: String)
        /// Capture files named on the command line as `file@sensor-id`.
        case file
    }
}

public struct OutputSettings: Sendable, Equatable {
    public var directory: String
    /// Output files older than this many days are deleted (P17).
    public var retentionDays: Int
    /// The chain's PostgreSQL the hours are shipped to; `nil` keeps them on this gateway only.
    public var database: DatabaseSettings?

    public init(directory: String = "/var/lib/footfall", retentionDays: Int = 90, database: DatabaseSettings? = nil) {
        self.directory = directory
        self.retentionDays = retentionDays
        self.database = database
    }
}

/// The metrics endpoint (reserved; off by default). It listens on loopback unless told
/// otherwise, because metrics are for the gateway operator only.
public struct MetricsSettings: Sendable, Equatable {
    public var enabled: Bool
    public var address: String
    public var port: UInt16

    public init(enabled: Bool = false, address: String = "127.0.0.1", port: UInt16 = 9464) {
        self.enabled = enabled
        self.address = address
        self.port = port
    }
}
