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
        abstract: "Train a random forest, a fingerprint MLP or a D-MPNN (or an ensemble of them) on labelled molecules.",
        discussion: """
        Example: winnow train --data targets/bace1/bace.csv --label-column Class --split-column split \\
                 -o targets/bace1/model.winnow
        (a 500-tree forest in seconds, the recipe of targets/bace1/config that scripts/demo trains;
        --model mlp --epochs 10 a fingerprint MLP, --model dmpnn --epochs 30 a D-MPNN)
        --model rf (the default) trains a random forest on Morgan counts alone; --model auto
        cross-validates a small fixed grid (forests, MLPs, a D-MPNN) and keeps the forest unless a network
        or the mixture of the best network and forest is clearly better.
        Classes are weighted automatically when fewer than 20% (or more than 80%) of the labels are active.
        """
    )

    @Option(help: "Labelled CSV (or TSV) file.") var data: String
    @Option(help: "Column with the SMILES.") var smilesColumn = "smiles"
    @Option(parsing: .singleValue, help: "Label column (repeat for multi-task; empty cells = not measured).")
    var labelColumn: [String] = []
    @Option(help: "Column with ids (default: row N).") var idColumn: String?
    @Option(help: "Column naming each row's part: train, valid, test.") var splitColumn: String?
    @Option(help: "Split when there is no split column: scaffold or random.") var split: SplitMethod = .scaffold
    @Option(help: "Seed for the split, initialisation and batching.") var seed: UInt64 = 0
    @Option(help: "Seed for the scaffold or random split only (default: --seed).") var splitSeed: UInt64?
    @Option(help: "Model kind: rf (random forest on Morgan counts: the best-measured kind, in seconds), mlp, dmpnn, or auto (cross-validate a small grid of them on the training + validation rows, keep the forest unless another is clearly better).")
    var model: ModelChoice = .rf
    @Option(help: "Ensemble members (different seeds); their spread is the uncertainty.") var members = 1
    @Option(help: "Also train a random forest of N trees on Morgan counts and average it with the networks.") var forest: Int?
    @Option(help: "Trees of --model rf (default 500).") var trees: Int?
    @Option(help: "Random forest: Morgan bits tried per split, each at every count it takes (default: the square root of 2048 for classification, all for regression).")
    var maxFeatures: Int?
    @Option(help: "Random forest: deepest level (default: grow until pure).") var maxDepth: Int?
    @Option(help: "Random forest: fewest molecules in a leaf (default 1; auto's grid tries 1 and 3).") var minLeaf: Int?
    @Flag(inversion: .prefixedNo, help: "Random forest input: Morgan counts, split at every count a drawn bit takes (the default), or on-bits (--no-forest-counts).")
    var forestCounts: Bool?
    @Option(help: "Training epochs.") var epochs = 30
    @Option(help: "Molecules per batch.") var batchSize = 50
    @Option(help: "Hidden size (D-MPNN messages, MLP first layer).") var hidden: Int?
    @Option(help: "Message-passing depth (D-MPNN).") var depth = 3
    @Option(help: "Atom aggregation (D-MPNN): norm (sum / 100, Chemprop v2's default), mean or sum.") var aggregation: DMPNN.Aggregation = .norm
    @Option(help: "Head hidden layer sizes, comma-separated.") var headHidden: String?
    @Option(help: "Dropout probability.") var dropout: Float?
    @Option(help: "Decoupled weight decay.") var weightDecay: Float = 0
    @Option(help: "Stop after this many epochs without validation improvement.") var patience: Int?
    @Flag(inversion: .prefixedNo, help: "Weight the classes by their ratio (forests: scikit-learn's balanced class weights). Default: on when under 20% or over 80% of the labels are active.")
    var balance: Bool?
    @Option(help: "Validation measure for early stopping, best epoch and --model auto: roc-auc, prc-auc, bedroc20 (default: prc-auc when actives are rare, else roc-auc).")
    var selectionMetric: SelectionMetric?
    @Option(help: "Model kinds --model auto tries, comma-separated (default rf,mlp,dmpnn).") var autoKinds = "rf,mlp,dmpnn"
    @Option(help: "Cross-validation folds of --model auto over the training + validation rows (grouped by scaffold unless --split random; 0: score on the validation rows once).")
    var autoFolds = 5
    @Option(help: "Write each row's split part (row,part) here.") var saveSplit: String?
    @Option(help: "Extra network inputs beside the learned representation: descriptors (the 16 'winnow describe' columns, scaled by the training rows) or none. Not for --model rf.")
    var extraFeatures: ExtraFeatureSet = .none
    @Option(help: "Numeric columns of the data file fed to the networks beside the learned representation, comma-separated (scaled; every library scored must have them). Not for --model rf.")
    var featureColumns: String?
    @OptionGroup(title: "The MLP's Morgan fingerprints") var morgan: MorganOptions
    @OptionGroup var standardizeOptions: StandardizeOptions
    @Flag(help: "MLP input: on/off bits instead of counts.") var binary = false
    @Option(help: "Threads for the matrix work (default: all cores).") var threads: Int?
    @Option(name: .shortAndLong, help: "Model file to write.") var output: String
    @Option(help: "Also write the final metrics as JSON here.") var metrics: String?
    @Option(help: "Write rejected rows here.") var errors: String?

    func validate() throws {
        try validateThreads(threads)
        if labelColumn.isEmpty { throw ValidationError("give at least one --label-column") }
        if let trees, trees < 1 || trees > 10_000 { throw ValidationError("--trees takes 1 to 10000 trees") }
        if let maxFeatures, maxFeatures < 1 || maxFeatures > TrainedModel.forestFingerprint.size { throw ValidationError("--max-features takes 1 to \(TrainedModel.forestFingerprint.size) bits") }
        if let maxDepth, maxDepth < 1 { throw ValidationError("--max-depth must be at least 1") }
        if let minLeaf, minLeaf < 1 { throw ValidationError("--min-leaf must be at least 1") }
        guard autoFolds == 0 || (2...20).contains(autoFolds) else { throw ValidationError("--auto-folds must be 0 or 2 to 20") }
        let kinds = autoKinds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !kinds.isEmpty, kinds.allSatisfy({ ModelKind(rawValue: $0) != nil }) else {
            throw ValidationError("--auto-kinds takes a comma-separated list of rf, mlp and dmpnn")
        }
        if selectionMetric == .rmse {
            throw ValidationError("--selection-metric must be roc-auc, prc-auc or bedroc20")
        }
        guard members >= 1, members <= 64 else { throw ValidationError("--members must be between 1 and 64") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        if let forest, forest < 1 || forest > 10_000 { throw ValidationError("--forest takes 1 to 10000 trees") }
        if let featureColumns, parseNames(featureColumns).isEmpty { throw ValidationError("--feature-columns takes comma-separated column names") }
        if model == .rf && (extraFeatures != .none || featureColumns != nil) {
            throw ValidationError("--model rf reads Morgan bits only; --extra-features and --feature-columns feed the networks (--model mlp, dmpnn or auto)")
        }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        try checkOutputs([output, metrics, errors], inputs: [data])
        // Gradient shards and forest trees run on parallel threads (Learning keeps BLAS single-threaded).
        let threadCount = threads ?? defaultThreadCount()
        let started = Date()
        let columnNames = featureColumns.map(parseNames) ?? []
        // Standardised by default, as `screen` reads libraries: a salt form trains as its parent.
        let standardize = standardizeOptions.standardize ?? true
        let labelled = try LabelledData.load(path: data, smilesColumn: smilesColumn, labelColumns: labelColumn, idColumn: idColumn,
                                             featureColumns: columnNames, standardize: standardize)
        try labelled.reportRejections(to: errors, command: "train")
        if standardize { printToStandardError(standardizationNote(command: "train", labelled.standardized)) }
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
        } else if split == .random {
            parts = DataSplits.random(count: dataset.count, seed: splitSeed ?? seed)
            splitDescription = "random 80/10/10 seed \(splitSeed ?? seed)"
        } else {
            parts = DataSplits.scaffold(keys: dataset.graphs.map { $0.scaffoldKey() }, seed: splitSeed ?? seed)
            splitDescription = "scaffold 80/10/10 seed \(splitSeed ?? seed)"
        }
        if let saveSplit {
            let text = "row,part\n" + zip(labelled.rowNumbers, parts).map { "\($0),\($1.rawValue)\n" }.joined()
            try OutputFile.write(text, to: saveSplit)
        }
        let trainRows = parts.indices.filter { parts[$0] == .train }
        let validationRows = parts.indices.filter { parts[$0] == .validation }
        let testRows = parts.indices.filter { parts[$0] == .test }
        guard !trainRows.isEmpty else { throw CommandFailure("\(data): no training rows") }

        var base = TrainingOptions()
        base.members = members
        base.epochs = epochs
        base.batchSize = batchSize
        base.seed = seed
        base.depth = depth
        base.aggregation = aggregation
        base.weightDecay = weightDecay
        base.patience = patience
        base.fingerprint = morgan.settings
        base.useCounts = !binary
        if extraFeatures != .none || !columnNames.isEmpty {
            base.extraFeatures = ExtraFeatures(descriptors: extraFeatures == .descriptors ? ExtraFeatures.allDescriptors : [], columns: columnNames)
        }
        // Imbalance: weighted classes unless told otherwise when the active rate is far from 50%.
        var balanceNote = ""
        if dataset.taskKind == .classification {
            let decision = ClassBalance.decide(dataset, rows: trainRows, requested: balance)
            base.balanceClasses = decision.balance
            base.balanceAutomatic = decision.automatic
            let percent = String(format: "%.1f%%", 100 * decision.activeRate)
            balanceNote = "; \(percent) of training labels active: " + (decision.automatic
                ? "balanced class weights switched on (--no-balance to turn off)"
                : balance == nil ? "classes unweighted" : "classes \(decision.balance ? "weighted" : "unweighted") as asked")
        }
        let selection = selectionMetric
            ?? SelectionMetric.forScreening(dataset, rows: trainRows)
        base.selectionMetric = selection
        // The forest options given on the command line, over a kind's or a grid candidate's settings.
        func applyForestFlags(_ settings: inout RandomForest.Settings?) {
            if let maxFeatures { settings?.maxFeatures = maxFeatures }
            if let maxDepth { settings?.maxDepth = maxDepth }
            if let minLeaf { settings?.minimumLeaf = minLeaf }
            if let forestCounts { settings?.counts = forestCounts }
        }
        func options(for kind: ModelKind) -> TrainingOptions {
            var options = base.withDefaults(for: kind)
            if let hidden { options.hidden = hidden }
            if let headHidden { options.headHidden = parseSizes(headHidden) }
            if let dropout { options.dropout = dropout }
            var forestSettings: RandomForest.Settings? = kind == .rf ? options.forest : forest.map { trees in
                var settings = RandomForest.Settings()
                settings.trees = trees
                return settings
            }
            if kind == .rf, let trees { forestSettings?.trees = trees }
            applyForestFlags(&forestSettings)
            options.forest = forestSettings
            return options
        }
        let what = model == .auto ? "auto (grid of \(autoKinds))" : "\(model.rawValue)\(model == .rf ? "" : " × \(members)")"
        printToStandardError("winnow train: \(dataset.count) molecules (\(trainRows.count) train, \(validationRows.count) validation, \(testRows.count) test; \(splitDescription)), \(dataset.taskKind.rawValue), model \(what)\(forest.map { " + random forest of \($0) trees" } ?? "")\(base.extraFeatures.map { "; \($0.count) extra features (\($0.names.joined(separator: ",")))" } ?? "")\(balanceNote); validation measure \(selection.rawValue)")
        let info = TrainingDataInfo(file: URL(fileURLWithPath: data).lastPathComponent, hash: labelled.fileHash, rows: dataset.count,
                                    split: splitDescription,
                                    counts: ["train": trainRows.count, "validation": validationRows.count, "test": testRows.count],
                                    standardized: standardize)
        let trained: TrainedModel
        if let kind = model.kind {
            trained = try TrainedModel.train(dataset, train: trainRows, validation: validationRows, options: options(for: kind),
                                         dataInfo: info, threads: threadCount) { r in
                let metric = r.validationMetric.map { String(format: "%.4f", r.metricName == "rmse" ? -$0 : $0) } ?? "-"
                let loss = String(format: "%.4f", Double(r.loss)), seconds = String(format: "%.1f", r.seconds)
                printToStandardError("member \(r.member + 1) epoch \(r.epoch)  loss \(loss)  validation \(r.metricName) \(metric)  (\(seconds) s)")
            }
        } else {
            let kinds = autoKinds.split(separator: ",").compactMap { ModelKind(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
            let grid = ModelSearch.grid(base: base, kinds: ModelKind.allCases.filter(kinds.contains), forestTrees: trees ?? 500).map { candidate in
                // User-given sizes and forest settings apply to the grid's candidates of that kind too.
                var c = candidate
                let named = options(for: c.options.kind)
                if hidden != nil { c.options.hidden = named.hidden }
                if headHidden != nil { c.options.headHidden = named.headHidden }
                if dropout != nil { c.options.dropout = named.dropout }
                if c.options.kind == .rf { applyForestFlags(&c.options.forest) }
                return c
            }
            var folds: [[Int]] = []
            if autoFolds >= 2 {
                // Scaffold-grouped folds (a molecule's scaffold never on both sides) unless the split is random.
                let grouped = splitColumn != nil || split == .scaffold
                folds = ModelSearch.folds(dataset, rows: (trainRows + validationRows).sorted(),
                                          groups: grouped ? dataset.graphs.map { $0.scaffoldKey() } : nil, k: autoFolds, seed: seed)
                printToStandardError("winnow train: auto: \(autoFolds)-fold cross-validation on \(trainRows.count + validationRows.count) training + validation molecules (\(grouped ? "grouped by scaffold" : "random, stratified"); fold sizes \(folds.map { String($0.count) }.joined(separator: "/")))")
            } else if validationRows.isEmpty {
                printToStandardError("winnow train: warning: no validation rows; --model auto keeps the first candidate (\(grid[0].name))")
            }
            let searchStarted = Date()
            let (chosen, record) = try ModelSearch.run(dataset, train: trainRows, validation: validationRows, candidates: grid, metric: selection,
                                                   folds: folds, dataInfo: info, threads: threadCount) { printToStandardError($0) }
            printToStandardError(String(format: "winnow train: auto chose %@ (%d candidates, %.1f s)", record.chosen, record.candidates.count,
                                        Date().timeIntervalSince(searchStarted)))
            trained = chosen
        }
        var results: [String: Double] = [:]
        // A forest that `auto` refit on the validation rows has seen them: its validation numbers would
        // be training numbers (the cross-validation folds, `auto.validation.*`, stand for them).
        let validationSeen = trained.header.selection?.forestOnValidation == true
        if validationSeen {
            printToStandardError("winnow train: auto: the forest was refit on the training + validation rows; validation metrics are left out (the folds' are under auto.*)")
        }
        for (name, rows) in [("train", trainRows), ("validation", validationSeen ? [] : validationRows), ("test", testRows)] where !rows.isEmpty {
            let prediction = trained.predict(rows.map { dataset.graphs[$0] }, columns: dataset.featureColumns(rows))
            for (key, value) in Evaluation.metrics(scores: prediction.scores, data: dataset, rows: rows) {
                results["\(name).\(key)"] = value
            }
        }
        // The model file keeps only what the data, options and seed determine (the same bytes run after
        // run); the wall time goes to stdout and --metrics.
        trained.header.metrics = results
        results["training_seconds"] = Date().timeIntervalSince(started)
        var extra: [String: String] = ["model": trained.header.kind.rawValue, "selection_metric": selection.rawValue,
                                       "balanced_classes": String(trained.header.options.balanceClasses)]
        if let record = trained.header.selection {
            extra["auto.chosen"] = record.chosen
            for c in record.candidates {
                results["auto.validation.\(c.name)"] = c.validation
                for (k, value) in (c.folds ?? []).enumerated() { if let value { results["auto.fold\(k + 1).\(c.name)"] = value } }
            }
            if let folds = record.folds { results["auto.folds"] = Double(folds) }
            if let rule = record.rule { extra["auto.rule"] = rule }
        }
        try trained.write(to: URL(fileURLWithPath: output))
        let text = try jsonString(results, strings: extra)
        print(text, terminator: "")
        if let metrics { try OutputFile.write(text, to: metrics) }
        printToStandardError("winnow train: model written to \(output)")
    }
}

/// Comma-separated names, trimmed, empty ones dropped.
func parseNames(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// `--extra-features`: what the networks read beside their learned representation.
enum ExtraFeatureSet: String, ExpressibleByArgument, CaseIterable {
    case none, descriptors
}

func parseSizes(_ text: String) -> [Int] {
    text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
}

/// `--model`: one kind, or `auto` (a fixed grid tried on the validation rows).
enum ModelChoice: String, ExpressibleByArgument, CaseIterable {
    case rf, mlp, dmpnn, auto
    /// The kind trained alone; nil for `auto`.
    var kind: ModelKind? { ModelKind(rawValue: rawValue) }
}

/// `--split` when the data has no split column.
enum SplitMethod: String, ExpressibleByArgument, CaseIterable {
    case scaffold, random
}

extension DMPNN.Aggregation: ExpressibleByArgument {
    public static var allValueStrings: [String] { ["norm", "mean", "sum"] }
}

extension SelectionMetric: ExpressibleByArgument {
    /// RMSE is the regression measure; it is never asked for.
    public static var allValueStrings: [String] { ["roc-auc", "prc-auc", "bedroc20"] }
}
