// footfall-crowd: writes a synthetic crowd (CrowdGenerator) for measurements by hand and for
// docs/crowds.md: `footfall-crowd OUT.pcap HOUR_START_UNIX SEED PHONE.pcap:N[:vendor|resident] ...`.
// Every member is heard by one sensor (one file) at the capture's own signal level.
import FootfallCrowd
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 5, let hour = Int64(arguments[2]), let seed = UInt64(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: footfall-crowd OUT.pcap HOUR_START_UNIX SEED PHONE.pcap:N[:vendor|resident] ...\n".utf8))
    exit(64)
}
var crowd: [CrowdMember] = []
do {
    for spec in arguments[4...] {
        let parts = spec.split(separator: ":").map(String.init)
        guard parts.count >= 2, let n = Int(parts[1]) else { throw PhoneCapture.Failure.unreadable(spec) }
        let phone = try PhoneCapture(path: parts[0])
        let addressing: CrowdMember.Addressing = parts.count > 2 ? (parts[2] == "vendor" ? .vendor : .resident) : .randomised
        crowd += (0 ..< n).map { _ in CrowdMember(phone: phone, addressing: addressing) }
    }
    let written = try CrowdGenerator.write(crowd, hourStartSeconds: hour, to: [arguments[1]], seed: seed)
    print("members \(crowd.count) frames \(written.frames[0]) addresses \(written.addresses)")
} catch {
    FileHandle.standardError.write(Data("footfall-crowd: \(error)\n".utf8))
    exit(1)
}
