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
        Morgan r2/2048 bits), scaffold (Bemis-Murcko). Ties are broken by input order.

        Example: winnow screen --model targets/bace1/model.winnow --library libraries/moses_sample_10k.smi \\
                 --top 100 -o hits.csv
        """
    )

    @Option(help: "Model file.") var model: String
    @Option(help: "Library file (.smi, .csv, .tsv, .sdf, optionally .gz), or '-' for standard input.") var library: String
    @OptionGroup var inputOptions: InputOptions
    @Option(help: "Hits to keep.") var top = 1000
    @Option(name: .shortAndLong, help: "Hit list (CSV).") var output: String
    @Option(help: "Hits as SDF with 2D coordinates and the hit-list values as data items.") var sdf: String?
    @Option(help: "Self-contained HTML report: hit table with structures, score histogram, scaffolds.") var report: String?
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
    }

    func run() throws {
        try checkFiles(outputs: [output, errors, allScores, sdf, report], inputs: [model, library])
        var job = ScreenJob(modelPath: model, library: library, output: output)
        job.format = inputOptions.libraryFormat
        job.smilesColumn = inputOptions.smilesColumn
        job.idColumn = inputOptions.idColumn
        job.top = top
        job.errorsPath = errors
        job.allScoresPath = allScores
        job.diverse = diverse
        job.threads = threads ?? defaultThreadCount()
        job.checkpointDirectory = checkpoint
        job.resume = resume
        job.shard = shard.flatMap(ShardSpec.init)
        job.showProgress = !quiet
        let (summary, hits, trained, histogram) = try job.run()
        if let sdf { try HitReport.writeSDF(hits, to: sdf) }
        if let report {
            try HitReport.writeHTML(hits, model: trained, run: .init(modelPath: model, libraryPath: library, summary: summary,
                                                                     histogram: histogram, shard: shard), to: report)
        }
        printToStandardError(String(format: "winnow screen: read %d, scored %d, rejected %d in %.2f s (%.0f molecules/s); %d hits in %@",
                                    summary.read, summary.scored, summary.rejected, summary.seconds, summary.rate, hits.count, output))
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the hit lists of shards (winnow screen --shard K/N) into one.",
        discussion: "Example: winnow merge hits-*.csv --top 1000 -o hits.csv"
    )

    @Argument(help: "Hit lists written by winnow screen.") var inputs: [String]
    @Option(help: "Hits to keep.") var top = 1000
    @Option(name: .shortAndLong, help: "Merged hit list.") var output: String

    func run() throws {
        try checkFiles(outputs: [output], inputs: inputs)
        let merged = HitList.merge(try inputs.map { try HitList.read($0) }, top: top)
        var text = HitList.header + "\n"
        for hit in merged { text += HitList.line(hit) + "\n" }
        try OutputFile.write(text, to: output)
        printToStandardError("winnow merge: \(merged.count) hits from \(inputs.count) lists in \(output)")
    }
}
