import ArgumentParser
import Foundation
import Learning
import LibraryIO
import Screening

struct ScreenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "screen",
        abstract: "Rank a compound library with a trained model: the top hits, explained.",
        discussion: """
        Streams the library through parsing, featurising and scoring on all cores and keeps the best
        --top hits in bounded memory. Hit list columns: rank, record, id, smiles, score, uncertainty,
        nearest_active (from the model's training actives), nearest_active_similarity (Tanimoto on
        Morgan r2/2048 bits), scaffold (Bemis-Murcko), task, then any --keep-columns. Ties are broken
        by input order. A model with several tasks needs --task NAME. Exit status 3: nothing could be
        scored (an empty library, or every record rejected).

        Example: winnow screen --model targets/bace1/model.winnow --library libraries/moses_sample_10k.smi \\
                 --top 100 -o hits.csv
        """
    )

    @Option(help: "Model file.") var model: String
    @Option(help: "Library file (.smi, .csv, .tsv, .sdf, optionally .gz), or '-' for standard input.") var library: String
    @OptionGroup var inputOptions: InputOptions
    @Option(help: "Hits to keep.") var top = 1000
    @Option(help: "Model task to screen on (required when the model has several; default: its only task).") var task: String?
    @Flag(help: "Lowest score first (docking-like scores); the default ranks the highest first.") var minimize = false
    @Option(help: "Library columns (CSV/TSV) or SDF data items to copy into the hit list and hit SDF, comma-separated, e.g. vendor_id,price.")
    var keepColumns: String?
    @Option(name: .shortAndLong, help: "Hit list (CSV).") var output: String
    @Option(help: "Hits as SDF with 2D coordinates and the hit-list values as data items.") var sdf: String?
    @Option(help: "Self-contained HTML report: hit table with structures, score histogram, scaffolds.") var report: String?
    @Option(help: "Hits with more heavy atoms get no 2D layout (no picture, zero SDF coordinates): Open Babel's layout can take minutes on very large molecules.")
    var depictionMaxAtoms = DepictionLimits().maxHeavyAtoms
    @Option(help: "Hits with more rings get no 2D layout either.") var depictionMaxRings = DepictionLimits().maxRings
    @Option(help: "Seconds one hit's 2D layout may take before it is stopped (0: no limit).") var depictionSeconds = DepictionLimits().seconds
    @Option(help: "Every scored record (record,id,score,uncertainty); gzip when the name ends in .gz.") var allScores: String?
    @Option(help: "Write rejected records here.") var errors: String?
    @Option(help: "No two hits more similar than this Tanimoto (greedy in score order).") var diverse: Double?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: "Save progress in this folder regularly.") var checkpoint: String?
    @Flag(help: "Continue the screen saved in --checkpoint.") var resume = false
    @Option(help: "Screen only shard K of N (records K, K+N, …), e.g. 3/8.") var shard: String?
    @Flag(help: "No progress line.") var quiet = false

    func validate() throws {
        try validateThreads(threads)
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        if let diverse, !(0...1).contains(diverse) { throw ValidationError("--diverse must be a Tanimoto between 0 and 1") }
        if let shard, ShardSpec(shard) == nil { throw ValidationError("--shard must be K/N with 1 ≤ K ≤ N, e.g. 2/4") }
        if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint DIR") }
        if depictionMaxAtoms < 0 || depictionMaxRings < 0 || !(depictionSeconds >= 0 && depictionSeconds.isFinite) {
            throw ValidationError("--depiction-max-atoms, --depiction-max-rings and --depiction-seconds must be 0 or more")
        }
        if let keepColumns, parseColumnList(keepColumns) == nil {
            throw ValidationError("--keep-columns must be column names separated by commas, e.g. vendor_id,price")
        }
    }

    func run() throws {
        try checkOutputs([output, errors, allScores, sdf, report], inputs: [model, library])
        var job = ScreenJob(modelPath: model, library: library, output: output)
        job.format = inputOptions.libraryFormat
        job.smilesColumn = inputOptions.smilesColumn
        job.idColumn = inputOptions.idColumn
        job.limits = inputOptions.limits
        job.top = top
        job.errorsPath = errors
        job.allScoresPath = allScores
        job.diverse = diverse
        job.task = task
        job.minimize = minimize
        job.keepColumns = keepColumns.flatMap(parseColumnList) ?? []
        job.threads = threads ?? defaultThreadCount()
        job.checkpointDirectory = checkpoint
        job.resume = resume
        job.shard = shard.flatMap(ShardSpec.init)
        job.showProgress = !quiet
        let result = try job.run()
        let summary = result.summary, hits = result.hits
        let limits = DepictionLimits(maxHeavyAtoms: depictionMaxAtoms, maxRings: depictionMaxRings, seconds: depictionSeconds)
        if let sdf { try HitReport.writeSDF(hits, task: result.task, keptColumns: job.keepColumns, limits: limits, to: sdf) }
        var diversity: (threshold: Double, asked: Int, candidates: Int)? = nil
        if let diverse, let candidates = result.diversityCandidates { diversity = (diverse, top, candidates) }
        if let report {
            try HitReport.writeHTML(hits, model: result.model, run: .init(modelPath: model, libraryPath: library, summary: summary,
                                                                          histogram: result.histogram, shard: shard, task: result.task,
                                                                          minimize: minimize, diversity: diversity, limits: limits), to: report)
        }
        printToStandardError(String(format: "winnow screen: read %d, scored %d, rejected %d in %.2f s (%.0f molecules/s); %d hits in %@",
                                    summary.read, summary.scored, summary.rejected, summary.seconds, summary.rate, hits.count, output))
        if let diversity, hits.count < top {
            printToStandardError("winnow screen: note: " + HitReport.diversitySentence(threshold: diversity.threshold, allowed: hits.count,
                                                                                      asked: top, candidates: diversity.candidates))
        }
        if summary.scored == 0 { throw nothingScored(command: "screen", summary: RunSummary(summary), library: library) }
    }
}
