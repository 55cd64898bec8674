import ArgumentParser
import Chemistry
import Foundation
import Learning
import LibraryIO
import Screening

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score every molecule of a library with a model: id, smiles, score, uncertainty.",
        discussion: """
        Rejected records go to --errors as record<TAB>id<TAB>input<TAB>reason; output order is input order.
        Molecules are standardised as the model's training molecules were (train's default: on; a model
        file from before this was recorded: off); --standardize / --no-standardize override it (with a
        warning), and a standardized column then says what the standardiser changed in each molecule.
        A one-task model writes score,uncertainty; a multi-task model score_TASK,uncertainty_TASK for every
        task, or for the one chosen with --task. The uncertainty is empty for a one-member model (no
        ensemble). Exit status 3: nothing could be scored (an empty library, or every record rejected).
        --sort writes the rows best first (highest score; lowest with --minimize, for docking-like scores),
        equal scores in input order; it holds every row in memory until the end (use screen --top for
        the best N of millions).

        Example: winnow predict --model targets/bace1/model.winnow libraries/moses_sample_10k.smi -o scores.csv
        """
    )

    @Option(help: "Model file.") var model: String
    @Argument(help: "Library file (.smi, .csv, .tsv, .sdf, optionally .gz), or '-' for standard input.") var input: String
    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var standardizeOptions: StandardizeOptions
    @Option(help: "Only this task of a multi-task model (default: every task, each in its own columns).") var task: String?
    @Option(name: .shortAndLong, help: "Output CSV (default: standard output).") var output: String?
    @Option(help: "Write rejected records here.") var errors: String?
    @Flag(help: "Write rows best first (highest score) instead of in input order.") var sort = false
    @Flag(help: "Lower scores are better (docking scores): with --sort, lowest first; implies --sort.") var minimize = false
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "No progress line.") var quiet = false

    func validate() throws { try validateThreads(threads) }

    func run() throws {
        try checkOutputs([output ?? "-", errors], inputs: [model, input])
        let trained = try TrainedModel.read(from: URL(fileURLWithPath: model))
        let ranked = sort || minimize ? RankedRows(minimize: minimize) : nil
        // Ranking needs one task, as the screen does: a multi-task model without --task is refused.
        let tasks = task != nil || ranked != nil ? [try ModelTask.index(in: trained.header, requested: task, modelPath: model)]
            : Array(trained.header.tasks.indices)
        let limits = standardizeOptions.apply(to: inputOptions.limits, model: trained.header, command: "predict", legacyDefault: false)
        let summary = try Self.score(trained, tasks: tasks, input: input, inputOptions: inputOptions, limits: limits, output: output,
                                     errorsPath: errors, threads: threads ?? defaultThreadCount(), progress: !quiet, ranked: ranked)
        printToStandardError(String(format: "winnow predict: read %d, scored %d, rejected %d in %.2f s (%.0f molecules/s)",
                                    summary.read, summary.written, summary.rejected, summary.seconds, summary.rate))
        if limits.standardize { printToStandardError(standardizationNote(command: "predict", summary.standardized)) }
        if summary.written == 0 { throw nothingScored(command: "predict", summary: summary, library: input) }
    }

    /// Streams the library in batches through one model copy per worker and writes rows in input order.
    static func score(_ trained: TrainedModel, tasks: [Int], input: String, inputOptions: InputOptions, limits: InputLimits, output: String?,
                      errorsPath: String?, threads: Int, progress showProgress: Bool, ranked: RankedRows? = nil) throws -> RunSummary {
        // A model trained with --feature-columns reads those columns of every record.
        let featureNames = trained.featureColumns
        let positions = Array(featureNames.indices)
        let reader = try LibraryReader(path: input, format: inputOptions.libraryFormat, smilesColumn: inputOptions.smilesColumn,
                                       idColumn: inputOptions.idColumn, keepColumns: featureNames,
                                       requiredColumns: featureNames, requiredFor: FeatureColumns.purpose)
        reader.maxRecordBytes = limits.maxRecordBytes
        let out = try OutputFile(path: output)
        let errors = try errorsPath.map { (p) throws(InputError) in try OutputFile(path: p) }
        try errors?.write("record\tid\tinput\treason\n")
        let names = trained.header.tasks
        let columns = names.count == 1 ? ["score", "uncertainty"] : tasks.flatMap { ["score_\(names[$0])", "uncertainty_\(names[$0])"] }
        // With the standardiser on, `standardized` says what it changed in the molecule scored
        // (empty when nothing); `smiles` stays the record's own.
        let standardizing = limits.standardize
        try out.write((["id", "smiles"] + columns + (standardizing ? ["standardized"] : [])).map(csvField).joined(separator: ",") + "\n")
        let hasUncertainty = trained.hasUncertainty
        let pool = WorkerPool(threads: threads, stackSize: limits.parserStackBytes)
        defer { pool.shutdown() }
        let workers = try ModelWorkers(trained, count: pool.threads, limits: limits)
        var summary = try streamInOrder(reader, pool: pool, batchSize: 256, batchesPerRound: pool.threads * 4, out: out, errors: errors,
                                 progressLabel: showProgress ? "predict" : nil, ranked: ranked) { [sorting = ranked != nil] batch, worker in
            var result = BatchOutput()
            var graphs: [MolecularGraph] = [], kept: [Int] = [], changes: [String] = []
            var columnValues: [[Double]] = []
            for i in 0..<batch.count {
                switch batch.molecule(i, parser: workers.parsers[worker]) {
                case .success(let graph):
                    if !featureNames.isEmpty {
                        switch FeatureColumns.values(batch, i, names: featureNames, positions: positions) {
                        case .success(let values): columnValues.append(values)
                        case .failure(let error):
                            batch.appendErrorLine(i, reason: error.description, to: &result.errors)
                            continue
                        }
                    }
                    graphs.append(graph); kept.append(i)
                    if standardizing { changes.append(workers.parsers[worker].lastChanges.description) }
                case .failure(let error): batch.appendErrorLine(i, reason: error.message, to: &result.errors)
                }
            }
            let prediction = graphs.isEmpty ? Prediction(scores: [], uncertainties: [])
                : workers.models[worker].predict(graphs, columns: columnValues)
            var text = ""
            for (k, i) in kept.enumerated() {
                // A non-finite score is no prediction: the record is listed with the reason.
                if let problem = tasks.lazy.compactMap({ nonFiniteScoreReason(prediction.scores[k][$0]) }).first {
                    batch.appendErrorLine(i, reason: problem, to: &result.errors)
                    continue
                }
                var row = csvField(batch.ids[i]) + "," + csvField(batch.kind == .smiles ? batch.text(i) : graphs[k].smiles())
                for t in tasks {
                    row += "," + formatScore(prediction.scores[k][t]) + "," + (hasUncertainty ? formatScore(prediction.uncertainties[k][t]) : "")
                }
                if standardizing { row += "," + csvField(changes[k]) }
                row += "\n"
                if sorting {
                    result.ranked.append(RankedRows.Row(key: prediction.scores[k][tasks[0]], line: Array(row.utf8)))
                } else {
                    text += row
                }
                result.written += 1
            }
            result.out = Array(text.utf8)
            result.rejected = batch.count - result.written
            return result
        }
        for w in 0..<workers.parsers.count { summary.standardized.add(workers.parsers[w].standardized) }
        return summary
    }
}
