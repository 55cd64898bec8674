/// Which part of a data set a molecule belongs to.
public enum SplitPart: String, Sendable, Codable, CaseIterable {
    case train, validation, test
}

/// Why a split column could not be read.
public struct SplitColumnError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based data row of the bad value.
    public var row: Int
    public var value: String

    public var description: String {
        "row \(row): unknown split value \"\(value)\" (expected train, validation or test)"
    }
}

/// Train / validation / test assignments: from a column of the input, at random, or by scaffold.
/// All are deterministic for a seed so that runs can be reproduced.
public enum DataSplits {
    public typealias Fractions = (train: Double, validation: Double, test: Double)

    /// Reads a user-supplied split column: `train`/`training`, `valid`/`val`/`validation`, `test`
    /// (case-insensitive, surrounding whitespace ignored). Throws `SplitColumnError` naming the
    /// first unknown value and its 1-based row.
    public static func fromColumn(_ values: [String]) throws -> [SplitPart] {
        try values.enumerated().map { index, raw in
            switch raw.trimmingWhitespace().lowercased() {
            case "train", "training": return .train
            case "valid", "val", "validation": return .validation
            case "test": return .test
            default: throw SplitColumnError(row: index + 1, value: raw)
            }
        }
    }

    /// A seeded random split with exact sizes: train = ⌊f.train·n⌋, validation = ⌊f.validation·n⌋,
    /// test = the rest.
    public static func random(
        count: Int, fractions: Fractions = (0.8, 0.1, 0.1), seed: UInt64
    ) -> [SplitPart] {
        precondition(count >= 0)
        let (trainCount, validationCount) = partSizes(count: count, fractions: fractions)
        var generator = SeededGenerator(seed: seed)
        let order = generator.shuffled(Array(0..<count))
        var parts = [SplitPart](repeating: .test, count: count)
        for (position, index) in order.enumerated() {
            if position < trainCount {
                parts[index] = .train
            } else if position < trainCount + validationCount {
                parts[index] = .validation
            }
        }
        return parts
    }

    /// Chemprop's balanced scaffold split: molecules sharing a scaffold key always land in the same
    /// part, so the test set measures generalisation to new chemotypes. An empty key (acyclic
    /// molecule) forms a group of its own.
    ///
    /// Groups larger than half the validation or test size (Chemprop's rule; the same as "half the
    /// test size" for equal fractions) come first, largest first, so that they end up in train;
    /// the other groups follow in seeded random order. Each group in turn goes to train if train stays
    /// within f.train·n, else to validation if it stays within f.validation·n, else to test.
    public static func scaffold(
        keys: [String], fractions: Fractions = (0.8, 0.1, 0.1), seed: UInt64
    ) -> [SplitPart] {
        let n = Double(keys.count)
        let trainSize = fractions.train * n
        let validationSize = fractions.validation * n
        let testSize = fractions.test * n

        // Groups in order of first appearance, so that the result does not depend on dictionary order.
        var groups: [[Int]] = []
        var groupOfKey: [String: Int] = [:]
        for (index, key) in keys.enumerated() {
            if key.isEmpty {
                groups.append([index])
            } else if let group = groupOfKey[key] {
                groups[group].append(index)
            } else {
                groupOfKey[key] = groups.count
                groups.append([index])
            }
        }

        var big: [[Int]] = []
        var small: [[Int]] = []
        for group in groups {
            let size = Double(group.count)
            if size > validationSize / 2 || size > testSize / 2 { big.append(group) } else { small.append(group) }
        }
        // Stable sort: equal sizes keep first-appearance order.
        big = big.enumerated().sorted { $0.element.count != $1.element.count ? $0.element.count > $1.element.count : $0.offset < $1.offset }.map(\.element)
        var generator = SeededGenerator(seed: seed)
        generator.shuffle(&small)

        var parts = [SplitPart](repeating: .test, count: keys.count)
        var trainCount = 0, validationCount = 0
        for group in big + small {
            let part: SplitPart
            if Double(trainCount + group.count) <= trainSize {
                part = .train
                trainCount += group.count
            } else if Double(validationCount + group.count) <= validationSize {
                part = .validation
                validationCount += group.count
            } else {
                part = .test
            }
            for index in group { parts[index] = part }
        }
        return parts
    }

    /// ⌊f·n⌋ for train and validation, clamped so that they never exceed `count` together.
    static func partSizes(count: Int, fractions: Fractions) -> (train: Int, validation: Int) {
        precondition(fractions.train >= 0 && fractions.validation >= 0 && fractions.test >= 0,
                     "split fractions must not be negative")
        let train = min(count, Int(fractions.train * Double(count)))
        let validation = min(count - train, Int(fractions.validation * Double(count)))
        return (train, validation)
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and line breaks (no Foundation needed).
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
