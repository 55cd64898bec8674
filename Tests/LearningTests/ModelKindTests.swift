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

    /// `auto` trains every candidate, records each one's validation value and the choice in the model
    /// file, keeps the best, and gives the same bytes for the same seed.
    @Test func autoRecordsWhatItTried() throws {
        let bace = try TrainingTests.bace()
        var base = TrainingOptions()
        base.seed = 3
        base.epochs = 3
        var candidates = ModelSearch.grid(base: base, kinds: [.rf, .mlp], forestTrees: 20)
        for k in candidates.indices where candidates[k].options.kind == .mlp { candidates[k].options.hidden = 64; candidates[k].options.headHidden = [16] }
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
}
