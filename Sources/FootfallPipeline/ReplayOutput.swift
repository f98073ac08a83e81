import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallOutput
import Foundation

/// The CSV files of a replay, written on a thread of their own while the next hours are
/// read: suppression, formatting and creating two files per hour take about an eighth of a
/// replay, all of it independent of the frames still to come.
///
/// Hours are written one after another in the order they were handed in, so the files and
/// their names are exactly those of writing in line. After the first failure nothing more
/// is written (as when the replay stopped at it), and the failure is reported by the next
/// ``submit(_:)`` or by ``finish()``, with the same message.
final class ReplayOutput: @unchecked Sendable {
    /// Hours waiting at most; the reader waits when the writer is this far behind, so a
    /// slow disk holds back the replay instead of filling memory.
    static let queueLimit = 32

    private let writer: HourFileWriter
    private let privacy: PrivacySettings
    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [HourReport] = []
    private var head = 0
    private var closed = false
    private var done = false
    private var failure: ReplayError?
    private var files: [String] = []
    private var hours = 0

    init(writer: HourFileWriter, privacy: PrivacySettings) {
        self.writer = writer
        self.privacy = privacy
        let thread = Thread { [self] in run() }
        thread.name = "footfall-replay-output"
        thread.start()
    }

    /// Hands over one closed hour (before suppression).
    /// - Throws: the failure of an earlier hour's files, if any.
    func submit(_ report: HourReport) throws(ReplayError) {
        condition.lock()
        defer { condition.unlock() }
        while failure == nil && queue.count - head >= ReplayOutput.queueLimit { condition.wait() }
        if let failure { throw failure }
        queue.append(report)
        condition.broadcast()
    }

    /// Waits until every hour handed over is written.
    /// - Returns: the names of the files written, in order, and the number of hours.
    /// - Throws: the first failure.
    func finish() throws(ReplayError) -> (files: [String], hours: Int) {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        condition.broadcast()
        while !done { condition.wait() }
        if let failure { throw failure }
        return (files, hours)
    }

    private func run() {
        while true {
            condition.lock()
            while head == queue.count && !closed { condition.wait() }
            guard head < queue.count, failure == nil else {
                done = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let report = queue[head]
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            condition.broadcast()
            condition.unlock()

            var written: [String] = []
            var failed: ReplayError?
            do throws(OutputError) {
                written = try writer.write(Suppression.publish(report, privacy: privacy))
            } catch {
                failed = ReplayError(error.message)
            }

            condition.lock()
            if let failed {
                failure = failed
                queue.removeAll()
                head = 0
            } else {
                files += written
                hours += 1
            }
            condition.broadcast()
            condition.unlock()
        }
    }
}
