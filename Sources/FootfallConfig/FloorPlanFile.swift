import FootfallCore
import FootfallIngest
import Foundation

/// Reads just enough of a floor-plan file (`site.floor_plan`) to check it: that it is an SVG
/// or PNG picture of sensible size, and its coordinate system, so that `zones[].area` can be
/// checked against it when the configuration is loaded rather than when a planner opens a
/// report with the zones drawn off the plan.
enum FloorPlanFile {
    /// The report embeds the plan, and a report must stay small enough to mail (3 MB).
    static let maximumBytes = 2 << 20

    /// The plan's coordinate system, or what is wrong with the file (for a config error).
    static func bounds(ofFileAt path: String) -> Result<PlanRect, FloorPlanProblem> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return .failure(FloorPlanProblem("no such file (the path is relative to the configuration file's directory)"))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(FloorPlanProblem("cannot read the file (may this user read it?)"))
        }
        guard data.count <= maximumBytes else {
            return .failure(FloorPlanProblem("the file has \(data.count) bytes; a floor plan may have at most \(maximumBytes) (2 MiB)"))
        }
        let bytes = [UInt8](data)
        if path.lowercased().hasSuffix(".png") { return png(bytes) }
        return svg(bytes)
    }

    /// PNG (ISO/IEC 15948 §5.2, §11.2.2): the 8-byte signature, then IHDR with the width and
    /// height as big-endian 32-bit integers.
    static func png(_ b: [UInt8]) -> Result<PlanRect, FloorPlanProblem> {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard b.count >= 24, Array(b[0 ..< 8]) == signature, Array(b[12 ..< 16]) == Array("IHDR".utf8) else {
            return .failure(FloorPlanProblem("not a PNG picture (no PNG signature and IHDR chunk)"))
        }
        func be32(_ i: Int) -> Int { b.withUnsafeBytes { Int($0.bigEndian(UInt32.self, at: i)) } }
        let width = be32(16), height = be32(20)
        guard (1 ... 20000).contains(width), (1 ... 20000).contains(height) else {
            return .failure(FloorPlanProblem("a PNG of \(width)×\(height) pixels; expected 1 to 20000 each way"))
        }
        return .success(PlanRect(x: 0, y: 0, width: Double(width), height: Double(height)))
    }

    /// SVG: the root element's `viewBox` (SVG 1.1 §7.7), or else its `width` and `height` in
    /// user units (plain numbers or `px`).
    static func svg(_ b: [UInt8]) -> Result<PlanRect, FloorPlanProblem> {
        let text = String(decoding: b, as: UTF8.self)
        guard let open = text.range(of: "<svg"), let close = text[open.upperBound...].firstIndex(of: ">") else {
            return .failure(FloorPlanProblem("not an SVG picture (no <svg> element)"))
        }
        let tag = String(text[open.upperBound ..< close])
        func attribute(_ name: String) -> String? {
            // ` name="value"` or ` name='value'`, preceded by white space so viewBox is not read as a suffix.
            for quote in ["\"", "'"] {
                for space in [" ", "\n", "\t", "\r"] {
                    if let start = tag.range(of: space + name + "=" + quote), let end = tag[start.upperBound...].range(of: quote) {
                        return String(tag[start.upperBound ..< end.lowerBound])
                    }
                }
            }
            return nil
        }
        func number(_ text: String) -> Double? {
            let t = text.hasSuffix("px") ? String(text.dropLast(2)) : text
            guard let v = Double(t.trimmingCharacters(in: .whitespaces)), v.isFinite else { return nil }
            return v
        }
        if let viewBox = attribute("viewBox") {
            let parts = viewBox.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\n" }).compactMap { Double($0) }
            guard parts.count == 4, parts.allSatisfy(\.isFinite), parts[2] > 0, parts[3] > 0 else {
                return .failure(FloorPlanProblem("the SVG's viewBox is not four numbers with a positive width and height"))
            }
            return .success(PlanRect(x: parts[0], y: parts[1], width: parts[2], height: parts[3]))
        }
        guard let w = attribute("width").flatMap(number), let h = attribute("height").flatMap(number), w > 0, h > 0 else {
            return .failure(FloorPlanProblem("the SVG has no viewBox and no width and height in pixels; give it a viewBox"))
        }
        return .success(PlanRect(x: 0, y: 0, width: w, height: h))
    }
}

/// Why a floor-plan file was refused; becomes a ``ConfigError`` at `site.floor_plan`.
struct FloorPlanProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
