import Chemistry
import Foundation
import Learning
import Testing
import WinnowTestSupport

/// Descriptors and numeric columns as network inputs (`ExtraFeatures`): scaling, the round trip
/// through the model file, determinism, and that the inputs really reach the networks.
@Suite struct ExtraFeaturesTests {
    /// BACE's scaffold split with one made-up numeric column (a noisy copy of the label, so that a
    /// network reading it gains something), the first `count` training rows.
    static func data() throws -> (bace: TrainingTests.BACE, train: [Int], validation: [Int]) {
        var bace = try TrainingTests.bace()
        var generator = SeededGenerator(seed: 11)
        bace.data.featureColumns = bace.data.labels.map { labels in
            [(labels[0] ?? 0) * 2 + Double(generator.nextGaussian())]
        }
        return (bace, Array(bace.train.prefix(300)), Array(bace.validation.prefix(60)))
    }

    static func options(_ kind: ModelKind) -> TrainingOptions {
        var options = TrainingOptions()
        options.kind = kind
        options.hidden = kind == .dmpnn ? 24 : 32
        options.headHidden = [16]
        options.epochs = 2
        options.members = 2
        options.extraFeatures = ExtraFeatures(descriptors: ExtraFeatures.allDescriptors, columns: ["assay"])
        return options
    }

    /// The scaling is fitted on the training rows (mean 0, standard deviation 1 there), an undefined
    /// value becomes 0, and a feature without spread keeps deviation 1.
    @Test func scalingIsFittedOnTheTrainingRows() throws {
        var extra = ExtraFeatures(columns: ["a", "b", "c"])
        let raw: [[Double]] = [[1, 5, .nan], [3, 5, 2], [5, 5, 4], [100, 7, 6]]
        extra.fit(raw, rows: [0, 1, 2])
        #expect(extra.means == [3, 5, 3])
        #expect(abs(extra.deviations[0] - (8.0 / 3).squareRoot()) < 1e-12)
        #expect(extra.deviations[1] == 1 && extra.deviations[2] == 1)
        let scaled = extra.scaled(raw)
        #expect(scaled[0][2] == 0, "NaN becomes the training mean")
        #expect(abs(scaled[0][0] + scaled[2][0]) < 1e-6 && scaled[1][0] == 0)
        #expect(extra.problem == nil)
        // Descriptor values are RDKit's (phenol: MW 94.113, 1 ring, 1 aromatic ring).
        let phenol = try MoleculeParser().parse(smiles: "Oc1ccccc1")
        let values = ExtraFeatures(descriptors: [.molWt, .rings, .aromaticRings]).rawValues([phenol], columns: [])
        #expect(abs(values[0][0] - 94.113) < 0.001 && values[0][1] == 1 && values[0][2] == 1)
    }

    /// For the MLP and the D-MPNN: the model file stores the feature list and the scaling (format 2),
    /// the loaded model scores exactly as the one in memory, and the feature column changes the
    /// scores (the inputs reach the network).
    @Test(arguments: [ModelKind.mlp, ModelKind.dmpnn])
    func modelFileRoundTripWithExtraFeatures(kind: ModelKind) throws {
        let (bace, train, validation) = try Self.data()
        let model = try TrainedModel.train(bace.data, train: train, validation: validation, options: Self.options(kind),
                                           dataInfo: TrainingTests.info, threads: 2) { _ in }
        let stored = try #require(model.header.options.extraFeatures)
        #expect(stored.names == ExtraFeatures.allDescriptors.map(\.rawValue) + ["assay"])
        #expect(stored.isFitted && stored.problem == nil)
        #expect(model.featureColumns == ["assay"])
        let folder = try TestPaths.scratch("extra-features")
        let url = folder.appendingPathComponent("m.winnow")
        try model.write(to: url)
        let bytes = try Data(contentsOf: url)
        #expect(bytes[8] == 2, "format version 2 marks extra features")
        let loaded = try TrainedModel.read(from: url)
        #expect(loaded.header == model.header)
        let rows = Array(bace.test.prefix(40))
        let graphs = rows.map { bace.data.graphs[$0] }, columns = bace.data.featureColumns(rows)
        let a = model.predict(graphs, columns: columns), b = loaded.predict(graphs, columns: columns)
        #expect(a.scores == b.scores && a.uncertainties == b.uncertainties)
        let shifted = loaded.predict(graphs, columns: columns.map { [$0[0] + 3] })
        #expect(shifted.scores != a.scores, "the feature column reaches the network")
        // Another Winnow's reader of format 1 would refuse this file rather than misread it.
        var older = bytes
        older[8] = 3
        #expect(throws: ModelFileError.self) { try TrainedModel.load(try ModelArchive.decode(older, source: "m.winnow"), source: "m.winnow") }
    }

    /// Same data, options and seed: the same model bytes at 1 and 2 threads.
    @Test func extraFeatureModelsAreDeterministic() throws {
        let (bace, train, validation) = try Self.data()
        for kind in [ModelKind.mlp, .dmpnn] {
            let one = try TrainedModel.train(bace.data, train: train, validation: validation, options: Self.options(kind),
                                             dataInfo: TrainingTests.info, threads: 1) { _ in }.archive().encoded()
            let two = try TrainedModel.train(bace.data, train: train, validation: validation, options: Self.options(kind),
                                             dataInfo: TrainingTests.info, threads: 2) { _ in }.archive().encoded()
            #expect(one == two, "\(kind)")
        }
    }

    /// Without extra features nothing changes: format 1, and the header has no extraFeatures key
    /// (older Winnows read these files as before).
    @Test func modelsWithoutExtraFeaturesKeepFormatOne() throws {
        let (bace, train, validation) = try Self.data()
        var options = Self.options(.mlp)
        options.extraFeatures = nil
        let archive = try TrainedModel.train(bace.data, train: train, validation: validation, options: options,
                                             dataInfo: TrainingTests.info, threads: 2) { _ in }.archive()
        #expect(archive.version == 1)
        #expect(archive.encoded()[8] == 1)
        #expect(!String(decoding: archive.header, as: UTF8.self).contains("extraFeatures"))
    }

    /// A header whose scaling does not fit its feature list is refused with the reason.
    @Test func damagedScalingIsRefused() throws {
        let (bace, train, validation) = try Self.data()
        let model = try TrainedModel.train(bace.data, train: train, validation: validation, options: Self.options(.mlp),
                                           dataInfo: TrainingTests.info, threads: 2) { _ in }
        var header = model.header
        header.options.extraFeatures?.deviations.removeLast()
        let archive = try ModelArchive(header: header, tensors: model.archive().tensors, version: 2)
        #expect {
            _ = try TrainedModel.load(archive, source: "bad.winnow")
        } throws: { error in
            "\(error)".contains("scaling holds 17 means and 16 deviations for 17 features")
        }
    }
}

/// The D-MPNN with extra features, as a `MoleculeModel` for the finite-difference gradient check:
/// the extra columns enter the head, and only the representation's gradient goes back into message
/// passing.
private final class DMPNNWithExtra: MoleculeModel {
    let model: DMPNN
    init(_ model: DMPNN) { self.model = model }
    var parameters: [Parameter] { model.parameters }
    func forward(_ input: (GraphBatch, Matrix), training: Bool, generator: inout SeededGenerator) -> Matrix {
        model.forward(input.0, extra: input.1, training: training, generator: &generator)
    }
    func backward(_ gradient: Matrix) { model.backward(gradient) }
}

extension ExtraFeaturesTests {
    @Test func dmpnnWithExtraFeaturesHasTheRightGradients() throws {
        let graphs = try GradientTests.graphs()
        let model = DMPNN(hidden: 8, depth: 2, aggregation: .norm, headHidden: [6], tasks: 2, extraFeatures: 3, seed: 5)
        var generator = SeededGenerator(seed: 3)
        let extra = Matrix(rows: graphs.count, cols: 3, values: (0..<(graphs.count * 3)).map { _ in generator.nextGaussian() })
        GradientTests().check(DMPNNWithExtra(model), input: (GraphBatch(graphs), extra), targets: GradientTests.targets(rows: graphs.count, tasks: 2))
    }
}
