import Chemistry
import Foundation
import Learning
import Testing
import WinnowTestSupport

/// Training on real data (the shared BACE scaffold split), determinism and model files.
@Suite struct TrainingTests {
    struct BACE {
        var data: Dataset
        var train: [Int], validation: [Int], test: [Int]
    }

    static func bace() throws -> BACE {
        let path = TestPaths.sharedData.appendingPathComponent("benchmarks/splits/bace_scaffold_s0.csv").path
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst()
        let parser = try MoleculeParser()
        var graphs: [MolecularGraph] = [], labels: [[Double?]] = [], parts: [String] = [], smiles: [String] = []
        for line in lines {
            let fields = line.split(separator: ",").map(String.init)
            graphs.append(try parser.parse(smiles: fields[0]))
            smiles.append(fields[0])
            labels.append([Double(fields[1])])
            parts.append(fields[2])
        }
        let data = Dataset(ids: smiles.indices.map { "row \($0 + 1)" }, smiles: smiles, graphs: graphs, taskNames: ["Class"],
                           taskKind: .classification, labels: labels)
        let split = try DataSplits.fromColumn(parts)
        return BACE(data: data, train: split.indices.filter { split[$0] == .train },
                    validation: split.indices.filter { split[$0] == .validation }, test: split.indices.filter { split[$0] == .test })
    }

    static let info = TrainingDataInfo(file: "bace_scaffold_s0.csv", hash: "test", rows: 1513, split: "column split", counts: [:])

    static func testAUC(_ model: TrainedModel, _ bace: BACE) -> Double {
        let prediction = model.predict(bace.test.map { bace.data.graphs[$0] })
        return Evaluation.metrics(scores: prediction.scores, data: bace.data, rows: bace.test)["roc_auc"] ?? 0
    }

    /// A broken model or featurisation fails this: chance is 0.5, a working MLP reaches ~0.89.
    @Test func mlpOnBACEBeatsAFloor() throws {
        let bace = try Self.bace()
        var options = TrainingOptions()
        options.kind = .mlp
        options.hidden = 256
        options.headHidden = [64]
        options.dropout = 0.2
        options.epochs = 8
        let model = try TrainedModel.train(bace.data, train: bace.train, validation: bace.validation, options: options, dataInfo: Self.info, threads: 2) { _ in }
        #expect(Self.testAUC(model, bace) >= 0.80)
    }

    @Test func dmpnnOnBACEBeatsAFloor() throws {
        let bace = try Self.bace()
        var options = TrainingOptions()
        options.kind = .dmpnn
        options.hidden = 64
        options.headHidden = [64]
        options.aggregation = .mean
        options.epochs = 10
        let model = try TrainedModel.train(bace.data, train: bace.train, validation: bace.validation, options: options, dataInfo: Self.info, threads: 2) { _ in }
        #expect(Self.testAUC(model, bace) >= 0.70)
    }

    /// Same seed → same bytes on disk; another seed → other weights.
    @Test func trainingIsDeterministicForASeed() throws {
        let bace = try Self.bace()
        let rows = Array(bace.train.prefix(200)), validation = Array(bace.validation.prefix(50))
        var options = TrainingOptions()
        options.kind = .dmpnn
        options.hidden = 24
        options.headHidden = [16]
        options.epochs = 2
        options.members = 2
        func bytes(seed: UInt64) throws -> Data {
            options.seed = seed
            return try TrainedModel.train(bace.data, train: rows, validation: validation, options: options, dataInfo: Self.info, threads: 2) { _ in }
                .archive().encoded()
        }
        let first = try bytes(seed: 7)
        #expect(try bytes(seed: 7) == first)
        #expect(try bytes(seed: 8) != first)
    }

    /// A model read back from its file scores exactly like the one in memory; ensembles report spread.
    @Test func modelFileRoundTripAndDamage() throws {
        let bace = try Self.bace()
        var options = TrainingOptions()
        options.kind = .mlp
        options.hidden = 32
        options.headHidden = [8]
        options.epochs = 2
        options.members = 3
        let model = try TrainedModel.train(bace.data, train: Array(bace.train.prefix(300)), validation: bace.validation,
                                       options: options, dataInfo: Self.info, threads: 2) { _ in }
        let folder = try TestPaths.scratch("model")
        let url = folder.appendingPathComponent("m.winnow")
        try model.write(to: url)
        let loaded = try TrainedModel.read(from: url)
        let graphs = bace.test.prefix(20).map { bace.data.graphs[$0] }
        let a = model.predict(Array(graphs)), b = loaded.predict(Array(graphs))
        #expect(a.scores == b.scores)
        #expect(a.uncertainties == b.uncertainties)
        #expect(a.uncertainties.contains { $0[0] > 0 })
        #expect(loaded.header == model.header)

        var damaged = try Data(contentsOf: url)
        damaged[damaged.count / 2] ^= 0x40
        try damaged.write(to: url)
        #expect(throws: ModelFileError.self) { try TrainedModel.read(from: url) }
        try Data(damaged.prefix(damaged.count - 10)).write(to: url)
        #expect(throws: ModelFileError.self) { try TrainedModel.read(from: url) }
    }

    /// A network ensemble plus a forest: the forest moves the scores, survives the file round trip
    /// exactly, gives the same bytes at any thread count, and damaged forest tensors are refused.
    @Test func forestBlendRoundTripsAndIsChecked() throws {
        let bace = try Self.bace()
        var options = TrainingOptions()
        options.kind = .mlp
        options.hidden = 32
        options.headHidden = [8]
        options.epochs = 3
        options.members = 2
        let rows = Array(bace.train.prefix(400))
        let plain = try TrainedModel.train(bace.data, train: rows, validation: [], options: options, dataInfo: Self.info, threads: 2) { _ in }
        options.forestTrees = 40
        let serial = try TrainedModel.train(bace.data, train: rows, validation: [], options: options, dataInfo: Self.info, threads: 1) { _ in }.archive().encoded()
        let model = try TrainedModel.train(bace.data, train: rows, validation: [], options: options, dataInfo: Self.info, threads: 2) { _ in }
        #expect(try model.archive().encoded() == serial)
        let graphs = Array(bace.test.map { bace.data.graphs[$0] })
        let blended = model.predict(graphs), networks = plain.predict(graphs)
        #expect(blended.scores != networks.scores)
        #expect(Self.testAUC(model, bace) >= 0.80)

        let loaded = try TrainedModel.load(try model.archive(), source: "test")
        let again = loaded.predict(graphs)
        #expect(again.scores == blended.scores && again.uncertainties == blended.uncertainties)

        // A child index pointing backwards (a loop) or a missing tensor is a damaged model, not a hang.
        var archive = try model.archive()
        let left = try #require(archive.tensors.firstIndex { $0.name == "forest0/left" })
        let branch = try #require(archive.tensors[left].values.firstIndex { $0 > 0 })
        archive.tensors[left].values[branch] = 0
        #expect(throws: ModelFileError.self) { try TrainedModel.load(archive, source: "test") }
        archive.tensors.remove(at: left)
        #expect(throws: ModelFileError.self) { try TrainedModel.load(archive, source: "test") }
    }

    /// Weights trained on another featurisation version are refused, not silently misread.
    @Test func otherFeatureVersionIsRefused() throws {
        let bace = try Self.bace()
        var options = TrainingOptions()
        options.kind = .mlp
        options.hidden = 8
        options.headHidden = []
        options.epochs = 1
        let model = try TrainedModel.train(bace.data, train: Array(bace.train.prefix(50)), validation: [], options: options, dataInfo: Self.info, threads: 2) { _ in }
        model.header.graphFeatureVersion += 1
        let archive = try model.archive()
        #expect(throws: ModelFileError.self) { try TrainedModel.load(archive, source: "test") }
    }
}
