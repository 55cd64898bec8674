import Chemistry
import Foundation

/// What came of one run over a library.
public struct RunSummary: Sendable, Equatable {
    public var read = 0
    public var written = 0
    public var rejected = 0
    /// Removed by a filter (screen): read = written + rejected + filtered.
    public var filtered = 0
    /// Same standardised structure as an earlier record (`--dedupe`): read = written + rejected + duplicates.
    public var duplicates = 0
    /// What the standardiser changed (`--standardize`; all zero when off).
    public var standardized = Standardizer.Totals()
    public var seconds = 0.0
    public var rate: Double { seconds > 0 ? Double(read) / seconds : 0 }
    public init() {}
}

extension RecordBatch {
    /// Parses record `i` into a graph, or says why it was rejected.
    public func molecule(_ i: Int, parser: MoleculeParser) -> Result<MolecularGraph, MoleculeError> {
        if let problem = readErrors[i] { return .failure(MoleculeError(.empty, problem)) }
        do throws(MoleculeError) {
            switch kind {
            case .smiles:
                let range = ranges[i]
                let graph = try bytes.withUnsafeBufferPointer { (all) throws(MoleculeError) -> MolecularGraph in
                    try parser.parse(smiles: UnsafeBufferPointer(rebasing: all[range]))
                }
                return .success(graph)
            case .molfile:
                return .success(try parser.parse(molfile: text(i)))
            }
        } catch {
            return .failure(error)
        }
    }

    /// The input as it should appear in an errors file.
    public func appendInputField(_ i: Int, to out: inout [UInt8]) {
        switch kind {
        case .smiles: appendEscapedField(bytes[ranges[i]], to: &out)
        case .molfile: out.append(contentsOf: "SDF record starting at line \(startLines[i])".utf8)
        }
    }

    /// `record<TAB>id<TAB>input<TAB>reason` line for a rejected record.
    public func appendErrorLine(_ i: Int, reason: String, to out: inout [UInt8]) {
        out.append(contentsOf: String(firstRecord + i).utf8)
        out.append(9)
        appendEscapedField(ids[i].utf8, to: &out)
        out.append(9)
        appendInputField(i, to: &out)
        out.append(9)
        appendEscapedField(reason.utf8, to: &out, limit: 400)
        out.append(10)
    }
}

/// Progress on standard error: a line rewritten in place on a terminal, one line every 10 s otherwise.
public final class ProgressLine {
    private let label: String
    private let start = Date()
    private var last = Date()
    private let interactive = isatty(STDERR_FILENO) != 0
    private var shown = false

    public init(label: String) { self.label = label }

    public var elapsed: Double { Date().timeIntervalSince(start) }

    public func update(done: Int, total: Int? = nil) {
        let now = Date()
        guard now.timeIntervalSince(last) >= (interactive ? 0.5 : 10) else { return }
        last = now
        let seconds = now.timeIntervalSince(start)
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var text = "\(label): \(done) molecules, \(Int(rate)) /s"
        if let total, total > done, rate > 0 { text += ", about \(Int(Double(total - done) / rate)) s left" }
        if interactive { FileHandle.standardError.write(Data(("\r" + text + "\u{1B}[K").utf8)); shown = true }
        else { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    public func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// What one worker made of one batch: output bytes, error lines, counts.
public struct BatchOutput: Sendable {
    public var out: [UInt8] = []
    public var errors: [UInt8] = []
    public var written = 0
    public var rejected = 0
    /// Output rows held back for `RankedRows` (written best first at the end instead of in order).
    public var ranked: [RankedRows.Row] = []
    public init() {}
}

/// Output rows written best first once the whole library is read (`predict --sort`): highest key
/// first, or lowest with `minimize`; equal keys keep input order. Every row is held in memory until
/// the end (about the row's bytes plus 40 per row).
public final class RankedRows {
    public struct Row: Sendable {
        public var key: Float
        public var line: [UInt8]
        public init(key: Float, line: [UInt8]) { self.key = key; self.line = line }
    }
    public let minimize: Bool
    private var rows: [Row] = []
    public init(minimize: Bool) { self.minimize = minimize }
    func add(_ more: [Row]) { rows += more }
    /// The rows best first (a stable sort: ties in input order).
    func sortedBytes() -> [UInt8] {
        let order = rows.indices.sorted { a, b in
            let x = rows[a].key, y = rows[b].key
            if x != y { return minimize ? x < y : x > y }
            return a < b
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rows.reduce(0) { $0 + $1.line.count })
        for i in order { bytes += rows[i].line }
        return bytes
    }
}

/// One round of library records read ahead, with the reader's position after it.
public struct BatchRound: Sendable {
    public var batches: [RecordBatch] = []
    /// Records read from the library up to the end of this round.
    public var recordsRead = 0
    public var fractionRead: Double?
    /// The reader's content hash at the end of this round (when it keeps one).
    public var contentHash: UInt64?
    public var count: Int { batches.reduce(0) { $0 + $1.count } }
}

/// The ordered read-ahead batch stream every library command runs on: the library is read in rounds
/// of batches; a round's batches are processed in parallel on the pool while the next round is read
/// (one more task of the same parallel loop, so no worker waits for the single-threaded reader), and
/// the results are handed back on the calling thread in input order.
///
/// `@unchecked Sendable`: the reader is used by one task at a time (the one read-ahead task of a
/// round, and rounds run one after another), never concurrently.
public final class BatchStream: @unchecked Sendable {
    public let reader: LibraryReader
    public let batchSize: Int
    /// Records per round (whole batches).
    public let roundSize: Int

    public init(reader: LibraryReader, batchSize: Int = 256, roundSize: Int) {
        self.reader = reader
        self.batchSize = max(1, batchSize)
        self.roundSize = max(1, roundSize)
    }

    private func readRound() -> Result<BatchRound, any Error> {
        Result {
            var round = BatchRound()
            var inRound = 0
            while inRound < roundSize, let batch = try reader.nextBatch(size: batchSize) {
                round.batches.append(batch)
                inRound += batch.count
            }
            round.recordsRead = reader.recordsRead
            round.fractionRead = reader.fractionRead
            round.contentHash = reader.contentHash
            return round
        }
    }

    /// For each round: `prepare` (on the calling thread) gives the per-batch work for the round,
    /// which runs on the pool; then `deliver` gets the round and the results, in input order.
    public func run<R>(pool: WorkerPool, prepare: (BatchRound) throws -> @Sendable (_ batch: RecordBatch, _ worker: Int) -> R,
                       deliver: (BatchRound, [R]) throws -> Void) throws {
        var upcoming = try readRound().get()
        while !upcoming.batches.isEmpty {
            let current = upcoming
            let work = try prepare(current)
            let batches = current.batches
            let slots = Slots<R>(count: batches.count)
            let ahead = Slots<Result<BatchRound, any Error>>(count: 1)
            pool.run(count: batches.count + 1) { task, worker in
                if task == 0 {
                    ahead[0] = self.readRound()
                } else {
                    slots[task - 1] = work(batches[task - 1], worker)
                }
            }
            var results: [R] = []
            results.reserveCapacity(batches.count)
            for index in 0..<batches.count {
                guard let result = slots[index] else { fatalError("BatchStream: batch \(index) of a round was not processed") }
                results.append(result)
            }
            try deliver(current, results)
            guard let next = ahead[0] else { fatalError("BatchStream: the read-ahead task did not run") }
            upcoming = try next.get()
        }
    }
}

/// The streaming loop shared by the commands that turn each record into one output line
/// (fingerprint, predict): runs the batch stream, writes outputs and errors in input order, and
/// reports progress. Returns read / written / rejected and the wall time.
public func streamInOrder(_ reader: LibraryReader, pool: WorkerPool, batchSize: Int, batchesPerRound: Int,
                          out: OutputFile, errors: OutputFile?, progressLabel: String?, ranked: RankedRows? = nil,
                          _ process: @escaping @Sendable (_ batch: RecordBatch, _ worker: Int) -> BatchOutput) throws -> RunSummary {
    let progress = ProgressLine(label: progressLabel ?? "")
    var summary = RunSummary()
    let stream = BatchStream(reader: reader, batchSize: batchSize, roundSize: batchesPerRound * batchSize)
    try stream.run(pool: pool, prepare: { _ in process }) { round, results in
        for (batch, result) in zip(round.batches, results) {
            try out.write(result.out)
            try errors?.write(result.errors)
            ranked?.add(result.ranked)
            summary.read += batch.count
            summary.written += result.written
            summary.rejected += result.rejected
        }
        if progressLabel != nil { progress.update(done: summary.read) }
    }
    progress.finish()
    if let ranked { try out.write(ranked.sortedBytes()) }
    try out.close()
    try errors?.close()
    summary.seconds = progress.elapsed
    return summary
}

