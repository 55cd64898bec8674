import Chemistry
import Foundation

/// What came of one run over a library.
public struct RunSummary: Sendable, Equatable {
    public var read = 0
    public var written = 0
    public var rejected = 0
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
    public init() {}
}

/// The streaming loop shared by the commands that turn each record into one output line: reads rounds
/// of batches, processes them on the pool, writes outputs and errors in input order, and reports
/// progress. Returns read / written / rejected and the wall time.
public func streamInOrder(_ reader: LibraryReader, pool: WorkerPool, batchSize: Int, batchesPerRound: Int,
                          out: OutputFile, errors: OutputFile?, progressLabel: String?,
                          _ process: @escaping @Sendable (_ batch: RecordBatch, _ worker: Int) -> BatchOutput) throws -> RunSummary {
    let progress = ProgressLine(label: progressLabel ?? "")
    var summary = RunSummary()
    while true {
        var batches: [RecordBatch] = []
        for _ in 0..<batchesPerRound {
            guard let batch = try reader.nextBatch(size: batchSize) else { break }
            batches.append(batch)
        }
        if batches.isEmpty { break }
        let slots = Slots<BatchOutput>(count: batches.count)
        let round = batches
        pool.run(count: round.count) { index, worker in slots[index] = process(round[index], worker) }
        for index in 0..<round.count {
            guard let result = slots[index] else { continue }
            try out.write(result.out)
            try errors?.write(result.errors)
            summary.read += round[index].count
            summary.written += result.written
            summary.rejected += result.rejected
        }
        if progressLabel != nil { progress.update(done: summary.read) }
    }
    progress.finish()
    try out.close()
    try errors?.close()
    summary.seconds = progress.elapsed
    return summary
}

