import CKernels
import CZlib
import Chemistry
import Fingerprints
import Foundation
import Learning
import LibraryIO

/// What a finished (or resumed) screen reports.
public struct ScreenSummary: Sendable, Codable, Equatable {
    public var read = 0
    public var scored = 0
    public var rejected = 0
    public var seconds = 0.0
    public init() {}
    public var rate: Double { seconds > 0 ? Double(read) / seconds : 0 }
}

/// A ranked hit with the explanations chemists ask for.
public struct ExplainedHit: Sendable {
    public var rank: Int
    public var hit: Hit
    public var nearestActive: String
    public var nearestActiveSimilarity: Double?
    public var scaffold: String
}

/// Progress saved by `--checkpoint DIR`, enough to finish the same screen after a crash with
/// byte-identical outputs.
struct ScreenCheckpoint: Codable {
    /// 2: adds `libraryHash` (version-1 checkpoints are refused with the "another version" message).
    static let version = 2
    var version = ScreenCheckpoint.version
    var library: String
    var libraryBytes: Int64
    var modelHash: String
    var settings: String
    var recordsDone: Int
    /// FNV-1a 64 (hex) of the library bytes behind the first `recordsDone` records (decompressed):
    /// a resumed screen refuses a library that changed, even to one of the same size.
    var libraryHash: String = ""
    var summary: ScreenSummary
    var pool: TopHits
    var errorsBytes: UInt64
    var allScoresBytes: UInt64
    /// Scores of every scored molecule in 50 bins over [0, 1] (values outside are clamped).
    var histogram: [Int] = [Int](repeating: 0, count: ScreenJob.histogramBins)
}

/// `winnow screen`: streams a library through a model on all cores, keeps the best hits in bounded
/// memory, explains them, and can checkpoint, resume and run as one shard of many.
public struct ScreenJob {
    public var modelPath: String
    public var library: String
    public var format: LibraryFormat?
    public var smilesColumn: String?
    public var idColumn: String?
    public var top = 1000
    public var output: String
    public var errorsPath: String?
    public var allScoresPath: String?
    public var diverse: Double?
    public var threads = 1
    public var checkpointDirectory: String?
    public var resume = false
    public var shard: ShardSpec?
    public var showProgress = true
    /// Records per round: fixed, so that rounds (and checkpoints) do not depend on the thread count.
    /// Large enough that the end-of-round wait for the last batch costs little (about 1% on 2 threads).
    public var roundSize = 16384
    public static let histogramBins = 50

    public init(modelPath: String, library: String, output: String) {
        self.modelPath = modelPath
        self.library = library
        self.output = output
    }

    /// Pool kept during the scan: the hit list itself, or five times it when diversity filtering
    /// needs candidates to skip.
    var poolSize: Int { diverse == nil ? top : top * 5 }

    var settingsDescription: String {
        "top=\(top) diverse=\(diverse.map { String($0) } ?? "-") shard=\(shard?.description ?? "-") format=\(format?.rawValue ?? "-") smiles=\(smilesColumn ?? "-") id=\(idColumn ?? "-") allScores=\(allScoresPath ?? "-") errors=\(errorsPath ?? "-")"
    }

    public func run() throws -> (summary: ScreenSummary, hits: [ExplainedHit], model: TrainedModel, histogram: [Int]) {
        let modelData: Data
        do { modelData = try Data(contentsOf: URL(fileURLWithPath: modelPath)) } catch {
            throw InputError("\(modelPath): cannot read the model file")
        }
        let trained: TrainedModel
        do { trained = try TrainedModel.load(try ModelArchive.decode(modelData, source: modelPath), source: modelPath) } catch {
            throw InputError("\(error)")
        }
        let modelHash = fnv1aHex(modelData)
        let libraryBytes = library == "-" ? -1 : ((try? FileManager.default.attributesOfItem(atPath: library)[.size] as? NSNumber)?.int64Value ?? -1)
        let checkpointURL = checkpointDirectory.map { URL(fileURLWithPath: $0).appendingPathComponent("screen.checkpoint.json") }

        var state = ScreenCheckpoint(library: library, libraryBytes: libraryBytes, modelHash: modelHash, settings: settingsDescription,
                                     recordsDone: 0, summary: ScreenSummary(), pool: TopHits(capacity: poolSize),
                                     errorsBytes: 0, allScoresBytes: 0)
        if resume {
            guard let checkpointURL else { throw InputError("--resume needs --checkpoint DIR") }
            if let data = try? Data(contentsOf: checkpointURL) {
                guard let saved = try? JSONDecoder().decode(ScreenCheckpoint.self, from: data), saved.version == ScreenCheckpoint.version else {
                    throw InputError("\(checkpointURL.path): damaged or from another Winnow version; delete it to start over")
                }
                guard saved.library == library, saved.libraryBytes == libraryBytes, saved.modelHash == modelHash, saved.settings == settingsDescription else {
                    throw InputError("\(checkpointURL.path): was made by a screen with another library, model or settings; delete it to start over")
                }
                state = saved
            }
        }
        if let checkpointDirectory {
            try? FileManager.default.createDirectory(atPath: checkpointDirectory, withIntermediateDirectories: true)
        }

        // Side outputs are appended round by round; on resume they are cut back to the checkpoint.
        let errors = try errorsPath.map { (path) throws -> AppendFile in try AppendFile(path: path, truncateTo: state.errorsBytes, header: "record\tid\tinput\treason\n", inPlace: checkpointURL != nil) }
        let allScores = try allScoresPath.map { (path) throws -> AppendFile in
            try AppendFile(path: path, truncateTo: state.allScoresBytes, header: "record,id,score,uncertainty\n", inPlace: checkpointURL != nil)
        }

        let reader = try LibraryReader(path: library, format: format, smilesColumn: smilesColumn, idColumn: idColumn,
                                       hashContent: checkpointURL != nil)
        // Skip what the checkpoint covers (rounds are whole batches, so this lands on the boundary).
        let batchSize = 256
        while reader.recordsRead < state.recordsDone {
            guard try reader.nextBatch(size: min(batchSize, state.recordsDone - reader.recordsRead)) != nil else { break }
        }
        if resume, state.recordsDone > 0, let checkpointURL,
           reader.recordsRead != state.recordsDone || reader.contentHash.map(hexHash) != state.libraryHash {
            throw InputError("\(library): differs from the library of the checkpointed screen (its first \(state.recordsDone) records changed); delete \(checkpointURL.path) to start over")
        }

        BLAS.useSingleThread()
        let pool = WorkerPool(threads: threads)
        defer { pool.shutdown() }
        let workers = try ModelWorkers(trained, count: pool.threads)
        let progress = ProgressLine(label: "screen")
        let started = Date()
        let secondsBefore = state.summary.seconds
        var lastSave = Date()
        let shard = self.shard

        // The library runs through the shared read-ahead batch stream (LibraryIO): while a round is
        // screened, the next is read. Rounds have a fixed record count, so that rounds (and
        // checkpoints) do not depend on the thread count.
        let stream = BatchStream(reader: reader, batchSize: batchSize, roundSize: roundSize)
        let wantScores = allScores != nil
        let bins = Self.histogramBins
        typealias BatchResult = (hits: [Hit], scored: Int, err: [UInt8], scores: [UInt8], histogram: [Int], rejected: Int, read: Int)
        try stream.run(pool: pool, prepare: { _ -> @Sendable (RecordBatch, Int) -> BatchResult in
            // Molecules that cannot beat the pool's worst hit at the start of the round cannot enter
            // it during the round either: workers skip building their hit records.
            let threshold: Hit? = state.pool.count == state.pool.capacity ? state.pool.worst : nil
            return { batch, worker in
                var graphs: [MolecularGraph] = [], kept: [Int] = []
                var err: [UInt8] = []
                var read = 0
                for i in 0..<batch.count {
                    if let shard, !shard.contains(record: batch.firstRecord + i) { continue }
                    read += 1
                    switch batch.molecule(i, parser: workers.parsers[worker]) {
                    case .success(let graph): graphs.append(graph); kept.append(i)
                    case .failure(let error): batch.appendErrorLine(i, reason: error.message, to: &err)
                    }
                }
                var hits: [Hit] = []
                var scores: [UInt8] = []
                var histogram = [Int](repeating: 0, count: bins)
                if !graphs.isEmpty {
                    let prediction = workers.models[worker].predict(graphs)
                    for (k, i) in kept.enumerated() {
                        let record = batch.firstRecord + i
                        let score = prediction.scores[k][0], uncertainty = prediction.uncertainties[k][0]
                        histogram[min(Int((min(max(score, 0), 1) * Float(bins)).rounded(.down)), bins - 1)] += 1
                        if wantScores {
                            scores += Array("\(record),\(csvField(batch.ids[i])),\(formatScore(score)),\(formatScore(uncertainty))\n".utf8)
                        }
                        if let threshold, !(score > threshold.score || (score == threshold.score && record < threshold.record)) { continue }
                        let smiles = batch.kind == .smiles ? batch.text(i) : graphs[k].smiles()
                        hits.append(Hit(record: record, id: batch.ids[i], smiles: smiles, score: score, uncertainty: uncertainty))
                    }
                }
                return (hits, kept.count, err, scores, histogram, read - kept.count, read)
            }
        }) { current, results in
            var scoresText: [UInt8] = []
            var errorText: [UInt8] = []
            for result in results {
                errorText += result.err
                scoresText += result.scores
                for hit in result.hits { state.pool.insert(hit) }
                for b in 0..<bins { state.histogram[b] += result.histogram[b] }
                state.summary.read += result.read
                state.summary.scored += result.scored
                state.summary.rejected += result.rejected
            }
            try errors?.append(errorText)
            try allScores?.append(scoresText, compressedMember: allScoresPath?.hasSuffix(".gz") ?? false)
            state.recordsDone = current.recordsRead
            state.libraryHash = current.contentHash.map(hexHash) ?? ""
            state.errorsBytes = errors?.length ?? 0
            state.allScoresBytes = allScores?.length ?? 0
            state.summary.seconds = secondsBefore + Date().timeIntervalSince(started)
            if let checkpointURL, Date().timeIntervalSince(lastSave) >= 1 {
                try save(state, to: checkpointURL)
                lastSave = Date()
            }
            if showProgress {
                let total = current.fractionRead.flatMap { $0 > 0.01 ? Int(Double(current.recordsRead) / $0) : nil }
                progress.update(done: current.recordsRead, total: total)
            }
        }
        progress.finish()
        try errors?.close()
        try allScores?.close()
        state.summary.seconds = secondsBefore + Date().timeIntervalSince(started)
        let hits = try explain(state.pool.sorted(), model: trained)
        try writeHitList(hits, to: output)
        if let checkpointURL {
            state.recordsDone = reader.recordsRead
            state.libraryHash = reader.contentHash.map(hexHash) ?? ""
            try save(state, to: checkpointURL)
        }
        return (state.summary, hits, trained, state.histogram)
    }

    private func save(_ state: ScreenCheckpoint, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(state)
        // An exclusive temporary file renamed over the old checkpoint: a kill leaves either the old or
        // the new one, and nothing planted under a predictable name is written through.
        try replaceFile(url.path, with: [UInt8](data))
    }

    /// Diversity filter, nearest known active and scaffold for the final hits (one thread: K is small).
    func explain(_ ranked: [Hit], model: TrainedModel) throws -> [ExplainedHit] {
        let parser = try MoleculeParser()
        let generator = MorganGenerator(settings: MorganSettings(radius: 2, size: 2048))
        // Known actives as one flat matrix of fingerprints, searched with a popcount kernel.
        var activeIDs: [String] = []
        var activeBits: [UInt64] = []
        for active in model.header.knownActives {
            if let graph = try? parser.parse(smiles: active.smiles) {
                activeIDs.append(active.id)
                activeBits += generator.bits(graph)
            }
        }
        let words = (generator.settings.size + 63) / 64
        var similarities = [Double](repeating: 0, count: activeIDs.count)
        var chosen: [(hit: Hit, bits: [UInt64], graph: MolecularGraph?)] = []
        for hit in ranked {
            if chosen.count >= top { break }
            let graph = try? parser.parse(smiles: hit.smiles)
            let bits = graph.map { generator.bits($0) } ?? []
            if let threshold = diverse, chosen.contains(where: { tanimoto($0.bits, bits) > threshold }) { continue }
            chosen.append((hit, bits, graph))
        }
        return chosen.enumerated().map { index, entry in
            var best: (String, Double)? = nil
            if !activeIDs.isEmpty, entry.bits.count == words {
                wk_tanimoto_many(entry.bits, activeBits, Int64(activeIDs.count), Int64(words), &similarities)
                var k = 0
                for i in 1..<activeIDs.count where similarities[i] > similarities[k] { k = i }
                best = (activeIDs[k], similarities[k])
            }
            return ExplainedHit(rank: index + 1, hit: entry.hit, nearestActive: best?.0 ?? "",
                                nearestActiveSimilarity: best?.1, scaffold: entry.graph?.scaffoldSMILES() ?? "")
        }
    }

    func writeHitList(_ hits: [ExplainedHit], to path: String) throws {
        var text = HitList.header + "\n"
        for h in hits { text += HitList.line(h) + "\n" }
        let out = try OutputFile(path: path)
        try out.write(text)
        try out.close()
    }
}

/// The hit-list CSV: its columns and how `winnow merge` reads it back.
public enum HitList {
    public static let header = "rank,record,id,smiles,score,uncertainty,nearest_active,nearest_active_similarity,scaffold"

    public static func line(_ h: ExplainedHit) -> String {
        [String(h.rank), String(h.hit.record), csvField(h.hit.id), csvField(h.hit.smiles), formatScore(h.hit.score),
         formatScore(h.hit.uncertainty), csvField(h.nearestActive),
         h.nearestActiveSimilarity.map { String(format: "%.4f", $0) } ?? "", csvField(h.scaffold)].joined(separator: ",")
    }

    /// Reads a hit list written by `screen` (for `merge`).
    public static func read(_ path: String) throws -> [ExplainedHit] {
        let table = try CSVTable.read(path: path)
        guard table.header.joined(separator: ",") == header else {
            throw InputError("\(path): not a Winnow hit list (expected columns \(header))")
        }
        return try table.rows.enumerated().map { index, f in
            guard f.count == 9, let record = Int(f[1]), let score = Float(f[4]), let uncertainty = Float(f[5]) else {
                throw InputError("\(path): line \(index + 2) is not a valid hit-list row")
            }
            return ExplainedHit(rank: Int(f[0]) ?? 0, hit: Hit(record: record, id: f[2], smiles: f[3], score: score, uncertainty: uncertainty),
                                nearestActive: f[6], nearestActiveSimilarity: Double(f[7]), scaffold: f[8])
        }
    }

    /// Merges shard hit lists into one ranked list of at most `top` hits.
    public static func merge(_ lists: [[ExplainedHit]], top: Int) -> [ExplainedHit] {
        let all = lists.flatMap { $0 }.sorted { $0.hit.ranksBefore($1.hit) }
        return all.prefix(top).enumerated().map { index, h in
            var copy = h
            copy.rank = index + 1
            return copy
        }
    }
}

private func hexHash(_ value: UInt64) -> String { String(value, radix: 16) }

/// One model copy and one parser per worker: worker w only touches index w (see WorkerPool), hence
/// unchecked. Models keep forward state, so workers cannot share one.
public final class ModelWorkers: @unchecked Sendable {
    public let models: [TrainedModel]
    public let parsers: [MoleculeParser]

    public init(_ model: TrainedModel, count: Int) throws {
        models = try [model] + (1..<max(count, 1)).map { _ in try model.copy() }
        parsers = try (0..<max(count, 1)).map { _ in try MoleculeParser() }
    }
}

/// A file written in appended pieces whose length is tracked, so a resumed run can cut it back to the
/// last checkpoint. Gzip output is a series of gzip members (one per round), which gzip readers
/// read as one stream. Without a checkpoint (`inPlace` false) it is written under an exclusive
/// temporary name and renamed by `close()`, like every other output; with one it must stay under
/// its name to be resumed, and a fresh one is created exclusively (a link planted there is replaced,
/// never written through).
final class AppendFile {
    let path: String
    private let handle: FileHandle
    private(set) var length: UInt64
    private let temporary: String?
    private var closed = false

    init(path: String, truncateTo saved: UInt64, header: String, inPlace: Bool = true) throws {
        self.path = path
        var info = stat()
        let special = stat(path, &info) == 0 && (info.st_mode & mode_t(S_IFMT)) != mode_t(S_IFREG)
        var descriptor: Int32 = -1
        if special {
            descriptor = open(path, O_WRONLY)
            temporary = nil
        } else if !inPlace {
            let (fd, name) = try createTemporaryFile(beside: path)
            let mask = umask(0)
            umask(mask)
            _ = fchmod(fd, 0o666 & ~mask)
            descriptor = fd
            temporary = name
        } else {
            if saved == 0 || !FileManager.default.fileExists(atPath: path) {
                unlink(path)
                descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
            } else {
                descriptor = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
            }
            temporary = nil
        }
        guard descriptor >= 0 else { throw InputError("\(path): cannot open for writing (\(String(cString: strerror(errno))))") }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        self.handle = handle
        if !special {
            try handle.truncate(atOffset: saved)
            try handle.seekToEnd()
        }
        length = saved
        if saved == 0 {
            try append(Array(header.utf8), compressedMember: path.hasSuffix(".gz"))
        }
    }

    deinit {
        if !closed, let temporary { unlink(temporary) }
    }

    func append(_ bytes: [UInt8], compressedMember: Bool = false) throws {
        guard !bytes.isEmpty else { return }
        let data = compressedMember ? try gzipMember(bytes) : Data(bytes)
        try handle.write(contentsOf: data)
        length += UInt64(data.count)
    }

    func close() throws {
        if temporary == nil { try handle.synchronize() }
        try handle.close()
        closed = true
        if let temporary, rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw InputError("\(path): cannot put the finished file in place (\(reason))")
        }
    }

    private func gzipMember(_ bytes: [UInt8]) throws -> Data {
        var stream = z_stream()
        // windowBits 15 + 16: write a gzip header and trailer.
        guard deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw InputError("\(path): zlib could not start compressing")
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
        var input = bytes
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw InputError("\(path): zlib could not compress the scores") }
        return Data(output.prefix(Int(stream.total_out)))
    }
}
