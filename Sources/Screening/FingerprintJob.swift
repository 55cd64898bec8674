import Chemistry
import Fingerprints
import Foundation
import LibraryIO

/// Parsers and fingerprint generators, one of each per worker.
public final class WorkerState: @unchecked Sendable {
    // @unchecked: worker w only ever touches parsers[w] / generators[w] (see WorkerPool).
    public let parsers: PerWorker<MoleculeParser>
    public let generators: PerWorker<MorganGenerator>
    public init(workers: Int, settings: MorganSettings, limits: InputLimits = InputLimits()) throws(MoleculeError) {
        parsers = try PerWorker.parsers(count: workers, limits: limits)
        generators = PerWorker(count: workers) { MorganGenerator(settings: settings) }
    }
}

/// `winnow fingerprint`: library in, FPS (or count TSV) out, in input order, on N threads.
public struct FingerprintJob {
    public var input: String
    public var format: LibraryFormat?
    public var smilesColumn: String?
    public var idColumn: String?
    public var output: String?
    public var errorsPath: String?
    public var settings = MorganSettings()
    public var counts = false
    public var threads = 1
    public var batchSize = 256
    public var showProgress = true
    public var limits = InputLimits()

    public init(input: String) { self.input = input }

    public func run() throws -> RunSummary {
        let reader = try LibraryReader(path: input, format: format, smilesColumn: smilesColumn, idColumn: idColumn)
        reader.maxRecordBytes = limits.maxRecordBytes
        let out = try OutputFile(path: output)
        let errors = try errorsPath.map { (p) throws(InputError) in try OutputFile(path: p) }
        try errors?.write("record\tid\tinput\treason\n")
        if counts {
            try out.write("#Winnow-counts\n#type=\(settings.typeString)\n#software=\(FPSFormat.softwareName)\(limits.standardize ? " (standardized)" : "")\n#source=\(input)\n")
        } else {
            try out.write(FPSFormat.header(settings: settings, source: input, standardized: limits.standardize))
        }
        let pool = WorkerPool(threads: threads, stackSize: limits.parserStackBytes)
        defer { pool.shutdown() }
        let state = try WorkerState(workers: pool.threads, settings: settings, limits: limits)
        let settings = self.settings, counts = self.counts
        var summary = try streamInOrder(reader, pool: pool, batchSize: batchSize, batchesPerRound: pool.threads * 8, out: out, errors: errors,
                                 progressLabel: showProgress ? "fingerprint" : nil) { batch, worker in
            let parser = state.parsers[worker], generator = state.generators[worker]
            var result = BatchOutput()
            result.out.reserveCapacity(batch.count * (counts ? 200 : settings.size / 4 + 24))
            var words: [UInt64] = []
            for i in 0..<batch.count {
                switch batch.molecule(i, parser: parser) {
                case .success(let graph):
                    if counts {
                        result.out.append(contentsOf: batch.ids[i].utf8)
                        result.out.append(9)
                        var first = true
                        for (bit, count) in generator.counts(graph) {
                            if !first { result.out.append(44) }
                            first = false
                            result.out.append(contentsOf: "\(bit):\(count)".utf8)
                        }
                    } else {
                        generator.bits(graph, into: &words)
                        FPSFormat.appendHex(words, sizeInBits: settings.size, to: &result.out)
                        result.out.append(9)
                        result.out.append(contentsOf: batch.ids[i].utf8)
                    }
                    result.out.append(10)
                    result.written += 1
                case .failure(let error):
                    batch.appendErrorLine(i, reason: error.message, to: &result.errors)
                    result.rejected += 1
                }
            }
            return result
        }
        for w in 0..<state.parsers.count { summary.standardized.add(state.parsers[w].standardized) }
        return summary
    }
}
