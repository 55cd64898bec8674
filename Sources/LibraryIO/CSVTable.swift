/// A whole delimited file with a header row, for labelled training data (small next to libraries).
public struct CSVTable: Sendable {
    public var path: String
    public var header: [String]
    public var rows: [[String]]

    public static func read(path: String) throws -> CSVTable {
        var name = path.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        let separator: UInt8 = name.hasSuffix(".tsv") ? 9 : UInt8(ascii: ",")
        let lines = try ByteLineReader(path: path)
        var header: [String]? = nil
        var rows: [[String]] = []
        var row = DelimitedRow(separator: separator)
        while let complete = try lines.nextLine({ row.add($0, lineNumber: lines.lineNumber) }) {
            if !complete { continue }
            let fields = row.fields()
            row = DelimitedRow(separator: separator)
            if header == nil { header = fields.map { $0.trimmingCharacters(in: .whitespaces) } } else if !(fields.count == 1 && fields[0].isEmpty) {
                rows.append(fields)
            }
        }
        if let line = row.openQuoteLine {
            throw InputError(file: path, reason: "end of file inside a quoted field: the quote opened on line \(line) is never closed")
        }
        guard let header else { throw InputError("\(path): empty file, expected a header row") }
        return CSVTable(path: path, header: header, rows: rows)
    }

    /// Index of a column by name (case-insensitive), or an error listing the columns.
    public func column(_ name: String) throws -> Int {
        guard let index = header.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
            throw InputError("\(path): no column named '\(name)' (columns: \(header.joined(separator: ", ")))")
        }
        return index
    }
}

import Foundation

/// A label cell as a number: active/inactive (also yes/no, true/false, any case) as 1/0, or a finite
/// number (pIC50, docking score); nil when it is neither. Shared by training data and campaign results.
public func labelValue(_ cell: String) -> Double? {
    switch cell.lowercased() {
    case "active", "yes", "true": return 1
    case "inactive", "no", "false": return 0
    default:
        guard let number = Double(cell), number.isFinite else { return nil }
        return number
    }
}
