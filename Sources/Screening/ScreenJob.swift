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
    /// Records removed by the filters (`--where`, `--rule`, `--require`, …) before scoring:
    /// read = scored + rejected + filtered.
    public var filtered = 0
    /// What the standardiser changed (all zero when it is off).
    public var standardized = Standardizer.Totals()
    /// Records with the same (standardised) structure as an earlier record, not scored (`--dedupe`):
    /// read = scored + rejected + filtered + duplicates.
    public var duplicates = 0
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
    /// With `--dedupe`: how many later records had this hit's structure, and their ids (`;`-joined);
    /// empty without `--dedupe`.
    public var duplicates = ""
    public var duplicateIDs = ""
    /// Standard InChIKey of the hit's (standardised) structure, from Open Babel's InChI plugin; empty
    /// when the hit could not be read again or InChI refused it.
    public var inchiKey = ""
    /// Why the explanations are missing, when the hit could not be explained (empty otherwise).
    public var note = ""

    public init(rank: Int, hit: Hit, nearestActive: String, nearestActiveSimilarity: Double?, scaffold: String) {
        self.rank = rank; self.hit = hit; self.nearestActive = nearestActive
        self.nearestActiveSimilarity = nearestActiveSimilarity; self.scaffold = scaffold
    }
}

/// What `ScreenJob.run()` hands back for the side outputs (SDF, report) and the summary line.
public struct ScreenResult {
    public var summary: ScreenSummary
    public var hits: [ExplainedHit]
    public var model: TrainedModel
    public var histogram: ScoreHistogram
    /// The model task that was screened.
    public var task: String
    /// Candidates the diversity filter went through (the best-scored pool), when `--diverse` was set.
    public var diversityCandidates: Int?
    /// Hits and known actives the explanations could not use, and why (for standard error).
    public var notes: [String] = []
}

/// Progress saved by `--checkpoint DIR`, enough to finish the same screen after a crash with
/// byte-identical outputs.
struct ScreenCheckpoint: Codable {
    /// 2: adds `libraryHash` (version-1 checkpoints are refused with the "another version" message).
    /// 3: hits carry optional uncertainties and kept columns, the pool its direction (`--minimize`),
    /// the histogram its range, and the task screened is recorded.
    /// 4: the filters (in `settings`), the filtered count and the `--filtered` file's length.
    /// 5: the standardiser setting (in `settings`), its counts, and what it changed in each pooled hit.
    static let version = 5
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
    var filteredBytes: UInt64
    /// Scores of every scored molecule (see `ScoreHistogram`).
    var histogram: ScoreHistogram
    /// Recorded so that a resume with the other direction is refused (it is also in `settings`).
    var minimize: Bool
    var task: String
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
    /// The model task to screen on: required when the model has several, else its only one.
    public var task: String?
    /// Lowest score first (docking-like scores).
    public var minimize = false
    /// Library columns (CSV/TSV) or SDF data items copied into the hit list and hit SDF.
    public var keepColumns: [String] = []
    public var threads = 1
    public var checkpointDirectory: String?
    public var resume = false
    public var shard: ShardSpec?
    public var showProgress = true
    public var limits = InputLimits()
    /// Filters applied before scoring; the records they remove are counted and listed with the
    /// filter that removed them, in `filteredPath` (or, without one, in `errorsPath`).
    public var filters = MoleculeFilters()
    public var filteredPath: String?
    /// Descriptor and alert columns computed for the final hits.
    public var properties = HitProperties()
    /// Score each structure once (`--dedupe`): a record whose standardised structure (canonical key)
    /// was seen earlier in this screen (or shard) is counted as a duplicate of that record.
    public var dedupe = false
    /// Records per round: fixed, so that rounds (and checkpoints) do not depend on the thread count.
    /// Large enough that the end-of-round wait for the last batch costs little (about 1% on 2 threads).
    public var roundSize = 16384

    public init(modelPath: String, library: String, output: String) {
        self.modelPath = modelPath
        self.library = library
        self.output = output
    }

    /// Pool kept during the scan: the hit list itself, or five times it when diversity filtering
    /// needs candidates to skip.
    var poolSize: Int { diverse == nil ? top : top * 5 }

    /// The hit list's columns after `task`: the kept library columns, then the properties.
    public var hitColumns: [String] { keepColumns + properties.columns }

    var settingsDescription: String {
        "top=\(top) minimize=\(minimize) task=\(task ?? "-") keep=\(keepColumns.joined(separator: "|")) diverse=\(diverse.map { String($0) } ?? "-") shard=\(shard?.description ?? "-") format=\(format?.rawValue ?? "-") smiles=\(smilesColumn ?? "-") id=\(idColumn ?? "-") allScores=\(allScoresPath ?? "-") errors=\(errorsPath ?? "-") limits=\(limits.maxAtoms),\(limits.maxRings),\(limits.maxBranchDepth),\(limits.maxRecordBytes),\(limits.maxMolfileAtoms) standardize=\(limits.standardize) filters=\(filters.description) filtered=\(filteredPath ?? "-") properties=\(properties.columns.joined(separator: "|")) dedupe=\(dedupe)"
    }

    public func run() throws -> ScreenResult {
        let modelData: Data
        do { modelData = try Data(contentsOf: URL(fileURLWithPath: modelPath)) } catch {
            throw InputError("\(modelPath): cannot read the model file")
        }
        let trained: TrainedModel
        do { trained = try TrainedModel.load(try ModelArchive.decode(modelData, source: modelPath), source: modelPath) } catch {
            throw InputError("\(error)")
        }
        let taskIndex = try ModelTask.index(in: trained.header, requested: task, modelPath: modelPath)
        let taskName = trained.header.tasks[taskIndex]
        let hasUncertainty = trained.hasUncertainty
        let modelHash = fnv1aHex(modelData)
        let libraryBytes = library == "-" ? -1 : ((try? FileManager.default.attributesOfItem(atPath: library)[.size] as? NSNumber)?.int64Value ?? -1)
        let checkpointURL = checkpointDirectory.map { URL(fileURLWithPath: $0).appendingPathComponent("screen.checkpoint.json") }
        if dedupe && checkpointDirectory != nil {
            throw InputError("--dedupe cannot be combined with --checkpoint: the table of structures seen is not saved in checkpoints")
        }

        var state = ScreenCheckpoint(library: library, libraryBytes: libraryBytes, modelHash: modelHash, settings: settingsDescription,
                                     recordsDone: 0, summary: ScreenSummary(), pool: TopHits(capacity: poolSize, minimize: minimize),
                                     errorsBytes: 0, allScoresBytes: 0, filteredBytes: 0,
                                     histogram: ScoreHistogram(scale: trained.header.taskKind == .classification ? .probability : .adaptive),
                                     minimize: minimize, task: taskName)
        if resume {
            guard let checkpointURL else { throw InputError("--resume needs --checkpoint DIR") }
            if let data = try? Data(contentsOf: checkpointURL) {
                guard let saved = try? JSONDecoder().decode(ScreenCheckpoint.self, from: data), saved.version == ScreenCheckpoint.version else {
                    throw InputError("\(checkpointURL.path): damaged or from another Winnow version; delete it to start over")
                }
                guard saved.library == library, saved.libraryBytes == libraryBytes, saved.modelHash == modelHash, saved.settings == settingsDescription,
                      saved.minimize == minimize, saved.task == taskName else {
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
            try AppendFile(path: path, truncateTo: state.allScoresBytes, header: AllScores.header + "\n", inPlace: checkpointURL != nil)
        }

        let filteredFile = try filteredPath.map { (path) throws -> AppendFile in
            try AppendFile(path: path, truncateTo: state.filteredBytes, header: "record\tid\tinput\treason\n", inPlace: checkpointURL != nil)
        }
        // The model's feature columns (--feature-columns at training) travel with each record after the kept ones.
        let featureNames = trained.featureColumns
        let (readerColumns, featurePositions) = FeatureColumns.keptColumns(keep: keepColumns, features: featureNames)
        let reader = try LibraryReader(path: library, format: format, smilesColumn: smilesColumn, idColumn: idColumn,
                                       hashContent: checkpointURL != nil, keepColumns: readerColumns,
                                       requiredColumns: featureNames, requiredFor: FeatureColumns.purpose)
        reader.maxRecordBytes = limits.maxRecordBytes
        // Skip what the checkpoint covers (rounds are whole batches, so this lands on the boundary).
        let batchSize = 256
        while reader.recordsRead < state.recordsDone {
            guard try reader.nextBatch(size: min(batchSize, state.recordsDone - reader.recordsRead)) != nil else { break }
        }
        if resume, state.recordsDone > 0, let checkpointURL,
           reader.recordsRead != state.recordsDone || reader.contentHash.map(hexHash) != state.libraryHash {
            throw InputError("\(library): differs from the library of the checkpointed screen (its first \(state.recordsDone) records changed); delete \(checkpointURL.path) to start over")
        }

        let pool = WorkerPool(threads: threads, stackSize: limits.parserStackBytes)
        defer { pool.shutdown() }
        let workers = try ModelWorkers(trained, count: pool.threads, limits: limits)
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
        let minimize = self.minimize
        let filters = self.filters
        let standardizing = limits.standardize
        let keepCount = keepColumns.count
        // Without a --filtered file, filtered records are listed in the errors file, marked.
        let filteredPrefix = filteredFile == nil ? "filtered: " : ""
        typealias BatchResult = (hits: [Hit], scored: Int, err: [UInt8], scores: [UInt8], values: [Float], rejected: Int, read: Int,
                                 filteredText: [UInt8], filtered: Int, standardized: Standardizer.Totals, dedupe: BatchDedupe)
        let table = DedupeTable()
        let dedupe = self.dedupe
        try stream.run(pool: pool, prepare: { _ -> @Sendable (RecordBatch, Int) -> BatchResult in
            // Molecules that cannot beat the pool's worst hit at the start of the round cannot enter
            // it during the round either: workers skip building their hit records.
            let threshold: Hit? = state.pool.count == state.pool.capacity ? state.pool.worst : nil
            return { batch, worker in
                var graphs: [MolecularGraph] = [], kept: [Int] = [], changes: [String] = []
                var columnValues: [[Double]] = []
                var err: [UInt8] = [], filteredText: [UInt8] = []
                var read = 0, filtered = 0
                var standardized = Standardizer.Totals()
                var found = BatchDedupe()
                var firstInBatch: [StructureKey: Int] = [:]
                let parser = workers.parsers[worker]
                for i in 0..<batch.count {
                    if let shard, !shard.contains(record: batch.firstRecord + i) { continue }
                    read += 1
                    switch batch.molecule(i, parser: parser) {
                    case .success(let graph):
                        if standardizing { standardized.add(parser.lastChanges) }
                        if dedupe {
                            // Structures seen in earlier rounds or earlier in this batch are not scored;
                            // the first of a structure in another batch of this round is found when the
                            // round is delivered (in input order).
                            let key = graph.canonicalKey()
                            if let first = table.firstRecord(key) ?? firstInBatch[key] {
                                found.duplicates.append((i, first))
                                continue
                            }
                            firstInBatch[key] = batch.firstRecord + i
                            found.firsts.append((key, i))
                        }
                        if let reason = filters.rejection(graph) {
                            filtered += 1
                            if dedupe { found.outcomes[i] = .filtered }
                            if filteredPrefix.isEmpty {
                                batch.appendErrorLine(i, reason: reason, to: &filteredText)
                            } else {
                                batch.appendErrorLine(i, reason: filteredPrefix + reason, to: &err)
                            }
                        } else {
                            if !featureNames.isEmpty {
                                switch FeatureColumns.values(batch, i, names: featureNames, positions: featurePositions) {
                                case .success(let values): columnValues.append(values)
                                case .failure(let error):
                                    batch.appendErrorLine(i, reason: error.description, to: &err)
                                    continue
                                }
                            }
                            graphs.append(graph); kept.append(i)
                            changes.append(standardizing ? parser.lastChanges.description : "")
                        }
                    case .failure(let error): batch.appendErrorLine(i, reason: error.message, to: &err)
                    }
                }
                var hits: [Hit] = []
                var scores: [UInt8] = []
                var values: [Float] = []
                var scored = 0
                if !graphs.isEmpty {
                    let prediction = workers.models[worker].predict(graphs, columns: columnValues)
                    values.reserveCapacity(kept.count)
                    for (k, i) in kept.enumerated() {
                        let record = batch.firstRecord + i
                        let score = prediction.scores[k][taskIndex]
                        let uncertainty = hasUncertainty ? prediction.uncertainties[k][taskIndex] : nil
                        // A non-finite score cannot be ranked: the record is listed with the reason.
                        if let problem = nonFiniteScoreReason(score) {
                            batch.appendErrorLine(i, reason: problem, to: &err)
                            continue
                        }
                        scored += 1
                        values.append(score)
                        if dedupe { found.outcomes[i] = .scored(score) }
                        if wantScores {
                            scores += Array(AllScores.line(record: record, id: batch.ids[i], score: score, uncertainty: uncertainty, task: taskName).utf8)
                        }
                        let hit = Hit(record: record, id: batch.ids[i], smiles: "", score: score, uncertainty: uncertainty)
                        if let threshold, !hit.ranksBefore(threshold, minimize: minimize) { continue }
                        var entry = hit
                        entry.smiles = batch.kind == .smiles ? batch.text(i) : graphs[k].smiles()
                        entry.kept = Array(batch.keptValues(i).prefix(keepCount))
                        entry.standardized = changes[k]
                        hits.append(entry)
                    }
                }
                return (hits, scored, err, scores, values, read - scored - filtered - found.duplicates.count, read, filteredText, filtered,
                        standardized, found)
            }
        }) { current, delivered in
            var scoresText: [UInt8] = []
            var errorText: [UInt8] = [], filteredText: [UInt8] = []
            var results = delivered
            if dedupe {
                for (b, batch) in current.batches.enumerated() {
                    // Duplicates are listed where filtered records go: --filtered, else --errors.
                    let listed = table.deliver(&results[b], batch: batch)
                    if filteredFile == nil { results[b].err += listed } else { results[b].filteredText += listed }
                    state.summary.duplicates += results[b].dedupe.duplicates.count
                }
            }
            for result in results {
                errorText += result.err
                filteredText += result.filteredText
                state.summary.filtered += result.filtered
                state.summary.standardized.add(result.standardized)
                scoresText += result.scores
                for hit in result.hits { state.pool.insert(hit) }
                state.histogram.add(result.values)
                state.summary.read += result.read
                state.summary.scored += result.scored
                state.summary.rejected += result.rejected
            }
            try errors?.append(errorText)
            try allScores?.append(scoresText)
            try filteredFile?.append(filteredText)
            state.recordsDone = current.recordsRead
            state.libraryHash = current.contentHash.map(hexHash) ?? ""
            state.errorsBytes = errors?.length ?? 0
            state.allScoresBytes = allScores?.length ?? 0
            state.filteredBytes = filteredFile?.length ?? 0
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
        try filteredFile?.close()
        state.summary.seconds = secondsBefore + Date().timeIntervalSince(started)
        var (hits, notes) = try explain(state.pool.sorted(), model: trained)
        if dedupe {
            for k in hits.indices {
                let others = table.duplicatesOf[hits[k].hit.record] ?? []
                hits[k].duplicates = String(others.count)
                hits[k].duplicateIDs = others.map { $0.id }.joined(separator: ";")
            }
        }
        try HitList.write(hits, task: taskName, keptColumns: hitColumns, to: output)
        if let checkpointURL {
            state.recordsDone = reader.recordsRead
            state.libraryHash = reader.contentHash.map(hexHash) ?? ""
            try save(state, to: checkpointURL)
        }
        return ScreenResult(summary: state.summary, hits: hits, model: trained, histogram: state.histogram, task: taskName,
                            diversityCandidates: diverse == nil ? nil : state.pool.count, notes: notes)
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
    ///
    /// Hits and known actives are parsed with the screen's own `limits` (a hit may be as large as
    /// `--max-atoms` lets it be: with the default limits a bigger hit used to lose its scaffold,
    /// nearest active and fingerprint silently), and on a thread with the stack those limits need
    /// (parsing on the main thread's 8 MiB could overflow it). A hit or known active that still does
    /// not parse is named in the returned notes (and the hit's `note`), not left silently blank.
    func explain(_ ranked: [Hit], model: TrainedModel) throws -> (hits: [ExplainedHit], notes: [String]) {
        // The screen's threads, each with its own parser: hits (and known actives) are analysed in
        // parallel, each on its own, so the result is the same at any thread count.
        let pool = WorkerPool(threads: max(1, threads), stackSize: limits.parserStackBytes)
        defer { pool.shutdown() }
        let settings = MorganSettings(radius: 2, size: 2048)
        let parsers = try PerWorker.parsers(count: pool.threads, limits: limits)
        let generators = PerWorker(count: pool.threads) { MorganGenerator(settings: settings) }
        typealias Explained = (bits: [UInt64], scaffold: String, graph: MolecularGraph, smiles: String, inchiKey: String)
        // Molecules on the pool's threads: each one's bits and scaffold, or why it did not parse.
        func analyse(_ smiles: [String]) -> [Result<Explained, MoleculeError>] {
            let slots = Slots<Result<Explained, MoleculeError>>(count: smiles.count)
            pool.run(count: smiles.count) { i, worker in
                do throws(MoleculeError) {
                    let graph = try parsers[worker].parse(smiles: smiles[i])
                    // Canonical strings, so that equal structures and equal scaffolds read the same.
                    let canonical = graph.canonicalSMILES()
                    let key = (try? parsers[worker].inchiKey(smiles: canonical)) ?? ""
                    slots[i] = .success((generators[worker].bits(graph), graph.canonicalScaffoldSMILES(), graph, canonical, key))
                } catch {
                    slots[i] = .failure(error)
                }
            }
            return (0..<smiles.count).map { slots[$0] ?? .failure(MoleculeError(.openBabel, "not parsed")) }
        }
        var notes: [String] = []
        var leftOut: [String] = []
        // Known actives in an arena: the nearest one is a top-1 search (ties: the first active).
        var activeIDs: [String] = []
        var activeBits: [[UInt64]] = []
        let knownActives = model.header.knownActives
        for (active, analysed) in zip(knownActives, analyse(knownActives.map(\.smiles))) {
            switch analysed {
            case .success(let entry):
                activeIDs.append(active.id)
                activeBits.append(entry.bits)
            case .failure(let error):
                leftOut.append("\(active.id): \(error.message)")
            }
        }
        if let first = leftOut.first {
            notes.append("\(leftOut.count) of the model's \(model.header.knownActives.count) known actives do not parse under this screen's limits"
                         + " and are left out of nearest_active (the first, \(first))")
        }
        let words = (settings.size + 63) / 64
        let actives = FingerprintArena(bitCount: settings.size, fingerprints: activeBits)
        // Hits are parsed as far as the pick goes (a hit that no longer parses has no bits).
        // (in parallel chunks: all `top` at once without a diversity pick, 64 at a time with one).
        var parsed: [Result<Explained, MoleculeError>] = []
        let chunk = diverse == nil ? max(1, top) : 64
        func load(_ i: Int) -> Result<Explained, MoleculeError> {
            while parsed.count <= i {
                let end = min(ranked.count, max(i + 1, parsed.count + chunk))
                parsed += analyse(ranked[parsed.count..<end].map(\.smiles))
            }
            return parsed[i]
        }
        let picked: [Int]
        if let threshold = diverse {
            picked = FingerprintRows.diversePick(count: ranked.count, bitCount: settings.size, threshold: threshold, limit: top) { i in
                try? load(i).get().bits
            }
        } else {
            picked = Array(0..<min(top, ranked.count))
        }
        let properties = self.properties
        // Properties of the final hits only (K molecules, on the pool), as extra columns.
        let loadedPicks = picked.map(load)
        let propertyValues = Slots<[String]>(count: picked.count)
        if !properties.isEmpty {
            pool.run(count: picked.count) { k, _ in propertyValues[k] = properties.values(try? loadedPicks[k].get().graph) }
        }
        let hits = picked.enumerated().map { index, i in
            var hit = ranked[i]
            let loaded = loadedPicks[index]
            hit.kept += propertyValues[index] ?? []
            var explained = ExplainedHit(rank: index + 1, hit: hit, nearestActive: "", nearestActiveSimilarity: nil, scaffold: "")
            switch loaded {
            case .success(let entry):
                explained.hit.smiles = entry.smiles
                explained.scaffold = entry.scaffold
                explained.inchiKey = entry.inchiKey
                if entry.bits.count == words, let nearest = actives.nearest(to: entry.bits) {
                    explained.nearestActive = activeIDs[nearest.record]
                    explained.nearestActiveSimilarity = nearest.similarity.value
                }
            case .failure(let error):
                explained.note = "no scaffold or nearest active: the hit's SMILES did not parse again (\(error.message))"
                notes.append("hit \(index + 1) (record \(hit.record), id \(hit.id)): \(explained.note)")
            }
            return explained
        }
        return (hits, notes)
    }

}

/// The hit-list CSV: its columns, and how `winnow merge` reads lists back and combines them.
///
/// Columns: `rank,record,id,smiles,score,uncertainty,nearest_active,nearest_active_similarity,scaffold,task,inchikey,`, then
/// `standardized` (what the standardiser changed in the hit, empty when nothing or when it is off),
/// `duplicates,duplicate_ids` (with `--dedupe`: later records of the same structure, their count and ids),
/// then the `--keep-columns` in the order asked. `smiles` and `scaffold` are canonical SMILES (Winnow's
/// own canonical order, `MolecularGraph.canonicalSMILES()`), so equal structures are equal strings. Scores are written so that they read back as the
/// same Float (see `formatScore`), so a merge ranks exactly as the single run did.
public enum HitList {
    public static let columns = ["rank", "record", "id", "smiles", "score", "uncertainty", "nearest_active",
                                 "nearest_active_similarity", "scaffold", "task", "inchikey", "standardized", "duplicates", "duplicate_ids"]

    public static func header(keptColumns: [String]) -> String { (columns + keptColumns).map(csvField).joined(separator: ",") }

    public static func line(_ h: ExplainedHit, task: String) -> String {
        ([String(h.rank), String(h.hit.record), csvField(h.hit.id), csvField(h.hit.smiles), formatScore(h.hit.score),
          h.hit.uncertainty.map(formatScore) ?? "", csvField(h.nearestActive),
          h.nearestActiveSimilarity.map { String(format: "%.4f", $0) } ?? "", csvField(h.scaffold), csvField(task), csvField(h.inchiKey), csvField(h.hit.standardized),
          csvField(h.duplicates), csvField(h.duplicateIDs)]
         + h.hit.kept.map(csvField)).joined(separator: ",")
    }

    public static func write(_ hits: [ExplainedHit], task: String, keptColumns: [String], to path: String) throws {
        var text = header(keptColumns: keptColumns) + "\n"
        for h in hits { text += line(h, task: task) + "\n" }
        let out = try OutputFile(path: path)
        try out.write(text)
        try out.close()
    }

    /// One hit list read back: its hits, the task they were scored on (nil when the list is empty)
    /// and its kept columns.
    public struct File: Sendable {
        public var path: String
        public var hits: [ExplainedHit]
        public var task: String?
        public var keptColumns: [String]
    }

    /// Reads a hit list written by `screen` (for `merge`). Refuses rows that are not the screen's
    /// (bad numbers, non-finite scores, ranks out of sequence).
    public static func read(_ path: String) throws -> File {
        let table = try CSVTable.read(path: path)
        guard table.header.count >= columns.count, Array(table.header.prefix(columns.count)) == columns else {
            throw InputError("\(path): not a Winnow hit list (expected columns \(columns.joined(separator: ",")), then any kept columns)")
        }
        var task: String? = nil
        let hits = try table.rows.enumerated().map { index, f in
            let line = index + 2
            guard f.count == table.header.count, let record = Int(f[1]), let score = Float(f[4]) else {
                throw InputError("\(path): line \(line) is not a valid hit-list row")
            }
            guard score.isFinite else { throw InputError("\(path): line \(line): the score '\(f[4])' is not a finite number") }
            var uncertainty: Float? = nil
            if !f[5].isEmpty {
                guard let value = Float(f[5]), value.isFinite else {
                    throw InputError("\(path): line \(line): the uncertainty '\(f[5])' is not a finite number")
                }
                uncertainty = value
            }
            guard Int(f[0]) == index + 1 else { throw InputError("\(path): line \(line): rank \(f[0]) where \(index + 1) was expected") }
            if let task, task != f[9] { throw InputError("\(path): line \(line): task '\(f[9])' where the list began with '\(task)'") }
            task = f[9]
            var hit = ExplainedHit(rank: index + 1, hit: Hit(record: record, id: f[2], smiles: f[3], score: score, uncertainty: uncertainty,
                                                             kept: Array(f[columns.count...])),
                                   nearestActive: f[6], nearestActiveSimilarity: Double(f[7]), scaffold: f[8])
            hit.inchiKey = f[10]
            hit.hit.standardized = f[11]
            hit.duplicates = f[12]
            hit.duplicateIDs = f[13]
            return hit
        }
        return File(path: path, hits: hits, task: task, keptColumns: Array(table.header[columns.count...]))
    }

    /// Merges shard hit lists into one ranked list of at most `top` hits. Refuses lists that cannot
    /// come from shards of one screen: the same record twice (a list given twice, overlapping shards),
    /// other tasks or kept columns, or a list not ranked in the direction asked (`minimize`).
    public static func merge(_ files: [File], top: Int, minimize: Bool) throws -> (hits: [ExplainedHit], task: String?, keptColumns: [String]) {
        guard let first = files.first else { return ([], nil, []) }
        var seen: [Int: (path: String, list: Int)] = [:]
        var task: (name: String, path: String)? = nil
        for (list, file) in files.enumerated() {
            guard file.keptColumns == first.keptColumns else {
                throw InputError("\(file.path): kept columns (\(file.keptColumns.joined(separator: ","))) differ from \(first.path)'s (\(first.keptColumns.joined(separator: ",")))")
            }
            if let name = file.task {
                if let task, task.name != name {
                    throw InputError("\(file.path): hits scored on task '\(name)', but \(task.path)'s on '\(task.name)'")
                }
                task = task ?? (name, file.path)
            }
            for (a, b) in zip(file.hits, file.hits.dropFirst()) where b.hit.ranksBefore(a.hit, minimize: minimize) {
                throw InputError("\(file.path): ranks \(a.rank) and \(b.rank) are not in \(minimize ? "ascending" : "descending") score order"
                                 + (minimize ? "; was it screened without --minimize?" : "; was it screened with --minimize? Then merge with --minimize"))
            }
            for h in file.hits {
                if let other = seen[h.hit.record] {
                    throw InputError(other.list == list ? "\(file.path): record \(h.hit.record) (\(h.hit.id)) is in the list twice"
                                     : "\(file.path): record \(h.hit.record) (\(h.hit.id)) is also in \(other.path)"
                                       + (other.path == file.path ? ": the same list given twice" : ": shards that overlap, or a list given twice under two names"))
                }
                seen[h.hit.record] = (file.path, list)
            }
        }
        let all = files.flatMap { $0.hits }.sorted { $0.hit.ranksBefore($1.hit, minimize: minimize) }
        let hits = all.prefix(top).enumerated().map { index, h in
            var copy = h
            copy.rank = index + 1
            return copy
        }
        return (hits, task?.name, first.keptColumns)
    }
}

/// `--all-scores`: one line per scored record.
public enum AllScores {
    public static let header = "record,id,score,uncertainty,task"

    public static func line(record: Int, id: String, score: Float, uncertainty: Float?, task: String) -> String {
        "\(record),\(csvField(id)),\(formatScore(score)),\(uncertainty.map(formatScore) ?? ""),\(csvField(task))\n"
    }
}

/// Why a score cannot be ranked, or nil for a finite one.
public func nonFiniteScoreReason(_ score: Float) -> String? {
    score.isFinite ? nil : "the model gave a non-finite score (\(score)); the record cannot be ranked"
}

private func hexHash(_ value: UInt64) -> String { String(value, radix: 16) }

/// One model copy and one parser per worker: worker w only touches index w (see WorkerPool), hence
/// unchecked. Models keep forward state, so workers cannot share one.
public final class ModelWorkers: @unchecked Sendable {
    public let models: [TrainedModel]
    public let parsers: [MoleculeParser]

    public init(_ model: TrainedModel, count: Int, limits: InputLimits = InputLimits()) throws {
        models = try [model] + (1..<max(count, 1)).map { _ in try model.copy() }
        parsers = try (0..<max(count, 1)).map { _ in try MoleculeParser(limits: limits) }
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
    /// `.gz` names get every piece (header included) as a gzip member.
    private let compressed: Bool

    init(path: String, truncateTo saved: UInt64, header: String, inPlace: Bool = true) throws {
        self.path = path
        compressed = path.hasSuffix(".gz")
        var info = stat()
        let special = stat(path, &info) == 0 && (info.st_mode & mode_t(S_IFMT)) != mode_t(S_IFREG)
        var descriptor: Int32 = -1
        if special {
            descriptor = open(path, O_WRONLY)
            temporary = nil
        } else if !inPlace {
            let (fd, name) = try createTemporaryFile(beside: path)
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
            try append(Array(header.utf8))
        }
    }

    deinit {
        if !closed, let temporary { unlink(temporary) }
    }

    func append(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        let data: Data
        do { data = compressed ? Data(try gzipMember(bytes)) : Data(bytes) } catch {
            throw InputError(file: path, reason: error.reason)
        }
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
}

/// What one batch's worker found for `--dedupe`: records whose structure it had already met (in an
/// earlier round or earlier in the batch), and the first records of new structures with what became
/// of them (so that the delivery step can take one back when an earlier batch of the same round had
/// the structure).
struct BatchDedupe: Sendable {
    enum Outcome: Sendable { case scored(Float), filtered }
    /// (index in the batch, first record of the structure).
    var duplicates: [(index: Int, first: Int)] = []
    /// (structure key, index in the batch) of structures new to this batch, in input order.
    var firsts: [(key: StructureKey, index: Int)] = []
    /// How each new structure's record ended (absent: rejected, e.g. a non-finite score).
    var outcomes: [Int: Outcome] = [:]
}

/// The structures a `--dedupe` screen has seen: 128-bit canonical keys with the record that had each
/// first (about 60 bytes a structure in a Swift dictionary: some 95 MB for the 1.58M MOSES set), and
/// for structures met more than once, the later records and their ids (memory grows with the
/// duplicates, not with the library).
///
/// `@unchecked Sendable`: workers only read it (`firstRecord`) while a round runs; it is written only
/// by `deliver`, on the batch stream's calling thread between rounds, when no worker runs.
final class DedupeTable: @unchecked Sendable {
    private var first: [StructureKey: Int] = [:]
    private(set) var duplicatesOf: [Int: [(record: Int, id: String)]] = [:]

    func firstRecord(_ key: StructureKey) -> Int? { first[key] }

    /// Takes one batch's results in input order: new structures are recorded; a structure another
    /// batch of this round met first turns its record into a duplicate, and what the worker did with
    /// it (a score, a hit, a filtered line) is taken back. Each duplicate is listed (record, id,
    /// input, `duplicate of record N`) in the returned lines.
    func deliver(_ result: inout (hits: [Hit], scored: Int, err: [UInt8], scores: [UInt8], values: [Float], rejected: Int, read: Int,
                                  filteredText: [UInt8], filtered: Int, standardized: Standardizer.Totals, dedupe: BatchDedupe),
                 batch: RecordBatch) -> [UInt8] {
        var list: [UInt8] = []
        var takenBack: [Int: Int] = [:]  // record -> the earlier record of its structure
        for (key, index) in result.dedupe.firsts {
            let record = batch.firstRecord + index
            if let earlier = first[key] {
                result.dedupe.duplicates.append((index, earlier))
                takenBack[record] = earlier
                switch result.dedupe.outcomes[index] {
                case .scored(let value):
                    result.scored -= 1
                    if let k = result.values.firstIndex(of: value) { result.values.remove(at: k) }
                case .filtered:
                    result.filtered -= 1
                case nil:
                    result.rejected -= 1
                }
            } else {
                first[key] = record
            }
        }
        if !takenBack.isEmpty {
            let records = Set(takenBack.keys)
            result.hits.removeAll { records.contains($0.record) }
            result.scores = Self.removingLines(result.scores, records: records, separator: UInt8(ascii: ","))
            result.err = Self.removingLines(result.err, records: records, separator: 9)
            result.filteredText = Self.removingLines(result.filteredText, records: records, separator: 9)
            // Records the worker found repeating one of these (later in its batch) repeat the earlier record.
            for k in result.dedupe.duplicates.indices {
                if let earlier = takenBack[result.dedupe.duplicates[k].first] { result.dedupe.duplicates[k].first = earlier }
            }
        }
        result.dedupe.duplicates.sort { $0.index < $1.index }
        for (index, firstRecord) in result.dedupe.duplicates {
            duplicatesOf[firstRecord, default: []].append((batch.firstRecord + index, batch.ids[index]))
            batch.appendErrorLine(index, reason: "duplicate of record \(firstRecord) (same structure after standardising)", to: &list)
        }
        return list
    }

    /// Lines of `text` whose first field (up to `separator`) is not one of `records`.
    static func removingLines(_ text: [UInt8], records: Set<Int>, separator: UInt8) -> [UInt8] {
        guard !text.isEmpty else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        for line in text.split(separator: 10, omittingEmptySubsequences: false).dropLast() {
            let field = line.prefix { $0 != separator }
            if let record = Int(String(decoding: field, as: UTF8.self)), records.contains(record) { continue }
            out += line
            out.append(10)
        }
        return out
    }
}
