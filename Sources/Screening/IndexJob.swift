import Chemistry
import Fingerprints
import Foundation
import LibraryIO

/// `winnow index`: a library (or an FPS file) in, a memory-mappable fingerprint index out.
///
/// A library goes through the fingerprint streaming path on all cores, each accepted record written
/// to a scratch file beside the output as `row words, text length, id<TAB>smiles`; the index is then
/// written from a mapping of that file (rows in popcount order), checksummed and renamed into place.
public struct IndexJob {
    public var input: String
    public var format: LibraryFormat?
    public var smilesColumn: String?
    public var idColumn: String?
    public var output: String
    public var errorsPath: String?
    public var settings = MorganSettings()
    public var threads = 1
    public var batchSize = 256
    public var showProgress = true
    public var limits = InputLimits()
    /// Index each structure once (`--dedupe`): a record whose standardised structure (canonical key)
    /// an earlier record had is left out and listed in the errors file as its duplicate.
    public var dedupe = false

    public init(input: String, output: String) {
        self.input = input
        self.output = output
    }

    public func run() throws -> RunSummary {
        if FPSReader.looksLikeFPS(input) { return try indexFPS() }
        let started = Date()
        let reader = try LibraryReader(path: input, format: format, smilesColumn: smilesColumn, idColumn: idColumn)
        reader.maxRecordBytes = limits.maxRecordBytes
        let scratchPath = output + ".part"
        defer { unlink(scratchPath) }
        let scratch = try OutputFile(path: scratchPath)
        // With dedupe, rejections go to a scratch errors file first: duplicates are found in the second
        // pass and merged in by record number.
        let dedupe = self.dedupe
        let errorsScratch = dedupe ? errorsPath.map { $0 + ".part" } : nil
        defer { if let errorsScratch { unlink(errorsScratch) } }
        let errors = try (errorsScratch ?? errorsPath).map { (p) throws(InputError) in try OutputFile(path: p) }
        try errors?.write("record\tid\tinput\treason\n")
        let pool = WorkerPool(threads: threads, stackSize: limits.parserStackBytes)
        defer { pool.shutdown() }
        let state = try WorkerState(workers: pool.threads, settings: settings, limits: limits)
        let stride = FingerprintRows.stride(bitCount: settings.size)
        // With dedupe, each scratch record also holds its structure key (16 bytes) and record number (8).
        let extra = dedupe ? 24 : 0
        let standardizing = limits.standardize
        var summary = try streamInOrder(reader, pool: pool, batchSize: batchSize, batchesPerRound: pool.threads * 8, out: scratch,
                                        errors: errors, progressLabel: showProgress ? "index" : nil) { batch, worker in
            let parser = state.parsers[worker], generator = state.generators[worker]
            var result = BatchOutput()
            result.out.reserveCapacity(batch.count * (stride * 8 + 80))
            var words: [UInt64] = []
            for i in 0..<batch.count {
                switch batch.molecule(i, parser: parser) {
                case .success(let graph):
                    generator.bits(graph, into: &words)
                    words.withUnsafeBytes { result.out += $0 }
                    result.out += [UInt8](repeating: 0, count: (stride - words.count) * 8)
                    if dedupe {
                        let key = graph.canonicalKey()
                        withUnsafeBytes(of: key.high.littleEndian) { result.out += $0 }
                        withUnsafeBytes(of: key.low.littleEndian) { result.out += $0 }
                        withUnsafeBytes(of: Int64(batch.firstRecord + i).littleEndian) { result.out += $0 }
                    }
                    var text = Array(batch.ids[i].utf8).map { $0 == 9 || $0 == 10 || $0 == 13 ? 32 : $0 }
                    text.append(9)
                    // Standardised molecules are stored as what was indexed (canonical SMILES of the parent).
                    text += standardizing ? Array(graph.canonicalSMILES().utf8)
                        : batch.kind == .smiles ? Array(batch.bytes[batch.ranges[i]]) : Array(graph.smiles().utf8)
                    withUnsafeBytes(of: UInt32(text.count).littleEndian) { result.out += $0 }
                    result.out += text
                    result.written += 1
                case .failure(let error):
                    batch.appendErrorLine(i, reason: error.message, to: &result.errors)
                    result.rejected += 1
                }
            }
            return result
        }

        for w in 0..<state.parsers.count { summary.standardized.add(state.parsers[w].standardized) }

        // Index the scratch records: find each one, then write rows in popcount order.
        let fd = open(scratchPath, O_RDONLY)
        guard fd >= 0 else { throw InputError("\(scratchPath): cannot reopen the scratch file") }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        let size = Int(info.st_size)
        var starts: [Int] = []
        starts.reserveCapacity(summary.written)
        var popcounts: [Int] = []
        popcounts.reserveCapacity(summary.written)
        let mapped = size > 0 ? mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0) : nil
        if let mapped, mapped == MAP_FAILED { throw InputError("\(scratchPath): cannot map the scratch file") }
        defer { if let mapped { munmap(mapped, size) } }
        let base = UnsafeRawPointer(mapped)
        var at = 0
        // Records in input order: with dedupe, the first record of a structure is indexed and later ones
        // are listed as its duplicates (a key -> record dictionary, about 60 bytes a structure).
        var firstOf: [StructureKey: Int] = [:]
        var duplicateLines: [(record: Int, line: [UInt8])] = []
        while at < size, let base {
            guard at + stride * 8 + extra + 4 <= size else { throw InputError("\(scratchPath): scratch file is damaged") }
            let length = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at + stride * 8 + extra, as: UInt32.self)))
            defer { at += stride * 8 + extra + 4 + length }
            if dedupe {
                let key = StructureKey(high: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at + stride * 8, as: UInt64.self)),
                                       low: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at + stride * 8 + 8, as: UInt64.self)))
                let record = Int(Int64(littleEndian: base.loadUnaligned(fromByteOffset: at + stride * 8 + 16, as: Int64.self)))
                if let first = firstOf[key] {
                    // The stored text is id<TAB>smiles: the errors line is record, id, SMILES, reason.
                    var line = Array(String(record).utf8) + [9]
                    line += UnsafeRawBufferPointer(start: base + at + stride * 8 + extra + 4, count: length)
                    line += Array("\tduplicate of record \(first) (same structure after standardising)\n".utf8)
                    duplicateLines.append((record, line))
                    continue
                }
                firstOf[key] = record
            }
            starts.append(at)
            popcounts.append(Int(popcountOfRow(base + at, stride)))
        }
        if dedupe {
            summary.duplicates = duplicateLines.count
            summary.written -= duplicateLines.count
            if let errorsPath, let errorsScratch {
                try Self.mergeErrors(scratch: errorsScratch, duplicates: duplicateLines, into: errorsPath)
            }
        }
        do {
            try FingerprintIndex.write(to: output, type: IndexFingerprintType(morgan: settings), popcounts: popcounts, row: { record in
                (base! + starts[record]).assumingMemoryBound(to: UInt64.self)
            }, appendText: { record, out in
                let start = starts[record] + stride * 8 + extra
                let length = Int(UInt32(littleEndian: base!.loadUnaligned(fromByteOffset: start, as: UInt32.self)))
                out += UnsafeRawBufferPointer(start: base! + start + 4, count: length)
            })
        } catch {
            throw InputError(error.message)
        }
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// The rejected records' lines (from `scratch`, in record order) and the duplicates' lines (in record
    /// order) merged by record number into the errors file.
    static func mergeErrors(scratch: String, duplicates: [(record: Int, line: [UInt8])], into path: String) throws {
        let rejected = try String(contentsOfFile: scratch, encoding: .utf8).split(separator: "\n").dropFirst().map { line in
            (record: Int(line.prefix { $0 != "\t" }) ?? 0, line: Array(line.utf8) + [10])
        }
        var bytes = Array("record\tid\tinput\treason\n".utf8)
        var r = 0, d = 0
        while r < rejected.count || d < duplicates.count {
            if d == duplicates.count || (r < rejected.count && rejected[r].record < duplicates[d].record) {
                bytes += rejected[r].line; r += 1
            } else {
                bytes += duplicates[d].line; d += 1
            }
        }
        let out = try OutputFile(path: path)
        try out.write(bytes)
        try out.close()
    }

    /// An FPS file indexed as it is (its type line is kept; SMILES are empty).
    func indexFPS() throws -> RunSummary {
        let started = Date()
        let contents = try FPSReader.read(path: input)
        if let errorsPath {
            let errors = try OutputFile(path: errorsPath)
            try errors.write("record\tid\tinput\treason\n")
            for r in contents.rejected { try errors.write("\(r.record)\t\(r.id)\t\t\(r.reason)\n") }
            try errors.close()
        } else {
            for r in contents.rejected { FileHandle.standardError.write(Data("\(input): record \(r.record) (\(r.id)): \(r.reason)\n".utf8)) }
        }
        let rows = contents.rows
        do {
            try FingerprintIndex.write(to: output, type: contents.type, popcounts: (0..<rows.count).map { rows.popcount($0) },
                                       row: { UnsafePointer(rows.row($0)) }, appendText: { record, out in
                                           out += Array(contents.ids[record].utf8).map { $0 == 9 ? 32 : $0 }
                                           out.append(9)
                                       })
        } catch {
            throw InputError(error.message)
        }
        var summary = RunSummary()
        summary.read = rows.count + contents.rejected.count
        summary.written = rows.count
        summary.rejected = contents.rejected.count
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }
}

@inline(__always) func popcountOfRow(_ pointer: UnsafeRawPointer, _ words: Int) -> Int {
    var total = 0
    for w in 0..<words { total += pointer.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self).nonzeroBitCount }
    return total
}
