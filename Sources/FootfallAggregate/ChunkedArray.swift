import FootfallCore

/// A growable array stored in fixed-size chunks that never move: appending never copies
/// what is already stored, and memory grows one chunk at a time.
///
/// The tracker keeps one entry per device and one presence record per device and hour in
/// these. With `Array`, growing by doubling copies the whole buffer and frees the old one;
/// with a million devices those freed buffers (tens of megabytes below the allocator's
/// `mmap` threshold) stay in the process's resident memory and cost as much again as the
/// entries themselves (docs/performance.md, memory per device). Chunks of 1,024 elements
/// are allocated once and freed only by ``removeAll()`` or when the array is dropped.
///
/// Value semantics as `Array`: a copy shares the chunks until one side is mutated.
/// Elements are `BitwiseCopyable`, so chunks are plain memory with nothing to destroy.
struct ChunkedArray<Element: BitwiseCopyable> {
    static var chunkShift: Int { 10 }
    static var chunkSize: Int { 1 << chunkShift }
    static var chunkMask: Int { chunkSize - 1 }

    private final class Storage {
        // Only ever accessed for a moment by this file's code, never across a call that
        // could reach the same storage: no dynamic exclusivity check is needed (it cost
        // more than the access itself on the tracker's per-frame path).
        @exclusivity(unchecked) var chunks: [UnsafeMutablePointer<Element>] = []
        @exclusivity(unchecked) var count = 0

        init() {}

        func copy() -> Storage {
            let other = Storage()
            other.chunks.reserveCapacity(chunks.count)
            for chunk in chunks {
                let fresh = UnsafeMutablePointer<Element>.allocate(capacity: ChunkedArray.chunkSize)
                fresh.update(from: chunk, count: ChunkedArray.chunkSize)
                other.chunks.append(fresh)
            }
            other.count = count
            return other
        }

        deinit {
            for chunk in chunks { chunk.deallocate() }
        }
    }

    private var storage = Storage()

    init() {}

    var count: Int { storage.count }
    var isEmpty: Bool { storage.count == 0 }
    var indices: Range<Int> { 0 ..< storage.count }

    @inline(__always)
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    @inline(__always)
    subscript(i: Int) -> Element {
        get {
            precondition(i >= 0 && i < storage.count, "index out of range")
            return storage.chunks[i >> Self.chunkShift][i & Self.chunkMask]
        }
        set {
            precondition(i >= 0 && i < storage.count, "index out of range")
            makeUnique()
            storage.chunks[i >> Self.chunkShift][i & Self.chunkMask] = newValue
        }
    }

    /// The element at `i`, for several reads and writes in a row. The pointer stays valid
    /// until this array is next appended to by a copy, emptied or dropped: chunks never
    /// move, so later appends to this array do not invalidate it.
    @inline(__always)
    mutating func pointer(at i: Int) -> UnsafeMutablePointer<Element> {
        precondition(i >= 0 && i < storage.count, "index out of range")
        makeUnique()
        return storage.chunks[i >> Self.chunkShift] + (i & Self.chunkMask)
    }

    mutating func append(_ element: Element) {
        makeUnique()
        let i = storage.count
        if i >> Self.chunkShift == storage.chunks.count {
            storage.chunks.append(.allocate(capacity: Self.chunkSize))
        }
        (storage.chunks[i >> Self.chunkShift] + (i & Self.chunkMask)).initialize(to: element)
        storage.count = i + 1
    }

    /// Appends `count` copies of `element`.
    mutating func append(repeating element: Element, count: Int) {
        for _ in 0 ..< count { append(element) }
    }

    /// Drops every element and frees every chunk.
    mutating func removeAll() {
        storage = Storage()
    }

    /// Sorts the elements in place by `key`, ascending (heapsort: no memory beyond the
    /// elements themselves, O(n log n); equal keys end up in no particular order).
    mutating func sort(byKey key: (Element) -> UInt64) {
        let n = storage.count
        guard n > 1 else { return }
        makeUnique()
        let chunks = storage.chunks
        @inline(__always) func at(_ i: Int) -> UnsafeMutablePointer<Element> {
            chunks[i >> Self.chunkShift] + (i & Self.chunkMask)
        }
        // Moves the element at `root` down until neither child's key is larger.
        func siftDown(_ root: Int, _ end: Int) {
            var parent = root
            let moving = at(parent).pointee
            let movingKey = key(moving)
            while true {
                var child = 2 * parent + 1
                guard child < end else { break }
                var childKey = key(at(child).pointee)
                if child + 1 < end {
                    let rightKey = key(at(child + 1).pointee)
                    if rightKey > childKey {
                        child += 1
                        childKey = rightKey
                    }
                }
                guard childKey > movingKey else { break }
                at(parent).pointee = at(child).pointee
                parent = child
            }
            at(parent).pointee = moving
        }
        for root in stride(from: n / 2 - 1, through: 0, by: -1) { siftDown(root, n) }
        for end in stride(from: n - 1, to: 0, by: -1) {
            let top = at(0).pointee
            at(0).pointee = at(end).pointee
            at(end).pointee = top
            siftDown(0, end)
        }
    }
}
