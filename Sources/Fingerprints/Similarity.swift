import CKernels
import Foundation

/// Number of set bits of a fingerprint.
public func popcount(_ words: [UInt64]) -> Int {
    words.withUnsafeBufferPointer { Int(wk_popcount($0.baseAddress, Int64($0.count))) }
}

/// A similarity as an exact fraction of integers, so that thresholds and rankings never depend on
/// floating-point rounding: a similarity exactly equal to the threshold is a hit, and equal
/// similarities are equal (ties then go by database order).
public struct ExactSimilarity: Sendable, Hashable, CustomStringConvertible {
    public var numerator: Int
    public var denominator: Int

    public init(_ numerator: Int, _ denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The value in double precision (correctly rounded: one division).
    public var value: Double { Double(numerator) / Double(denominator) }

    /// Four decimals, as in every hit list.
    public var description: String { formatSimilarity(value) }

    @inline(__always) public static func < (a: ExactSimilarity, b: ExactSimilarity) -> Bool {
        a.numerator * b.denominator < b.numerator * a.denominator
    }

    @inline(__always) public static func >= (a: ExactSimilarity, b: ExactSimilarity) -> Bool { !(a < b) }

    @inline(__always) public func equals(_ b: ExactSimilarity) -> Bool {
        numerator * b.denominator == b.numerator * denominator
    }
}

/// Similarities are printed with 4 decimals everywhere.
public func formatSimilarity(_ value: Double) -> String { String(format: "%.4f", value) }

/// A threshold given as a decimal number (`0.7`, `0.85`), kept as the exact fraction it names.
public struct SimilarityThreshold: Sendable, Hashable, CustomStringConvertible {
    public let exact: ExactSimilarity
    public let text: String

    /// Parses `0`, `1`, `0.7`, `.75`, `7e-1`: at most 6 decimals after scaling, between 0 and 1.
    public init?(_ text: String) {
        guard let exact = parseDecimal(text, maxDecimals: 6), exact.numerator >= 0, exact.numerator <= exact.denominator else { return nil }
        self.exact = exact
        self.text = text
    }

    /// From a Double through its shortest decimal spelling (0.7 is 7/10, not the binary 0.6999…).
    public init?(_ value: Double) { self.init("\(value)") }

    public static let zero = SimilarityThreshold(exact: ExactSimilarity(0, 1), text: "0")

    private init(exact: ExactSimilarity, text: String) {
        self.exact = exact
        self.text = text
    }

    public var description: String { text }
}

/// Parses a non-negative decimal (`0.7`, `.5`, `3`, `1e-2`, `2.5E1`) into an exact fraction with a
/// power-of-ten denominator; nil when malformed or with more than `maxDecimals` decimals.
func parseDecimal(_ text: String, maxDecimals: Int) -> ExactSimilarity? {
    var mantissa = Substring(text)
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        guard let x = Int(text[text.index(after: e)...]), abs(x) < 20 else { return nil }
        exponent = x
        mantissa = text[..<e]
    }
    let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count <= 2 else { return nil }
    let whole = parts[0], fraction = parts.count == 2 ? parts[1] : ""
    guard !(whole.isEmpty && fraction.isEmpty), (whole + fraction).allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    var digits = String(whole + fraction).drop(while: { $0 == "0" })
    var decimals = fraction.count - exponent
    // Trailing zeros carry no precision: 0.500 is 1/2 as well as 5/10.
    while decimals > 0, digits.last == "0" { digits.removeLast(); decimals -= 1 }
    if digits.isEmpty { return ExactSimilarity(0, 1) }
    guard digits.count <= 12, var numerator = Int(digits) else { return nil }
    if decimals < 0 {
        guard decimals > -8 else { return nil }
        for _ in 0..<(-decimals) { numerator *= 10 }
        decimals = 0
    }
    guard decimals <= maxDecimals else { return nil }
    var denominator = 1
    for _ in 0..<decimals { denominator *= 10 }
    return ExactSimilarity(numerator, denominator)
}

/// Tanimoto, or Tversky with weights α (on the query's own bits) and β (on the database
/// fingerprint's own bits): S = c / (α(a − c) + β(b − c) + c), where a = |query|, b = |row|,
/// c = |query & row|. α = β = 1 is Tanimoto, α = β = 0.5 is Dice. The weights are decimals with at
/// most 3 places, so every similarity is an exact fraction of integers.
public struct SimilarityMeasure: Sendable, Hashable, CustomStringConvertible {
    /// α, β and their common denominator: α = alpha / scale, β = beta / scale.
    public let alpha: Int
    public let beta: Int
    public let scale: Int
    public let text: String

    public static let tanimoto = SimilarityMeasure(alpha: 1, beta: 1, scale: 1, text: "tanimoto")

    private init(alpha: Int, beta: Int, scale: Int, text: String) {
        self.alpha = alpha; self.beta = beta; self.scale = scale; self.text = text
    }

    /// `--tversky A,B`: two decimals between 0 and 10 with at most 3 places, not both 0.
    public init?(tversky text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2,
              let a = parseDecimal(String(parts[0]).trimmingSpaces, maxDecimals: 3),
              let b = parseDecimal(String(parts[1]).trimmingSpaces, maxDecimals: 3) else { return nil }
        let scale = 1000
        let alpha = a.numerator * (scale / a.denominator), beta = b.numerator * (scale / b.denominator)
        guard alpha <= 10 * scale, beta <= 10 * scale, alpha + beta > 0 else { return nil }
        self.init(alpha: alpha, beta: beta, scale: scale, text: "tversky(\(parts[0]),\(parts[1]))")
    }

    public var isTanimoto: Bool { alpha == scale && beta == scale }

    public var description: String { text }

    /// Similarity of a query with `a` bits to a row with `b` bits sharing `c`. Two empty
    /// fingerprints are identical (1); a zero denominator otherwise (α or β zero and nothing in
    /// common) counts as 0.
    @inline(__always) public func similarity(a: Int, b: Int, c: Int) -> ExactSimilarity {
        let numerator = c * scale
        let denominator = alpha * (a - c) + beta * (b - c) + numerator
        if denominator == 0 { return a == 0 && b == 0 ? ExactSimilarity(1, 1) : ExactSimilarity(0, 1) }
        return ExactSimilarity(numerator, denominator)
    }

    /// The smallest intersection count c ≤ min(a, b) whose similarity is at least `bound`, or nil
    /// when even c = min(a, b) falls short. The similarity grows with c (for α, β ≥ 0), so a binary
    /// search over c finds it; this is also the Swamidass–Baldi bound: a popcount b whose best case
    /// c = min(a, b) misses the bound is skipped whole.
    public func minimumCommon(a: Int, b: Int, atLeast bound: ExactSimilarity) -> Int? {
        var high = min(a, b)
        guard similarity(a: a, b: b, c: high) >= bound else { return nil }
        var low = 0
        while low < high {
            let middle = (low + high) / 2
            if similarity(a: a, b: b, c: middle) >= bound { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

extension String {
    var trimmingSpaces: String { String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
}
