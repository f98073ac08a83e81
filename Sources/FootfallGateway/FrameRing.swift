#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import FootfallCore
import FootfallIngest
import FootfallAggregate
import FootfallPlatform

/// What travels with a frame from a capture thread to the pipeline thread. Plain values,
/// no heap storage.
public struct FrameMeta: Sendable, Equatable {
    /// Capture time, nanoseconds since the Unix epoch.
    public var timestampNanos: Int64
    /// Index of the sensor that heard the frame (into the configuration's sensors).
    public var sensor: Int32
    /// How to parse the bytes: radiotap (127) or bare 802.11 (105).
    public var linkType: LinkType
    /// For bare 802.11 frames out of a TZSP or PEEKREMOTE stream: the signal and the CRC
    /// verdict the access point reported, for ``FrameParser/parse(_:linkType:hints:timestampNanos:counters:elements:)``
    /// on the pipeline thread; ``RadioHints/none`` for a monitor interface.
    public var hints: RadioHints

    public init(timestampNanos: Int64, sensor: Int32, linkType: LinkType, hints: RadioHints = .none) {
        self.timestampNanos = timestampNanos
        self.sensor = sensor
        self.linkType = linkType
        self.hints = hints
    }
}

/// Counts of a ``FrameRing``, for the metrics and the shutdown summary.
public struct FrameRingCounters: Sendable, Equatable {
    /// Frames handed over.
    public var pushed: UInt64 = 0
    /// Frames dropped because the ring was full (the pipeline fell behind).
    public var droppedFull: UInt64 = 0
    /// Frames dropped because they were longer than a slot.
    public var droppedOversize: UInt64 = 0

    public init() {}
}

/// The hand-over from the capture threads to the one pipeline thread: a ring of
/// preallocated fixed-size byte slots guarded by a mutex and a condition variable.
///
/// Why this shape: pcap loops block, so each capture has its own thread, while the key and
/// the tracker belong to exactly one thread. Copying a frame (at most a few hundred bytes
/// for a probe request) into a slot that already exists costs no allocation; when the ring
/// is full the frame is counted and dropped rather than blocking the capture, which would
/// only move the loss into the kernel.
///
/// Raw frames carry the addresses of phones (P1), so the slots live in
/// ``FootfallPlatform/SensitiveMemory``: locked in RAM (never swapped to disk), excluded from
/// core dumps, and every slot is zeroed as soon as the pipeline has parsed it, so no frame
/// outlives its parse in this memory.
///
/// Any number of producers (``push(_:meta:)``), one consumer (``consume(timeoutNanos:_:)``).
public final class FrameRing: @unchecked Sendable {
    public let capacity: Int
    public let slotBytes: Int

    private let memory: SensitiveMemory
    private let storage: UnsafeMutableRawPointer
    private let metas: UnsafeMutablePointer<FrameMeta>
    private let lengths: UnsafeMutablePointer<Int32>
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    // Guarded by `mutex`.
    private var head = 0
    private var count = 0
    private var consumerWaiting = false
    private var wakeRequested = false
    private var counters = FrameRingCounters()

    /// - Parameters:
    ///   - capacity: number of slots.
    ///   - slotBytes: bytes per slot; longer frames are counted and dropped. 4096 holds any
    ///     probe request with its radio header (an 802.11 management frame body is at most
    ///     2320 bytes, IEEE 802.11-2020 §9.3.3.1).
    public init(capacity: Int = 4096, slotBytes: Int = 4096) {
        precondition(capacity > 0 && slotBytes > 0)
        self.capacity = capacity
        self.slotBytes = slotBytes
        do {
            memory = try SensitiveMemory(byteCount: capacity * slotBytes)
        } catch {
            // Only when the system cannot map a few MiB of anonymous memory at all.
            fatalError("frame ring: \(error.message)")
        }
        storage = memory.base
        metas = .allocate(capacity: capacity)
        metas.initialize(repeating: FrameMeta(timestampNanos: 0, sensor: 0, linkType: .ieee80211), count: capacity)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if os(Linux)
        // Waits are measured on the monotonic clock, so a wall-clock step cannot stretch them.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        // `memory` zeroes, unlocks and unmaps the slots.
        metas.deinitialize(count: capacity)
        metas.deallocate()
        lengths.deallocate()
        pthread_cond_destroy(condition)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Copies one frame into the next free slot; any thread.
    /// - Returns: `false` when the frame was dropped (ring full, or longer than a slot).
    @discardableResult
    public func push(_ bytes: UnsafeRawBufferPointer, meta: FrameMeta) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard bytes.count <= slotBytes else {
            counters.droppedOversize += 1
            return false
        }
        guard count < capacity else {
            counters.droppedFull += 1
            return false
        }
        let index = (head + count) % capacity
        if let base = bytes.baseAddress, bytes.count > 0 {
            (storage + index * slotBytes).copyMemory(from: base, byteCount: bytes.count)
        }
        lengths[index] = Int32(bytes.count)
        metas[index] = meta
        count += 1
        counters.pushed += 1
        // Signal only a consumer that sleeps: no system call per frame while it is busy.
        if consumerWaiting { pthread_cond_signal(condition) }
        return true
    }

    /// Makes a waiting ``consume(timeoutNanos:_:)`` return now (shutdown, reload); any thread.
    public func wake() {
        pthread_mutex_lock(mutex)
        wakeRequested = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Whether the slots are locked in RAM (for a warning log when they are not).
    public var lockStatus: LockedKeyMemory.LockStatus { memory.lockStatus }

    /// Whether the slots are excluded from core dumps.
    public var excludedFromCoreDumps: Bool { memory.excludedFromCoreDumps }

    /// Counts so far; any thread.
    public var statistics: FrameRingCounters {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return counters
    }

    /// Frames waiting.
    public var pending: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return count
    }

    /// Waits until frames are there, ``wake()`` is called or the timeout passes, then hands
    /// every waiting frame to `body` in arrival order. Call from the one consumer thread.
    ///
    /// The bytes are borrowed for the call only and zeroed when `body` returns (P1);
    /// producers keep filling other slots while `body` runs (the lock is not held).
    /// - Parameter timeoutNanos: longest wait; 0 does not wait.
    /// - Returns: how many frames `body` saw.
    @discardableResult
    public func consume(timeoutNanos: Int64, _ body: (UnsafeRawBufferPointer, FrameMeta) -> Void) -> Int {
        pthread_mutex_lock(mutex)
        if count == 0 && !wakeRequested && timeoutNanos > 0 {
            var deadline = timespec()
            #if os(Linux)
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            #else
            clock_gettime(CLOCK_REALTIME, &deadline)
            #endif
            let total = Int64(deadline.tv_nsec) + timeoutNanos
            deadline.tv_sec += Int(total / 1_000_000_000)
            deadline.tv_nsec = Int(total % 1_000_000_000)
            consumerWaiting = true
            while count == 0 && !wakeRequested {
                if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
            }
            consumerWaiting = false
        }
        wakeRequested = false
        let start = head
        let n = count
        pthread_mutex_unlock(mutex)

        // Slots [start, start + n) belong to the consumer until `head` moves past them.
        for i in 0 ..< n {
            let index = (start + i) % capacity
            let slot = storage + index * slotBytes
            let length = Int(lengths[index])
            body(UnsafeRawBufferPointer(start: slot, count: length), metas[index])
            // Parsed: the raw frame (and the address in it) goes now, not when a later frame
            // happens to overwrite the slot.
            SensitiveMemory.zero(slot, length)
        }

        if n > 0 {
            pthread_mutex_lock(mutex)
            head = (head + n) % capacity
            count -= n
            pthread_mutex_unlock(mutex)
        }
        return n
    }
}
