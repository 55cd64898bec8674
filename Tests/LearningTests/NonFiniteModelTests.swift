import Chemistry
import Foundation
@testable import Learning
import Testing
import WinnowTestSupport

/// NaN and infinity never reach a model file or a score: training stops on a non-finite loss, a
/// diverged model is not written, and forged model files (valid checksum, insane fields) are refused
/// when loaded instead of trapping or scoring `inf`.
@Suite struct NonFiniteModelTests {
    /// 60 BACE molecules as a regression set (the label is a made-up but finite value per molecule).
    static func smallRegression(extreme: Double? = nil) throws -> Dataset {
        let bace = try TrainingTests.bace()
        let rows = Array(bace.train.prefix(60))
        var labels = rows.map { [Double($0 % 7) - 3] as [Double?] }
        if let extreme { labels[5] = [extreme] }
        return Dataset(ids: rows.map { "m\($0)" }, smiles: rows.map { bace.data.smiles[$0] }, graphs: rows.map { bace.data.graphs[$0] },
                       taskNames: ["y"], taskKind: .regression, labels: labels)
    }

    static func tinyOptions(_ kind: ModelKind = .mlp) -> TrainingOptions {
        var options = TrainingOptions()
        options.kind = kind
        options.hidden = 16
        options.headHidden = [8]
        options.epochs = 2
        options.members = 2
        return options
    }

    static let info = TrainingDataInfo(file: "test", hash: "test", rows: 60, split: "all", counts: [:])

    /// A label over Float32's range (1e39 becomes +inf) used to train to a `-nan` loss and a model
    /// file; now training stops at the first non-finite epoch loss.
    @Test func aNonFiniteLossStopsTraining() throws {
        let data = try Self.smallRegression(extreme: 1e39)
        var reports: [EpochReport] = []
        do {
            _ = try TrainedModel.train(data, train: Array(0..<data.count), validation: [], options: Self.tinyOptions(), dataInfo: Self.info, threads: 2) {
                reports.append($0)
            }
            Issue.record("training on a +inf label finished and returned a model")
        } catch {
            #expect("\(error)".contains("training diverged") && "\(error)".contains("epoch 1 of member 1"), "\(error)")
        }
        // It stopped in the first epoch of the first member, not after training everything.
        #expect(reports.count == 1 && !reports[0].loss.isFinite)
    }

    /// The labels a user gives are checked before training: finite and within ±1e12.
    @Test func labelProblemsAreNamed() {
        #expect(Dataset.labelProblem(1e39) != nil)
        #expect(Dataset.labelProblem(-1e13) != nil)
        #expect(Dataset.labelProblem(.nan) != nil && Dataset.labelProblem(.infinity) != nil)
        #expect(Dataset.labelProblem(1e12) == nil && Dataset.labelProblem(-7.25) == nil && Dataset.labelProblem(0) == nil)
    }

    /// Even if a weight became NaN some other way, no model file is written.
    @Test func aModelWithNaNWeightsIsNotWritten() throws {
        let data = try Self.smallRegression()
        let model = try TrainedModel.train(data, train: Array(0..<data.count), validation: [], options: Self.tinyOptions(), dataInfo: Self.info, threads: 2) { _ in }
        let folder = try TestPaths.scratch("nan-weights")
        let url = folder.appendingPathComponent("m.winnow")
        try model.write(to: url)
        let parameter = model.networks[1].parameters[0]
        parameter.value.values[3] = .nan
        let second = folder.appendingPathComponent("diverged.winnow")
        #expect(throws: ModelFileError.self) { try model.write(to: second) }
        #expect(!FileManager.default.fileExists(atPath: second.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["m.winnow"])
    }

    // MARK: - Forged files: every field validated on load

    /// Writes `archive` (its checksum recomputed by the encoder, as a forger would) and reads it back.
    static func forged(_ archive: ModelArchive, _ name: String) throws -> Result<TrainedModel, Error> {
        let url = try TestPaths.scratch("forged-model").appendingPathComponent("\(name).winnow")
        try archive.encoded().write(to: url)
        return Result { try TrainedModel.read(from: url) }
    }

    /// The archive with its JSON header edited (`edit` gets the decoded header dictionary).
    static func withHeader(_ archive: ModelArchive, _ edit: (inout [String: Any]) -> Void) throws -> ModelArchive {
        var header = try #require(try JSONSerialization.jsonObject(with: archive.header) as? [String: Any])
        edit(&header)
        return ModelArchive(header: try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]), tensors: archive.tensors)
    }

    static func option(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
        { header in
            var options = header["options"] as? [String: Any] ?? [:]
            if key.hasPrefix("fingerprint.") {
                var fingerprint = options["fingerprint"] as? [String: Any] ?? [:]
                fingerprint[String(key.dropFirst("fingerprint.".count))] = value
                options["fingerprint"] = fingerprint
            } else {
                options[key] = value
            }
            header["options"] = options
        }
    }

    @Test func forgedHeadersAreRefused() throws {
        let data = try Self.smallRegression()
        var options = Self.tinyOptions()
        options.forestTrees = 5
        let model = try TrainedModel.train(data, train: Array(0..<data.count), validation: [], options: options, dataInfo: Self.info, threads: 2) { _ in }
        let archive = try model.archive()
        // The untouched archive loads (so each refusal below is the edit's doing).
        _ = try Self.forged(archive, "untouched").get()

        let cases: [(String, (inout [String: Any]) -> Void, String)] = [
            ("negative-members", { $0["members"] = -1 }, "members is -1"),
            ("zero-members", { $0["members"] = 0 }, "members is 0"),
            ("no-tasks", { $0["tasks"] = [String]() }, "0 tasks"),
            ("negative-fingerprint", Self.option("fingerprint.size", -2048), "fingerprint size -2048"),
            ("negative-radius", Self.option("fingerprint.radius", -1), "fingerprint radius -1"),
            ("huge-hidden", Self.option("hidden", 1_000_000_000), "the file holds"),
            ("negative-hidden", Self.option("hidden", -16), "not all positive"),
            ("negative-head", Self.option("headHidden", [-8]), "not all positive"),
            ("negative-trees", Self.option("forestTrees", -5), "forest of -5 trees"),
            ("big-dropout", Self.option("dropout", 2.5), "dropout 2.5"),
        ]
        for (name, edit, expected) in cases {
            let result = try Self.forged(try Self.withHeader(archive, edit), name)
            switch result {
            case .success: Issue.record("\(name): a forged header was accepted")
            case .failure(let error):
                #expect(error is ModelFileError, "\(name): \(error)")
                #expect("\(error)".contains(expected), "\(name): \(error)")
            }
        }
    }

    /// Infinite forest leaf values scored `inf`; NaN weights scored `nan`: both are refused.
    @Test func forgedNonFiniteValuesAreRefused() throws {
        let data = try Self.smallRegression()
        var options = Self.tinyOptions()
        options.forestTrees = 5
        let model = try TrainedModel.train(data, train: Array(0..<data.count), validation: [], options: options, dataInfo: Self.info, threads: 2) { _ in }
        for (tensorName, value) in [("forest0/value", Float.infinity), ("member0/", Float.nan), ("member1/", -Float.infinity)] {
            var archive = try model.archive()
            let index = try #require(archive.tensors.firstIndex { $0.name.hasPrefix(tensorName) })
            archive.tensors[index].values[0] = value
            let result = try Self.forged(archive, "nonfinite")
            switch result {
            case .success(let loaded):
                Issue.record("\(tensorName) = \(value) was accepted; scores \(loaded.predict([data.graphs[0]]).scores)")
            case .failure(let error):
                #expect("\(error)".contains("NaN or infinite"), "\(error)")
            }
        }
        // Forest sizes are node counts: a negative one is refused, not trapped on.
        var archive = try model.archive()
        let sizes = try #require(archive.tensors.firstIndex { $0.name == "forest0/sizes" })
        archive.tensors[sizes].values[0] = -archive.tensors[sizes].values[0]
        #expect(throws: ModelFileError.self) { _ = try Self.forged(archive, "negative-size").get() }
    }
}
