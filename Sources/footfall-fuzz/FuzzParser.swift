// libFuzzer entry point for the frame parser and the access-point stream headers in front
// of it, TZSP and PEEKREMOTE (docs/development.md "Fuzzing").
//
// Built normally (`swift build`), this is a corpus replayer: `footfall-fuzz FILE|DIR...`
// runs every file through the parser, so a crash file that libFuzzer saved can be replayed
// under a debugger. Built as a fuzzer:
//
//     swift build -c release --product footfall-fuzz --scratch-path .build-fuzz \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING \
//       -Xswiftc -enable-experimental-feature -Xswiftc Extern
//     mkdir -p fuzz-corpus
//     .build-fuzz/release/footfall-fuzz -max_total_time=60 fuzz-corpus/
//
// The corpus directory (git-ignored) grows with the inputs libFuzzer finds interesting;
// seeding it with a few real records (one file each, radiotap included) gets the walk deep
// at once.
//
// `main` hands over to libFuzzer's driver (`LLVMFuzzerRunDriver`), which calls
// `LLVMFuzzerTestOneInput` with generated inputs. libFuzzer's own `main` cannot be used:
// SwiftPM links every executable with `main` aliased to the module's Swift entry point.
import FootfallIngest
import Foundation

/// Feeds one input to the parser as both link types, and as a TZSP and a PEEKREMOTE
/// datagram, and checks the counters' invariants.
/// Returns 0 as libFuzzer requires; a broken invariant traps, which libFuzzer reports as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    var counters = ParseCounters()
    check(FrameParser.parse(bytes, linkType: .ieee80211Radiotap, timestampNanos: 0, counters: &counters))
    check(FrameParser.parse(bytes, linkType: .ieee80211, timestampNanos: 0, counters: &counters))
    precondition(counters.frames == 2 && counters.isConsistent, "parse counters out of balance")

    var streamCounters = ParseCounters()
    var tzsp = TZSPCounters()
    if let header = tzsp.decode(bytes) {
        check(header.parseFrame(in: bytes, timestampNanos: 0, counters: &streamCounters))
    }
    var peekRemote = PeekRemoteCounters()
    check(peekRemote.parse(bytes, timestampNanos: 0, counters: &streamCounters))
    precondition(tzsp.datagrams == 1 && peekRemote.datagrams == 1, "a datagram not counted")
    precondition(streamCounters.isConsistent, "stream parse counters out of balance")
    return 0
}

/// Properties every parse result must have, whatever the input.
private func check(_ result: consuming ParseResult) {
    switch consume result {
    case .probeRequest(let request):
        precondition(request.sequenceNumber < 4096, "sequence number wider than 12 bits")
    case .other:
        break
    case .malformed:
        break
    }
}

#if FUZZING
/// libFuzzer's documented entry for programs that keep their own `main`
/// (`int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *, size_t))`).
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
struct FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
    }
}
#else
@main
struct FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard !arguments.isEmpty else {
            print("usage: footfall-fuzz FILE|DIRECTORY...  (replays inputs through the frame parser)")
            exit(2)
        }
        var replayed = 0
        for path in arguments {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    print("\(file): cannot read, skipped")
                    continue
                }
                _ = data.withUnsafeBytes { raw in
                    fuzzOneInput(raw.bindMemory(to: UInt8.self).baseAddress, raw.count)
                }
                replayed += 1
            }
        }
        print("replayed \(replayed) inputs without a failure")
    }

    /// The file itself, or every regular file directly inside a directory.
    private static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { path + "/" + $0 }
    }
}
#endif
