import Foundation

/// The kinds of library file Winnow reads (each optionally gzip-compressed).
public enum LibraryFormat: String, Sendable, CaseIterable {
    case smiles = "smi"
    case csv
    case tsv
    case sdf

    /// Guesses the format from the file name (`.smi`, `.csv`, `.sdf`, with or without `.gz`).
    public static func guess(path: String) -> LibraryFormat? {
        var name = path.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        if name.hasSuffix(".smi") || name.hasSuffix(".smiles") || name.hasSuffix(".ism") || name.hasSuffix(".can")
            || name.hasSuffix(".txt") { return .smiles }
        if name.hasSuffix(".csv") { return .csv }
        if name.hasSuffix(".tsv") { return .tsv }
        if name.hasSuffix(".sdf") || name.hasSuffix(".sd") || name.hasSuffix(".mol") { return .sdf }
        return nil
    }
}

/// A run of consecutive input records. Record texts share one byte buffer to keep allocation low.
public struct RecordBatch: Sendable {
    public enum Kind: Sendable { case smiles, molfile }
    public var kind: Kind
    /// 1-based number of the first record in the batch.
    public var firstRecord: Int
    public var bytes: [UInt8] = []
    public var ranges: [Range<Int>] = []
    public var ids: [String] = []
    /// Problems found by the reader itself (empty line, missing column), by index in the batch.
    public var readErrors: [Int: String] = [:]
    /// For molfile records: the line of the file where each record starts.
    public var startLines: [Int] = []

    public var count: Int { ranges.count }

    public func text(_ i: Int) -> String { String(decoding: bytes[ranges[i]], as: UTF8.self) }
}

/// Streams a library file as batches of records, numbering every record so that a rejected one
/// never shifts the numbers or ids of those after it.
public final class LibraryReader {
    public let path: String
    public let format: LibraryFormat
    private let lines: ByteLineReader
    private let smilesColumn: String?
    private let idColumn: String?
    private var nextRecord = 1
    private var headerDone = false
    private var smilesIndex = 0
    private var idIndex: Int? = nil
    private var pendingLine: [UInt8]? = nil

    public init(path: String, format: LibraryFormat? = nil, smilesColumn: String? = nil, idColumn: String? = nil) throws(InputError) {
        guard let format = format ?? LibraryFormat.guess(path: path) ?? (path == "-" ? .smiles : nil) else {
            throw InputError("\(path): cannot tell the format from the name; use --format smi|csv|tsv|sdf")
        }
        self.path = path
        self.format = format
        self.smilesColumn = smilesColumn
        self.idColumn = idColumn
        self.lines = try ByteLineReader(path: path)
    }

    /// Records read so far.
    public var recordsRead: Int { nextRecord - 1 }

    /// Fraction of the input consumed (nil for standard input).
    public var fractionRead: Double? { lines.fractionRead }

    /// The next batch of at most `size` records, or nil at the end of the file.
    public func nextBatch(size: Int) throws -> RecordBatch? {
        switch format {
        case .smiles: return try nextSMILESBatch(size: size)
        case .csv, .tsv: return try nextDelimitedBatch(size: size, separator: format == .csv ? UInt8(ascii: ",") : UInt8(ascii: "\t"))
        case .sdf: return try nextSDFBatch(size: size)
        }
    }

    // MARK: - SMILES files: `SMILES<whitespace>ID`, optional header

    private static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 }

    private func nextSMILESBatch(size: Int) throws -> RecordBatch? {
        var batch = RecordBatch(kind: .smiles, firstRecord: nextRecord)
        batch.bytes.reserveCapacity(size * 48)
        while batch.count < size {
            let more: Bool? = try lines.nextLine { line -> Bool in
                // The SMILES field ends at the first tab (tab-separated files) or else at the first space.
                let hasTab = line.contains(9)
                var smilesEnd = 0
                if hasTab {
                    while smilesEnd < line.count, line[smilesEnd] != 9 { smilesEnd += 1 }
                } else {
                    while smilesEnd < line.count, line[smilesEnd] != 32 { smilesEnd += 1 }
                }
                var idStart = smilesEnd
                while idStart < line.count, Self.isSpace(line[idStart]) { idStart += 1 }
                var idEnd = idStart
                if hasTab {
                    while idEnd < line.count, line[idEnd] != 9 { idEnd += 1 }
                } else {
                    idEnd = line.count
                }
                while idEnd > idStart, Self.isSpace(line[idEnd - 1]) { idEnd -= 1 }
                var sStart = 0, sEnd = smilesEnd
                while sStart < sEnd, line[sStart] == 32 { sStart += 1 }
                while sEnd > sStart, line[sEnd - 1] == 32 { sEnd -= 1 }
                if !headerDone {
                    headerDone = true
                    let first = String(decoding: UnsafeBufferPointer(rebasing: line[sStart..<sEnd]), as: UTF8.self).lowercased()
                    if first == "smiles" || first == "canonical_smiles" { return true }
                }
                let number = nextRecord
                nextRecord += 1
                let offset = batch.bytes.count
                batch.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: line[sStart..<sEnd]))
                batch.ranges.append(offset..<batch.bytes.count)
                batch.ids.append(idEnd > idStart ? String(decoding: UnsafeBufferPointer(rebasing: line[idStart..<idEnd]), as: UTF8.self)
                                                 : "record \(number)")
                if line.isEmpty { batch.readErrors[batch.count - 1] = "empty line" }
                return true
            }
            if more == nil { break }
        }
        return batch.count > 0 ? batch : nil
    }

    // MARK: - CSV / TSV with a header row

    /// Splits one delimited line, honouring double quotes ("" inside quotes is a quote).
    public static func splitFields(_ line: UnsafeBufferPointer<UInt8>, separator: UInt8) -> (fields: [String], unterminated: Bool) {
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var i = 0
        while i < line.count {
            let c = line[i]
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < line.count, line[i + 1] == UInt8(ascii: "\"") { field.append(c); i += 1 } else { inQuotes = false }
                } else { field.append(c) }
            } else if c == UInt8(ascii: "\"") && field.isEmpty {
                inQuotes = true
            } else if c == separator {
                fields.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true)
            } else { field.append(c) }
            i += 1
        }
        fields.append(String(decoding: field, as: UTF8.self))
        return (fields, inQuotes)
    }

    private func readLogicalLine(separator: UInt8) throws -> [String]? {
        var accumulated: [UInt8] = []
        while true {
            let got: Bool? = try lines.nextLine { line in
                if !accumulated.isEmpty { accumulated.append(10) }
                accumulated.append(contentsOf: line)
                return true
            }
            if got == nil { return accumulated.isEmpty ? nil : accumulated.withUnsafeBufferPointer { Self.splitFields($0, separator: separator).fields } }
            let (fields, open) = accumulated.withUnsafeBufferPointer { Self.splitFields($0, separator: separator) }
            if !open { return fields }
        }
    }

    private func nextDelimitedBatch(size: Int, separator: UInt8) throws -> RecordBatch? {
        if !headerDone {
            headerDone = true
            guard let header = try readLogicalLine(separator: separator) else { return nil }
            let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
            let wanted = smilesColumn ?? "smiles"
            guard let s = names.firstIndex(where: { $0.caseInsensitiveCompare(wanted) == .orderedSame }) else {
                throw InputError("\(path): no column named '\(wanted)' in the header (columns: \(names.joined(separator: ", "))); use --smiles-column")
            }
            smilesIndex = s
            if let idColumn {
                guard let k = names.firstIndex(where: { $0.caseInsensitiveCompare(idColumn) == .orderedSame }) else {
                    throw InputError("\(path): no column named '\(idColumn)' in the header (columns: \(names.joined(separator: ", ")))")
                }
                idIndex = k
            }
        }
        var batch = RecordBatch(kind: .smiles, firstRecord: nextRecord)
        while batch.count < size, let fields = try readLogicalLine(separator: separator) {
            let number = nextRecord
            nextRecord += 1
            let smiles = smilesIndex < fields.count ? fields[smilesIndex].trimmingCharacters(in: .whitespaces) : ""
            var id = "record \(number)"
            if let idIndex, idIndex < fields.count, !fields[idIndex].isEmpty { id = fields[idIndex] }
            let offset = batch.bytes.count
            batch.bytes.append(contentsOf: smiles.utf8)
            batch.ranges.append(offset..<batch.bytes.count)
            batch.ids.append(id)
            if smilesIndex >= fields.count {
                batch.readErrors[batch.count - 1] = "row has \(fields.count) fields; the SMILES column is field \(smilesIndex + 1)"
            }
        }
        return batch.count > 0 ? batch : nil
    }

    // MARK: - SDF: records end at `$$$$`; split here, parsed in parallel later

    private func nextSDFBatch(size: Int) throws -> RecordBatch? {
        var batch = RecordBatch(kind: .molfile, firstRecord: nextRecord)
        var record: [UInt8] = []
        var recordStart = 0
        var title: String? = nil
        var lineInRecord = 0
        func finish() {
            let number = nextRecord
            nextRecord += 1
            let offset = batch.bytes.count
            batch.bytes.append(contentsOf: record)
            batch.ranges.append(offset..<batch.bytes.count)
            let name = (title ?? "").trimmingCharacters(in: .whitespaces)
            batch.ids.append(name.isEmpty ? "record \(number)" : name)
            batch.startLines.append(recordStart)
            record.removeAll(keepingCapacity: true)
            title = nil
            lineInRecord = 0
        }
        while batch.count < size {
            let got: Bool? = try lines.nextLine { line in
                if line.count >= 4, line[0] == 36, line[1] == 36, line[2] == 36, line[3] == 36 {
                    finish()
                    return true
                }
                if lineInRecord == 0 {
                    recordStart = lines.lineNumber
                    title = String(decoding: line, as: UTF8.self)
                }
                lineInRecord += 1
                record.append(contentsOf: line)
                record.append(10)
                return true
            }
            if got == nil {
                // A last record without `$$$$` still counts unless it is only blank lines.
                if record.contains(where: { $0 != 10 && $0 != 32 && $0 != 9 }) { finish() }
                break
            }
        }
        return batch.count > 0 ? batch : nil
    }
}
