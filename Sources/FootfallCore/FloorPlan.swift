/// A drawing of the store (`site.floor_plan`) that `footfall report` colours the zones on.
/// footfall only draws on it: the plan is a picture for planners, never an input to counting.
public struct FloorPlan: Sendable, Equatable {
    /// The file, as resolved against the configuration file's directory.
    public var path: String
    /// The plan's coordinate system (an SVG `viewBox`, or a PNG's pixels): zone areas are
    /// given in it. `nil` when the configuration was parsed without reading the file.
    public var bounds: PlanRect?

    public init(path: String, bounds: PlanRect? = nil) {
        self.path = path
        self.bounds = bounds
    }
}

/// A rectangle in floor-plan coordinates (y grows downwards, as in SVG and images).
public struct PlanRect: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public func contains(_ p: PlanPoint) -> Bool {
        p.x >= x && p.x <= x + width && p.y >= y && p.y <= y + height
    }
}

/// A corner of a zone's outline (`zones[].area`), in floor-plan coordinates.
public struct PlanPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}
