import ArgumentParser
import Chemistry
import Fingerprints
import Foundation
import Learning
import LibraryIO
import Screening

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a fingerprint MLP or a D-MPNN (or an ensemble of them) on labelled molecules.",
        discussion: """
        Example: winnow train --data targets/bace1/bace.csv --label-column Class --split-column split \\
                 --model mlp --epochs 10 -o targets/bace1/model.winnow
        (a quick model; scripts/demo trains with targets/bace1/config: five members, 30 epochs;
        --model dmpnn trains a D-MPNN)
        """
    )

    @Option(help: "Labelled CSV (or TSV) file.") var data: String
    @Option(help: "Column with the SMILES.") var smilesColumn = "smiles"
    @Option(parsing: .singleValue, help: "Label column (repeat for multi-task; empty cells = not measured).")
    var labelColumn: [String] = []
    @Option(help: "Column with ids (default: row N).") var idColumn: String?
    @Option(help: "Column naming each row's part: train, valid, test.") var splitColumn: String?
    @Option(help: "Split when there is no split column: scaffold or random.") var split = "scaffold"
    @Option(help: "Seed for the split, initialisation and batching.") var seed: UInt64 = 0
    @Option(help: "Model kind: mlp or dmpnn.") var model = "dmpnn"
    @Option(help: "Ensemble members (different seeds); their spread is the uncertainty.") var members = 1
    @Option(help: "Also train a random forest of N trees on Morgan bits and average it with the networks.") var forest: Int?
    @Option(help: "Training epochs.") var epochs = 30
    @Option(help: "Molecules per batch.") var batchSize = 50
    @Option(help: "Hidden size (D-MPNN messages, MLP first layer).") var hidden: Int?
    @Option(help: "Message-passing depth (D-MPNN).") var depth = 3
    @Option(help: "Atom aggregation (D-MPNN): norm (sum / 100, Chemprop v2's default), mean or sum.") var aggregation = "norm"
    @Option(help: "Head hidden layer sizes, comma-separated.") var headHidden: String?
    @Option(help: "Dropout probability.") var dropout: Float?
    @Option(help: "Decoupled weight decay.") var weightDecay: Float = 0
    @Option(help: "Stop after this many epochs without validation improvement.") var patience: Int?
    @Flag(help: "Weight positives by the class ratio (imbalanced sets).") var balance = false
    @Option(help: "Morgan radius of the MLP's fingerprints.") var radius = 2
    @Option(help: "Morgan fingerprint size of the MLP.") var bits = 2048
    @Flag(help: "MLP input: on/off bits instead of counts.") var binary = false
    @Option(help: "Threads for the matrix work (default: all cores).") var threads: Int?
    @Option(name: .shortAndLong, help: "Model file to write.") var output: String
    @Option(help: "Also write the final metrics as JSON here.") var metrics: String?
    @Option(help: "Write rejected rows here.") var errors: String?

    func validate() throws {
        try validateThreads(threads)
        if labelColumn.isEmpty { throw ValidationError("give at least one --label-column") }
        guard ModelKind(rawValue: model) != nil else { throw ValidationError("--model must be mlp or dmpnn") }
        guard ["scaffold", "random"].contains(split) else { throw ValidationError("--split must be scaffold or random") }
        guard DMPNN.Aggregation(rawValue: aggregation) != nil else { throw ValidationError("--aggregation must be mean, sum or norm") }
        guard members >= 1, members <= 64 else { throw ValidationError("--members must be between 1 and 64") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        if let forest, forest < 1 || forest > 10_000 { throw ValidationError("--forest takes 1 to 10000 trees") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        try checkFiles(outputs: [output, metrics, errors], inputs: [data])
        // Gradient shards run on parallel threads; BLAS stays single-threaded inside each.
        let threadCount = threads ?? defaultThreadCount()
        Trainer.parallel = threadCount > 1
        BLAS.useSingleThread()
        let started = Date()
        let labelled = try LabelledData.load(path: data, smilesColumn: smilesColumn, labelColumns: labelColumn, idColumn: idColumn)
        try labelled.reportRejections(to: errors, command: "train")
        let dataset = labelled.dataset
        var parts: [SplitPart]
        var splitDescription: String
        if let splitColumn {
            let column = try labelled.table.column(splitColumn)
            let values = labelled.rowNumbers.map { row -> String in
                let fields = labelled.table.rows[row - 1]
                return column < fields.count ? fields[column] : ""
            }
            do { parts = try DataSplits.fromColumn(values) } catch { throw CommandFailure("\(data): \(error)") }
            splitDescription = "column \(splitColumn)"
        } else if split == "random" {
            parts = DataSplits.random(count: dataset.count, seed: seed)
            splitDescription = "random 80/10/10 seed \(seed)"
        } else {
            parts = DataSplits.scaffold(keys: dataset.graphs.map { $0.scaffoldKey() }, seed: seed)
            splitDescription = "scaffold 80/10/10 seed \(seed)"
        }
        let trainRows = parts.indices.filter { parts[$0] == .train }
        let validationRows = parts.indices.filter { parts[$0] == .validation }
        let testRows = parts.indices.filter { parts[$0] == .test }
        guard !trainRows.isEmpty else { throw CommandFailure("\(data): no training rows") }

        var options = TrainingOptions()
        options.kind = ModelKind(rawValue: model)!
        options.members = members
        options.epochs = epochs
        options.batchSize = batchSize
        options.seed = seed
        options.depth = depth
        options.aggregation = DMPNN.Aggregation(rawValue: aggregation)!
        options.weightDecay = weightDecay
        options.patience = patience
        options.balanceClasses = balance
        options.forestTrees = forest
        options.fingerprint = MorganSettings(radius: radius, size: bits)
        options.useCounts = !binary
        if options.kind == .mlp {
            // 512 → 128 scores as well as 1024 → 256 on BACE (within seed noise) and screens ~25% faster.
            options.hidden = hidden ?? 512
            options.headHidden = headHidden.map(parseSizes) ?? [128]
            options.dropout = dropout ?? 0.2
        } else {
            options.hidden = hidden ?? 300
            options.headHidden = headHidden.map(parseSizes) ?? [300]
            options.dropout = dropout ?? 0
        }
        printToStandardError("winnow train: \(dataset.count) molecules (\(trainRows.count) train, \(validationRows.count) validation, \(testRows.count) test; \(splitDescription)), \(dataset.taskKind.rawValue), model \(model) × \(members)\(forest.map { " + random forest of \($0) trees" } ?? "")")
        let info = TrainingDataInfo(file: URL(fileURLWithPath: data).lastPathComponent, hash: labelled.fileHash, rows: dataset.count,
                                    split: splitDescription,
                                    counts: ["train": trainRows.count, "validation": validationRows.count, "test": testRows.count])
        let trained = try TrainedModel.train(dataset, train: trainRows, validation: validationRows, options: options, dataInfo: info) { r in
            let metric = r.validationMetric.map { String(format: "%.4f", r.metricName == "rmse" ? -$0 : $0) } ?? "-"
            let loss = String(format: "%.4f", Double(r.loss)), seconds = String(format: "%.1f", r.seconds)
            printToStandardError("member \(r.member + 1) epoch \(r.epoch)  loss \(loss)  validation \(r.metricName) \(metric)  (\(seconds) s)")
        }
        var results: [String: Double] = [:]
        for (name, rows) in [("train", trainRows), ("validation", validationRows), ("test", testRows)] where !rows.isEmpty {
            let prediction = trained.predict(rows.map { dataset.graphs[$0] })
            for (key, value) in Evaluation.metrics(scores: prediction.scores, data: dataset, rows: rows) {
                results["\(name).\(key)"] = value
            }
        }
        // The model file keeps only what the data, options and seed determine (the same bytes run after
        // run); the wall time goes to stdout and --metrics.
        trained.header.metrics = results
        results["training_seconds"] = Date().timeIntervalSince(started)
        try trained.write(to: URL(fileURLWithPath: output))
        let text = jsonString(results)
        print(text, terminator: "")
        if let metrics { try OutputFile.write(text, to: metrics) }
        printToStandardError("winnow train: model written to \(output)")
    }
}

func parseSizes(_ text: String) -> [Int] {
    text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
}
