import FootfallIngest
import FootfallPlatform
import Foundation

/// Parsed probe requests on their way from the reading thread of a replay to the thread
/// that runs the ``PipelineCore``, in batches.
///
/// Why: reading and parsing a record (the capture file, radiotap, the element walk and its
/// layout digest) and putting a probe request through the core (gate, keyed hash, tracker)
/// take about the same time, and neither needs the other's state. On two threads a replay
/// runs both at once, with the key and the tracker still on one thread.
///
/// Each ``ProbeRequest`` still holds its raw address (P1), so the batches live in
/// ``FootfallPlatform/SensitiveMemory``, as the frame ring of `footfall run` does: locked
/// in RAM where the system allows, excluded from core dumps, and each batch is zeroed with
/// `explicit_bzero` as soon as the core has taken its requests, before the reading thread may
/// fill it again. At most ``batchCount`` × ``batchCapacity`` requests are in it at once.
///
/// One producer (``acquire()``, ``publish(_:count:)``, ``finishProducing(_:)``), one consumer
/// (``take()``, ``release(_:)``, ``cancel()``). Batches are taken in the order they were
/// published, so the core sees the requests in the order they were read.
final class ProbeHandoff: @unchecked Sendable {
    let batchCount: Int
    let batchCapacity: Int

    private let memory: SensitiveMemory
    private let requests: UnsafeMutablePointer<ProbeRequest>
    private let sensors: UnsafeMutablePointer<Int32>
    private let condition = NSCondition()

    // Guarded by `condition`.
    /// Batches published and not yet released, oldest first from `oldest`.
    private var published = 0
    private var oldest = 0
    private var counts: [Int]
    private var producing = true
    private var producerWaiting = false
    private var consumerWaiting = false
    private var cancelled = false
    private var failure: ReplayError?

    /// - Parameters:
    ///   - batchCount: batches in the ring (at least 2, so that one is filled while another is
    ///     processed).
    ///   - batchCapacity: probe requests per batch.
    init(batchCount: Int = 8, batchCapacity: Int = 1024) {
        precondition(batchCount >= 2 && batchCapacity >= 1)
        self.batchCount = batchCount
        self.batchCapacity = batchCapacity
        let slots = batchCount * batchCapacity
        do {
            memory = try SensitiveMemory(byteCount: slots * MemoryLayout<ProbeRequest>.stride)
        } catch {
            // Only when the system cannot map a few hundred KiB of anonymous memory at all.
            fatalError("replay handoff: \(error.message)")
        }
        requests = memory.base.bindMemory(to: ProbeRequest.self, capacity: slots)
        sensors = .allocate(capacity: slots)
        sensors.initialize(repeating: 0, count: slots)
        counts = Array(repeating: 0, count: batchCount)
    }

    deinit {
        // `memory` zeroes, unlocks and unmaps the batches. A probe request owns no memory
        // (no reference, no deinit), so requests never taken need no deinitialisation.
        sensors.deallocate()
    }

    // MARK: - Reading thread

    /// Waits for a batch to fill. When every batch is full it waits until half of them are
    /// free again, so that the two threads wake each other once every few batches rather
    /// than once a batch (a wake-up costs about as much as processing a few hundred requests).
    /// - Returns: its index, or `nil` when the consumer has stopped (``cancel()``).
    func acquire() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        if published == batchCount {
            producerWaiting = true
            while published > batchCount / 2 && !cancelled { condition.wait() }
            producerWaiting = false
        }
        if cancelled { return nil }
        return (oldest + published) % batchCount
    }

    /// Puts `request`, heard by `sensor`, at `index` of the acquired `batch`.
    @inline(__always)
    func put(_ request: consuming ProbeRequest, sensor: Int, batch: Int, index: Int) {
        let slot = batch &* batchCapacity &+ index
        (requests + slot).initialize(to: request)
        sensors[slot] = Int32(truncatingIfNeeded: sensor)
    }

    /// Hands the acquired `batch`, with `count` requests from index 0, to the consumer.
    func publish(_ batch: Int, count: Int) {
        condition.lock()
        defer { condition.unlock() }
        counts[batch] = count
        published += 1
        if consumerWaiting { condition.broadcast() }
    }

    /// The reading thread is done: after the end of input, or with `error` (everything
    /// published before it is still taken).
    func finishProducing(_ error: ReplayError?) {
        condition.lock()
        defer { condition.unlock() }
        producing = false
        failure = error
        condition.broadcast()
    }

    // MARK: - Core thread

    /// Waits for the oldest published batch.
    /// - Returns: the batch and how many requests it holds, or `nil` when the reading thread
    ///   has finished and every batch has been taken.
    func take() -> (batch: Int, count: Int)? {
        condition.lock()
        defer { condition.unlock() }
        if published == 0 && producing {
            consumerWaiting = true
            while published == 0 && producing { condition.wait() }
            consumerWaiting = false
        }
        guard published > 0 else { return nil }
        return (oldest, counts[oldest])
    }

    /// Moves the request at `index` out of `batch` (each once).
    @inline(__always)
    func request(batch: Int, index: Int) -> ProbeRequest {
        (requests + (batch &* batchCapacity &+ index)).move()
    }

    @inline(__always)
    func sensor(batch: Int, index: Int) -> Int {
        Int(sensors[batch &* batchCapacity &+ index])
    }

    /// The core is done with `batch` (the one ``take()`` returned last): its memory is zeroed,
    /// then the reading thread may fill it again.
    func release(_ batch: Int) {
        SensitiveMemory.zero(UnsafeMutableRawPointer(requests + batch &* batchCapacity), batchCapacity &* MemoryLayout<ProbeRequest>.stride)
        condition.lock()
        defer { condition.unlock() }
        precondition(published > 0 && batch == oldest)
        counts[batch] = 0
        oldest = (oldest + 1) % batchCount
        published -= 1
        if producerWaiting && published <= batchCount / 2 { condition.broadcast() }
    }

    /// The core stopped early (its sink failed): the reading thread stops at its next batch.
    /// Waits until it has, and zeroes every batch.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while producing { condition.wait() }
        published = 0
        condition.unlock()
        SensitiveMemory.zero(memory.base, batchCount &* batchCapacity &* MemoryLayout<ProbeRequest>.stride)
    }

    /// What stopped the reading thread, once ``take()`` has returned `nil`.
    var producerFailure: ReplayError? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    // MARK: - Tests

    /// Tests only: whether every byte of `batch` is zero.
    func batchIsZero(_ batch: Int) -> Bool {
        let start = UnsafeRawPointer(requests + batch &* batchCapacity)
        let bytes = UnsafeRawBufferPointer(start: start, count: batchCapacity &* MemoryLayout<ProbeRequest>.stride)
        return bytes.allSatisfy { $0 == 0 }
    }

    /// Tests only: whether the batches are locked in RAM and kept out of core dumps.
    var isLockedAndUndumpable: Bool {
        memory.lockStatus == .locked && memory.excludedFromCoreDumps
    }
}
