import Chemistry
import Fingerprints
import Foundation
import Learning
import LibraryIO

/// The campaign commands as library calls (the CLI is a thin layer over these).
public enum Campaign {
    // MARK: - init

    public struct InitSummary: Sendable {
        public var read = 0
        public var pool = 0
        public var rejected = 0
        public var labelled = 0
        public var actives = 0
        public var external = 0
        /// Records left out as duplicates of an earlier record's structure (`dedupe`); they are in the
        /// rejected list with the record they repeat (read = pool + rejected + duplicates).
        public var duplicates = 0
        /// What the standardiser changed in the pool (all zero when it is off).
        public var standardized = Standardizer.Totals()
    }

    /// Reads the pool library in parallel, stores every parsed graph (and every rejected record with
    /// its reason), and the initial labels, in one transaction.
    public static func initialize(path: String, pool poolPath: String, format: LibraryFormat? = nil, smilesColumn: String? = nil,
                                  idColumn: String? = nil, labels: LabelFile? = nil, settings: CampaignSettings,
                                  threads: Int = 1, progress: Bool = false, limits: InputLimits = InputLimits(),
                                  dedupe: Bool = false) throws -> InitSummary {
        let poolHash = try fileHash(poolPath)
        let reader = try LibraryReader(path: poolPath, format: format, smilesColumn: smilesColumn, idColumn: idColumn)
        reader.maxRecordBytes = limits.maxRecordBytes
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CampaignError("\(path) already exists; pick another name or remove it to start over")
        }
        // Built in a new private folder beside the campaign (made exclusively by mkdtemp, so nothing
        // can be planted under the name SQLite creates) and renamed when complete: a killed init
        // leaves no campaign.
        let folder = try makePrivateFolder(beside: path)
        let partial = folder + "/campaign.partial"
        defer { for leftover in [partial, partial + "-journal"] { try? FileManager.default.removeItem(atPath: leftover) }; rmdir(folder) }
        let store = try CampaignStore.create(path: partial, settings: settings, pool: poolPath, poolHash: poolHash)
        var summary = InitSummary()
        do {
            try store.write { tx in
                let workers = WorkerPool(threads: threads, stackSize: limits.parserStackBytes)
                defer { workers.shutdown() }
                let parsers = try PerWorker.parsers(count: workers.threads, limits: limits)
                var index = 0
                var firstRecordOf: [String: Int] = [:]
                let line = ProgressLine(label: "campaign init")
                let stream = BatchStream(reader: reader, batchSize: 256, roundSize: workers.threads * 8 * 256)
                // With dedupe, each molecule's canonical structure key (computed by the workers).
                var firstOfStructure: [StructureKey: (record: Int, id: String)] = [:]
                try stream.run(pool: workers, prepare: { _ in
                    { batch, worker in
                        (0..<batch.count).map { i -> (Result<MolecularGraph, MoleculeError>, StructureKey?) in
                            let result = batch.molecule(i, parser: parsers[worker])
                            return (result, dedupe ? (try? result.get())?.canonicalKey() : nil)
                        }
                    }
                }) { round, results in
                    for (batch, parsed) in zip(round.batches, results) {
                        for (i, (result, key)) in parsed.enumerated() {
                            let record = batch.firstRecord + i
                            let id = batch.ids[i]
                            summary.read += 1
                            switch result {
                            case .success(let graph):
                                if let first = firstRecordOf[id] {
                                    try tx.insertRejected(record: record, id: id, input: batch.text(i),
                                                                     reason: "duplicate id \(id) (first at record \(first)); campaign ids must be unique")
                                    summary.rejected += 1
                                    continue
                                }
                                if let key {
                                    if let first = firstOfStructure[key] {
                                        try tx.insertRejected(record: record, id: id, input: batch.kind == .smiles ? batch.text(i) : graph.smiles(),
                                                              reason: "duplicate of record \(first.record) (id \(first.id)): same structure after standardising")
                                        summary.duplicates += 1
                                        continue
                                    }
                                    firstOfStructure[key] = (record, id)
                                }
                                firstRecordOf[id] = record
                                // A standardised molecule is stored as what the campaign learns from.
                                let smiles = limits.standardize ? graph.canonicalSMILES() : batch.kind == .smiles ? batch.text(i) : graph.smiles()
                                try tx.insertMolecule(index: index, record: record, id: id, smiles: smiles, inPool: true, graph: graph)
                                index += 1
                                summary.pool += 1
                            case .failure(let error):
                                let input = batch.kind == .smiles ? batch.text(i) : "SDF record starting at line \(batch.startLines[i])"
                                try tx.insertRejected(record: record, id: id, input: input, reason: error.message)
                                summary.rejected += 1
                            }
                        }
                    }
                    if progress { line.update(done: summary.read, total: nil) }
                }
                if progress { line.finish() }
                if let labels {
                    guard labels.problems.isEmpty else { throw CampaignError(problemList(labels.problems, what: "labels")) }
                    var ids = try tx.moleculesById()
                    var problems: [String] = []
                    let parser = try MoleculeParser(limits: limits)
                    for entry in labels.entries {
                        var molecule = ids[entry.id]
                        if molecule == nil {
                            guard let smiles = entry.smiles else {
                                problems.append("\(labels.path) row \(entry.row): id \(entry.id) is not in the pool and the row has no SMILES")
                                continue
                            }
                            do {
                                let graph = try parser.parse(smiles: smiles)
                                try tx.insertMolecule(index: index, record: nil, id: entry.id, smiles: limits.standardize ? graph.canonicalSMILES() : smiles,
                                                      inPool: false, graph: graph)
                                molecule = index
                                ids[entry.id] = index
                                index += 1
                                summary.external += 1
                            } catch {
                                problems.append("\(labels.path) row \(entry.row): id \(entry.id): \((error as? MoleculeError)?.message ?? "\(error)")")
                                continue
                            }
                        }
                        try tx.insertLabel(CampaignLabel(molecule: molecule!, value: entry.value, round: 0,
                                                                        source: "init: \((labels.path as NSString).lastPathComponent)"))
                        summary.labelled += 1
                        if entry.value > 0.5 { summary.actives += 1 }
                    }
                    guard problems.isEmpty else { throw CampaignError(problemList(problems, what: "labels")) }
                }
                try tx.setMeta("pool_records", String(summary.read))
                // Recorded with the campaign's settings: whether the pool's molecules were standardised.
                try tx.setMeta("standardize", limits.standardize ? "1" : "0")
                for w in 0..<parsers.count { summary.standardized.add(parsers[w].standardized) }
                try tx.setMeta("pool_rejected", String(summary.rejected))
                try tx.sealPool()
                CampaignStore.faultPoint()
            }
            try store.close()
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch {
            // A campaign that could not be filled is not a campaign: leave no half-made file behind.
            try? store.close()
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        return summary
    }

    static func problemList(_ problems: [String], what: String) -> String {
        let shown = problems.prefix(20).map { "  " + $0 }.joined(separator: "\n")
        let more = problems.count > 20 ? "\n  … and \(problems.count - 20) more" : ""
        return "\(problems.count) problem\(problems.count == 1 ? "" : "s") in the \(what); nothing was written:\n\(shown)\(more)"
    }

    /// FNV-1a (64-bit) of the pool file's bytes, read in 1 MiB pieces (libraries can be gigabytes).
    public static func fileHash(_ path: String) throws -> String {
        guard path != "-" else { return "stdin" }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CampaignError("\(path): cannot read the pool library") }
        defer { try? handle.close() }
        var hash = FNV1a64()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { chunk.withUnsafeBytes { hash.update($0) } }
        return hash.hex
    }

    // MARK: - select

    public struct SelectOptions: Sendable {
        public var batch = 96
        public var acquisition: Acquisition = .greedy
        public var beta: Float = 2
        public var diverse: Double? = nil
        public var exclude: [String] = []
        /// Also offer molecules picked in an earlier round whose results are not recorded yet.
        public var includePending = false
        /// Threads for training (forest trees, network gradient shards).
        public var threads = 1
        public init() {}
    }

    public struct SelectedMolecule: Sendable {
        public var rank: Int
        public var id: String
        public var smiles: String
        public var score: Float
        public var uncertainty: Float
        public var nearestActive: String?
        public var nearestSimilarity: Double?
        public var reason: String
    }

    public struct Selection: Sendable {
        public var round: Int
        public var picks: [SelectedMolecule]
        public var candidates: Int
        public var labelled: Int
        public var metrics: [String: Double]
        public var coldStart: String?
        public var unknownExcluded: [String]
    }

    /// A selection computed but not yet stored: `commit` stores it if the campaign has not changed
    /// since it was read (training can take minutes, and a `record` may land in between).
    public struct PendingSelection: Sendable {
        public var selection: Selection
        var roundRecord: CampaignRound
        var picks: [CampaignPick]
        var taskKind: TaskKind
        /// Labels the model was trained on, when the campaign was read.
        var labelCount: Int
    }

    /// Retrains on every label so far, scores the unlabelled pool, picks the batch and stores the
    /// round; the picks CSV is written next to the commit (temp file renamed after it).
    public static func select(store: CampaignStore, options: SelectOptions, output: String) throws -> Selection {
        try commit(try prepareSelection(store: store, options: options), store: store, output: output)
    }

    /// Reads the campaign, trains and picks; stores nothing.
    public static func prepareSelection(store: CampaignStore, options: SelectOptions) throws -> PendingSelection {
        guard options.beta.isFinite, options.beta >= 0 else {
            throw CampaignError("the UCB weight beta must be a finite number ≥ 0 (got \(options.beta))")
        }
        guard options.batch >= 1 else { throw CampaignError("the batch must hold at least one molecule") }
        let settings = try store.settings()
        let molecules = try store.molecules()
        let graphs = try store.graphs()
        let labels = try store.labels()
        let earlierPicks = try store.picks()
        let round = (try store.rounds().map(\.round).max() ?? 0) + 1
        var isLabelled = [Bool](repeating: false, count: molecules.count)
        for l in labels { isLabelled[l.molecule] = true }
        var blocked = Set(options.includePending ? [] : earlierPicks.map(\.molecule))
        let ids = Dictionary(molecules.map { ($0.id, $0.index) }, uniquingKeysWith: { a, _ in a })
        var unknown: [String] = []
        for id in options.exclude { if let m = ids[id] { blocked.insert(m) } else { unknown.append(id) } }
        let candidates = molecules.filter { $0.inPool && !isLabelled[$0.index] && !blocked.contains($0.index) }.map(\.index)
        guard !candidates.isEmpty else { throw CampaignError("\(store.path): nothing left to pick: every pool molecule is labelled, picked or excluded") }
        let learner = CampaignLearner(graphs: graphs, settings: settings.learner, taskKind: settings.taskKind, threads: options.threads)
        let seed = settings.seed &* 1000 &+ UInt64(round)
        let scores = try learner.score(labelled: labels.map { ($0.molecule, $0.value) }, candidates: candidates, seed: seed, validationFraction: 0.1)
        let picks = BatchSelector.pick(count: options.batch, scores: scores, acquisition: options.acquisition, beta: options.beta,
                                       minimize: settings.minimize, diverse: options.diverse, candidates: candidates, bits: learner.bits, seed: seed)
        // Nearest known active (classification) or best-valued labelled molecule, for the chemist.
        let references: [Int]
        if settings.taskKind == .classification {
            references = labels.filter { $0.value > 0.5 }.map(\.molecule)
        } else {
            let sorted = labels.sorted { settings.minimize ? $0.value < $1.value : $0.value > $1.value }
            references = sorted.prefix(max(1, labels.count / 10)).map(\.molecule)
        }
        var selected: [SelectedMolecule] = []
        for (rank, pick) in picks.enumerated() {
            let m = candidates[pick.candidate]
            let near = learner.nearest(m, among: references)
            selected.append(SelectedMolecule(rank: rank + 1, id: molecules[m].id, smiles: molecules[m].smiles, score: scores.scores[pick.candidate],
                                             uncertainty: scores.uncertainties[pick.candidate], nearestActive: near.map { molecules[$0.molecule].id },
                                             nearestSimilarity: near?.similarity, reason: pick.reason))
        }
        var metrics = scores.metrics
        metrics["training_labels"] = Double(labels.count)
        if settings.taskKind == .classification { metrics["training_actives"] = Double(labels.filter { $0.value > 0.5 }.count) }
        metrics["candidates"] = Double(candidates.count)
        var parameters: [String: String] = ["batch": String(options.batch), "beta": String(options.beta)]
        if let d = options.diverse { parameters["diverse"] = String(d) }
        if !options.exclude.isEmpty { parameters["excluded"] = String(options.exclude.count - unknown.count) }
        if let cold = scores.coldStart { parameters["cold_start"] = cold }
        let roundRecord = CampaignRound(round: round, createdAt: timestamp(), acquisition: scores.coldStart == nil ? options.acquisition.rawValue : "random",
                                        parameters: try json(parameters), model: settings.learner.json, modelHash: scores.modelHash,
                                        labelled: labels.count, metrics: try json(metrics))
        let stored = zip(picks, selected).map { pick, s in
            CampaignPick(round: round, rank: s.rank, molecule: candidates[pick.candidate], score: Double(s.score),
                         uncertainty: Double(s.uncertainty), reason: s.reason)
        }
        let selection = Selection(round: round, picks: selected, candidates: candidates.count, labelled: labels.count, metrics: metrics,
                                  coldStart: scores.coldStart, unknownExcluded: unknown)
        return PendingSelection(selection: selection, roundRecord: roundRecord, picks: stored, taskKind: settings.taskKind,
                                labelCount: labels.count)
    }

    /// Stores a prepared selection in one transaction and writes its picks file. Inside the
    /// transaction it checks that no other command changed what the selection rests on: another
    /// round stored meanwhile, or results recorded meanwhile (the picks could then include molecules
    /// that are already labelled, and the model never saw the new labels). Then nothing is written.
    public static func commit(_ pending: PendingSelection, store: CampaignStore, output: String) throws -> Selection {
        let round = pending.selection.round
        // The picks go to an exclusive temporary file beside the output, put in place only after the
        // round is stored; if storing fails, the temporary file goes with `picksFile`.
        let picksFile = try OutputFile(path: output)
        try picksFile.write(picksText(pending.selection.picks, taskKind: pending.taskKind))
        do {
            try store.write { tx in
                let latest = try tx.latestRound()
                guard latest == round - 1 else {
                    throw CampaignError("\(store.path): another `winnow campaign select` stored round \(latest) while this one ran; nothing was written: run select again",
                                        isFileProblem: false)
                }
                let labelled = try tx.labelCount()
                if labelled != pending.labelCount {
                    let picked = Set(pending.picks.map(\.molecule))
                    let nowLabelled = try tx.labelledMolecules().filter { picked.contains($0) }.count
                    throw CampaignError("\(store.path): \(labelled - pending.labelCount) results were recorded while this select was training"
                                        + (nowLabelled > 0 ? ", \(nowLabelled) of its picks among them" : "")
                                        + "; nothing was written: run select again so the model learns from them",
                                        isFileProblem: false)
                }
                try tx.insertRound(pending.roundRecord)
                for pick in pending.picks { try tx.insertPick(pick) }
                CampaignStore.faultPoint()
            }
        }
        try picksFile.close()
        return pending.selection
    }

    static func picksText(_ picks: [SelectedMolecule], taskKind: TaskKind) -> String {
        let nearest = taskKind == .classification ? "nearest_active" : "nearest_best"
        var text = "rank,id,smiles,score,uncertainty,\(nearest),\(nearest)_similarity,reason\n"
        for p in picks {
            // A random cold-start pick has no model score: leave the columns empty rather than print zeros.
            let scored = !p.reason.hasPrefix("random")
            text += "\(p.rank),\(csvField(p.id)),\(csvField(p.smiles)),\(scored ? formatScore(p.score) : ""),\(scored ? formatScore(p.uncertainty) : ""),"
            text += "\(csvField(p.nearestActive ?? "")),\(p.nearestSimilarity.map { String(format: "%.4f", $0) } ?? ""),\(csvField(p.reason))\n"
        }
        return text
    }

    /// A round's numbers as JSON through `JSONEncoder`: sorted keys, 6 decimals, a non-finite number
    /// (a metric of a model that could not be measured) written as null instead of invalid `nan`.
    static func json(_ values: [String: Double]) throws -> String {
        try jsonText(values.mapValues { v -> Double? in v.isFinite ? (v * 1e6).rounded() / 1e6 : nil })
    }

    static func json(_ values: [String: String]) throws -> String { try jsonText(values) }

    private static func jsonText(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Reads a round's numbers back (null = not measured, left out).
    public static func roundNumbers(_ text: String) -> [String: Double] {
        ((try? JSONDecoder().decode([String: Double?].self, from: Data(text.utf8))) ?? [:]).compactMapValues { $0 }
    }

    // MARK: - record

    public struct RecordSummary: Sendable {
        public var recorded = 0
        public var alreadyRecorded = 0
        public var actives = 0
        public var rounds: Set<Int> = []
    }

    /// Results checked against the campaign as it was read, not yet stored.
    public struct PendingRecord: Sendable {
        var results: String
        var labels: [CampaignLabel]
        var summary: RecordSummary
        var taskKind: TaskKind
    }

    /// Records a results file: all of it, or, if any row is bad, none of it (the error lists each).
    public static func record(store: CampaignStore, results: String, idColumn: String = "id", labelColumn: String? = nil) throws -> RecordSummary {
        try commit(try prepareRecord(store: store, results: results, idColumn: idColumn, labelColumn: labelColumn), store: store)
    }

    /// Stores checked results in one transaction, checking each label again inside it: another
    /// `record` may have stored the same molecule meanwhile. The same value then counts as already
    /// recorded; a different one is a conflict listed like any other, and nothing is written.
    public static func commit(_ pending: PendingRecord, store: CampaignStore) throws -> RecordSummary {
        var summary = pending.summary
        let results = pending.results
        let (written, already) = try store.write { tx -> ([CampaignLabel], Int) in
            var written: [CampaignLabel] = [], already = 0
            var conflicts: [String] = []
            for label in pending.labels {
                if let now = try tx.label(of: label.molecule) {
                    if now == label.value {
                        already += 1
                    } else {
                        let id = try tx.id(of: label.molecule) ?? "?"
                        conflicts.append("\(results): id \(id) was recorded as \(LabelFile.format(now)) by another command meanwhile; this file says \(LabelFile.format(label.value))")
                    }
                    continue
                }
                try tx.insertLabel(label)
                written.append(label)
            }
            guard conflicts.isEmpty else { throw CampaignError(problemList(conflicts, what: "results file \(results)")) }
            CampaignStore.faultPoint()
            return (written, already)
        }
        summary.recorded = written.count
        summary.alreadyRecorded += already
        summary.rounds = Set(written.map(\.round))
        summary.actives = pending.taskKind == .classification ? written.filter { $0.value > 0.5 }.count : 0
        return summary
    }

    /// Reads and checks a results file against the campaign; stores nothing.
    public static func prepareRecord(store: CampaignStore, results: String, idColumn: String = "id", labelColumn: String? = nil) throws -> PendingRecord {
        let settings = try store.settings()
        let file = try LabelFile.read(path: results, idColumn: idColumn, labelColumn: labelColumn, taskKind: settings.taskKind)
        var problems = file.problems
        let molecules = try store.molecules()
        let ids = Dictionary(molecules.map { ($0.id, $0.index) }, uniquingKeysWith: { a, _ in a })
        var existing: [Int: Double] = [:]
        for l in try store.labels() { existing[l.molecule] = l.value }
        var pickedIn: [Int: Int] = [:]
        for p in try store.picks() { pickedIn[p.molecule] = p.round }  // the latest round that picked it
        let latestRound = try store.rounds().map(\.round).max() ?? 0
        var summary = RecordSummary()
        var toWrite: [CampaignLabel] = []
        let source = (results as NSString).lastPathComponent
        for entry in file.entries {
            guard let m = ids[entry.id] else {
                problems.append("\(results) row \(entry.row): id \(entry.id) is not in this campaign")
                continue
            }
            if let old = existing[m] {
                if old != entry.value {
                    problems.append("\(results) row \(entry.row): id \(entry.id) already has the value \(LabelFile.format(old)); recorded again as \(LabelFile.format(entry.value))")
                } else {
                    summary.alreadyRecorded += 1
                }
                continue
            }
            let round = pickedIn[m] ?? latestRound
            toWrite.append(CampaignLabel(molecule: m, value: entry.value, round: round, source: source))
            summary.rounds.insert(round)
            if settings.taskKind == .classification && entry.value > 0.5 { summary.actives += 1 }
        }
        guard problems.isEmpty else { throw CampaignError(problemList(problems, what: "results file \(results)")) }
        return PendingRecord(results: results, labels: toWrite, summary: summary, taskKind: settings.taskKind)
    }

    // MARK: - status

    public struct RoundStatus: Sendable, Equatable {
        public var round: Int
        public var acquisition: String
        public var picked: Int
        /// Picks of this round with a recorded result, and how many of those were active (or, for
        /// continuous labels, the best value among them).
        public var tested: Int
        public var pickedActives: Int
        public var bestPicked: Double?
        /// Labels known when this round's results are in (cumulative).
        public var labelled: Int
        public var actives: Int
        public var best: Double?
        public var metrics: String
    }

    public struct Status: Sendable {
        public var rounds: [RoundStatus]
        public var poolSize: Int
        public var rejected: Int
        public var taskKind: TaskKind
        public var minimize: Bool
        /// Active fraction among the round-0 labels: the hit rate of random picks.
        public var baseRate: Double?
    }

    public static func status(store: CampaignStore) throws -> Status {
        let settings = try store.settings()
        let molecules = try store.molecules()
        let labels = try store.labels()
        let picks = try store.picks()
        let rounds = try store.rounds()
        let last = max(rounds.map(\.round).max() ?? 0, labels.map(\.round).max() ?? 0)
        var value: [Int: Double] = [:]
        for l in labels { value[l.molecule] = l.value }
        func better(_ a: Double, _ b: Double?) -> Double { guard let b else { return a }; return settings.minimize ? min(a, b) : max(a, b) }
        var result: [RoundStatus] = []
        var labelled = 0, actives = 0
        var best: Double? = nil
        for r in 0...last {
            let roundLabels = labels.filter { $0.round == r }
            labelled += roundLabels.count
            for l in roundLabels {
                if l.value > 0.5 { actives += 1 }
                best = better(l.value, best)
            }
            let roundPicks = picks.filter { $0.round == r }
            let tested = roundPicks.compactMap { value[$0.molecule] }
            let record = rounds.first { $0.round == r }
            result.append(RoundStatus(round: r, acquisition: record?.acquisition ?? (r == 0 ? "initial labels" : "-"), picked: roundPicks.count,
                                      tested: tested.count, pickedActives: tested.filter { $0 > 0.5 }.count,
                                      bestPicked: tested.reduce(nil as Double?) { better($1, $0) },
                                      labelled: labelled, actives: actives, best: best, metrics: record?.metrics ?? "{}"))
        }
        let initial = labels.filter { $0.round == 0 }
        let baseRate = settings.taskKind == .classification && !initial.isEmpty
            ? Double(initial.filter { $0.value > 0.5 }.count) / Double(initial.count) : nil
        return Status(rounds: result, poolSize: molecules.filter(\.inPool).count, rejected: try store.rejectedCount(),
                      taskKind: settings.taskKind, minimize: settings.minimize, baseRate: baseRate)
    }
}

/// A new folder with a unique name beside `path`, readable only by us (mkdtemp: created exclusively).
func makePrivateFolder(beside path: String) throws -> String {
    let url = URL(fileURLWithPath: path)
    var template = Array((url.deletingLastPathComponent().path + "/.\(url.lastPathComponent).winnow-XXXXXX").utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw CampaignError("\(path): cannot create a temporary folder beside it (\(String(cString: strerror(errno))))")
    }
    return String(cString: made)
}
