import CKernels
import Foundation

/// Memory behind fingerprint rows: an aligned allocation, or a region of a memory-mapped file.
///
/// `@unchecked Sendable`: the bytes are written only while the owner builds them (before the value is
/// shared) and read-only afterwards; the pointer itself never changes.
public final class RowMemory: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let length: Int
    private let release: (@Sendable (UnsafeMutableRawPointer, Int) -> Void)?

    /// `length` zeroed bytes, 64-byte aligned.
    public init(zeroedBytes length: Int) {
        base = UnsafeMutableRawPointer.allocate(byteCount: max(length, 64), alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: max(length, 64))
        self.length = length
        release = { pointer, _ in pointer.deallocate() }
    }

    /// Memory that someone else allocated; `release` gives it back (e.g. `munmap`).
    public init(base: UnsafeMutableRawPointer, length: Int, release: (@Sendable (UnsafeMutableRawPointer, Int) -> Void)?) {
        self.base = base
        self.length = length
        self.release = release
    }

    deinit { release?(base, length) }
}

/// Fingerprints as fixed-width rows of `UInt64` words in one 64-byte-aligned block: row i starts at
/// word `i * stride`, `stride` is the fingerprint's words rounded up to a multiple of 8 (a 512-bit
/// vector) and the padding words are zero. Queries use the same layout.
///
/// `@unchecked Sendable`: rows are written with `set` while one owner fills the block, then only read.
public final class FingerprintRows: @unchecked Sendable {
    public let bitCount: Int
    public let stride: Int
    public let count: Int
    public let memory: RowMemory

    public static func stride(bitCount: Int) -> Int { ((bitCount + 63) / 64 + 7) / 8 * 8 }

    public init(bitCount: Int, count: Int) {
        self.bitCount = bitCount
        stride = Self.stride(bitCount: bitCount)
        self.count = count
        memory = RowMemory(zeroedBytes: count * stride * 8)
    }

    /// Rows living in someone else's memory (a mapped file), which must hold `count * stride` words.
    public init(bitCount: Int, count: Int, memory: RowMemory, byteOffset: Int) {
        self.bitCount = bitCount
        stride = Self.stride(bitCount: bitCount)
        self.count = count
        self.memory = RowMemory(base: memory.base + byteOffset, length: count * stride * 8) { _, _ in withExtendedLifetime(memory) {} }
    }

    public convenience init(bitCount: Int, fingerprints: [[UInt64]]) {
        self.init(bitCount: bitCount, count: fingerprints.count)
        for (i, f) in fingerprints.enumerated() { set(i, f) }
    }

    @inline(__always) public var words: UnsafeMutablePointer<UInt64> { memory.base.assumingMemoryBound(to: UInt64.self) }

    @inline(__always) public func row(_ i: Int) -> UnsafeMutablePointer<UInt64> { words + i * stride }

    /// Copies a fingerprint into row i (extra words beyond the row are ignored, missing ones are 0).
    public func set(_ i: Int, _ fingerprint: [UInt64]) {
        let r = row(i)
        let n = min(fingerprint.count, stride)
        for w in 0..<n { r[w] = fingerprint[w] }
        for w in n..<stride { r[w] = 0 }
    }

    public func fingerprint(_ i: Int) -> [UInt64] {
        let r = row(i)
        return (0..<((bitCount + 63) / 64)).map { r[$0] }
    }

    public func popcount(_ i: Int) -> Int { Int(wk_popcount(row(i), Int64(stride))) }
}

/// One hit of a search: a database record (0-based, in database order) and its exact similarity.
public struct Neighbour: Sendable, Hashable {
    public var record: Int
    public var similarity: ExactSimilarity

    public init(record: Int, similarity: ExactSimilarity) {
        self.record = record
        self.similarity = similarity
    }

    /// Hit-list order: more similar first, equal similarities in database order.
    @inline(__always) public func ranksBefore(_ other: Neighbour) -> Bool {
        let lhs = similarity.numerator * other.similarity.denominator, rhs = other.similarity.numerator * similarity.denominator
        return lhs != rhs ? lhs > rhs : record < other.record
    }
}

/// A library's fingerprints, laid out for search as chemfp does: rows sorted by popcount (ties in
/// database order) in one contiguous aligned block, with `bandStart[p] ..< bandStart[p + 1]` the rows
/// of popcount p. A query with a bits only needs the popcounts that can reach its threshold (the
/// Swamidass–Baldi bounds ⌈a·t⌉ … ⌊a/t⌋ for Tanimoto), and within one popcount band a row is a hit
/// exactly when it shares at least some number of bits with the query, so the kernel compares one
/// integer per row.
///
/// `@unchecked Sendable`: immutable after init (rows and tables are only read).
public final class FingerprintArena: @unchecked Sendable {
    public let rows: FingerprintRows
    /// bitCount + 2 entries; rows with popcount p are bandStart[p] ..< bandStart[p + 1].
    public let bandStart: [Int]
    /// The database record (0-based) of each sorted row.
    public let recordOfRow: UnsafeBufferPointer<UInt32>
    private let recordMemory: RowMemory

    public var count: Int { rows.count }
    public var bitCount: Int { rows.bitCount }

    /// Sorts fingerprints (given in database order) into an arena.
    public convenience init(bitCount: Int, fingerprints: [[UInt64]]) {
        let stride = FingerprintRows.stride(bitCount: bitCount)
        let popcounts = fingerprints.map { f in f.withUnsafeBufferPointer { Int(wk_popcount($0.baseAddress, Int64(min($0.count, stride)))) } }
        let order = FingerprintArena.sortedOrder(popcounts: popcounts, bitCount: bitCount)
        let rows = FingerprintRows(bitCount: bitCount, count: fingerprints.count)
        for (row, record) in order.recordOfRow.enumerated() { rows.set(row, fingerprints[Int(record)]) }
        let memory = RowMemory(zeroedBytes: order.recordOfRow.count * 4)
        let records = memory.base.assumingMemoryBound(to: UInt32.self)
        for (i, r) in order.recordOfRow.enumerated() { records[i] = r }
        self.init(rows: rows, bandStart: order.bandStart, recordOfRow: UnsafeBufferPointer(start: records, count: order.recordOfRow.count),
                  recordMemory: memory)
    }

    /// An arena over rows already sorted (e.g. a mapped index file); `recordMemory` keeps the
    /// record table's memory alive.
    public init(rows: FingerprintRows, bandStart: [Int], recordOfRow: UnsafeBufferPointer<UInt32>, recordMemory: RowMemory) {
        self.rows = rows
        self.bandStart = bandStart
        self.recordOfRow = recordOfRow
        self.recordMemory = recordMemory
    }

    /// Counting sort by popcount, stable (database order within a popcount).
    public static func sortedOrder(popcounts: [Int], bitCount: Int) -> (bandStart: [Int], recordOfRow: [UInt32]) {
        var bandStart = [Int](repeating: 0, count: bitCount + 2)
        for p in popcounts { bandStart[min(p, bitCount) + 1] += 1 }
        for p in 0...bitCount { bandStart[p + 1] += bandStart[p] }
        var next = bandStart
        var recordOfRow = [UInt32](repeating: 0, count: popcounts.count)
        for (record, p) in popcounts.enumerated() {
            let band = min(p, bitCount)
            recordOfRow[next[band]] = UInt32(record)
            next[band] += 1
        }
        return (bandStart, recordOfRow)
    }

    /// The fingerprint of database record `record` (linear search for its row: for tests and tools).
    public func fingerprint(record: Int) -> [UInt64]? {
        guard let row = recordOfRow.firstIndex(of: UInt32(record)) else { return nil }
        return rows.fingerprint(row)
    }
}
