/// A parsed SMARTS pattern: a small graph of atom and bond queries, matched on `MolecularGraph`
/// with RDKit's semantics (see `SMARTS+Match.swift`).
///
/// Supported: organic-subset atoms and `*`, `a`, `A` outside brackets; inside brackets element
/// symbols (upper case aliphatic, lower case aromatic), `#n`, `*`, `a`, `A`, `H n`, `h n`, `D n`,
/// `X n`, `R n`, `r n`, `x n`, `v n`, charges, isotopes, atom maps (ignored), chirality (ignored, as
/// RDKit does by default) and recursive `$(...)`; bonds `-`, `=`, `#`, `:`, `~`, `@`, `/`, `\`;
/// operators `!` > `&` (and implicit and) > `,` > `;`, ring closures (`1`, `%12`), branches and `.`.
public struct SMARTS: Sendable, Hashable {
    public let text: String
    /// Everything the matcher reads, in one immutable object: a search holds one reference to it
    /// instead of copying (and reference-counting) each array.
    let compiled: Compiled

    var atoms: [AtomQuery] { compiled.atoms }
    var bonds: [PatternBond] { compiled.bonds }
    /// Recursive sub-patterns in the order they were numbered (nested ones included).
    var recursiveCount: Int { compiled.recursiveCount }
    /// Mapping order for anchored searches (pattern atom 0 first).
    var plan: MatchPlan { compiled.plan }
    /// Mapping order for unanchored searches: from the most selective atom (a rare element rather
    /// than carbon or an unconstrained atom), so fewer target atoms are tried as the root.
    var freePlan: MatchPlan { compiled.freePlan }
    /// Atomic numbers the pattern's atoms require (an element and-ed into the atom query), with
    /// how many atoms require each: a molecule with fewer such atoms cannot match.
    var requiredElements: [(z: UInt8, count: Int)] { compiled.requiredElements }
    /// Per pattern atom, the atomic number its query requires (0: none), checked before the query.
    var atomElements: [UInt8] { compiled.atomElements }

    final class Compiled: Sendable {
        let atoms: [AtomQuery]
        let bonds: [PatternBond]
        let recursiveCount: Int
        let plan: MatchPlan
        let freePlan: MatchPlan
        let requiredElements: [(z: UInt8, count: Int)]
        let atomElements: [UInt8]

        init(atoms: [AtomQuery], bonds: [PatternBond], recursiveCount: Int) {
            self.atoms = atoms
            self.bonds = bonds
            self.recursiveCount = recursiveCount
            let plan = MatchPlan(atomCount: atoms.count, bonds: bonds)
            self.plan = plan
            let elements = atoms.map(SMARTS.requiredElement)
            atomElements = elements.map { $0 ?? 0 }
            var counts: [UInt8: Int] = [:]
            for case let z? in elements { counts[z, default: 0] += 1 }
            requiredElements = counts.sorted { $0.key < $1.key }.map { (z: $0.key, count: $0.value) }
            func rank(_ z: UInt8?) -> Int {
                guard let z else { return 4 }
                switch z {
                case 6: return 3
                case 1: return 2
                case 7, 8: return 1
                default: return 0
                }
            }
            var root = 0
            for i in atoms.indices where rank(elements[i]) < rank(elements[root]) { root = i }
            freePlan = root == 0 ? plan : MatchPlan(atomCount: atoms.count, bonds: bonds, firstRoot: root)
        }
    }

    public init(_ text: String) throws(SMARTSError) {
        var parser = SMARTSParser(Array(text.utf8))
        var counter = 0
        let parsed = try parser.parsePattern(text: text, recursiveCounter: &counter)
        self.init(text: parsed.text, atoms: parsed.atoms, bonds: parsed.bonds, recursiveCount: counter)
    }

    init(text: String, atoms: [AtomQuery], bonds: [PatternBond], recursiveCount: Int = 0) {
        self.text = text
        compiled = Compiled(atoms: atoms, bonds: bonds, recursiveCount: recursiveCount)
    }

    /// The atomic number an atom query requires (an element primitive alone or and-ed), if any.
    static func requiredElement(_ q: AtomQuery) -> UInt8? {
        switch q {
        case .primitive(.element(let z, _)): return z
        case .and(let parts): return parts.lazy.compactMap(requiredElement).first
        default: return nil
        }
    }

    public var atomCount: Int { atoms.count }

    /// The atomic number the first atom's query requires (an element primitive alone or and-ed), if any.
    var firstAtomElement: UInt8? {
        atoms.first.flatMap(SMARTS.requiredElement)
    }

    public static func == (lhs: SMARTS, rhs: SMARTS) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

public struct SMARTSError: Error, CustomStringConvertible, Sendable {
    /// 1-based character position in the pattern.
    public let position: Int
    public let reason: String
    public var description: String { "SMARTS error at character \(position): \(reason)" }
}

struct PatternBond: Sendable {
    var begin: Int
    var end: Int
    var query: BondQuery
}

indirect enum AtomQuery: Sendable {
    case primitive(AtomPrimitive)
    case not(AtomQuery)
    case and([AtomQuery])
    case or([AtomQuery])
}

enum AtomPrimitive: Sendable {
    case any
    case aromatic
    case aliphatic
    /// Element with aromaticity: `C` (false), `c` (true), `#6` (nil).
    case element(UInt8, aromatic: Bool?)
    case totalHydrogens(Int)
    case implicitHydrogens(Int?)
    case degree(Int)
    case totalDegree(Int)
    /// `R`: nil = in any ring; n = member of exactly n SSSR rings.
    case ringCount(Int?)
    /// `r`: nil = in any ring; n = smallest SSSR ring containing the atom has n atoms.
    case ringSize(Int?)
    /// `x`: nil = has a ring bond; n = number of ring bonds.
    case ringConnectivity(Int?)
    case valence(Int)
    case charge(Int)
    case isotope(Int)
    /// `$(...)`: index into the matcher's memo table, and the pattern.
    case recursive(Int, RecursivePattern)
}

/// Boxes a recursive pattern so that `AtomPrimitive` stays a plain enum.
final class RecursivePattern: Sendable {
    let pattern: SMARTS
    init(_ pattern: SMARTS) { self.pattern = pattern }
}

indirect enum BondQuery: Sendable {
    case primitive(BondPrimitive)
    case not(BondQuery)
    case and([BondQuery])
    case or([BondQuery])
}

enum BondPrimitive: Sendable {
    case single, double, triple, quadruple, aromatic, any, ring
    /// No bond symbol written: single or aromatic.
    case implicitSingleOrAromatic
}

// MARK: - Parser

struct SMARTSParser {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ reason: String) -> SMARTSError { SMARTSError(position: index + 1, reason: reason) }
    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }
    private func peek(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

    /// Parses up to the end of input, or up to the `)` that closes a recursive pattern.
    mutating func parsePattern(text: String, recursiveCounter: inout Int, nested: Bool = false) throws(SMARTSError) -> SMARTS {
        var atoms: [AtomQuery] = []
        var bonds: [PatternBond] = []
        var branchStack: [Int] = []
        var previous: Int? = nil
        var pendingBond: BondQuery? = nil
        var openRings: [Int: (atom: Int, bond: BondQuery?)] = [:]
        let start = index
        while let c = current {
            if nested && c == UInt8(ascii: ")") && branchStack.isEmpty { break }
            switch c {
            case UInt8(ascii: "("):
                guard let p = previous else { throw fail("a branch opens before any atom") }
                branchStack.append(p)
                index += 1
            case UInt8(ascii: ")"):
                guard let p = branchStack.popLast() else { throw fail("')' closes no branch") }
                if pendingBond != nil { throw fail("a bond has no atom after it") }
                previous = p
                index += 1
            case UInt8(ascii: "."):
                if pendingBond != nil { throw fail("a bond has no atom after it") }
                previous = nil
                index += 1
            case UInt8(ascii: "-"), UInt8(ascii: "="), UInt8(ascii: "#"), UInt8(ascii: ":"), UInt8(ascii: "~"),
                 UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "!"):
                if previous == nil { throw fail("a bond has no atom before it") }
                if pendingBond != nil { throw fail("two bonds in a row") }
                pendingBond = try parseBondExpression()
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "%"):
                guard let p = previous else { throw fail("a ring closure has no atom before it") }
                var number: Int
                if c == UInt8(ascii: "%") {
                    guard let d1 = peek(1), let d2 = peek(2), isDigit(d1), isDigit(d2) else { throw fail("'%' needs two digits") }
                    number = Int(d1 - 48) * 10 + Int(d2 - 48)
                    index += 3
                } else {
                    number = Int(c - 48)
                    index += 1
                }
                if let open = openRings.removeValue(forKey: number) {
                    if open.atom == p { throw fail("ring closure \(number) bonds an atom to itself") }
                    let query = pendingBond ?? open.bond ?? .primitive(.implicitSingleOrAromatic)
                    bonds.append(PatternBond(begin: open.atom, end: p, query: query))
                } else {
                    openRings[number] = (p, pendingBond)
                }
                pendingBond = nil
            default:
                let atom = try parseAtom(recursiveCounter: &recursiveCounter)
                atoms.append(atom)
                let newIndex = atoms.count - 1
                if let p = previous {
                    bonds.append(PatternBond(begin: p, end: newIndex, query: pendingBond ?? .primitive(.implicitSingleOrAromatic)))
                } else if pendingBond != nil {
                    throw fail("a bond has no atom before it")
                }
                pendingBond = nil
                previous = newIndex
            }
        }
        if pendingBond != nil { throw fail("the pattern ends with a bond") }
        if !branchStack.isEmpty { throw fail("a branch is not closed") }
        if let open = openRings.keys.min() { throw fail("ring closure \(open) is not closed") }
        if atoms.isEmpty { throw fail(start == index ? "empty pattern" : "no atoms") }
        let consumed = String(decoding: bytes[start..<index], as: UTF8.self)
        return SMARTS(text: nested ? consumed : text, atoms: atoms, bonds: bonds)
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    private mutating func readNumber() -> Int? {
        var value: Int? = nil
        while let c = current, isDigit(c) {
            value = (value ?? 0) * 10 + Int(c - 48)
            if value! > 100_000 { return value }
            index += 1
        }
        return value
    }

    // MARK: Atoms

    private static let organic: [(String, UInt8, Bool)] = [
        ("Cl", 17, false), ("Br", 35, false), ("B", 5, false), ("C", 6, false), ("N", 7, false),
        ("O", 8, false), ("P", 15, false), ("S", 16, false), ("F", 9, false), ("I", 53, false),
        ("b", 5, true), ("c", 6, true), ("n", 7, true), ("o", 8, true), ("p", 15, true), ("s", 16, true),
    ]

    private mutating func parseAtom(recursiveCounter: inout Int) throws(SMARTSError) -> AtomQuery {
        guard let c = current else { throw fail("an atom is missing") }
        if c == UInt8(ascii: "[") {
            index += 1
            let query = try parseAtomExpression(recursiveCounter: &recursiveCounter, level: 0)
            guard current == UInt8(ascii: "]") else { throw fail("expected ']'") }
            index += 1
            return query
        }
        switch c {
        case UInt8(ascii: "*"): index += 1; return .primitive(.any)
        case UInt8(ascii: "a"): index += 1; return .primitive(.aromatic)
        case UInt8(ascii: "A"): index += 1; return .primitive(.aliphatic)
        default: break
        }
        for (symbol, z, aromatic) in Self.organic where matches(symbol) {
            index += symbol.utf8.count
            return .primitive(.element(z, aromatic: aromatic))
        }
        throw fail("unexpected character '\(Character(Unicode.Scalar(c)))'")
    }

    private func matches(_ symbol: String) -> Bool {
        var k = index
        for b in symbol.utf8 {
            guard k < bytes.count, bytes[k] == b else { return false }
            k += 1
        }
        return true
    }

    /// Levels: 0 `;` (low and), 1 `,` (or), 2 `&` and implicit and, then `!` and primitives.
    private mutating func parseAtomExpression(recursiveCounter: inout Int, level: Int) throws(SMARTSError) -> AtomQuery {
        if level == 3 {
            if current == UInt8(ascii: "!") {
                index += 1
                return .not(try parseAtomExpression(recursiveCounter: &recursiveCounter, level: 3))
            }
            return .primitive(try parseAtomPrimitive(recursiveCounter: &recursiveCounter))
        }
        var parts = [try parseAtomExpression(recursiveCounter: &recursiveCounter, level: level + 1)]
        while let c = current {
            if level == 0, c == UInt8(ascii: ";") {
                index += 1
            } else if level == 1, c == UInt8(ascii: ",") {
                index += 1
            } else if level == 2, c == UInt8(ascii: "&") {
                index += 1
            } else if level == 2, c != UInt8(ascii: "]"), c != UInt8(ascii: ";"), c != UInt8(ascii: ","), c != UInt8(ascii: ")") {
                // implicit high-precedence and: `CH2`, `nH0`
            } else {
                break
            }
            parts.append(try parseAtomExpression(recursiveCounter: &recursiveCounter, level: level + 1))
        }
        if parts.count == 1 { return parts[0] }
        return level == 1 ? .or(parts) : .and(parts)
    }

    private mutating func parseAtomPrimitive(recursiveCounter: inout Int) throws(SMARTSError) -> AtomPrimitive {
        guard let c = current else { throw fail("the atom is not closed with ']'") }
        let atStartOfBracket = index > 0 && bytes[index - 1] == UInt8(ascii: "[")
        switch c {
        case UInt8(ascii: "*"): index += 1; return .any
        case UInt8(ascii: "#"):
            index += 1
            guard let n = readNumber(), n < 256 else { throw fail("'#' needs an atomic number") }
            return .element(UInt8(n), aromatic: nil)
        case UInt8(ascii: "$"):
            guard peek(1) == UInt8(ascii: "(") else { throw fail("'$' must be followed by '('") }
            index += 2
            var counter = recursiveCounter
            let slot = counter
            counter += 1
            let inner = try parsePattern(text: "", recursiveCounter: &counter, nested: true)
            recursiveCounter = counter
            guard current == UInt8(ascii: ")") else { throw fail("recursive SMARTS is not closed with ')'") }
            index += 1
            return .recursive(slot, RecursivePattern(inner))
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = c == UInt8(ascii: "+") ? 1 : -1
            index += 1
            if let n = readNumber() { return .charge(sign * n) }
            var magnitude = 1
            while current == c { magnitude += 1; index += 1 }
            return .charge(sign * magnitude)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            guard let n = readNumber() else { throw fail("bad isotope") }
            return .isotope(n)
        case UInt8(ascii: "@"):
            // Chirality is not used for matching (RDKit's default); consume @, @@ and @TH1 forms.
            index += 1
            while let d = current, d == UInt8(ascii: "@") || d == UInt8(ascii: "?") { index += 1 }
            return .any
        case UInt8(ascii: ":"):
            index += 1
            guard readNumber() != nil else { throw fail("atom map ':' needs a number") }
            return .any
        default: break
        }
        // Two-letter elements first (Cl, Br, Se, se, as, ...), then one letter.
        if let symbol = elementSymbol() {
            // `H` is the hydrogen element only as `[H]`, `[2H]`, `[H+]`: alone or with charge/isotope.
            if symbol.text == "H" {
                let next = index + 1 < bytes.count ? bytes[index + 1] : 0
                var back = index - 1
                while back >= 0, isDigit(bytes[back]) { back -= 1 }
                let afterIsotope = back >= 0 && back < index - 1 && bytes[back] == UInt8(ascii: "[")
                let isElement = (atStartOfBracket || afterIsotope)
                    && (next == UInt8(ascii: "]") || next == UInt8(ascii: "+") || next == UInt8(ascii: "-"))
                if !isElement {
                    index += 1
                    return .totalHydrogens(readNumber() ?? 1)
                }
            }
            index += symbol.text.utf8.count
            return .element(symbol.z, aromatic: symbol.aromatic)
        }
        switch c {
        case UInt8(ascii: "a"): index += 1; return .aromatic
        case UInt8(ascii: "A"): index += 1; return .aliphatic
        case UInt8(ascii: "H"): index += 1; return .totalHydrogens(readNumber() ?? 1)
        case UInt8(ascii: "h"): index += 1; return .implicitHydrogens(readNumber())
        case UInt8(ascii: "D"): index += 1; return .degree(readNumber() ?? 1)
        case UInt8(ascii: "X"): index += 1; return .totalDegree(readNumber() ?? 1)
        case UInt8(ascii: "R"): index += 1; return .ringCount(readNumber())
        case UInt8(ascii: "r"): index += 1; return .ringSize(readNumber())
        case UInt8(ascii: "x"): index += 1; return .ringConnectivity(readNumber())
        case UInt8(ascii: "v"): index += 1; return .valence(readNumber() ?? 1)
        default: throw fail("unknown atom primitive '\(Character(Unicode.Scalar(c)))'")
        }
    }

    private static let aromaticSymbols: [String: UInt8] = ["c": 6, "n": 7, "o": 8, "s": 16, "p": 15, "b": 5, "se": 34, "as": 33, "te": 52, "si": 14, "ge": 32]

    /// An element symbol at the cursor inside brackets, without consuming it. Lower-case first
    /// letters are aromatic atoms; `H`, `D`, `X`, `R` stand for elements only when they spell one
    /// with a following lower-case letter (`Hg`, `Ho`, `Ds`?) that names a real element.
    /// RDKit: an upper-case symbol means "aliphatic" only for the organic subset (B, C, N, O, P, S,
    /// halogens); `[Se]`, `[Te]`, `[As]` match by atomic number alone, aromatic or not.
    private static let organicSubset: Swift.Set<UInt8> = [5, 6, 7, 8, 9, 15, 16, 17, 35, 53]

    private func elementSymbol() -> (text: String, z: UInt8, aromatic: Bool?)? {
        guard let c = current else { return nil }
        let next = peek(1)
        if c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") {
            if let n = next, n >= UInt8(ascii: "a") && n <= UInt8(ascii: "z") {
                let two = String(decoding: [c, n], as: UTF8.self)
                if let z = Self.aromaticSymbols[two] { return (two, z, true) }
            }
            let one = String(decoding: [c], as: UTF8.self)
            if let z = Self.aromaticSymbols[one] { return (one, z, true) }
            return nil
        }
        guard c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") else { return nil }
        if let n = next, n >= UInt8(ascii: "a") && n <= UInt8(ascii: "z") {
            let two = String(decoding: [c, n], as: UTF8.self)
            if let z = Elements.atomicNumber(of: two) { return (two, UInt8(z), Self.organicSubset.contains(UInt8(z)) ? false : nil) }
        }
        let one = String(decoding: [c], as: UTF8.self)
        if ["D", "X", "R", "A"].contains(one) { return nil }
        if let z = Elements.atomicNumber(of: one) { return (one, UInt8(z), Self.organicSubset.contains(UInt8(z)) ? false : nil) }
        return nil
    }

    // MARK: Bonds

    private mutating func parseBondExpression(level: Int = 0) throws(SMARTSError) -> BondQuery {
        if level == 3 {
            if current == UInt8(ascii: "!") {
                index += 1
                return .not(try parseBondExpression(level: 3))
            }
            return .primitive(try parseBondPrimitive())
        }
        var parts = [try parseBondExpression(level: level + 1)]
        while let c = current {
            if level == 0, c == UInt8(ascii: ";") {
                index += 1
            } else if level == 1, c == UInt8(ascii: ",") {
                index += 1
            } else if level == 2, c == UInt8(ascii: "&") {
                index += 1
            } else if level == 2, isBondStart(c) {
                // implicit and: `-@`, `=!@`
            } else {
                break
            }
            parts.append(try parseBondExpression(level: level + 1))
        }
        if parts.count == 1 { return parts[0] }
        return level == 1 ? .or(parts) : .and(parts)
    }

    private func isBondStart(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "-"), UInt8(ascii: "="), UInt8(ascii: "#"), UInt8(ascii: ":"), UInt8(ascii: "~"),
             UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "!"): return true
        default: return false
        }
    }

    private mutating func parseBondPrimitive() throws(SMARTSError) -> BondPrimitive {
        guard let c = current else { throw fail("the pattern ends inside a bond") }
        index += 1
        switch c {
        case UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "\\"): return .single
        case UInt8(ascii: "="): return .double
        case UInt8(ascii: "#"): return .triple
        case UInt8(ascii: "$"): return .quadruple
        case UInt8(ascii: ":"): return .aromatic
        case UInt8(ascii: "~"): return .any
        case UInt8(ascii: "@"): return .ring
        default:
            index -= 1
            throw fail("expected a bond symbol")
        }
    }
}
