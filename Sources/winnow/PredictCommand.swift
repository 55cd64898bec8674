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

        Example: winnow predict --model targets/bace1/model.winnow libraries/moses_sample_10k.smi -o scores.csv
        """
    )

    @Option(help: "Model file.") var model: String
    @Argument(help: "Library file (.smi, .csv, .tsv, .sdf, optionally .gz), or '-' for standard input.") var input: String
    @OptionGroup var inputOptions: InputOptions
    @Option(name: .shortAndLong, help: "Output CSV (default: standard output).") var output: String?
    @Option(help: "Write rejected records here.") var errors: String?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "No progress line.") var quiet = false

    func validate() throws { try validateThreads(threads) }

    func run() throws {
        try checkFiles(outputs: [output ?? "-", errors], inputs: [model, input])
        let trained = try TrainedModel.read(from: URL(fileURLWithPath: model))
        BLAS.useSingleThread()
        let summary = try Self.score(trained, input: input, inputOptions: inputOptions, output: output, errorsPath: errors,
                                     threads: threads ?? defaultThreadCount(), progress: !quiet)
        printToStandardError(String(format: "winnow predict: read %d, scored %d, rejected %d in %.2f s (%.0f molecules/s)",
                                    summary.read, summary.written, summary.rejected, summary.seconds, summary.rate))
    }

    /// Streams the library in batches through one model copy per worker and writes rows in input order.
    static func score(_ trained: TrainedModel, input: String, inputOptions: InputOptions, output: String?, errorsPath: String?,
                      threads: Int, progress showProgress: Bool) throws -> RunSummary {
        let reader = try LibraryReader(path: input, format: inputOptions.libraryFormat, smilesColumn: inputOptions.smilesColumn,
                                       idColumn: inputOptions.idColumn)
        let out = try OutputFile(path: output)
        let errors = try errorsPath.map { (p) throws(InputError) in try OutputFile(path: p) }
        try errors?.write("record\tid\tinput\treason\n")
        let tasks = trained.header.tasks
        let columns = tasks.count == 1 ? ["score", "uncertainty"] : tasks.flatMap { ["score_\($0)", "uncertainty_\($0)"] }
        try out.write((["id", "smiles"] + columns).joined(separator: ",") + "\n")
        let pool = WorkerPool(threads: threads)
        defer { pool.shutdown() }
        let workers = try ModelWorkers(trained, count: pool.threads)
        return try streamInOrder(reader, pool: pool, batchSize: 256, batchesPerRound: pool.threads * 4, out: out, errors: errors,
                                 progressLabel: showProgress ? "predict" : nil) { batch, worker in
            var result = BatchOutput()
            var graphs: [MolecularGraph] = [], kept: [Int] = []
            for i in 0..<batch.count {
                switch batch.molecule(i, parser: workers.parsers[worker]) {
                case .success(let graph): graphs.append(graph); kept.append(i)
                case .failure(let error): batch.appendErrorLine(i, reason: error.message, to: &result.errors)
                }
            }
            let prediction = graphs.isEmpty ? Prediction(scores: [], uncertainties: []) : workers.models[worker].predict(graphs)
            var text = ""
            for (k, i) in kept.enumerated() {
                text += csvField(batch.ids[i]) + "," + csvField(batch.kind == .smiles ? batch.text(i) : graphs[k].smiles())
                for t in 0..<tasks.count {
                    text += String(format: ",%.6f,%.6f", prediction.scores[k][t], prediction.uncertainties[k][t])
                }
                text += "\n"
            }
            result.out = Array(text.utf8)
            result.written = kept.count
            result.rejected = batch.count - kept.count
            return result
        }
    }
}
