import Chemistry
import Foundation
import LibraryIO

/// `winnow search --smarts`: streams a library through the SMARTS matcher on all workers and writes
/// the matching records in input order, one row per (record, matched pattern):
/// `record,id,smiles,pattern,matches,atoms` (1-based record number; the pattern's name; the number of
/// unique matches, RDKit's `len(GetSubstructMatches)`, at most 1,000; one match's atoms as 0-based
/// indices of the molecule's heavy atoms in input order, in the pattern's atom order, `;`-separated).
/// With `countOnly` it writes `pattern,molecules,matches` instead: per pattern, how many molecules
/// match and their unique matches in total. Same bytes at any thread count.
public struct SubstructureSearchJob {
    public var input: String
    public var patterns: [NamedPattern]
    public var format: LibraryFormat?
    public var smilesColumn: String?
    public var idColumn: String?
    public var limits = InputLimits()
    public var output: String?
    /// Rejected records (record, id, input, reason); nil = standard error, one line each.
    public var errorsPath: String?
    /// Stop after this many matching molecules (the records after it are not read).
    public var maxHits: Int?
    public var countOnly = false
    public var threads = 1
    public var batchSize = 128
    public var showProgress = true

    public init(input: String, patterns: [NamedPattern]) {
        self.input = input
        self.patterns = patterns
    }

    public struct Summary: Sendable {
        public var read = 0
        public var matched = 0
        public var rejected = 0
        public var notMatched: Int { read - matched - rejected }
        /// Per pattern: molecules matched, unique matches in total.
        public var perPattern: [(molecules: Int, matches: Int)] = []
        /// `--max-hits` was reached (the records after the last hit were not read).
        public var stoppedAtMaxHits = false
        public var seconds = 0.0
        public var rate: Double { seconds > 0 ? Double(read) / seconds : 0 }
    }

    /// What one worker found in one batch, record by record (so that `--max-hits` can cut a batch
    /// after any record).
    struct BatchResult: Sendable {
        /// Records of the batch (offsets) that matched at least one pattern, with their rows.
        var hits: [(record: Int, rows: [UInt8])] = []
        /// Rejected records (offsets) with their errors-file lines and their standard-error messages.
        var errors: [(record: Int, line: [UInt8], message: String)] = []
        /// Per record of the batch: for each pattern, its unique match count (empty when rejected).
        var counts: [[Int]] = []
    }

    private struct Stop: Error {}

    public func run() throws -> Summary {
        let reader = try LibraryReader(path: input, format: format, smilesColumn: smilesColumn, idColumn: idColumn)
        reader.maxRecordBytes = limits.maxRecordBytes
        let out = try OutputFile(path: output)
        let errors = try errorsPath.map { (p) throws(InputError) in try OutputFile(path: p) }
        try errors?.write("record\tid\tinput\treason\n")
        if !countOnly { try out.write("record,id,smiles,pattern,matches,atoms\n") }
        let pool = WorkerPool(threads: threads, stackSize: limits.parserStackBytes)
        defer { pool.shutdown() }
        let parsers = try PerWorker.parsers(count: pool.threads, limits: limits)
        let patterns = self.patterns
        let countOnly = self.countOnly
        let names = patterns.map { Array(csvField($0.name).utf8) }
        let work: @Sendable (RecordBatch, Int) -> BatchResult = { batch, worker in
            Self.search(batch, parser: parsers[worker], patterns: patterns, names: names, countOnly: countOnly)
        }

        let progress = ProgressLine(label: showProgress ? "search" : "")
        var summary = Summary()
        summary.perPattern = Array(repeating: (0, 0), count: patterns.count)
        let stream = BatchStream(reader: reader, batchSize: batchSize, roundSize: pool.threads * 8 * batchSize)
        do {
            try stream.run(pool: pool, prepare: { _ in work }) { round, results in
                for (batch, result) in zip(round.batches, results) {
                    // With --max-hits, the batch ends at the record that makes the last hit.
                    var end = batch.count
                    if let maxHits, summary.matched + result.hits.count >= maxHits {
                        end = result.hits[maxHits - summary.matched - 1].record + 1
                        summary.stoppedAtMaxHits = true
                    }
                    for hit in result.hits where hit.record < end {
                        if !countOnly { try out.write(hit.rows) }
                        summary.matched += 1
                    }
                    for error in result.errors where error.record < end {
                        if let errors { try errors.write(error.line) } else {
                            FileHandle.standardError.write(Data("\(input): \(error.message)\n".utf8))
                        }
                        summary.rejected += 1
                    }
                    for counts in result.counts.prefix(end) {
                        for (k, n) in counts.enumerated() where n > 0 {
                            summary.perPattern[k].molecules += 1
                            summary.perPattern[k].matches += n
                        }
                    }
                    summary.read += end
                    if summary.stoppedAtMaxHits { throw Stop() }
                }
                if showProgress { progress.update(done: summary.read) }
            }
        } catch is Stop {}
        progress.finish()
        if countOnly {
            var text = "pattern,molecules,matches\n"
            for (k, name) in names.enumerated() {
                text += String(decoding: name, as: UTF8.self) + ",\(summary.perPattern[k].molecules),\(summary.perPattern[k].matches)\n"
            }
            try out.write(text)
        }
        try out.close()
        try errors?.close()
        summary.seconds = progress.elapsed
        return summary
    }

    static func search(_ batch: RecordBatch, parser: MoleculeParser, patterns: [NamedPattern], names: [[UInt8]],
                       countOnly: Bool) -> BatchResult {
        var result = BatchResult()
        result.counts.reserveCapacity(batch.count)
        for i in 0..<batch.count {
            let graph: MolecularGraph
            switch batch.molecule(i, parser: parser) {
            case .success(let g): graph = g
            case .failure(let error):
                var line: [UInt8] = []
                batch.appendErrorLine(i, reason: error.message, to: &line)
                result.errors.append((i, line, "record \(batch.firstRecord + i) (\(batch.ids[i])): \(error.message)"))
                result.counts.append([])
                continue
            }
            let target = SubstructureTarget(graph)
            var counts = [Int](repeating: 0, count: patterns.count)
            var rows: [UInt8] = []
            var prefix: [UInt8]?
            for (k, pattern) in patterns.enumerated() {
                let matches = target.matches(pattern.pattern)
                guard let first = matches.first else { continue }
                counts[k] = matches.count
                if countOnly { continue }
                if prefix == nil {
                    var p = Array(String(batch.firstRecord + i).utf8)
                    p.append(44)
                    p += csvField(batch.ids[i]).utf8
                    p.append(44)
                    switch batch.kind {
                    case .smiles: p += csvField(String(decoding: batch.bytes[batch.ranges[i]], as: UTF8.self)).utf8
                    case .molfile: p += csvField(graph.smiles()).utf8
                    }
                    p.append(44)
                    prefix = p
                }
                rows += prefix ?? []
                rows += names[k]
                rows.append(44)
                rows += Array(String(matches.count).utf8)
                rows.append(44)
                rows += Array(first.map(String.init).joined(separator: ";").utf8)
                rows.append(10)
            }
            if counts.contains(where: { $0 > 0 }) { result.hits.append((i, rows)) }
            result.counts.append(counts)
        }
        return result
    }
}
