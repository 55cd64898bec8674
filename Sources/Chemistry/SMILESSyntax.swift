/// What the syntax check learned about one atom of a SMILES string, in the order atoms appear
/// (which is also Open Babel's atom order).
public struct SMILESAtomToken: Sendable, Equatable {
    public var aromatic: Bool
    public var bracket: Bool
    /// 0 none, 1 `@` (anticlockwise), 2 `@@` (clockwise), 3 other (`@TH`, `@SP`, …).
    public var chirality: UInt8
    /// The charge as written (bracket atoms; 0 otherwise). Open Babel reads `+0` as +1 and wraps
    /// large values, so the graph takes the charge from here.
    public var charge: Int8 = 0
}

/// A strict OpenSMILES syntax check. Open Babel silently repairs many broken strings (`C(C` → `CC`,
/// `C==C`, `C..C`), so every SMILES passes through here first and is rejected with a reason a chemist
/// can act on. It also records, per atom, the facts Open Babel does not keep (aromatic as written,
/// bracket or not, chirality).
public struct SMILESSyntax: Sendable {
    public private(set) var atoms: [SMILESAtomToken] = []
    private var bonds: [(Int32, Int32)] = []
    private var ringOpenAtom = [Int32](repeating: -1, count: 100)
    private var ringOpenBond = [UInt8](repeating: 0, count: 100)
    private var branchStack: [Int32] = []

    /// Limits checked while reading (atoms, ring closures, branch depth, length).
    public var limits = InputLimits()

    /// The largest charge OpenSMILES allows on an atom (and beyond what any element carries).
    public static let maxCharge = 15

    public init() {}

    private static func isBondSymbol(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "-") || c == UInt8(ascii: "=") || c == UInt8(ascii: "#") || c == UInt8(ascii: "$")
            || c == UInt8(ascii: ":") || c == UInt8(ascii: "/") || c == UInt8(ascii: "\\")
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private static func isUpper(_ c: UInt8) -> Bool { c >= 65 && c <= 90 }
    private static func isLower(_ c: UInt8) -> Bool { c >= 97 && c <= 122 }

    private static func describe(_ c: UInt8) -> String {
        if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x" + String(c, radix: 16, uppercase: true)
    }

    /// Printable characters that may appear in a SMILES string.
    private static let alphabet: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789[]()=#$:/\\.%+-@*".utf8 { table[Int(c)] = true }
        return table
    }()

    private static let aromaticBracketSymbols: Set<String> = ["b", "c", "n", "o", "p", "s", "se", "te", "as", "si"]

    /// Checks `smiles` and fills `atoms`. Throws the first problem found.
    public mutating func check(_ smiles: UnsafeBufferPointer<UInt8>) throws(MoleculeError) {
        atoms.removeAll(keepingCapacity: true)
        bonds.removeAll(keepingCapacity: true)
        branchStack.removeAll(keepingCapacity: true)
        // A previous string may have thrown with ring bonds still open.
        for k in 0..<100 where ringOpenAtom[k] >= 0 { ringOpenAtom[k] = -1; ringOpenBond[k] = 0 }
        var openRings = 0
        let n = smiles.count
        // Bytes first, so that garbage gets one clear message rather than a syntax complaint.
        for i in 0..<n {
            let c = smiles[i]
            if c >= 0x80 {
                throw MoleculeError(.bytes, "non-ASCII byte 0x\(String(c, radix: 16, uppercase: true)) at position \(i + 1): SMILES is plain ASCII")
            }
            if c < 0x20 || c == 0x7F {
                throw MoleculeError(.bytes, "control character 0x\(String(c, radix: 16, uppercase: true)) at position \(i + 1)")
            }
            if c == UInt8(ascii: " ") {
                throw MoleculeError(.syntax, "space inside SMILES at position \(i + 1)")
            }
            if !Self.alphabet[Int(c)] {
                throw MoleculeError(.bytes, "character \(Self.describe(c)) at position \(i + 1) is not used in SMILES")
            }
        }
        if n == 0 { throw MoleculeError(.empty, "empty SMILES") }
        if n > limits.maxRecordBytes {
            throw MoleculeError(.limit, "SMILES is \(n) bytes long, over the limit of \(limits.maxRecordBytes) (--max-record-bytes)")
        }
        var ringClosures = 0

        var i = 0
        var previous: Int32 = -1
        var pendingBond: UInt8 = 0
        var justOpenedBranch = false
        var afterDot = false
        while i < n {
            let c = smiles[i]
            let position = i + 1
            switch c {
            case UInt8(ascii: "("):
                if previous < 0 { throw MoleculeError(.syntax, "branch '(' opened before any atom (position \(position))") }
                if pendingBond != 0 { throw MoleculeError(.syntax, "bond symbol directly before '(' (position \(position))") }
                if justOpenedBranch { throw MoleculeError(.syntax, "branch '(' opened directly after '(' (position \(position))") }
                if branchStack.count >= limits.maxBranchDepth {
                    throw MoleculeError(.limit, "branches nested more than \(limits.maxBranchDepth) deep at position \(position) (--max-branch-depth)")
                }
                branchStack.append(previous)
                justOpenedBranch = true
                i += 1
            case UInt8(ascii: ")"):
                guard let top = branchStack.popLast() else {
                    throw MoleculeError(.syntax, "unbalanced parentheses: ')' without '(' at position \(position)")
                }
                if pendingBond != 0 { throw MoleculeError(.syntax, "dangling bond before ')' at position \(position)") }
                if justOpenedBranch { throw MoleculeError(.syntax, "empty branch '()' at position \(position)") }
                if previous < 0 { throw MoleculeError(.syntax, "branch ends with '.' at position \(position)") }
                previous = top
                i += 1
            case UInt8(ascii: "."):
                if justOpenedBranch { throw MoleculeError(.syntax, "'.' directly after '(' at position \(position)") }
                if pendingBond != 0 { throw MoleculeError(.syntax, "bond symbol followed by '.' at position \(position)") }
                if previous < 0 {
                    throw MoleculeError(.syntax, afterDot ? "empty component: two dots in a row at position \(position)"
                                                          : "'.' before any atom at position \(position)")
                }
                previous = -1
                afterDot = true
                i += 1
            case _ where Self.isBondSymbol(c):
                if previous < 0 {
                    throw MoleculeError(.syntax, afterDot ? "bond symbol \(Self.describe(c)) directly after '.' at position \(position)"
                                                          : "bond symbol \(Self.describe(c)) before the first atom")
                }
                if pendingBond != 0 {
                    throw MoleculeError(.syntax, "two bond symbols in a row (\(Self.describe(pendingBond)) then \(Self.describe(c))) at position \(position)")
                }
                pendingBond = c
                i += 1
            case _ where Self.isDigit(c) || c == UInt8(ascii: "%"):
                var number: Int
                var length = 1
                if c == UInt8(ascii: "%") {
                    guard i + 2 < n, Self.isDigit(smiles[i + 1]), Self.isDigit(smiles[i + 2]) else {
                        throw MoleculeError(.syntax, "'%' must be followed by two digits (position \(position))")
                    }
                    number = Int(smiles[i + 1] - 48) * 10 + Int(smiles[i + 2] - 48)
                    length = 3
                } else {
                    number = Int(c - 48)
                }
                if previous < 0 { throw MoleculeError(.syntax, "ring bond number before any atom (position \(position))") }
                if justOpenedBranch { throw MoleculeError(.syntax, "ring bond number directly after '(' (position \(position))") }
                let partner = ringOpenAtom[number]
                if partner >= 0 {
                    if partner == previous {
                        throw MoleculeError(.syntax, "ring closure \(number) bonds an atom to itself (position \(position))")
                    }
                    if hasBond(partner, previous) {
                        throw MoleculeError(.syntax, "ring closure \(number) duplicates an existing bond (position \(position))")
                    }
                    let a = ringOpenBond[number], b = pendingBond
                    if a != 0 && b != 0 && a != b && !(Self.isDirectional(a) && Self.isDirectional(b)) {
                        throw MoleculeError(.syntax, "ring closure \(number) has conflicting bond symbols \(Self.describe(a)) and \(Self.describe(b))")
                    }
                    ringClosures += 1
                    if ringClosures > limits.maxRings {
                        throw MoleculeError(.limit, "more than \(limits.maxRings) ring closures (position \(position), --max-rings)")
                    }
                    bonds.append((partner, previous))
                    ringOpenAtom[number] = -1
                    ringOpenBond[number] = 0
                    openRings -= 1
                } else {
                    ringOpenAtom[number] = previous
                    ringOpenBond[number] = pendingBond
                    openRings += 1
                }
                pendingBond = 0
                i += length
            default:
                let index = Int32(atoms.count)
                if atoms.count >= limits.maxAtoms {
                    throw MoleculeError(.limit, "more than \(limits.maxAtoms) atoms (position \(position), --max-atoms)")
                }
                i = try readAtom(smiles, at: i)
                if previous >= 0 {
                    bonds.append((previous, index))
                } else if pendingBond != 0 {
                    throw MoleculeError(.syntax, "bond symbol before the first atom")
                }
                previous = index
                pendingBond = 0
                justOpenedBranch = false
                afterDot = false
            }
        }
        if pendingBond != 0 { throw MoleculeError(.syntax, "SMILES ends with a dangling bond \(Self.describe(pendingBond))") }
        if !branchStack.isEmpty { throw MoleculeError(.syntax, "unbalanced parentheses: \(branchStack.count) unclosed branch '('") }
        if afterDot { throw MoleculeError(.syntax, "SMILES ends with '.'") }
        if openRings > 0 {
            let numbers = ringOpenAtom.indices.filter { ringOpenAtom[$0] >= 0 }
            for number in numbers { ringOpenAtom[number] = -1; ringOpenBond[number] = 0 }
            throw MoleculeError(.syntax, "unclosed ring bond \(numbers.map(String.init).joined(separator: ", "))")
        }
        if atoms.isEmpty { throw MoleculeError(.empty, "empty SMILES") }
    }

    private static func isDirectional(_ c: UInt8) -> Bool { c == UInt8(ascii: "/") || c == UInt8(ascii: "\\") }

    private func hasBond(_ a: Int32, _ b: Int32) -> Bool {
        for (x, y) in bonds where (x == a && y == b) || (x == b && y == a) { return true }
        return false
    }

    /// Reads one atom starting at `i`; returns the index after it.
    private mutating func readAtom(_ s: UnsafeBufferPointer<UInt8>, at start: Int) throws(MoleculeError) -> Int {
        let n = s.count
        let c = s[start]
        let position = start + 1
        if c == UInt8(ascii: "[") { return try readBracketAtom(s, at: start) }
        if c == UInt8(ascii: "*") {
            atoms.append(SMILESAtomToken(aromatic: false, bracket: false, chirality: 0))
            return start + 1
        }
        let next: UInt8 = start + 1 < n ? s[start + 1] : 0
        switch c {
        case UInt8(ascii: "C"):
            atoms.append(SMILESAtomToken(aromatic: false, bracket: false, chirality: 0))
            return next == UInt8(ascii: "l") ? start + 2 : start + 1
        case UInt8(ascii: "B"):
            atoms.append(SMILESAtomToken(aromatic: false, bracket: false, chirality: 0))
            return next == UInt8(ascii: "r") ? start + 2 : start + 1
        case UInt8(ascii: "N"), UInt8(ascii: "O"), UInt8(ascii: "P"), UInt8(ascii: "S"), UInt8(ascii: "F"), UInt8(ascii: "I"):
            atoms.append(SMILESAtomToken(aromatic: false, bracket: false, chirality: 0))
            return start + 1
        case UInt8(ascii: "b"), UInt8(ascii: "c"), UInt8(ascii: "n"), UInt8(ascii: "o"), UInt8(ascii: "p"), UInt8(ascii: "s"):
            atoms.append(SMILESAtomToken(aromatic: true, bracket: false, chirality: 0))
            return start + 1
        case UInt8(ascii: "]"):
            throw MoleculeError(.syntax, "']' without '[' at position \(position)")
        default:
            break
        }
        // Not an organic-subset atom: explain what was probably meant.
        if Self.isLower(c), start > 0, Self.isUpper(s[start - 1]) {
            let symbol = String(decoding: [s[start - 1], c], as: UTF8.self)
            if Elements.atomicNumber(of: symbol) != nil {
                throw MoleculeError(.element, "element \(symbol) must be written in brackets, as [\(symbol)] (position \(start))")
            }
        }
        if Self.isUpper(c) {
            if Self.isLower(next) {
                let symbol = String(decoding: [c, next], as: UTF8.self)
                if Elements.atomicNumber(of: symbol) != nil {
                    throw MoleculeError(.element, "element \(symbol) must be written in brackets, as [\(symbol)] (position \(position))")
                }
            }
            if Elements.atomicNumber(of: String(Character(Unicode.Scalar(c)))) != nil {
                let symbol = String(Character(Unicode.Scalar(c)))
                throw MoleculeError(.element, "element \(symbol) must be written in brackets, as [\(symbol)] (position \(position))")
            }
            throw MoleculeError(.element, "'\(Character(Unicode.Scalar(c)))' is not an element symbol (position \(position))")
        }
        throw MoleculeError(.bytes, "unexpected character \(Self.describe(c)) at position \(position)")
    }

    private mutating func readBracketAtom(_ s: UnsafeBufferPointer<UInt8>, at start: Int) throws(MoleculeError) -> Int {
        let n = s.count
        var i = start + 1
        let open = start + 1
        guard let close = (i..<n).first(where: { s[$0] == UInt8(ascii: "]") || s[$0] == UInt8(ascii: "[") }),
              s[close] == UInt8(ascii: "]") else {
            throw MoleculeError(.syntax, "unclosed bracket atom '[' at position \(open)")
        }
        if close == i { throw MoleculeError(.syntax, "empty bracket atom '[]' at position \(open)") }
        // isotope
        var sawIsotope = false
        while i < close, Self.isDigit(s[i]) { i += 1; sawIsotope = true }
        if i == close {
            throw MoleculeError(.syntax, sawIsotope ? "isotope without an element in bracket atom at position \(open)"
                                                    : "empty bracket atom at position \(open)")
        }
        // symbol
        var aromatic = false
        let c = s[i]
        if c == UInt8(ascii: "*") {
            i += 1
        } else if Self.isUpper(c) {
            if i + 1 < close, Self.isLower(s[i + 1]),
               Elements.atomicNumber(of: String(decoding: [c, s[i + 1]], as: UTF8.self)) != nil {
                i += 2
            } else if Elements.atomicNumber(of: String(Character(Unicode.Scalar(c)))) != nil {
                i += 1
            } else {
                var symbol = String(Character(Unicode.Scalar(c)))
                if i + 1 < close, Self.isLower(s[i + 1]) { symbol.append(Character(Unicode.Scalar(s[i + 1]))) }
                throw MoleculeError(.element, "unknown element '\(symbol)' in bracket atom at position \(open)")
            }
        } else if Self.isLower(c) {
            aromatic = true
            if i + 1 < close, Self.isLower(s[i + 1]),
               Self.aromaticBracketSymbols.contains(String(decoding: [c, s[i + 1]], as: UTF8.self)) {
                i += 2
            } else if Self.aromaticBracketSymbols.contains(String(Character(Unicode.Scalar(c)))) {
                i += 1
            } else {
                throw MoleculeError(.element, "'\(Character(Unicode.Scalar(c)))' is not an aromatic element symbol (position \(i + 1))")
            }
        } else if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
            throw MoleculeError(.syntax, "charge written before the element symbol in bracket atom at position \(open)")
        } else {
            throw MoleculeError(.syntax, "bracket atom at position \(open) has no element symbol")
        }
        // chirality
        var chirality: UInt8 = 0
        if i < close, s[i] == UInt8(ascii: "@") {
            i += 1
            chirality = 1
            if i < close, s[i] == UInt8(ascii: "@") {
                i += 1
                chirality = 2
            } else if i + 1 < close, Self.isUpper(s[i]), Self.isUpper(s[i + 1]) {
                let tag = String(decoding: [s[i], s[i + 1]], as: UTF8.self)
                let limits = ["TH": 2, "AL": 2, "SP": 3, "TB": 20, "OH": 30]
                guard let limit = limits[tag] else {
                    throw MoleculeError(.syntax, "invalid chirality '@\(tag)' in bracket atom at position \(open)")
                }
                i += 2
                var value = 0
                var digits = 0
                while i < close, Self.isDigit(s[i]), digits < 2 { value = value * 10 + Int(s[i] - 48); i += 1; digits += 1 }
                if digits == 0 || value < 1 || value > limit {
                    throw MoleculeError(.syntax, "invalid chirality '@\(tag)\(value)' in bracket atom at position \(open)")
                }
                chirality = 3
            }
            if i < close, s[i] == UInt8(ascii: "@") {
                throw MoleculeError(.syntax, "invalid chirality specification (too many '@') in bracket atom at position \(open)")
            }
        }
        // hydrogens
        if i < close, s[i] == UInt8(ascii: "H") {
            i += 1
            if i < close, Self.isDigit(s[i]) { i += 1 }
        }
        // charge: `+`, `++`, `+2`, `+0` (zero); more than ±15 is beyond any element
        var charge = 0
        if i < close, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            let sign = s[i]
            let chargeStart = i
            i += 1
            var magnitude = 1
            if i < close, Self.isDigit(s[i]) {
                magnitude = 0
                while i < close, Self.isDigit(s[i]) {
                    // Saturate: the value only has to be known to exceed the limit.
                    magnitude = min(magnitude * 10 + Int(s[i] - 48), 1_000)
                    i += 1
                }
            } else {
                while i < close, s[i] == sign { i += 1; magnitude += 1 }
            }
            if magnitude > Self.maxCharge {
                let written = String(decoding: UnsafeBufferPointer(rebasing: s[chargeStart..<i]), as: UTF8.self)
                throw MoleculeError(.element, "charge \(written) in bracket atom at position \(open) is beyond what any element can carry (at most ±\(Self.maxCharge))")
            }
            charge = sign == UInt8(ascii: "+") ? magnitude : -magnitude
        }
        // atom class
        if i < close, s[i] == UInt8(ascii: ":") {
            i += 1
            guard i < close, Self.isDigit(s[i]) else {
                throw MoleculeError(.syntax, "atom class ':' without a number in bracket atom at position \(open)")
            }
            while i < close, Self.isDigit(s[i]) { i += 1 }
        }
        if i != close {
            throw MoleculeError(.syntax, "unexpected \(Self.describe(s[i])) in bracket atom at position \(i + 1)")
        }
        atoms.append(SMILESAtomToken(aromatic: aromatic, bracket: true, chirality: chirality, charge: Int8(charge)))
        return close + 1
    }
}
