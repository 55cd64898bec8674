/// A condition over descriptor values, for filters: `mw <= 500 and clogp <= 5 and not (hbd > 5)`.
///
/// Grammar (words are case-insensitive):
///
///     expression := term ('or' term)*
///     term       := factor ('and' factor)*
///     factor     := 'not' factor | '(' expression ')' | comparison
///     comparison := operand op operand (op operand)*     -- `250 <= mw <= 350` is both comparisons
///     operand    := descriptor name | number (optionally signed, with decimals and exponent)
///     op         := '<' | '<=' | '>' | '>=' | '=' | '==' | '!='
///
/// Names are the descriptor columns (`mol_wt`, `clogp`, …) and the aliases in `Descriptor.aliases`.
/// A comparison with an undefined value (QED of a molecule QED cannot score) is false.
public struct DescriptorExpression: Sendable, CustomStringConvertible {
    public let text: String
    let root: Node

    indirect enum Node: Sendable {
        case compare(Operand, Comparison, Operand)
        case and(Node, Node)
        case or(Node, Node)
        case not(Node)
    }

    enum Operand: Sendable {
        case descriptor(Descriptor)
        case number(Double)
    }

    public enum Comparison: String, Sendable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "=", notEqual = "!="

        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            case .equal: return a == b
            case .notEqual: return a != b
            }
        }
    }

    public init(_ text: String) throws(DescriptorExpressionError) {
        self.text = text
        var parser = ExpressionParser(tokens: try ExpressionParser.tokenize(text), length: text.count)
        root = try parser.parseExpression()
        if let extra = parser.peek {
            throw DescriptorExpressionError(position: extra.position, reason: "unexpected '\(extra.text)' after a complete expression")
        }
    }

    public var description: String { text }

    /// The descriptors it reads, in order of first use.
    public var descriptors: [Descriptor] {
        var seen: [Descriptor] = []
        func walk(_ node: Node) {
            switch node {
            case .compare(let a, _, let b):
                for case .descriptor(let d) in [a, b] where !seen.contains(d) { seen.append(d) }
            case .and(let a, let b), .or(let a, let b): walk(a); walk(b)
            case .not(let a): walk(a)
            }
        }
        walk(root)
        return seen
    }

    /// Evaluates left to right with short-circuit `and`/`or`, so descriptors behind a failed
    /// condition are never computed.
    public func evaluate(_ values: inout LazyDescriptors) -> Bool { evaluate { values.value($0) } }

    /// Evaluates on descriptors already computed.
    public func evaluate(_ d: MolecularDescriptors) -> Bool { evaluate { d[$0] } }

    /// The one evaluator: `value` gives a descriptor's value (nil makes its comparison false).
    private func evaluate(_ value: (Descriptor) -> Double?) -> Bool {
        func operand(_ o: Operand) -> Double? {
            switch o {
            case .number(let x): return x
            case .descriptor(let d): return value(d)
            }
        }
        func eval(_ node: Node) -> Bool {
            switch node {
            case .compare(let a, let op, let b):
                guard let x = operand(a), let y = operand(b) else { return false }
                return op.holds(x, y)
            case .and(let a, let b): return eval(a) && eval(b)
            case .or(let a, let b): return eval(a) || eval(b)
            case .not(let a): return !eval(a)
            }
        }
        return eval(root)
    }
}

/// Why an expression could not be read: the 1-based character position and the reason.
public struct DescriptorExpressionError: Error, CustomStringConvertible, Sendable, Equatable {
    public let position: Int
    public let reason: String
    public var description: String { "at character \(position): \(reason)" }
}

struct ExpressionParser {
    enum Kind: Equatable {
        case name(String), number(Double), comparison(DescriptorExpression.Comparison), and, or, not, open, close
    }

    struct Token {
        var kind: Kind
        /// 1-based character position of its first character.
        var position: Int
        var text: String
    }

    var tokens: [Token]
    var index = 0
    /// Characters in the text, for "end of expression" positions.
    let length: Int

    var peek: Token? { index < tokens.count ? tokens[index] : nil }

    static func tokenize(_ text: String) throws(DescriptorExpressionError) -> [Token] {
        let chars = Array(text)
        var tokens: [Token] = []
        var i = 0
        func isNameStart(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c == "_") }
        func isNamePart(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }
        func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
        while i < chars.count {
            let c = chars[i]
            let start = i
            if c == " " || c == "\t" || c == "\n" { i += 1; continue }
            if isNameStart(c) {
                while i < chars.count, isNamePart(chars[i]) { i += 1 }
                let word = String(chars[start..<i])
                let kind: Kind
                switch word.lowercased() {
                case "and": kind = .and
                case "or": kind = .or
                case "not": kind = .not
                default: kind = .name(word)
                }
                tokens.append(Token(kind: kind, position: start + 1, text: word))
                continue
            }
            let signed = (c == "-" || c == "+") && i + 1 < chars.count && (isDigit(chars[i + 1]) || chars[i + 1] == ".")
            if isDigit(c) || c == "." || signed {
                if signed { i += 1 }
                while i < chars.count, isDigit(chars[i]) || chars[i] == "." { i += 1 }
                if i < chars.count, chars[i] == "e" || chars[i] == "E" {
                    var j = i + 1
                    if j < chars.count, chars[j] == "-" || chars[j] == "+" { j += 1 }
                    if j < chars.count, isDigit(chars[j]) {
                        i = j
                        while i < chars.count, isDigit(chars[i]) { i += 1 }
                    }
                }
                let word = String(chars[start..<i])
                guard let value = Double(word), value.isFinite else {
                    throw DescriptorExpressionError(position: start + 1, reason: "'\(word)' is not a number")
                }
                if i < chars.count, isNameStart(chars[i]) {
                    throw DescriptorExpressionError(position: i + 1, reason: "a number runs into a name ('\(word)\(chars[i])'); put a space or an operator between them")
                }
                tokens.append(Token(kind: .number(value), position: start + 1, text: word))
                continue
            }
            if c == "(" { tokens.append(Token(kind: .open, position: i + 1, text: "(")); i += 1; continue }
            if c == ")" { tokens.append(Token(kind: .close, position: i + 1, text: ")")); i += 1; continue }
            let two = i + 1 < chars.count ? String(chars[i...i + 1]) : String(c)
            let op: (DescriptorExpression.Comparison, Int)?
            switch two {
            case "<=": op = (.lessOrEqual, 2)
            case ">=": op = (.greaterOrEqual, 2)
            case "==": op = (.equal, 2)
            case "!=": op = (.notEqual, 2)
            default:
                switch c {
                case "<": op = (.less, 1)
                case ">": op = (.greater, 1)
                case "=": op = (.equal, 1)
                default: op = nil
                }
            }
            guard let op else {
                let hint = c == "&" || c == "|" || c == "!" ? " (use and, or, not)" : ""
                throw DescriptorExpressionError(position: i + 1, reason: "unexpected character '\(c)'\(hint)")
            }
            tokens.append(Token(kind: .comparison(op.0), position: i + 1, text: String(chars[i..<i + op.1])))
            i += op.1
        }
        return tokens
    }

    mutating func next() -> Token? {
        defer { index += 1 }
        return peek
    }

    func endError(_ what: String) -> DescriptorExpressionError {
        DescriptorExpressionError(position: length + 1, reason: "the expression ends where \(what) was expected")
    }

    mutating func parseExpression() throws(DescriptorExpressionError) -> DescriptorExpression.Node {
        var node = try parseTerm()
        while peek?.kind == .or {
            index += 1
            node = .or(node, try parseTerm())
        }
        return node
    }

    mutating func parseTerm() throws(DescriptorExpressionError) -> DescriptorExpression.Node {
        var node = try parseFactor()
        while peek?.kind == .and {
            index += 1
            node = .and(node, try parseFactor())
        }
        return node
    }

    mutating func parseFactor() throws(DescriptorExpressionError) -> DescriptorExpression.Node {
        guard let token = peek else { throw endError("a condition") }
        switch token.kind {
        case .not:
            index += 1
            return .not(try parseFactor())
        case .open:
            index += 1
            let inner = try parseExpression()
            guard let close = next() else {
                throw DescriptorExpressionError(position: token.position, reason: "'(' is never closed")
            }
            guard close.kind == .close else {
                throw DescriptorExpressionError(position: close.position, reason: "expected ')' or 'and'/'or', found '\(close.text)'")
            }
            return inner
        default:
            return try parseComparison()
        }
    }

    mutating func parseOperand() throws(DescriptorExpressionError) -> (DescriptorExpression.Operand, Token) {
        guard let token = next() else { throw endError("a descriptor name or a number") }
        switch token.kind {
        case .number(let x): return (.number(x), token)
        case .name(let name):
            guard let d = Descriptor(name: name) else {
                throw DescriptorExpressionError(position: token.position, reason: "unknown descriptor '\(name)' (known: "
                    + Descriptor.allCases.map(\.rawValue).joined(separator: ", ") + "; aliases "
                    + Descriptor.aliases.keys.sorted().joined(separator: ", ") + ")")
            }
            return (.descriptor(d), token)
        default:
            throw DescriptorExpressionError(position: token.position, reason: "expected a descriptor name or a number, found '\(token.text)'")
        }
    }

    mutating func parseComparison() throws(DescriptorExpressionError) -> DescriptorExpression.Node {
        var (left, leftToken) = try parseOperand()
        var node: DescriptorExpression.Node? = nil
        while true {
            guard let token = peek, case .comparison(let op) = token.kind else {
                if node == nil {
                    guard let token = peek else { throw endError("a comparison (<, <=, >, >=, =, !=) after '\(leftToken.text)'") }
                    throw DescriptorExpressionError(position: token.position,
                                                    reason: "expected a comparison (<, <=, >, >=, =, !=) after '\(leftToken.text)', found '\(token.text)'")
                }
                break
            }
            index += 1
            let (right, rightToken) = try parseOperand()
            if case .number = left, case .number = right {
                throw DescriptorExpressionError(position: leftToken.position, reason: "'\(leftToken.text) \(op.rawValue) \(rightToken.text)' compares two numbers; name a descriptor")
            }
            let comparison = DescriptorExpression.Node.compare(left, op, right)
            node = node.map { .and($0, comparison) } ?? comparison
            (left, leftToken) = (right, rightToken)
        }
        guard let node else { throw endError("a comparison") }
        return node
    }
}

/// Published property rules, as descriptor conditions with the number of violations allowed.
public enum DescriptorRule: String, CaseIterable, Sendable {
    case lipinski, veber, leadlike, ro3

    /// The conditions, each a simple comparison.
    public var conditions: [String] {
        switch self {
        // Lipinski, Lombardo, Dominy & Feeney, Adv. Drug Deliv. Rev. 1997, 23, 3: poor absorption is
        // likely when more than one of these fails; H-bond counts are Lipinski's (OH+NH, N+O).
        case .lipinski: return ["mol_wt <= 500", "clogp <= 5", "lipinski_hbd <= 5", "lipinski_hba <= 10"]
        // Veber et al., J. Med. Chem. 2002, 45, 2615: oral bioavailability in rat.
        case .veber: return ["rotatable_bonds <= 10", "tpsa <= 140"]
        // Lead-like ranges as used by ZINC (Irwin & Shoichet, J. Chem. Inf. Model. 2005, 45, 177,
        // after Teague, Davis, Leeson & Oprea, Angew. Chem. Int. Ed. 1999, 38, 3743).
        case .leadlike: return ["mol_wt >= 250", "mol_wt <= 350", "clogp <= 3.5", "rotatable_bonds <= 7"]
        // Congreve, Carr, Murray & Jhoti, Drug Discov. Today 2003, 8, 876: fragment "rule of three".
        case .ro3: return ["mol_wt < 300", "clogp <= 3", "hbd <= 3", "hba <= 3", "rotatable_bonds <= 3", "tpsa <= 60"]
        }
    }

    /// How many conditions may fail before the molecule is filtered.
    public var allowedViolations: Int { self == .lipinski ? 1 : 0 }

    /// The rule's conditions, compiled once (they are fixed text, tested to compile).
    public var expressions: [DescriptorExpression] { DescriptorRule.compiled[self] ?? [] }

    private static let compiled: [DescriptorRule: [DescriptorExpression]] = Dictionary(uniqueKeysWithValues: allCases.map { rule in
        (rule, rule.conditions.compactMap { try? DescriptorExpression($0) })
    })
}
