import Chemistry
import Foundation
import Learning
import LibraryIO
import Screening

/// A labelled CSV read into a `Dataset`, with the rows that could not be used and why.
struct LabelledData {
    var dataset: Dataset
    /// Row numbers (1-based, header excluded) of the molecules kept, parallel to `dataset`.
    var rowNumbers: [Int]
    var rejected: [(row: Int, smiles: String, reason: String)]
    var table: CSVTable
    var fileHash: String
    /// What the standardiser changed (all zero when it was off).
    var standardized = Standardizer.Totals()

    /// `featureColumns`: numeric columns read beside each molecule (`--feature-columns`); a row whose
    /// value is not a number is rejected with the reason, and a file without the columns is an error
    /// naming every missing one (`featuresFor` says why they are needed).
    /// `standardize`: each molecule goes through the standardiser when read (as `train` and the
    /// model's `predict`/`screen` do by default); `standardized` counts what it changed.
    static func load(path: String, smilesColumn: String, labelColumns: [String], idColumn: String?,
                     taskKind: TaskKind? = nil, featureColumns: [String] = [], featuresFor: String = "--feature-columns",
                     standardize: Bool = false) throws -> LabelledData {
        let table = try CSVTable.read(path: path)
        let smilesIndex = try table.column(smilesColumn)
        let labelIndices = try labelColumns.map { try table.column($0) }
        let idIndex = try idColumn.map { try table.column($0) }
        let missing = featureColumns.filter { (try? table.column($0)) == nil }
        if !missing.isEmpty {
            throw InputError(file: path, reason: "no column\(missing.count == 1 ? "" : "s") named \(missing.map { "'\($0)'" }.joined(separator: ", ")) (\(featuresFor)); columns: \(table.header.joined(separator: ", "))")
        }
        let featureIndices = try featureColumns.map { try table.column($0) }
        var features: [[Double]] = []
        var limits = InputLimits()
        limits.standardize = standardize
        let parser = try MoleculeParser(limits: limits)
        var ids: [String] = [], smiles: [String] = [], graphs: [MolecularGraph] = [], labels: [[Double?]] = []
        var rows: [Int] = []
        var rejected: [(Int, String, String)] = []
        var allBinary = true
        for (r, fields) in table.rows.enumerated() {
            let row = r + 1
            let text = smilesIndex < fields.count ? fields[smilesIndex].trimmingCharacters(in: .whitespaces) : ""
            var values: [Double?] = []
            var problem: String? = nil
            for (k, index) in labelIndices.enumerated() {
                let cell = index < fields.count ? fields[index].trimmingCharacters(in: .whitespaces) : ""
                if cell.isEmpty { values.append(nil); continue }
                guard let value = labelValue(cell) else {
                    problem = "label '\(cell)' in column \(labelColumns[k]) is not a number or active/inactive"
                    break
                }
                if let issue = Dataset.labelProblem(value) {
                    problem = "label '\(cell)' in column \(labelColumns[k]) \(issue)"
                    break
                }
                if value != 0 && value != 1 { allBinary = false }
                values.append(value)
            }
            var featureValues: [Double] = []
            if problem == nil {
                for (k, index) in featureIndices.enumerated() {
                    switch ExtraFeatures.columnValue(index < fields.count ? fields[index] : "", column: featureColumns[k]) {
                    case .success(let value): featureValues.append(value)
                    case .failure(let error): problem = error.description
                    }
                    if problem != nil { break }
                }
            }
            if let problem { rejected.append((row, text, problem)); continue }
            do {
                let graph = try parser.parse(smiles: text)
                graphs.append(graph)
                smiles.append(text)
                ids.append(idIndex.flatMap { $0 < fields.count ? fields[$0] : nil } ?? "row \(row)")
                labels.append(values)
                if !featureIndices.isEmpty { features.append(featureValues) }
                rows.append(row)
            } catch {
                rejected.append((row, text, error.message))
            }
        }
        let kind = taskKind ?? (allBinary ? .classification : .regression)
        var data = Dataset(ids: ids, smiles: smiles, graphs: graphs, taskNames: labelColumns, taskKind: kind, labels: labels)
        data.featureColumns = features
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
        return LabelledData(dataset: data, rowNumbers: rows, rejected: rejected, table: table, fileHash: fnv1aHex(bytes),
                            standardized: parser.standardized)
    }

    func reportRejections(to errorsPath: String?, command: String) throws {
        guard !rejected.isEmpty else { return }
        printToStandardError("winnow \(command): \(rejected.count) rows of \(table.path) rejected" + (errorsPath == nil ? " (first: row \(rejected[0].row): \(rejected[0].reason))" : ""))
        if let errorsPath {
            let out = try OutputFile(path: errorsPath)
            try out.write("record\tid\tinput\treason\n")
            for r in rejected { try out.write("\(r.row)\trow \(r.row)\t\(r.smiles)\t\(r.reason)\n") }
            try out.close()
        }
    }
}

/// Metrics (and a few text fields) as a flat JSON object with sorted keys; non-finite numbers are null.
func jsonString(_ metrics: [String: Double], strings: [String: String] = [:]) throws -> String {
    try MetricsReport(numbers: metrics, texts: strings).jsonText()
}
