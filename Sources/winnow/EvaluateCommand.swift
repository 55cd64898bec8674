import ArgumentParser
import Foundation
import Learning
import LibraryIO
import Screening

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score labelled molecules with a model and print the metrics as JSON.",
        discussion: """
        Example: winnow evaluate --model targets/bace1/model.winnow --data targets/bace1/bace.csv --part test
        Molecules are standardised as the model's training molecules were; --standardize /
        --no-standardize override it (with a warning).
        """
    )

    @Option(help: "Model file.") var model: String
    @Option(help: "Labelled CSV (or TSV) file.") var data: String
    @Option(help: "Column with the SMILES.") var smilesColumn = "smiles"
    @Option(parsing: .singleValue, help: "Label column(s), in the model's task order (default: the model's task names).")
    var labelColumn: [String] = []
    @Option(help: "Only rows whose split column says this part (e.g. test).") var part: String?
    @Option(help: "Column naming each row's part.") var splitColumn = "split"
    @Option(help: "Write rejected rows here.") var errors: String?
    @Option(help: "Accepted for compatibility; scoring runs on one thread.") var threads: Int?
    @OptionGroup var standardizeOptions: StandardizeOptions

    func validate() throws { try validateThreads(threads) }

    func run() throws {
        try checkOutputs([errors], inputs: [model, data])
        _ = threads  // scoring runs on this thread
        let trained = try TrainedModel.read(from: URL(fileURLWithPath: model))
        let columns = labelColumn.isEmpty ? trained.header.tasks : labelColumn
        guard columns.count == trained.header.tasks.count else {
            throw CommandFailure("the model has \(trained.header.tasks.count) tasks, \(columns.count) label columns given", status: ExitStatus.badUsage)
        }
        let labelled = try LabelledData.load(path: data, smilesColumn: smilesColumn, labelColumns: columns, idColumn: nil,
                                             taskKind: trained.header.taskKind, featureColumns: trained.featureColumns,
                                             featuresFor: "the model reads it as a feature: trained with --feature-columns",
                                             standardize: standardizeOptions.resolve(model: trained.header, command: "evaluate", legacyDefault: false))
        try labelled.reportRejections(to: errors, command: "evaluate")
        var rows = Array(0..<labelled.dataset.count)
        if let part {
            let column = try labelled.table.column(splitColumn)
            rows = rows.filter { i in
                let fields = labelled.table.rows[labelled.rowNumbers[i] - 1]
                return column < fields.count && fields[column].trimmingCharacters(in: .whitespaces).lowercased() == part.lowercased()
            }
        }
        let prediction = trained.predict(rows.map { labelled.dataset.graphs[$0] }, columns: labelled.dataset.featureColumns(rows))
        var metrics = Evaluation.metrics(scores: prediction.scores, data: labelled.dataset, rows: rows)
        metrics["rejected"] = Double(labelled.rejected.count)
        print(try jsonString(metrics), terminator: "")
    }
}
