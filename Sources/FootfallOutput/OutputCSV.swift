/// Reads footfall's own CSV files back (RFC 4180 as written by ``HeatmapCSV``): the audit
/// checks them and `footfall render` draws them, through the same two functions so that a
/// picture shows exactly what an auditor read.
enum OutputCSV {
    /// The lines of a file with their 1-based numbers. Splits on any line end: RFC 4180
    /// files end lines with CRLF, which Swift treats as one Character; a stray CR left at a
    /// line's end is dropped.
    static func lines(_ text: String) -> [(number: Int, text: Substring)] {
        var result: [(number: Int, text: Substring)] = []
        var number = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            result.append((number, raw.hasSuffix("\r") ? raw.dropLast() : raw))
        }
        return result
    }

    /// Splits one CSV line into its fields (RFC 4180 §2: quoted fields, doubled quotes).
    static func fields(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        var pendingQuote = false
        while let c = iterator.next() {
            if quoted {
                if pendingQuote {
                    pendingQuote = false
                    if c == "\"" { current.append("\""); continue }
                    quoted = false
                } else if c == "\"" {
                    pendingQuote = true
                    continue
                } else {
                    current.append(c)
                    continue
                }
            }
            if c == "," {
                fields.append(current)
                current = ""
            } else if c == "\"" && current.isEmpty {
                quoted = true
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }
}
