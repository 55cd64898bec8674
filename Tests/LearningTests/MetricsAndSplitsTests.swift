import Foundation
import Testing
@testable import Learning

@Suite struct MetricsTests {
    // Shared small case with ties: 4 actives, 3 inactives.
    let scores = [0.9, 0.8, 0.8, 0.7, 0.5, 0.5, 0.3]
    let labels = [true, true, false, true, false, true, false]

    /// Pairs (active, inactive) ranked right count 1, ties ½:
    /// 0.9 beats 3; 0.8 ties 1 and beats 2 → 2.5; 0.7 beats 2; 0.5 ties 1 and beats 1 → 1.5.
    /// AUC = (3 + 2.5 + 2 + 1.5) / (4·3) = 9/12 = 0.75 (scikit-learn roc_auc_score agrees).
    /// The metrics JSON (`winnow train --metrics`, `winnow evaluate`): JSONEncoder output that any
    /// JSON reader takes back with the same fields; NaN and ±∞ become null instead of stopping the
    /// encoder; six decimals; texts escaped; a name in both maps keeps the text.
    @Test func metricsReportIsJSONWithNullForNonFiniteNumbers() throws {
        let report = MetricsReport(numbers: ["test.roc_auc": 0.91118012, "test.molecules": 151, "auto.validation.rf": -.infinity,
                                             "nan": .nan, "inf": .infinity, "model": 1],
                                   texts: ["model": "rf", "note": "a \"quoted\" \\ path/with\ttab\n"])
        let text = try report.jsonText()
        #expect(text.hasSuffix("}\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object.count == 7)
        #expect(object["test.roc_auc"] as? Double == 0.91118)
        #expect(object["test.molecules"] as? Int == 151)
        for name in ["auto.validation.rf", "nan", "inf"] { #expect(object[name] is NSNull, "\(name)") }
        #expect(object["model"] as? String == "rf")
        #expect(object["note"] as? String == "a \"quoted\" \\ path/with\ttab\n")
        #expect(try report.jsonText() == text)
        let keys = text.split(separator: "\n").compactMap { line in line.split(separator: "\"").dropFirst().first.map(String.init) }
        #expect(keys == keys.sorted())
    }

    @Test func rocAUCCountsTiesHalf() throws {
        let auc = try #require(Metrics.rocAUC(scores: scores, labels: labels))
        #expect(abs(auc - 0.75) < 1e-12)
        // All scores tied: every pair counts ½.
        #expect(Metrics.rocAUC(scores: [0.5, 0.5, 0.5, 0.5], labels: [true, false, true, false]) == 0.5)
        #expect(Metrics.rocAUC(scores: [1, 0], labels: [true, false]) == 1)
        #expect(Metrics.rocAUC(scores: [1, 0], labels: [false, true]) == 0)
        #expect(Metrics.rocAUC(scores: [1, 0], labels: [true, true]) == nil)
        #expect(Metrics.rocAUC(scores: [], labels: []) == nil)
    }

    /// Thresholds from the top (ties one threshold), (precision, recall):
    /// 0.9 → (1/1, 1/4); 0.8 → (2/3, 2/4); 0.7 → (3/4, 3/4); 0.5 → (4/6, 4/4); 0.3 adds no recall.
    /// AP = ¼·(1 + 2/3 + 3/4 + 2/3) = 37/48 ≈ 0.770833 (scikit-learn average_precision_score agrees).
    @Test func averagePrecisionGroupsTies() throws {
        let ap = try #require(Metrics.prcAUC(scores: scores, labels: labels))
        #expect(abs(ap - 37.0 / 48.0) < 1e-12)
        // One tied threshold holding everything: precision 2/4 at recall 1 → 0.5.
        #expect(Metrics.prcAUC(scores: [0.5, 0.5, 0.5, 0.5], labels: [true, false, true, false]) == 0.5)
        // Actives at 0.9 (tied with an inactive) and 0.6: 2/3·(2/3) + 1/3·(3/5) = 29/45.
        let ap10 = try #require(Metrics.prcAUC(scores: tenScores, labels: tenLabels))
        #expect(abs(ap10 - 29.0 / 45.0) < 1e-12)
        #expect(Metrics.prcAUC(scores: [0.1, 0.2], labels: [false, false]) == nil)
    }

    // Ten compounds; stable descending order is indices 1, 3, 4 (0.9), 9, 8, 2, 7, 6, 0, 5,
    // so the actives (indices 3, 4, 8) sit at ranks 2, 3 and 5.
    let tenScores = [0.2, 0.9, 0.5, 0.9, 0.9, 0.1, 0.3, 0.4, 0.6, 0.7]
    let tenLabels = [false, false, false, true, true, false, false, false, true, false]

    /// EF20%: n_top = ⌈0.2·10⌉ = 2 → indices 1 (inactive) and 3 (active, tie broken by input order):
    /// (1/2) / (3/10) = 5/3. EF1%: n_top = max(1, ⌈0.1⌉) = 1 → index 1, no hit → 0.
    /// EF50%: top 5 holds all 3 actives → (3/5)/(3/10) = 2.
    @Test func enrichmentFactorUsesStableTopSlice() throws {
        let ef20 = try #require(Metrics.enrichmentFactor(scores: tenScores, labels: tenLabels, fraction: 0.2))
        #expect(abs(ef20 - 5.0 / 3.0) < 1e-12)
        #expect(Metrics.enrichmentFactor(scores: tenScores, labels: tenLabels, fraction: 0.01) == 0)
        let ef50 = try #require(Metrics.enrichmentFactor(scores: tenScores, labels: tenLabels, fraction: 0.5))
        #expect(abs(ef50 - 2) < 1e-12)
        #expect(Metrics.enrichmentFactor(scores: tenScores, labels: [Bool](repeating: false, count: 10), fraction: 0.1) == nil)
    }

    /// 0.07·100 is 7.000000000000001 in floating point; the top slice must still be 7, not 8.
    /// Actives at positions 0 and 7 (scores descending with position): top 7 holds 1 of 2 →
    /// (1/7) / (2/100) = 50/7.
    @Test func enrichmentFactorIgnoresFloatingPointNoiseInTheCut() throws {
        let scores = (0..<100).map { Double(100 - $0) }
        var labels = [Bool](repeating: false, count: 100)
        labels[0] = true
        labels[7] = true
        let ef = try #require(Metrics.enrichmentFactor(scores: scores, labels: labels, fraction: 0.07))
        #expect(abs(ef - 50.0 / 7.0) < 1e-12)
    }

    /// Reference from the paper's closed form (Truchon & Bayly 2007, eq. 36), evaluated with numpy:
    /// N = 10, n = 3, Ra = 0.3, active ranks 2, 3, 5;
    /// RIE = Σ e^(−α·r/N) / (Ra·(1 − e^(−α)) / (e^(α/N) − 1));
    /// BEDROC = RIE·Ra·sinh(α/2) / (cosh(α/2) − cosh(α/2 − α·Ra)) + 1 / (1 − e^(α(1 − Ra))).
    /// α = 20 → 0.13347673074200078, α = 5 → 0.5484279827747115.
    @Test func bedrocMatchesThePaperFormula() throws {
        let b20 = try #require(Metrics.bedroc(scores: tenScores, labels: tenLabels))
        #expect(abs(b20 - 0.13347673074200078) < 1e-12)
        let b5 = try #require(Metrics.bedroc(scores: tenScores, labels: tenLabels, alpha: 5))
        #expect(abs(b5 - 0.5484279827747115) < 1e-12)
        // Best and worst orderings reach the ends of [0, 1].
        let best = try #require(Metrics.bedroc(scores: [3, 2, 1, 0], labels: [true, true, false, false]))
        #expect(abs(best - 1) < 1e-12)
        let worst = try #require(Metrics.bedroc(scores: [3, 2, 1, 0], labels: [false, false, true, true]))
        #expect(abs(worst) < 1e-12)
        #expect(Metrics.bedroc(scores: [1, 2], labels: [true, true]) == nil)
        #expect(Metrics.bedroc(scores: [1, 2], labels: [false, false]) == nil)
    }

    /// Errors 0, 1, 2 → MSE 5/3, RMSE √(5/3) ≈ 1.2909944. Targets mean 3: SS_tot = 4 + 0 + 4 = 8,
    /// SS_res = 5 → R² = 1 − 5/8 = 0.375.
    @Test func regressionMetrics() throws {
        let rmse = try #require(Metrics.rmse(predictions: [1, 2, 3], targets: [1, 3, 5]))
        #expect(abs(rmse - (5.0 / 3.0).squareRoot()) < 1e-12)
        let r2 = try #require(Metrics.r2(predictions: [1, 2, 3], targets: [1, 3, 5]))
        #expect(abs(r2 - 0.375) < 1e-12)
        #expect(Metrics.r2(predictions: [1, 5, 3], targets: [1, 5, 3]) == 1)
        #expect(Metrics.r2(predictions: [1, 2], targets: [4, 4]) == nil)
        #expect(Metrics.rmse(predictions: [], targets: []) == nil)
    }
}

@Suite struct RandomTests {
    /// SplitMix64 from seed 0 gives the reference sequence of Vigna's splitmix64.c.
    @Test func splitMixMatchesReferenceSequence() {
        var generator = SeededGenerator(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(generator.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func gaussiansHaveUnitMomentsAndRepeatForASeed() {
        var a = SeededGenerator(seed: 42)
        var b = SeededGenerator(seed: 42)
        let samples = (0..<100_000).map { _ in a.nextGaussian() }
        #expect(samples == (0..<100_000).map { _ in b.nextGaussian() })
        let mean = samples.reduce(0.0) { $0 + Double($1) } / Double(samples.count)
        let variance = samples.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(samples.count)
        #expect(abs(mean) < 0.02)
        #expect(abs(variance - 1) < 0.02)
        #expect(samples.allSatisfy { $0.isFinite })
    }

    @Test func boundedIntegersAndShuffleStayInRange() {
        var generator = SeededGenerator(seed: 7)
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<50_000 { counts[generator.nextInt(below: 5)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 500 })
        let shuffled = generator.shuffled(Array(0..<100))
        #expect(shuffled.sorted() == Array(0..<100))
        #expect(shuffled != Array(0..<100))
    }
}

@Suite struct SplitsTests {
    @Test func columnValuesAreReadCaseInsensitively() throws {
        let parts = try DataSplits.fromColumn(["train", " Training ", "VALID", "val", "Validation\t", "test", "TEST"])
        #expect(parts == [.train, .train, .validation, .validation, .validation, .test, .test])
    }

    @Test func unknownColumnValueNamesRowAndValue() {
        #expect(throws: SplitColumnError(row: 3, value: "holdout")) {
            try DataSplits.fromColumn(["train", "test", "holdout", "bogus"])
        }
        do {
            _ = try DataSplits.fromColumn(["", "train"])
            Issue.record("an empty value was accepted")
        } catch {
            let text = String(describing: error)
            #expect(text.contains("row 1"))
        }
        let message = SplitColumnError(row: 3, value: "holdout").description
        #expect(message.contains("row 3") && message.contains("holdout"))
    }

    /// 0.8·1003 = 802.4 → 802 train, 0.1·1003 = 100.3 → 100 validation, 101 test.
    @Test func randomSplitHasExactSizesAndRepeatsForASeed() {
        let parts = DataSplits.random(count: 1003, seed: 1)
        #expect(parts.filter { $0 == .train }.count == 802)
        #expect(parts.filter { $0 == .validation }.count == 100)
        #expect(parts.filter { $0 == .test }.count == 101)
        #expect(parts == DataSplits.random(count: 1003, seed: 1))
        #expect(parts != DataSplits.random(count: 1003, seed: 2))
        let custom = DataSplits.random(count: 10, fractions: (0.5, 0.3, 0.2), seed: 3)
        #expect(custom.filter { $0 == .train }.count == 5)
        #expect(custom.filter { $0 == .validation }.count == 3)
        #expect(custom.filter { $0 == .test }.count == 2)
        #expect(DataSplits.random(count: 0, seed: 1).isEmpty)
    }

    /// 1,000 molecules: one scaffold with 300 members, 30 with 10, 100 with 3 and 100 acyclic ones.
    func syntheticKeys() -> [String] {
        var keys = [String](repeating: "big", count: 300)
        for g in 0..<30 { keys += [String](repeating: "ten\(g)", count: 10) }
        for g in 0..<100 { keys += [String](repeating: "three\(g)", count: 3) }
        keys += [String](repeating: "", count: 100)
        // Interleave so that groups are not contiguous in the input.
        var generator = SeededGenerator(seed: 99)
        return generator.shuffled(keys)
    }

    @Test func scaffoldSplitKeepsEachScaffoldInOnePart() {
        let keys = syntheticKeys()
        let parts = DataSplits.scaffold(keys: keys, seed: 0)
        var partOfKey: [String: SplitPart] = [:]
        for (key, part) in zip(keys, parts) where !key.isEmpty {
            if let seen = partOfKey[key] {
                #expect(seen == part, "scaffold \(key) is in \(seen) and \(part)")
            }
            partOfKey[key] = part
        }
        // The 300-member group exceeds half the test size (50), so it is placed first: in train.
        #expect(partOfKey["big"] == .train)
        let train = parts.filter { $0 == .train }.count
        let validation = parts.filter { $0 == .validation }.count
        #expect(train <= 800 && train >= 790)
        #expect(validation <= 100 && validation >= 90)
        #expect(train + validation + parts.filter { $0 == .test }.count == 1000)
    }

    @Test func scaffoldSplitRepeatsForASeedAndVariesAcrossSeeds() {
        let keys = syntheticKeys()
        let a = DataSplits.scaffold(keys: keys, seed: 5)
        #expect(a == DataSplits.scaffold(keys: keys, seed: 5))
        #expect(a != DataSplits.scaffold(keys: keys, seed: 6))
    }

    /// Big groups go first, largest first: with sizes 0.5/0.25/0.25 of 8 molecules (train 4,
    /// validation 2, test 2) the groups of 3 and 2 both exceed half the test size (1); the 3-group
    /// fills train (3 ≤ 4), the 2-group no longer fits train (5 > 4) and goes to validation.
    @Test func scaffoldSplitPlacesLargeGroupsFirst() {
        let keys = ["b", "a", "a", "b", "a", "c", "d", "e"]
        let parts = DataSplits.scaffold(keys: keys, fractions: (0.5, 0.25, 0.25), seed: 0)
        #expect(parts[1] == .train && parts[2] == .train && parts[4] == .train)
        #expect(parts[0] == .validation && parts[3] == .validation)
        #expect(parts.filter { $0 == .train }.count == 4)
        #expect(parts.filter { $0 == .test }.count == 2)
    }
}
