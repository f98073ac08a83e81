import FootfallConfig
import FootfallCore
import Foundation
import Testing

/// `site.floor_plan` and `zones[].area`: checked when the configuration is loaded, with file,
/// line and key like every other key, so a planner's report never finds a plan missing or a
/// zone drawn off it.
@Suite struct FloorPlanConfigTests {
    /// A directory holding `plan.svg` (viewBox 0 0 400 300) and the given configuration.
    func load(_ siteExtra: String, zoneExtra: String = "", plan: String? = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300"><rect width="400" height="300"/></svg>"#) throws -> Result<Settings, ConfigErrors> {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        if let plan { try plan.write(to: dir.appendingPathComponent("plan.svg"), atomically: true, encoding: .utf8) }
        let yaml = """
        site:
          name: Test store
          time_zone: Europe/Prague
        \(siteExtra)
        zones:
          - id: entrance
            name: Entrance
        \(zoneExtra)
          - id: till
        sensors:
          - id: s1
            zone: entrance
            file: true
        """
        let path = dir.appendingPathComponent("store.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            return .success(try ConfigLoader.load(path: path))
        } catch {
            return .failure(error)
        }
    }

    func messages(_ result: Result<Settings, ConfigErrors>) -> [String] {
        if case .failure(let e) = result { return e.errors.map(\.description) }
        return []
    }

    @Test func aFloorPlanAndZoneAreasLoadWithThePlansCoordinates() throws {
        let s = try load("  floor_plan: plan.svg", zoneExtra: "    area: [[0, 0], [200, 0], [200, 150], [0, 150]]").get()
        let plan = try #require(s.site.floorPlan)
        #expect(plan.path.hasSuffix("/plan.svg"))
        #expect(plan.bounds == PlanRect(x: 0, y: 0, width: 400, height: 300))
        #expect(s.zones[0].area == [PlanPoint(x: 0, y: 0), PlanPoint(x: 200, y: 0), PlanPoint(x: 200, y: 150), PlanPoint(x: 0, y: 150)])
        #expect(s.zones[1].area.isEmpty)
    }

    @Test func aMissingFloorPlanIsAnErrorNamingLineAndKey() throws {
        let found = messages(try load("  floor_plan: nowhere.svg", plan: nil))
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("store.yaml:4: site.floor_plan: no such file") == true, "\(found)")
    }

    @Test func aFloorPlanThatIsNeitherSVGNorPNGIsRefused() throws {
        #expect(messages(try load("  floor_plan: plan.pdf")).first?.hasPrefix("store.yaml:4: site.floor_plan: expected the path of an SVG or PNG file") == true)
        let notSVG = messages(try load("  floor_plan: plan.svg", plan: "just text"))
        #expect(notSVG.first?.hasPrefix("store.yaml:4: site.floor_plan: not an SVG picture") == true, "\(notSVG)")
    }

    @Test func anAreaCornerOutsideThePlanIsAnErrorNamingItsLineAndIndex() throws {
        let found = messages(try load("  floor_plan: plan.svg", zoneExtra: "    area:\n      - [0, 0]\n      - [500, 0]\n      - [0, 100]"))
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("store.yaml:10: zones[0].area[1]: the corner [500, 0] lies outside the floor plan") == true, "\(found)")
    }

    @Test func anAreaWithoutAFloorPlanOrWithTooFewCornersIsRefused() throws {
        let noPlan = messages(try load("", zoneExtra: "    area: [[0, 0], [10, 0], [10, 10]]"))
        #expect(noPlan.first?.contains("zones[0].area: a zone area is drawn on the floor plan; give site.floor_plan too") == true, "\(noPlan)")
        let two = messages(try load("  floor_plan: plan.svg", zoneExtra: "    area: [[0, 0], [10, 0]]"))
        #expect(two.first?.contains("zones[0].area: expected 3 to 256 corners") == true, "\(two)")
        let word = messages(try load("  floor_plan: plan.svg", zoneExtra: "    area: [[0, 0], [10, x], [10, 10]]"))
        #expect(word.first?.contains("zones[0].area[1]: expected a corner [x, y] of two numbers") == true, "\(word)")
    }

    @Test func aPNGFloorPlanUsesItsPixelsAsCoordinates() throws {
        // The 8-byte signature and an IHDR chunk of 640 × 480 are all the loader reads.
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        png += Array("IHDR".utf8) + [0, 0, 2, 128, 0, 0, 1, 224, 8, 2, 0, 0, 0, 0, 0, 0, 0]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("footfall-png-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(png).write(to: dir.appendingPathComponent("plan.png"))
        let yaml = "site: {name: s, time_zone: UTC, floor_plan: plan.png}\nzones: [{id: a, area: [[0, 0], [640, 0], [640, 480]]}]\nsensors: [{id: s, zone: a, file: true}]\n"
        try yaml.write(to: dir.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        let s = try ConfigLoader.load(path: dir.appendingPathComponent("c.yaml").path)
        #expect(s.site.floorPlan?.bounds == PlanRect(x: 0, y: 0, width: 640, height: 480))
    }

    @Test func theShippedExamplesCarryAFloorPlanWithEveryZoneOnIt() throws {
        for file in ["config/footfall.yaml", "config/examples/brno-lab.yaml"] {
            let s = try ConfigLoader.load(path: repositoryRoot + "/" + file)
            let plan = try #require(s.site.floorPlan, "\(file)")
            #expect(plan.bounds != nil)
            #expect(s.zones.allSatisfy { $0.area.count >= 3 }, "\(file)")
        }
    }
}
