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
        let errors = try errorsPath.map { (p) throws(InputError) in try OutputFile(path: p) }
        try errors?.write("record\tid\tinput\treason\n")
        let pool = WorkerPool(threads: threads, stackSize: limits.parserStackBytes)
        defer { pool.shutdown() }
        let state = try WorkerState(workers: pool.threads, settings: settings, limits: limits)
        let stride = FingerprintRows.stride(bitCount: settings.size)
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
        while at < size, let base {
            guard at + stride * 8 + 4 <= size else { throw InputError("\(scratchPath): scratch file is damaged") }
            starts.append(at)
            popcounts.append(Int(popcountOfRow(base + at, stride)))
            let length = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at + stride * 8, as: UInt32.self)))
            at += stride * 8 + 4 + length
        }
        do {
            try FingerprintIndex.write(to: output, type: IndexFingerprintType(morgan: settings), popcounts: popcounts, row: { record in
                (base! + starts[record]).assumingMemoryBound(to: UInt64.self)
            }, appendText: { record, out in
                let start = starts[record] + stride * 8
                let length = Int(UInt32(littleEndian: base!.loadUnaligned(fromByteOffset: start, as: UInt32.self)))
                out += UnsafeRawBufferPointer(start: base! + start + 4, count: length)
            })
        } catch {
            throw InputError(error.message)
        }
        summary.seconds = Date().timeIntervalSince(started)
        return summary
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
