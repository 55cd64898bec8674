import Chemistry
import Foundation
import Learning
import Testing
import WinnowTestSupport

/// The forest as a model kind of its own, class weights by default, and `--model auto`, on real
/// molecules (the shared BACE split).
@Suite struct ModelKindTests {
    static func forestOptions(trees: Int = 40) -> TrainingOptions {
        var options = TrainingOptions().withDefaults(for: .rf)
        options.forest?.trees = trees
        options.seed = 7
        return options
    }

    /// Same data, options and seed → the same model file bytes (at 1 and 2 threads); the file reads
    /// back to a model that predicts exactly the same scores and spreads.
    @Test func forestModelIsDeterministicAndRoundTrips() throws {
        let bace = try TrainingTests.bace()
        let options = Self.forestOptions()
        let serial = try TrainedModel.train(bace.data, train: bace.train, validation: [], options: options, dataInfo: TrainingTests.info,
                                            threads: 1) { _ in }
        let model = try TrainedModel.train(bace.data, train: bace.train, validation: [], options: options, dataInfo: TrainingTests.info,
                                           threads: 2) { _ in }
        let bytes = try model.archive().encoded()
        #expect(try serial.archive().encoded() == bytes)
        #expect(model.header.kind == .rf && model.header.members == 0 && model.header.options.forest?.trees == 40)
        #expect(TrainingTests.testAUC(model, bace) >= 0.80)

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-rf-\(UUID().uuidString).winnow")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.write(to: url)
        let loaded = try TrainedModel.read(from: url)
        let graphs = bace.test.map { bace.data.graphs[$0] }
        let before = model.predict(graphs), after = loaded.predict(graphs)
        #expect(after.scores == before.scores && after.uncertainties == before.uncertainties)
        // The spread over trees is the uncertainty: not all zero.
        #expect(after.uncertainties.contains { $0[0] > 0 })
        #expect(try loaded.archive().encoded() == bytes)

        // A forest header that claims network members is damaged, not half-loaded.
        var archive = try model.archive()
        var header = model.header
        header.members = 2
        archive = try ModelArchive(header: header, tensors: archive.tensors)
        #expect(throws: ModelFileError.self) { try TrainedModel.load(archive, source: "test") }
    }

    /// An imbalanced set made from real molecules: BACE's inactives and one active in 20. Without class
    /// weights a forest with 5-molecule leaves never gives an active a probability above 0.5 (every
    /// molecule is called inactive); the default (weights switched on by the active rate) calls some
    /// test actives active (3 of 71 with independent trees; 27 while every tree drew nearly the same
    /// bootstrap sample and the trees voted alike). The fingerprint MLP calls half of them active.
    @Test func imbalancedDefaultDoesNotCollapse() throws {
        let bace = try TrainingTests.bace()
        func isActive(_ i: Int) -> Bool { (bace.data.labels[i][0] ?? 0) > 0.5 }
        var kept = 0
        let train = bace.train.filter { i in
            guard isActive(i) else { return true }
            kept += 1
            return kept % 20 == 0
        }
        let decision = ClassBalance.decide(bace.data, rows: train, requested: nil)
        #expect(decision.automatic && decision.balance && decision.activeRate < 0.05, "\(decision)")
        #expect(!ClassBalance.decide(bace.data, rows: bace.train, requested: nil).balance, "BACE itself is balanced")
        #expect(!ClassBalance.decide(bace.data, rows: train, requested: false).balance)

        let graphs = bace.test.map { bace.data.graphs[$0] }
        let actives = bace.test.indices.filter { isActive(bace.test[$0]) }
        func calledActive(_ options: TrainingOptions) throws -> (actives: Int, all: Int) {
            let model = try TrainedModel.train(bace.data, train: train, validation: [], options: options, dataInfo: TrainingTests.info, threads: 2) { _ in }
            let scores = model.predict(graphs).scores.map { $0[0] }
            return (actives.filter { scores[$0] > 0.5 }.count, scores.filter { $0 > 0.5 }.count)
        }
        var forest = Self.forestOptions(trees: 30)
        forest.forest?.minimumLeaf = 5
        forest.balanceClasses = false
        let plainForest = try calledActive(forest)
        forest.balanceClasses = decision.balance
        let weightedForest = try calledActive(forest)
        #expect(plainForest.all == 0, "unweighted forest called \(plainForest.all) molecules active")
        #expect(weightedForest.actives >= 1, "weighted forest called \(weightedForest.actives) of \(actives.count) actives active")

        var mlp = TrainingOptions().withDefaults(for: .mlp)
        mlp.hidden = 64; mlp.headHidden = [16]; mlp.epochs = 5
        mlp.balanceClasses = false
        let plainMLP = try calledActive(mlp)
        mlp.balanceClasses = decision.balance
        let weightedMLP = try calledActive(mlp)
        #expect(plainMLP.all == 0, "unweighted MLP called \(plainMLP.all) molecules active")
        #expect(weightedMLP.actives * 2 >= actives.count, "weighted MLP called \(weightedMLP.actives) of \(actives.count) actives active")
    }

    /// `auto`'s forest and MLP grid, made small (20 trees, MLPs 64 → 16, 3 epochs, seed 3).
    static func smallGrid() -> [ModelSearch.Candidate] {
        var base = TrainingOptions()
        base.seed = 3
        base.epochs = 3
        var candidates = ModelSearch.grid(base: base, kinds: [.rf, .mlp], forestTrees: 20)
        for k in candidates.indices where candidates[k].options.kind == .mlp { candidates[k].options.hidden = 64; candidates[k].options.headHidden = [16] }
        return candidates
    }

    /// `auto` trains every candidate, records each one's validation value and the choice in the model
    /// file, keeps the best, and gives the same bytes for the same seed.
    @Test func autoRecordsWhatItTried() throws {
        let bace = try TrainingTests.bace()
        let candidates = Self.smallGrid()
        #expect(candidates.count == 4)
        let train = Array(bace.train.prefix(500))
        func run() throws -> (TrainedModel, ModelSelection) {
            try ModelSearch.run(bace.data, train: train, validation: bace.validation, candidates: candidates, metric: .prcAUC,
                            dataInfo: TrainingTests.info, threads: 2) { _ in }
        }
        let (model, selection) = try run()
        #expect(selection.metric == "prc-auc")
        // Four candidates and the mixture of the best network with the best forest.
        #expect(selection.candidates.count == 5)
        #expect(selection.candidates.allSatisfy { $0.validation > 0.5 && $0.validation <= 1 })
        let best = try #require(selection.candidates.max { $0.validation < $1.validation })
        let chosen = try #require(selection.candidates.first { $0.name == selection.chosen })
        #expect(chosen.validation == best.validation)
        let loaded = try TrainedModel.load(try model.archive(), source: "test")
        #expect(loaded.header.selection == selection)
        #expect(try run().0.archive().encoded() == (try model.archive().encoded()))
    }

    /// Validation rows of one class give no ROC-AUC: every candidate scores −∞, and the model file
    /// records null for it (JSONEncoder refused the −∞ and `winnow train --model auto` failed with an
    /// internal error after training); the file reads back with −∞.
    @Test func autoWithValidationRowsOfOneClassWritesItsModel() throws {
        let bace = try TrainingTests.bace()
        var base = TrainingOptions()
        base.seed = 3
        let candidates = ModelSearch.grid(base: base, kinds: [.rf], forestTrees: 5)
        let inactives = bace.validation.filter { bace.data.labels[$0][0] == 0 }
        #expect(!inactives.isEmpty)
        let (model, selection) = try ModelSearch.run(bace.data, train: Array(bace.train.prefix(300)), validation: inactives, candidates: candidates,
                                                     metric: .rocAUC, dataInfo: TrainingTests.info, threads: 2) { _ in }
        #expect(selection.candidates.count == 2 && selection.candidates.allSatisfy { $0.validation == -.infinity })
        let archive = try model.archive()
        #expect(String(decoding: archive.header, as: UTF8.self).contains(#""validation":null"#))
        let loaded = try TrainedModel.load(archive, source: "test")
        #expect(loaded.header.selection == selection)
    }

    /// Cross-validation folds: every training + validation row in exactly one fold, a scaffold never in
    /// two folds, actives dealt evenly (no two folds differ by more than the actives of one scaffold),
    /// the same folds for the same seed; without scaffold keys, stratified.
    @Test func foldsKeepScaffoldsTogetherAndSpreadActives() throws {
        let bace = try TrainingTests.bace()
        let rows = (bace.train + bace.validation).sorted()
        let keys = bace.data.graphs.map { $0.scaffoldKey() }
        func isActive(_ i: Int) -> Bool { (bace.data.labels[i][0] ?? 0) > 0.5 }
        let folds = ModelSearch.folds(bace.data, rows: rows, groups: keys, k: 5, seed: 3)
        #expect(folds.count == 5 && folds.allSatisfy { !$0.isEmpty })
        #expect(folds.joined().sorted() == rows)
        var foldOfKey: [String: Int] = [:], activesOfKey: [String: Int] = [:]
        for (f, fold) in folds.enumerated() {
            for row in fold where !keys[row].isEmpty {
                #expect(foldOfKey[keys[row], default: f] == f, "scaffold \(keys[row]) in two folds")
                foldOfKey[keys[row]] = f
                if isActive(row) { activesOfKey[keys[row], default: 0] += 1 }
            }
        }
        let actives = folds.map { $0.filter(isActive).count }
        let spread = (actives.max() ?? 0) - (actives.min() ?? 0)
        #expect(spread <= max(1, activesOfKey.values.max() ?? 1), "actives per fold \(actives)")
        #expect(ModelSearch.folds(bace.data, rows: rows, groups: keys, k: 5, seed: 3) == folds)
        #expect(ModelSearch.folds(bace.data, rows: rows, groups: keys, k: 5, seed: 4) != folds)
        let random = ModelSearch.folds(bace.data, rows: rows, groups: nil, k: 5, seed: 3)
        #expect(random.joined().sorted() == rows)
        let randomActives = random.map { $0.filter(isActive).count }
        #expect((randomActives.max() ?? 0) - (randomActives.min() ?? 0) <= 1, "actives per fold \(randomActives)")
    }

    /// The cross-validated rule: the forest stays unless another candidate is better on the mean over
    /// folds by more than the standard deviation of the per-fold differences.
    @Test func crossValidatedChoiceKeepsTheForestUnlessClearlyBeaten() {
        let names = ["rf", "mlp"]
        // Better on the mean (by 0.012) but up and down from fold to fold: noise, the forest stays.
        let noisy: [[Double?]] = [[0.80, 0.70, 0.75, 0.82, 0.78], [0.90, 0.62, 0.80, 0.79, 0.80]]
        let kept = ModelSearch.choose(values: noisy, names: names, forests: [0])
        #expect(kept.index == 0 && kept.rule.hasPrefix("forest kept"), "\(kept)")
        // Better on every fold by about the same amount: the network.
        let clear: [[Double?]] = [[0.80, 0.70, 0.75, 0.82, 0.78], [0.83, 0.74, 0.77, 0.85, 0.81]]
        #expect(ModelSearch.choose(values: clear, names: names, forests: [0]).index == 1)
        // A fold without a value for some candidate is left out for all: here the network's best fold.
        let gap: [[Double?]] = [[0.80, nil, 0.75, 0.70], [0.81, 0.99, 0.76, 0.71]]
        #expect(ModelSearch.choose(values: gap, names: names, forests: [0]).index == 1)
        let gap2: [[Double?]] = [[0.80, nil, 0.75, 0.70], [0.78, 0.99, 0.76, 0.69]]
        #expect(ModelSearch.choose(values: gap2, names: names, forests: [0]).index == 0)
        // No forest in the grid: the best mean.
        #expect(ModelSearch.choose(values: noisy, names: names, forests: []).index == 1)
    }

    /// `auto` with folds: every candidate (and the mixture) scored on each fold, the record in the model
    /// file, the choice by the rule, the same bytes for the same seed.
    @Test func autoCrossValidates() throws {
        let bace = try TrainingTests.bace()
        let candidates = Self.smallGrid()
        let train = Array(bace.train.prefix(400)), validation = Array(bace.validation.prefix(100))
        let folds = ModelSearch.folds(bace.data, rows: (train + validation).sorted(), groups: bace.data.graphs.map { $0.scaffoldKey() }, k: 3, seed: 3)
        func run() throws -> (TrainedModel, ModelSelection) {
            try ModelSearch.run(bace.data, train: train, validation: validation, candidates: candidates, metric: .rocAUC, folds: folds,
                                dataInfo: TrainingTests.info, threads: 2) { _ in }
        }
        let (model, selection) = try run()
        #expect(selection.folds == 3 && selection.rule != nil)
        #expect(selection.candidates.count == 5)
        for c in selection.candidates {
            let values = (c.folds ?? []).compactMap { $0 }
            #expect(values.count == 3 && values.allSatisfy { $0 > 0.5 && $0 <= 1 }, "\(c)")
            #expect(abs(c.validation - values.reduce(0, +) / 3) < 1e-12)
        }
        let forests = selection.candidates.indices.filter { selection.candidates[$0].name.hasPrefix("rf") }
        let expected = ModelSearch.choose(values: selection.candidates.map { $0.folds ?? [] }, names: selection.candidates.map(\.name), forests: forests)
        #expect(selection.chosen == selection.candidates[expected.index].name && selection.rule == expected.rule)
        let loaded = try TrainedModel.load(try model.archive(), source: "test")
        #expect(loaded.header.selection == selection)
        #expect(try run().0.archive().encoded() == (try model.archive().encoded()))
    }

    /// A forest kept by the cross-validation is refit on every row the folds held (training +
    /// validation: it has no epoch to pick), the same forest `--model rf` grows on those rows, and the
    /// record says so; a network kept is trained on the training rows and is not marked.
    @Test func autoRefitsTheKeptForestOnTrainingAndValidationRows() throws {
        let bace = try TrainingTests.bace()
        let forests = Self.smallGrid().filter { $0.options.kind == .rf }
        let train = Array(bace.train.prefix(400)), validation = Array(bace.validation.prefix(100))
        let every = (train + validation).sorted()
        let folds = ModelSearch.folds(bace.data, rows: every, groups: bace.data.graphs.map { $0.scaffoldKey() }, k: 3, seed: 3)
        let (model, selection) = try ModelSearch.run(bace.data, train: train, validation: validation, candidates: forests, metric: .rocAUC,
                                                     folds: folds, dataInfo: TrainingTests.info, threads: 2) { _ in }
        #expect(selection.forestOnValidation == true)
        let kept = try #require(forests.first { $0.name == selection.chosen })
        var options = kept.options
        options.selectionMetric = .rocAUC
        let refit = try TrainedModel.train(bace.data, train: every, validation: [], options: options, dataInfo: TrainingTests.info, threads: 1) { _ in }
        let trainOnly = try TrainedModel.train(bace.data, train: train, validation: validation, options: options, dataInfo: TrainingTests.info, threads: 1) { _ in }
        let test = Array(bace.test.prefix(100)).map { bace.data.graphs[$0] }
        let scores = model.predict(test).scores
        #expect(scores == refit.predict(test).scores)
        #expect(scores != trainOnly.predict(test).scores)

        let networks = Self.smallGrid().filter { $0.options.kind == .mlp }
        let (_, networkSelection) = try ModelSearch.run(bace.data, train: train, validation: validation, candidates: networks, metric: .rocAUC,
                                                        folds: folds, dataInfo: TrainingTests.info, threads: 2) { _ in }
        #expect(networkSelection.forestOnValidation == false)
    }
}
