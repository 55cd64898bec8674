import CKernels
import Foundation

/// Why a fingerprint index file cannot be used.
public struct IndexFileError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What the fingerprints in an index are: Winnow's Morgan bits (radius, invariant version) or bits
/// from an FPS file whose type Winnow cannot reproduce from SMILES (radius and invariant version -1).
public struct IndexFingerprintType: Sendable, Equatable {
    public var bitCount: Int
    public var radius: Int
    public var invariantVersion: Int
    /// chemfp-style type line (`Winnow-Morgan/1 radius=2 fpSize=2048 ...`, or the FPS file's `#type=`).
    public var typeString: String

    public init(bitCount: Int, radius: Int, invariantVersion: Int, typeString: String) {
        self.bitCount = bitCount; self.radius = radius; self.invariantVersion = invariantVersion; self.typeString = typeString
    }

    public init(morgan settings: MorganSettings) {
        self.init(bitCount: settings.size, radius: settings.radius, invariantVersion: MorganSettings.invariantVersion,
                  typeString: settings.typeString)
    }

    /// The Morgan settings that reproduce these fingerprints from SMILES, when known: the type line
    /// is one this Winnow writes (radius, size and invariant kind) and agrees with the header.
    public var morganSettings: MorganSettings? {
        guard radius >= 0, invariantVersion == MorganSettings.invariantVersion,
              let settings = MorganSettings(typeString: typeString), settings.radius == radius, settings.size == bitCount else { return nil }
        return settings
    }
}

/// The `.wfp` fingerprint index: one file laid out to be memory-mapped and searched in place.
///
/// Layout (little-endian; every section starts on a 64-byte boundary):
///
/// | bytes | content |
/// |---|---|
/// | 0 ..< 256 | header: magic `WNNWFPDB`, format version, header size, bits, row stride (words), Morgan radius and invariant version (-1 when unknown), record count, offset and length of each section, file length, checksum of everything after the header, checksum of the header |
/// | bands | (bits + 2) × UInt64: rows of popcount p are bands[p] ..< bands[p + 1] |
/// | rows | count × stride × UInt64, sorted by popcount (database order within one), zero padding words |
/// | records | count × UInt32: the database record (0-based) of each sorted row |
/// | text offsets | (count + 1) × UInt64 into the text section, in database order |
/// | text | per record `id<TAB>smiles` (UTF-8) |
/// | type | the fingerprint type string |
///
/// Opening maps the file and checks the header (magic, version, header checksum), the file length and
/// that every section lies inside the file with the sizes the header implies, and the band table
/// (small); it reads none of the rows. The sections' checksum covers every byte after the header and
/// is checked by `verify()` (`winnow index --verify FILE`), which reads the whole file.
public final class FingerprintIndex: @unchecked Sendable {
    // @unchecked: immutable after init; the mapping lives as long as the object.
    public static let magic: [UInt8] = Array("WNNWFPDB".utf8)
    public static let formatVersion: UInt32 = 1
    static let headerBytes = 256

    public let path: String
    public let type: IndexFingerprintType
    public let count: Int
    public let arena: FingerprintArena
    private let memory: RowMemory
    private let textOffsets: UnsafePointer<UInt64>
    private let text: UnsafeBufferPointer<UInt8>
    private let sectionsChecksum: UInt64
    /// The rows and row-to-record sections (adjacent in the file): what every search reads.
    private let scannedBytes: Range<Int>

    /// Header fields, in file order after magic / version / header size.
    struct Header {
        var bitCount = 0, stride = 0, radius = -1, invariantVersion = -1, count = 0
        var sections: [(offset: Int, length: Int)] = []   // bands, rows, records, text offsets, text, type
        var fileLength = 0
        var sectionsChecksum: UInt64 = 0

        func encode() -> [UInt8] {
            var out = FingerprintIndex.magic
            func put32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
            func put64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
            put32(FingerprintIndex.formatVersion)
            put32(UInt32(FingerprintIndex.headerBytes))
            put32(UInt32(bitCount)); put32(UInt32(stride))
            put32(UInt32(bitPattern: Int32(radius))); put32(UInt32(bitPattern: Int32(invariantVersion)))
            put64(UInt64(count))
            for s in sections { put64(UInt64(s.offset)); put64(UInt64(s.length)) }
            put64(UInt64(fileLength))
            put64(sectionsChecksum)
            let headerSum = out.withUnsafeBufferPointer { wk_checksum($0.baseAddress, Int64($0.count)) }
            put64(headerSum)
            out += [UInt8](repeating: 0, count: FingerprintIndex.headerBytes - out.count)
            return out
        }
    }

    static let sectionCount = 6
    /// Bytes of the header that its checksum covers: everything before the checksum itself.
    static let headerSummed = 8 + 4 * 6 + 8 + 16 * sectionCount + 8 + 8

    /// Maps and checks an index file (see the type's documentation for what is checked).
    public init(path: String) throws(IndexFileError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw IndexFileError("\(path): cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw IndexFileError("\(path): cannot read its size") }
        let size = Int(info.st_size)
        guard size >= Self.headerBytes else {
            throw IndexFileError("\(path): not a Winnow fingerprint index (too short for a header: \(size) bytes)")
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw IndexFileError("\(path): cannot map the file (\(String(cString: strerror(errno))))")
        }
        let memory = RowMemory(base: mapped, length: size) { pointer, length in munmap(pointer, length) }
        let bytes = UnsafeRawBufferPointer(start: mapped, count: size)
        guard Array(bytes[0..<8]) == Self.magic else {
            throw IndexFileError("\(path): not a Winnow fingerprint index (no WNNWFPDB magic)")
        }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        let version = u32(8)
        guard version == Self.formatVersion else {
            throw IndexFileError("\(path): index format version \(version); this Winnow reads version \(Self.formatVersion): rebuild it with 'winnow index'")
        }
        let summed = wk_checksum(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), Int64(Self.headerSummed))
        guard u64(Self.headerSummed) == summed, Int(u32(12)) == Self.headerBytes else {
            throw IndexFileError("\(path): damaged index header (checksum mismatch); rebuild it with 'winnow index'")
        }
        var header = Header()
        header.bitCount = Int(u32(16)); header.stride = Int(u32(20))
        header.radius = Int(Int32(bitPattern: u32(24))); header.invariantVersion = Int(Int32(bitPattern: u32(28)))
        header.count = Int(u64(32))
        var at = 40
        for _ in 0..<Self.sectionCount {
            let offset = u64(at), length = u64(at + 8)
            guard offset <= UInt64(size), length <= UInt64(size) else { throw IndexFileError("\(path): damaged index header (section outside the file)") }
            header.sections.append((Int(offset), Int(length)))
            at += 16
        }
        header.fileLength = Int(clamping: u64(at))
        header.sectionsChecksum = u64(at + 8)
        guard header.fileLength == size else {
            throw IndexFileError("\(path): truncated or damaged index: the header says \(header.fileLength) bytes, the file has \(size)")
        }
        guard header.bitCount >= 1, header.bitCount <= FingerprintIndex.maxBits,
              header.stride == FingerprintRows.stride(bitCount: header.bitCount), header.count <= Int(UInt32.max) else {
            throw IndexFileError("\(path): damaged index header (bits \(header.bitCount), stride \(header.stride), count \(header.count))")
        }
        let expected = [(header.bitCount + 2) * 8, header.count * header.stride * 8, header.count * 4, (header.count + 1) * 8]
        for (i, s) in header.sections.enumerated() {
            guard s.offset >= Self.headerBytes, s.offset % 64 == 0, s.offset + s.length <= size, i >= expected.count || s.length == expected[i] else {
                throw IndexFileError("\(path): damaged index (section \(i + 1) of \(Self.sectionCount) has wrong bounds)")
            }
        }
        let base = UnsafeRawPointer(mapped)
        let bandPointer = (base + header.sections[0].offset).assumingMemoryBound(to: UInt64.self)
        var bands = [Int](repeating: 0, count: header.bitCount + 2)
        for p in 0..<bands.count { bands[p] = Int(clamping: UInt64(littleEndian: bandPointer[p])) }
        guard bands[0] == 0, bands[header.bitCount + 1] == header.count, zip(bands, bands.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw IndexFileError("\(path): damaged index (popcount table is not increasing)")
        }
        let typeSection = header.sections[5]
        let typeString = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[typeSection.offset..<(typeSection.offset + typeSection.length)]), as: UTF8.self)

        let rows = FingerprintRows(bitCount: header.bitCount, count: header.count, memory: memory, byteOffset: header.sections[1].offset)
        let records = UnsafeBufferPointer(start: (base + header.sections[2].offset).assumingMemoryBound(to: UInt32.self), count: header.count)
        arena = FingerprintArena(rows: rows, bandStart: bands, recordOfRow: records, recordMemory: memory)
        textOffsets = (base + header.sections[3].offset).assumingMemoryBound(to: UInt64.self)
        text = UnsafeBufferPointer(start: (base + header.sections[4].offset).assumingMemoryBound(to: UInt8.self), count: header.sections[4].length)
        type = IndexFingerprintType(bitCount: header.bitCount, radius: header.radius, invariantVersion: header.invariantVersion, typeString: typeString)
        count = header.count
        sectionsChecksum = header.sectionsChecksum
        scannedBytes = header.sections[1].offset..<(header.sections[2].offset + header.sections[2].length)
        self.memory = memory
    }

    /// Maps the pages every search reads (rows and the row-to-record table) into this process now,
    /// instead of during the first scan: `winnow search` calls it on a second thread while Open Babel
    /// loads its plugins. It reads one byte every 64 KiB: each read faults in Linux's fault-around
    /// window (16 pages by default), which measured cheaper than MADV_POPULATE_READ (19 ms against
    /// 29 ms of CPU for a 480 MiB index in the page cache). Reads the file when it is not in the page
    /// cache. Only a speed hint: what a search finds does not depend on it. Returns a sum of the bytes
    /// read, so that the reads are not optimized away.
    @discardableResult public func mapInScannedPages() -> UInt8 {
        var sum: UInt8 = 0
        var at = scannedBytes.lowerBound
        while at < scannedBytes.upperBound {
            sum &+= memory.base.load(fromByteOffset: at, as: UInt8.self)
            at += 65536
        }
        return sum
    }

    /// Fingerprints wider than this are refused: similarities stay exact in 64-bit arithmetic.
    public static let maxBits = 16384

    /// `id` and `smiles` of database record `record` (0-based), nil when the text section is damaged.
    public func entry(_ record: Int) -> (id: String, smiles: String)? {
        guard record >= 0, record < count else { return nil }
        let start = Int(clamping: UInt64(littleEndian: textOffsets[record])), end = Int(clamping: UInt64(littleEndian: textOffsets[record + 1]))
        guard start <= end, end <= text.count else { return nil }
        let slice = UnsafeBufferPointer(rebasing: text[start..<end])
        guard let tab = slice.firstIndex(of: 9) else { return nil }
        return (String(decoding: UnsafeBufferPointer(rebasing: slice[..<tab]), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(rebasing: slice[(tab + 1)...]), as: UTF8.self))
    }

    /// Reads the whole file and checks the sections' checksum and the row popcounts against their
    /// bands; throws on damage.
    public func verify() throws(IndexFileError) {
        let body = UnsafeRawBufferPointer(start: memory.base + Self.headerBytes, count: memory.length - Self.headerBytes)
        let sum = wk_checksum(body.baseAddress?.assumingMemoryBound(to: UInt8.self), Int64(body.count))
        guard sum == sectionsChecksum else { throw IndexFileError("\(path): damaged index (checksum of the sections does not match)") }
        for p in 0...type.bitCount {
            for row in arena.bandStart[p]..<arena.bandStart[p + 1] where arena.rows.popcount(row) != p {
                throw IndexFileError("\(path): damaged index (row \(row) is not in its popcount band)")
            }
        }
        for record in arena.recordOfRow where Int(record) >= count {
            throw IndexFileError("\(path): damaged index (record table points outside the records)")
        }
    }

    /// Writes an index. `row(record)` gives record `record`'s fingerprint as `stride` words (padding
    /// zero), `popcounts` every record's popcount, `appendText(record, &bytes)` its `id<TAB>smiles`.
    /// Written to a temporary file beside `path`, checksummed, then renamed into place.
    public static func write(to path: String, type: IndexFingerprintType, popcounts: [Int],
                             row: (Int) -> UnsafePointer<UInt64>, appendText: (Int, inout [UInt8]) -> Void) throws(IndexFileError) {
        let count = popcounts.count
        let stride = FingerprintRows.stride(bitCount: type.bitCount)
        let order = FingerprintArena.sortedOrder(popcounts: popcounts, bitCount: type.bitCount)
        // A new file of its own (mkstemp: created exclusively, under an unpredictable name), so that
        // nothing planted beside the output (a link at a fixed name) is written through; it gets the
        // permissions an ordinary new file would have (mkstemp makes it 0600).
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var template = Array(((folder == "/" ? "" : folder) + "/.\(url.lastPathComponent).winnow-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else {
            throw IndexFileError("\(path): cannot create a file in \(folder) (\(String(cString: strerror(errno))))")
        }
        let temporary = template.withUnsafeBufferPointer { buffer in buffer.baseAddress.map { String(cString: $0) } ?? "" }
        let mask = umask(0)
        umask(mask)
        _ = fchmod(fd, 0o666 & ~mask)
        guard let file = fdopen(fd, "w+b") else {
            close(fd)
            unlink(temporary)
            throw IndexFileError("\(path): cannot write \(temporary) (\(String(cString: strerror(errno))))")
        }
        var closed = false
        defer { if !closed { fclose(file); unlink(temporary) } }
        setvbuf(file, nil, _IOFBF, 4 << 20)
        var position = 0
        var failed = false
        func put(_ pointer: UnsafeRawPointer?, _ length: Int) {
            if length > 0, fwrite(pointer, 1, length, file) != length { failed = true }
            position += length
        }
        func pad() {
            let zeros = [UInt8](repeating: 0, count: 64)
            let extra = (64 - position % 64) % 64
            zeros.withUnsafeBytes { put($0.baseAddress, extra) }
        }
        put([UInt8](repeating: 0, count: headerBytes), headerBytes)
        var header = Header()
        header.bitCount = type.bitCount; header.stride = stride; header.radius = type.radius
        header.invariantVersion = type.invariantVersion; header.count = count

        var start = position
        let bands = order.bandStart.map { UInt64($0).littleEndian }
        bands.withUnsafeBytes { put($0.baseAddress, $0.count) }
        header.sections.append((start, position - start)); pad()

        start = position
        for record in order.recordOfRow { put(row(Int(record)), stride * 8) }
        header.sections.append((start, position - start)); pad()

        start = position
        let records = order.recordOfRow.map { $0.littleEndian }
        records.withUnsafeBytes { put($0.baseAddress, $0.count) }
        header.sections.append((start, position - start)); pad()

        // Text in database order, built in chunks; offsets collected on the way.
        var offsets = [UInt64](repeating: 0, count: count + 1)
        var textLength = 0
        var chunk: [UInt8] = []
        var chunks: [[UInt8]] = []
        chunk.reserveCapacity(1 << 20)
        for record in 0..<count {
            offsets[record] = UInt64(textLength + chunk.count).littleEndian
            appendText(record, &chunk)
            if chunk.count >= 1 << 20 { textLength += chunk.count; chunks.append(chunk); chunk = []; chunk.reserveCapacity(1 << 20) }
        }
        textLength += chunk.count
        chunks.append(chunk)
        offsets[count] = UInt64(textLength).littleEndian
        start = position
        offsets.withUnsafeBytes { put($0.baseAddress, $0.count) }
        header.sections.append((start, position - start)); pad()
        start = position
        for c in chunks { c.withUnsafeBytes { put($0.baseAddress, $0.count) } }
        header.sections.append((start, position - start)); pad()
        start = position
        let typeBytes = Array(type.typeString.utf8)
        typeBytes.withUnsafeBytes { put($0.baseAddress, $0.count) }
        header.sections.append((start, position - start)); pad()
        header.fileLength = position
        guard !failed, fflush(file) == 0 else { throw IndexFileError("\(path): write failed (\(String(cString: strerror(errno))))") }

        // Checksum of everything after the header, read back through a mapping of the finished file.
        guard let mapped = mmap(nil, position, PROT_READ, MAP_SHARED, fileno(file), 0), mapped != MAP_FAILED else {
            throw IndexFileError("\(path): cannot map \(temporary) to checksum it")
        }
        header.sectionsChecksum = wk_checksum((UnsafeRawPointer(mapped) + headerBytes).assumingMemoryBound(to: UInt8.self),
                                              Int64(position - headerBytes))
        munmap(mapped, position)
        let encoded = header.encode()
        guard fseek(file, 0, SEEK_SET) == 0, fwrite(encoded, 1, encoded.count, file) == encoded.count, fflush(file) == 0 else {
            throw IndexFileError("\(path): write failed (\(String(cString: strerror(errno))))")
        }
        closed = true
        guard fclose(file) == 0 else { unlink(temporary); throw IndexFileError("\(path): write failed") }
        // rename(2) replaces any old index atomically: readers see the old or the new file, never half.
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw IndexFileError("\(path): cannot move \(temporary) into place (\(String(cString: strerror(errno))))")
        }
    }
}
