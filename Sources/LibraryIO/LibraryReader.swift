import Chemistry
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

    /// Tells the format from the first bytes of the (decompressed) data: SDF when a molfile counts
    /// line, `M  END` or `$$$$` shows in the first lines; CSV (or TSV) when the header names a SMILES
    /// column or columns were asked for; SMILES otherwise. A two-column `smiles<TAB>id` header stays
    /// SMILES, whose reader keeps the ids.
    public static func sniff(_ head: [UInt8], columnsGiven: Bool = false) -> LibraryFormat {
        var text = head[...]
        if text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == 10 || $0 == 13 }).prefix(200)
        for (i, line) in lines.enumerated() {
            let s = String(decoding: line, as: UTF8.self)
            if s.hasPrefix("$$$$") || s.hasPrefix("M  END") { return .sdf }
            if i == 3, s.hasSuffix("V2000") || s.hasSuffix("V3000") { return .sdf }
        }
        guard let first = lines.first else { return .smiles }
        let header = String(decoding: first, as: UTF8.self)
        func names(_ separator: Character) -> [String] {
            header.split(separator: separator, omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
            }
        }
        let smilesNames: Set<String> = ["smiles", "canonical_smiles"]
        if header.contains("\t") {
            let columns = names("\t")
            if columnsGiven || (columns.count > 2 && columns.contains(where: smilesNames.contains))
                || (columns.count == 2 && columns[1] == "smiles") { return .tsv }
        }
        if header.contains(",") {
            let columns = names(",")
            if columnsGiven || columns.contains(where: smilesNames.contains) { return .csv }
        }
        return .smiles
    }

    /// Names files that are certainly not libraries by their first bytes (after gzip decompression).
    public static func knownBinary(_ head: [UInt8]) -> String? {
        let magics: [([UInt8], String)] = [
            (Array("WNNWMODL".utf8), "a Winnow model file"),
            (Array("SQLite format 3".utf8) + [0], "an SQLite database (a campaign file?)"),
            ([0x50, 0x4B, 0x03, 0x04], "a zip archive"),
            ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz-compressed data (Winnow reads gzip only)"),
            ([0x28, 0xB5, 0x2F, 0xFD], "zstd-compressed data (Winnow reads gzip only)"),
            (Array("BZh".utf8), "bzip2-compressed data (Winnow reads gzip only)"),
            (Array("%PDF".utf8), "a PDF document"),
            ([0x89, 0x50, 0x4E, 0x47], "a PNG image"),
            ([0x7F, 0x45, 0x4C, 0x46], "an executable (ELF)"),
        ]
        for (magic, what) in magics where head.starts(with: magic) {
            // "BZh" is followed by the block size digit; anything else may be a SMILES-ish name.
            if magic.count == 3, !(head.count > 3 && (0x31...0x39).contains(head[3])) { continue }
            return what
        }
        return nil
    }

    /// Offset of the first byte that text never holds (NUL and other control bytes but tab, line
    /// ends and form feed), when the head has one; for data whose format is not named.
    public static func binaryByte(_ head: [UInt8]) -> Int? {
        head.firstIndex { $0 < 0x20 && $0 != 9 && $0 != 10 && $0 != 12 && $0 != 13 }
    }
}

/// Makes an id safe for one-record-per-line outputs (FPS, TSV): tab and line breaks become `\t`,
/// `\n`, `\r`.
func lineSafeID(_ id: String) -> String {
    guard id.utf8.contains(where: { $0 == 9 || $0 == 10 || $0 == 13 }) else { return id }
    var out = ""
    for scalar in id.unicodeScalars {
        switch scalar {
        case "\t": out += "\\t"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
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
    /// Values of the `keepColumns` asked of the reader, per record (empty when none were asked).
    public var kept: [[String]] = []

    public var count: Int { ranges.count }

    /// The kept column values of record `i` (empty when no columns are kept).
    public func keptValues(_ i: Int) -> [String] { i < kept.count ? kept[i] : [] }

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
    /// Columns (CSV/TSV) or data items (SDF) whose values travel with each record to the outputs.
    private let keepColumns: [String]
    private var keepIndices: [Int] = []
    /// Kept columns a library must have for a stated reason (a model's feature columns), named all
    /// at once with the reason when missing.
    private let requiredColumns: [String]
    private let requiredFor: String

    /// `format` nil: from the file name, or else from the content (standard input, unknown names).
    /// `hashContent`: keep a hash of the bytes read (see `contentHash`), for checkpoints.
    /// `keepColumns`: CSV/TSV columns or SDF data items whose values each record carries (`RecordBatch.kept`);
    /// `requiredColumns` (among `keepColumns`) are needed `requiredFor` a reason the error gives when
    /// the library lacks them (a model's feature columns).
    public init(path: String, format: LibraryFormat? = nil, smilesColumn: String? = nil, idColumn: String? = nil,
                hashContent: Bool = false, keepColumns: [String] = [], requiredColumns: [String] = [],
                requiredFor: String = "") throws(InputError) {
        let lines = try ByteLineReader(path: path, hashContent: hashContent)
        let head = try lines.peek(1 << 16)
        let named = format ?? LibraryFormat.guess(path: path)
        if let what = LibraryFormat.knownBinary(head) {
            throw InputError(file: path, reason: "this is \(what), not a compound library")
        }
        if named == nil, let offset = LibraryFormat.binaryByte(head) {
            throw InputError(file: path, reason: String(format: "binary data (byte 0x%02X at offset %d), not a compound library", head[offset], offset))
        }
        self.path = path
        self.format = named ?? LibraryFormat.sniff(head, columnsGiven: smilesColumn != nil || idColumn != nil)
        if !keepColumns.isEmpty && self.format == .smiles {
            if !requiredColumns.isEmpty {
                throw InputError(file: path, reason: "a SMILES file has no columns, but \(requiredColumns.joined(separator: ", ")) \(requiredFor); give a CSV/TSV library or an SDF with them (data items)")
            }
            throw InputError(file: path, reason: "a SMILES file has no named columns to keep; --keep-columns needs a CSV/TSV library or an SDF (data items)")
        }
        self.requiredColumns = requiredColumns
        self.requiredFor = requiredFor
        self.smilesColumn = smilesColumn
        self.idColumn = idColumn
        self.keepColumns = keepColumns
        self.lines = lines
        hashAfterRecords = lines.contentHash
        lines.maxLineBytes = maxRecordBytes
    }

    /// Longest record kept: a SMILES or CSV line, a CSV row, an SDF record. A longer one is read
    /// past (never held in memory whole) and becomes a rejected record with the reason.
    public var maxRecordBytes = InputLimits.defaultMaxRecordBytes {
        didSet { lines.maxLineBytes = maxRecordBytes }
    }

    private func overlong(_ what: String, _ bytes: Int) -> String {
        "\(what) is \(bytes) bytes long, over the limit of \(maxRecordBytes) (--max-record-bytes)"
    }

    /// Hash of the bytes read so far (FNV-1a 64, after gzip decompression), when made with
    /// `hashContent: true`: a resumed run compares it to tell a changed library from the same one.
    /// It covers the bytes up to the end of the last record returned (not blank lines read after it),
    /// so a run that stopped after N records and one that skips N records agree.
    public var contentHash: UInt64? { hashAfterRecords }
    private var hashAfterRecords: UInt64?

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
                if let length = lines.overlongLineLength {
                    // Cut short: the id is somewhere in the dropped part; keep a little of the start.
                    batch.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: line[sStart..<min(sEnd, sStart + 100)]))
                    batch.ranges.append(offset..<batch.bytes.count)
                    batch.ids.append("record \(number)")
                    batch.readErrors[batch.count - 1] = overlong("line", length)
                    return true
                }
                batch.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: line[sStart..<sEnd]))
                batch.ranges.append(offset..<batch.bytes.count)
                batch.ids.append(idEnd > idStart ? String(decoding: UnsafeBufferPointer(rebasing: line[idStart..<idEnd]), as: UTF8.self)
                                                 : "record \(number)")
                if line.isEmpty { batch.readErrors[batch.count - 1] = "empty line" }
                return true
            }
            if more == nil { break }
        }
        if batch.count > 0 { hashAfterRecords = lines.contentHash }
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

    /// The next row (fields may hold quoted line breaks), and the line where a quote opened that
    /// the end of the file left open.
    /// Bytes of the last row `readLogicalLine` returned when it was over `maxRecordBytes`.
    private var lastRowOverlong: Int? = nil

    private func readLogicalLine(separator: UInt8) throws -> (fields: [String], unclosedQuoteLine: Int?)? {
        var row = DelimitedRow(separator: separator, maxBytes: maxRecordBytes)
        while true {
            let complete: Bool? = try lines.nextLine { line in
                row.add(line, lineNumber: lines.lineNumber, droppedBytes: lines.overlongLineLength.map { $0 - line.count } ?? 0)
            }
            lastRowOverlong = row.overlongBytes
            guard let complete else {
                guard row.lines > 0 else { return nil }
                return (row.fields(), row.openQuoteLine)
            }
            if complete { return (row.fields(), nil) }
        }
    }

    /// Bytes the line reader holds (for tests: a gzip bomb must not grow it past the limit).
    var bufferCapacity: Int { lines.bufferCapacity }

    private func nextDelimitedBatch(size: Int, separator: UInt8) throws -> RecordBatch? {
        if !headerDone {
            headerDone = true
            guard let (header, unclosed) = try readLogicalLine(separator: separator) else { return nil }
            if let unclosed {
                throw InputError(file: path, reason: "the header row has a quote opened on line \(unclosed) that is never closed")
            }
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
            let missing = requiredColumns.filter { name in !names.contains { $0.caseInsensitiveCompare(name) == .orderedSame } }
            if !missing.isEmpty {
                throw InputError(file: path, reason: "no column\(missing.count == 1 ? "" : "s") named \(missing.map { "'\($0)'" }.joined(separator: ", ")), which \(requiredFor) (columns: \(names.joined(separator: ", ")))")
            }
            keepIndices = try keepColumns.map { (name) throws(InputError) -> Int in
                guard let k = names.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
                    throw InputError(file: path, reason: "no column named '\(name)' to keep (columns: \(names.joined(separator: ", ")))")
                }
                return k
            }
        }
        var batch = RecordBatch(kind: .smiles, firstRecord: nextRecord)
        while batch.count < size, let (fields, unclosed) = try readLogicalLine(separator: separator) {
            let number = nextRecord
            nextRecord += 1
            let smiles = smilesIndex < fields.count ? fields[smilesIndex].trimmingCharacters(in: .whitespaces) : ""
            var id = "record \(number)"
            if let idIndex, idIndex < fields.count, !fields[idIndex].isEmpty { id = lineSafeID(fields[idIndex]) }
            let offset = batch.bytes.count
            batch.bytes.append(contentsOf: smiles.utf8)
            batch.ranges.append(offset..<batch.bytes.count)
            batch.ids.append(id)
            if !keepIndices.isEmpty { batch.kept.append(keepIndices.map { $0 < fields.count ? fields[$0] : "" }) }
            if let unclosed {
                batch.readErrors[batch.count - 1] = "end of file inside a quoted field: the quote opened on line \(unclosed) is never closed"
            } else if let length = lastRowOverlong {
                batch.readErrors[batch.count - 1] = overlong("row", length)
            } else if smilesIndex >= fields.count {
                batch.readErrors[batch.count - 1] = "row has \(fields.count) fields; the SMILES column is field \(smilesIndex + 1)"
            }
        }
        if batch.count > 0 { hashAfterRecords = lines.contentHash }
        return batch.count > 0 ? batch : nil
    }

    // MARK: - SDF: records end at `$$$$`; split here, parsed in parallel later

    private func nextSDFBatch(size: Int) throws -> RecordBatch? {
        var batch = RecordBatch(kind: .molfile, firstRecord: nextRecord)
        var record: [UInt8] = []
        var recordStart = 0
        var title: String? = nil
        var lineInRecord = 0
        var endLines: [Int] = []
        var recordBytes = 0
        func finish() {
            let number = nextRecord
            nextRecord += 1
            let offset = batch.bytes.count
            batch.bytes.append(contentsOf: record)
            batch.ranges.append(offset..<batch.bytes.count)
            let name = (title ?? "").trimmingCharacters(in: .whitespaces)
            batch.ids.append(name.isEmpty ? "record \(number)" : lineSafeID(name))
            batch.startLines.append(recordStart)
            if recordBytes > maxRecordBytes {
                batch.readErrors[batch.count - 1] = overlong("SDF record", recordBytes)
            } else if endLines.count > 1 {
                // A missing `$$$$`: two molfiles ran together; Open Babel would read only the first.
                batch.readErrors[batch.count - 1] = "\(endLines.count) molecules in one record (`M  END` on lines "
                    + endLines.map(String.init).joined(separator: ", ") + "); the `$$$$` line between them is missing"
            }
            if !keepColumns.isEmpty { batch.kept.append(Self.dataItems(record, named: keepColumns)) }
            record.removeAll(keepingCapacity: true)
            title = nil
            lineInRecord = 0
            recordBytes = 0
            endLines.removeAll()
        }
        while batch.count < size {
            let before = batch.count
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
                if line.count >= 6, line[0] == 77, line[1] == 32, line[2] == 32, line[3] == 69, line[4] == 78, line[5] == 68 {
                    endLines.append(lines.lineNumber)
                }
                // Past the limit the record is only measured, not kept.
                let length = (lines.overlongLineLength ?? line.count) + 1
                recordBytes += length
                if recordBytes <= maxRecordBytes {
                    record.append(contentsOf: line)
                    record.append(10)
                }
                return true
            }
            if got == nil {
                // A last record without `$$$$` still counts unless it is only blank lines.
                if record.contains(where: { $0 != 10 && $0 != 32 && $0 != 9 }) {
                    finish()
                    hashAfterRecords = lines.contentHash
                }
                break
            }
            if batch.count > before { hashAfterRecords = lines.contentHash }
        }
        return batch.count > 0 ? batch : nil
    }

    /// Values of the named SDF data items (`>  <name>` header, value lines up to a blank line) of one
    /// record; "" for an item the record does not have. Several value lines are joined with a space.
    static func dataItems(_ record: [UInt8], named names: [String]) -> [String] {
        var values = [String?](repeating: nil, count: names.count)
        var current: Int? = nil
        var lines: [String] = []
        for raw in record.split(separator: 10, omittingEmptySubsequences: false) {
            let line = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            if let k = current {
                if line.trimmingCharacters(in: .whitespaces).isEmpty {
                    if values[k] == nil { values[k] = lines.joined(separator: " ") }
                    current = nil
                } else {
                    lines.append(line)
                }
                continue
            }
            guard line.hasPrefix(">"), let open = line.firstIndex(of: "<"),
                  let close = line[open...].firstIndex(of: ">") else { continue }
            let name = String(line[line.index(after: open)..<close])
            if let k = names.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) {
                current = k
                lines = []
            }
        }
        if let k = current, values[k] == nil { values[k] = lines.joined(separator: " ") }
        return values.map { $0 ?? "" }
    }
}

/// One row of a delimited file gathered from its physical lines: a quoted field may hold line
/// breaks, so a row ends at the first line end outside quotes. The quote state is carried line by
/// line (never rescanning the row), and the line where an unclosed quote opened is kept.
struct DelimitedRow {
    enum State { case unquoted(fieldStart: Bool), quoted, justClosed }
    let separator: UInt8
    private(set) var bytes: [UInt8] = []
    private(set) var lines = 0
    private var state = State.unquoted(fieldStart: true)
    /// The line where the quote still open was opened.
    private(set) var openQuoteLine: Int? = nil

    /// Bytes of the row (line breaks inside quotes included) when over `maxBytes`; the row's text is
    /// then cut at `maxBytes` and it becomes a rejected record.
    private(set) var overlongBytes: Int? = nil
    private let maxBytes: Int
    private var length = 0

    init(separator: UInt8, maxBytes: Int = Int.max) {
        self.separator = separator
        self.maxBytes = maxBytes
    }

    /// Adds a physical line (of which `droppedBytes` were already cut by the line reader); true when
    /// the row is complete.
    mutating func add(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int, droppedBytes: Int = 0) -> Bool {
        length += (lines > 0 ? 1 : 0) + line.count + droppedBytes
        if length > maxBytes { overlongBytes = length }
        if lines > 0, bytes.count < maxBytes { bytes.append(10) }
        lines += 1
        if bytes.count < maxBytes { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: line.prefix(maxBytes - bytes.count))) }
        if case .justClosed = state { state = .unquoted(fieldStart: false) }
        for c in line {
            switch state {
            case .quoted:
                if c == 34 { state = .justClosed }
            case .justClosed:
                state = c == 34 ? .quoted : .unquoted(fieldStart: c == separator)
            case .unquoted(let fieldStart):
                if c == 34 && fieldStart {
                    state = .quoted
                    openQuoteLine = lineNumber
                } else {
                    state = .unquoted(fieldStart: c == separator)
                }
            }
        }
        if case .quoted = state { return false }
        openQuoteLine = nil
        return true
    }

    func fields() -> [String] { bytes.withUnsafeBufferPointer { LibraryReader.splitFields($0, separator: separator).fields } }
}
