import Foundation

/// A one-line progress bar on standard error (bytes read and frames per second), for when a
/// person is watching; the replay command only creates it when stderr is a terminal.
public final class TerminalProgress: ReplayProgress {
    private let started = ContinuousClock.now
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var drawn = false

    public init() {}

    /// Whether standard error is a terminal.
    public static var isTerminal: Bool { isatty(2) == 1 }

    public func update(bytesRead: Int64, totalBytes: Int64, frames: Int) {
        let now = ContinuousClock.now
        guard now - lastDraw >= .milliseconds(200) else { return }
        lastDraw = now
        let elapsed = max(0.001, Double((now - started).components.seconds) + Double((now - started).components.attoseconds) / 1e18)
        let fraction = totalBytes > 0 ? min(1, Double(bytesRead) / Double(totalBytes)) : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let rate = Int(Double(frames) / elapsed)
        let line = "\r[\(bar)] \(Int(fraction * 100))%  \(megabytes(bytesRead))/\(megabytes(totalBytes)) MB  \(rate) frames/s"
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    public func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func megabytes(_ bytes: Int64) -> String {
        let tenths = Int((Double(bytes) / 1_048_576 * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
