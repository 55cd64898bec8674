/// Winnow's own structural check of a molfile record, run before Open Babel reads it.
///
/// Open Babel's V3000 reader indexes the tokens of each line without checking how many there are
/// (an `M  END` inside the atom block, a short atom or bond line, a continuation line of two tokens),
/// recurses once per continuation line with a 32 KiB buffer on the stack, and reads nested `BEGIN
/// CTAB` blocks recursively: hostile records segfault it. So a V3000 record reaches Open Babel only
/// in the shape its reader handles: `BEGIN CTAB`, a numeric `COUNTS` line, an atom block and a bond
/// block whose line counts match `COUNTS`, whose lines have every field it reads, and whose bonds name
/// atoms of the atom block; other blocks (`SGROUP`, `OBJ3D`, `COLLECTION`) only as matched `BEGIN`/`END`
/// pairs; then `END CTAB` and `M  END`. V2000 records (a reader that checks its fields) are checked
/// for their counts line and the atom limit.
public enum MolfileCheck {
    /// Open Babel reads a line into a 32 KiB buffer; longer lines are refused here with a reason.
    public static let maxLineBytes = 32_000
    /// Continuation lines in a row (each is one level of recursion with 32 KiB of stack in Open Babel).
    public static let maxContinuationLines = 16

    /// Throws why the record must not be handed to Open Babel.
    public static func check(_ record: UnsafeBufferPointer<UInt8>, limits: InputLimits) throws(MoleculeError) {
        if record.count > limits.maxRecordBytes {
            throw MoleculeError(.limit, "SDF record is \(record.count) bytes long, over the limit of \(limits.maxRecordBytes) (--max-record-bytes)")
        }
        var lines = LineCursor(record)
        for _ in 0..<3 {
            guard lines.next() != nil else { throw MoleculeError(.format, "molfile record ends inside its 3-line header") }
        }
        guard let counts = lines.next() else { throw MoleculeError(.format, "molfile record has no counts line (line 4)") }
        if counts.count > maxLineBytes { throw MoleculeError(.format, "molfile counts line is \(counts.count) bytes long") }
        if contains(counts, "V3000") {
            try checkV3000(&lines, limits: limits)
        } else {
            // V2000: atoms in columns 1-3, bonds in 4-6.
            guard counts.count >= 6, let atoms = integer(counts.prefix(3), allowingSpaces: true),
                  integer(counts.dropFirst(3).prefix(3), allowingSpaces: true) != nil else {
                throw MoleculeError(.format, "molfile counts line (line 4) does not start with the atom and bond counts")
            }
            try checkAtomCount(atoms, limits: limits)
        }
    }

    /// A molfile's atom count (hydrogens included) against both limits: `--max-atoms` and the lower
    /// `--max-molfile-atoms` (Open Babel's molfile reader always perceives stereo through a graph
    /// symmetry pass whose cost grows with the cube of a chain's length; see `InputLimits`).
    private static func checkAtomCount(_ atoms: Int, limits: InputLimits) throws(MoleculeError) {
        if atoms > limits.maxAtoms {
            throw MoleculeError(.limit, "\(atoms) atoms, over the limit of \(limits.maxAtoms) (--max-atoms)")
        }
        if atoms > limits.maxMolfileAtoms {
            throw MoleculeError(.limit, "\(atoms) atoms in a molfile record, over the limit of \(limits.maxMolfileAtoms) (--max-molfile-atoms)")
        }
    }

    // MARK: - V3000

    private static func checkV3000(_ lines: inout LineCursor, limits: InputLimits) throws(MoleculeError) {
        var reader = V3000Lines(cursor: lines)
        defer { lines = reader.cursor }
        func expect(_ tokens: [Substring]?, _ what: String) throws(MoleculeError) -> [Substring] {
            guard let tokens else { throw MoleculeError(.format, "V3000 record ends before \(what) (no 'M  END')") }
            return tokens
        }
        var tokens = try expect(try reader.next(), "BEGIN CTAB")
        guard tokens.count >= 4, tokens[2] == "BEGIN", tokens[3] == "CTAB" else {
            throw MoleculeError(.format, "V3000 line \(reader.lineNumber): expected 'M  V30 BEGIN CTAB', found '\(reader.text)'")
        }
        tokens = try expect(try reader.next(), "the COUNTS line")
        guard tokens.count >= 5, tokens[2] == "COUNTS" else {
            throw MoleculeError(.format, "V3000 line \(reader.lineNumber): expected 'M  V30 COUNTS atoms bonds …', found '\(reader.text)'")
        }
        guard let atomCount = integer(tokens[3].utf8[...], allowingSpaces: false) else {
            throw MoleculeError(.format, "V3000 COUNTS line: atom count '\(tokens[3])' is not a number")
        }
        guard let bondCount = integer(tokens[4].utf8[...], allowingSpaces: false) else {
            throw MoleculeError(.format, "V3000 COUNTS line: bond count '\(tokens[4])' is not a number")
        }
        try checkAtomCount(atomCount, limits: limits)
        var atomIndices = Set<Int>()
        var sawAtoms = false, sawBonds = false
        while true {
            tokens = try expect(try reader.next(), "END CTAB")
            guard tokens.count >= 4, tokens[2] == "BEGIN" || tokens[2] == "END" else {
                if tokens.count >= 3, tokens[2] == "LINKNODE" { continue }
                throw MoleculeError(.format, "V3000 line \(reader.lineNumber): expected a BEGIN or END line, found '\(reader.text)'")
            }
            let block = tokens[3]
            if tokens[2] == "END" {
                guard block == "CTAB" else {
                    throw MoleculeError(.format, "V3000 line \(reader.lineNumber): 'END \(block)' without 'BEGIN \(block)'")
                }
                break
            }
            switch block {
            case "ATOM":
                if sawAtoms { throw MoleculeError(.format, "V3000 record has two atom blocks") }
                sawAtoms = true
                while true {
                    let line = try expect(try reader.next(), "END ATOM")
                    if line.count >= 3, line[2] == "END" {
                        guard line.count >= 4, line[3] == "ATOM" else {
                            throw MoleculeError(.format, "V3000 atom block ends with '\(reader.text)' instead of 'M  V30 END ATOM'")
                        }
                        break
                    }
                    // index type x y z aamap [property=value …]
                    guard line.count >= 8, let index = integer(line[2].utf8[...], allowingSpaces: false), index > 0 else {
                        throw MoleculeError(.format, "V3000 line \(reader.lineNumber): atom line needs 'index type x y z aamap', found '\(reader.text)'")
                    }
                    guard atomIndices.insert(index).inserted else {
                        throw MoleculeError(.format, "V3000 line \(reader.lineNumber): atom index \(index) appears twice")
                    }
                    if atomIndices.count > atomCount {
                        throw MoleculeError(.format, "V3000 atom block has more atoms than the COUNTS line's \(atomCount)")
                    }
                    try checkProperties(line, from: 8, reader.lineNumber)
                }
                if atomIndices.count != atomCount {
                    throw MoleculeError(.format, "V3000 atom block has \(atomIndices.count) atoms, the COUNTS line says \(atomCount)")
                }
            case "BOND":
                if sawBonds { throw MoleculeError(.format, "V3000 record has two bond blocks") }
                guard sawAtoms else { throw MoleculeError(.format, "V3000 bond block before the atom block") }
                sawBonds = true
                var bonds = 0
                while true {
                    let line = try expect(try reader.next(), "END BOND")
                    if line.count >= 3, line[2] == "END" {
                        guard line.count >= 4, line[3] == "BOND" else {
                            throw MoleculeError(.format, "V3000 bond block ends with '\(reader.text)' instead of 'M  V30 END BOND'")
                        }
                        break
                    }
                    // index type atom1 atom2 [property=value …]
                    guard line.count >= 6, integer(line[2].utf8[...], allowingSpaces: false) != nil,
                          integer(line[3].utf8[...], allowingSpaces: false) != nil,
                          let a = integer(line[4].utf8[...], allowingSpaces: false),
                          let b = integer(line[5].utf8[...], allowingSpaces: false) else {
                        throw MoleculeError(.format, "V3000 line \(reader.lineNumber): bond line needs 'index type atom1 atom2', found '\(reader.text)'")
                    }
                    guard atomIndices.contains(a), atomIndices.contains(b) else {
                        throw MoleculeError(.format, "V3000 line \(reader.lineNumber): bond names atom \(atomIndices.contains(a) ? b : a), which is not in the atom block")
                    }
                    bonds += 1
                    if bonds > bondCount {
                        throw MoleculeError(.format, "V3000 bond block has more bonds than the COUNTS line's \(bondCount)")
                    }
                    try checkProperties(line, from: 6, reader.lineNumber)
                }
                if bonds != bondCount {
                    throw MoleculeError(.format, "V3000 bond block has \(bonds) bonds, the COUNTS line says \(bondCount)")
                }
            case "SGROUP", "OBJ3D", "COLLECTION":
                // Open Babel skips these up to the first END line: it must be this block's.
                while true {
                    let line = try expect(try reader.next(), "END \(block)")
                    if line.count >= 3, line[2] == "BEGIN" {
                        throw MoleculeError(.format, "V3000 line \(reader.lineNumber): a block inside the \(block) block")
                    }
                    if line.count >= 3, line[2] == "END" {
                        guard line.count >= 4, line[3] == block else {
                            throw MoleculeError(.format, "V3000 \(block) block ends with '\(reader.text)'")
                        }
                        break
                    }
                }
            default:
                throw MoleculeError(.format, "V3000 line \(reader.lineNumber): Winnow does not read '\(block)' blocks inside a connection table")
            }
        }
        if !sawAtoms && atomCount > 0 { throw MoleculeError(.format, "V3000 record has no atom block") }
        if !sawBonds && bondCount > 0 { throw MoleculeError(.format, "V3000 record has no bond block but COUNTS says \(bondCount) bonds") }
        guard reader.nextIsEnd() else {
            throw MoleculeError(.format, "V3000 record: 'M  END' must follow 'M  V30 END CTAB'")
        }
    }

    /// Open Babel splits `key=value` properties at '=' and gives up (cleanly) without one; check
    /// anyway so that the reason names the line.
    private static func checkProperties(_ tokens: [Substring], from start: Int, _ line: Int) throws(MoleculeError) {
        for token in tokens[start...] where !token.contains("=") {
            throw MoleculeError(.format, "V3000 line \(line): '\(token)' is not a property=value field")
        }
    }

    // MARK: - Lines and tokens

    /// Lines of a record (without `\n`).
    struct LineCursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        var number = 0
        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }
        mutating func next() -> Slice<UnsafeBufferPointer<UInt8>>? {
            guard position < bytes.count else { return nil }
            var end = position
            while end < bytes.count, bytes[end] != 10 { end += 1 }
            let line = bytes[position..<end]
            position = end + 1
            number += 1
            return line
        }
    }

    /// Logical `M  V30` lines the way Open Babel's reader tokenizes them: whitespace-separated
    /// tokens; a line ending in '-' continues on the next, whose first three tokens are dropped.
    struct V3000Lines {
        var cursor: LineCursor
        var lineNumber = 0
        var text = ""

        /// The next logical line's tokens; nil at `M  END` or the end of the record.
        mutating func next() throws(MoleculeError) -> [Substring]? {
            guard var tokens = try physical(first: true) else { return nil }
            var continuations = 0
            var last = text
            while last.hasSuffix("-") {
                continuations += 1
                if continuations > MolfileCheck.maxContinuationLines {
                    throw MoleculeError(.format, "V3000 line \(lineNumber): more than \(MolfileCheck.maxContinuationLines) continuation lines in a row")
                }
                let first = text
                guard let more = try physical(first: false) else {
                    throw MoleculeError(.format, "V3000 line \(lineNumber): continuation '-' at the end of the record")
                }
                last = text
                guard more.count >= 3 else {
                    throw MoleculeError(.format, "V3000 line \(lineNumber): continuation line '\(text)' has no content")
                }
                tokens += more[3...]
                text = first + " " + text
            }
            return tokens
        }

        /// True when the next line is `M  END`.
        mutating func nextIsEnd() -> Bool {
            guard let line = cursor.next() else { return false }
            lineNumber = cursor.number
            let tokens = String(decoding: line, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            return tokens.count >= 2 && tokens[0] == "M" && tokens[1] == "END"
        }

        private mutating func physical(first: Bool) throws(MoleculeError) -> [Substring]? {
            guard let line = cursor.next() else {
                if first { return nil }
                throw MoleculeError(.format, "V3000 record ends inside a continued line")
            }
            lineNumber = cursor.number
            if line.count > MolfileCheck.maxLineBytes {
                throw MoleculeError(.format, "V3000 line \(lineNumber) is \(line.count) bytes long (at most \(MolfileCheck.maxLineBytes))")
            }
            text = String(decoding: line, as: UTF8.self)
            let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if tokens.count >= 2, tokens[0] == "M", tokens[1] == "END" {
                if first { return nil }
                throw MoleculeError(.format, "V3000 line \(lineNumber): 'M  END' after a continuation '-'")
            }
            guard tokens.count >= 3, tokens[0] == "M", tokens[1] == "V30" else {
                throw MoleculeError(.format, "V3000 line \(lineNumber): expected an 'M  V30' line, found '\(text.prefix(80))'")
            }
            return tokens
        }
    }

    private static func contains(_ line: Slice<UnsafeBufferPointer<UInt8>>, _ word: String) -> Bool {
        let pattern = Array(word.utf8)
        guard line.count >= pattern.count else { return false }
        var i = line.startIndex
        while i + pattern.count <= line.endIndex {
            if line[i..<(i + pattern.count)].elementsEqual(pattern) { return true }
            i += 1
        }
        return false
    }

    /// A non-negative decimal integer (at most 9 digits); `allowingSpaces` trims fixed-width fields.
    private static func integer<C: Collection>(_ field: C, allowingSpaces: Bool) -> Int? where C.Element == UInt8 {
        var value = 0, digits = 0
        var seenDigit = false, trailing = false
        for c in field {
            if c == 32 && allowingSpaces {
                if seenDigit { trailing = true }
                continue
            }
            guard c >= 48, c <= 57, !trailing else { return nil }
            seenDigit = true
            digits += 1
            if digits > 9 { return nil }
            value = value * 10 + Int(c - 48)
        }
        return seenDigit ? value : nil
    }
}
