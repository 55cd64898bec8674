import Foundation
import Learning
import LibraryIO

/// One row of a results (or initial labels) file.
public struct LabelEntry: Sendable, Equatable {
    public var row: Int
    public var id: String
    public var value: Double
    public var smiles: String?
}

/// A results file read and checked as a whole: either every row is usable, or `problems` lists each
/// bad row (file, row, reason) and nothing of it should be written.
public struct LabelFile: Sendable {
    public var path: String
    public var entries: [LabelEntry]
    public var problems: [String]
    /// True when every value is 0/1 or active/inactive.
    public var allBinary: Bool

    static let defaultLabelColumns = ["label", "value", "active", "activity", "result", "score"]

    /// Reads `id` and label columns of a CSV/TSV file. Labels may be active/inactive (yes/no,
    /// true/false, 1/0) or numbers; with `taskKind` classification only the binary forms are allowed.
    /// `idOption` is the command-line option that names the id column, for the hint when it is missing
    /// (`campaign record` has `--id-column`, `campaign init` `--labels-id-column`).
    public static func read(path: String, idColumn: String = "id", labelColumn: String? = nil, smilesColumn: String? = nil,
                            taskKind: TaskKind? = nil, idOption: String = "--id-column") throws -> LabelFile {
        let table: CSVTable
        do { table = try CSVTable.read(path: path) } catch {
            throw CampaignError("\(path): cannot read the results file (\(error))")
        }
        guard let idIndex = table.header.firstIndex(where: { $0.lowercased() == idColumn.lowercased() }) else {
            throw CampaignError("\(path): no '\(idColumn)' column (columns: \(table.header.joined(separator: ", ")); choose one with \(idOption))")
        }
        let labelIndex: Int
        if let labelColumn {
            guard let index = table.header.firstIndex(where: { $0.lowercased() == labelColumn.lowercased() }) else {
                throw CampaignError("\(path): no '\(labelColumn)' column (columns: \(table.header.joined(separator: ", ")))")
            }
            labelIndex = index
        } else if let index = table.header.firstIndex(where: { defaultLabelColumns.contains($0.lowercased()) }) {
            labelIndex = index
        } else if table.header.count == 2 {
            labelIndex = 1 - idIndex
        } else {
            throw CampaignError("\(path): which column holds the results? None is called \(defaultLabelColumns.joined(separator: ", ")); name it with --label-column")
        }
        let smilesIndex = smilesColumn.flatMap { name in table.header.firstIndex(where: { $0.lowercased() == name.lowercased() }) }
        var file = LabelFile(path: path, entries: [], problems: [], allBinary: true)
        var seen: [String: (row: Int, value: Double)] = [:]
        for (r, fields) in table.rows.enumerated() {
            let row = r + 1
            func field(_ i: Int) -> String { i < fields.count ? fields[i].trimmingCharacters(in: .whitespaces) : "" }
            let id = field(idIndex), cell = field(labelIndex)
            if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            // `R2,1,000` is three fields under a two-column header: a number with a thousands
            // separator, or a comma inside an unquoted value. Taking the first would record 1.
            if fields.count > table.header.count, fields[table.header.count...].contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                file.problems.append("\(path) row \(row): \(fields.count) fields, but the header has \(table.header.count) (a comma inside a value? quote the value, and write numbers without thousands separators)")
                continue
            }
            guard !id.isEmpty else { file.problems.append("\(path) row \(row): empty id"); continue }
            guard let value = labelValue(cell) else {
                file.problems.append("\(path) row \(row): id \(id): value '\(cell)' is neither a number nor active/inactive")
                continue
            }
            if let issue = Dataset.labelProblem(value) {
                file.problems.append("\(path) row \(row): id \(id): value '\(cell)' \(issue)")
                continue
            }
            if value != 0 && value != 1 {
                file.allBinary = false
                if taskKind == .classification {
                    file.problems.append("\(path) row \(row): id \(id): value '\(cell)' is not active/inactive or 1/0, and this campaign has yes/no labels")
                    continue
                }
            }
            if let earlier = seen[id] {
                if earlier.value != value {
                    file.problems.append("\(path) row \(row): id \(id) is recorded twice with different values (row \(earlier.row): \(format(earlier.value)), row \(row): \(format(value)))")
                }
                continue
            }
            seen[id] = (row, value)
            file.entries.append(LabelEntry(row: row, id: id, value: value, smiles: smilesIndex.map(field).flatMap { $0.isEmpty ? nil : $0 }))
        }
        return file
    }

    static func format(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v) }
}
