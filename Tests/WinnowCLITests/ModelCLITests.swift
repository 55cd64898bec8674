import Foundation
import Testing
import WinnowTestSupport

/// train → evaluate → predict through the real binary, on the bundled BACE-1 target.
@Suite struct ModelCLITests {
    @Test func trainEvaluatePredictRoundTrip() throws {
        let folder = try TestPaths.scratch("models")
        let data = TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv").path
        let model = folder.appendingPathComponent("bace.winnow").path
        let metrics = folder.appendingPathComponent("metrics.json").path
        let train = try runWinnow(["train", "--data", data, "--label-column", "Class", "--split-column", "split",
                                   "--model", "mlp", "--hidden", "128", "--head-hidden", "32", "--epochs", "4",
                                   "--members", "2", "-o", model, "--metrics", metrics])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("member 2 epoch 4"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metrics))) as? [String: Any]
        let testAUC = try #require(json?["test.roc_auc"] as? Double)
        #expect(testAUC > 0.7)
        #expect(json?["test.molecules"] as? Double == 151)
        // BACE is balanced (47% active): classes stay unweighted, models are picked by ROC-AUC.
        #expect(json?["balanced_classes"] as? String == "false" && json?["selection_metric"] as? String == "roc-auc")
        #expect(train.stderr.contains("classes unweighted"))

        let evaluate = try runWinnow(["evaluate", "--model", model, "--data", data, "--part", "test"])
        #expect(evaluate.status == 0)
        let evaluated = try JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Double]
        #expect(abs((evaluated?["roc_auc"] ?? 0) - testAUC) < 1e-6)

        let library = folder.appendingPathComponent("lib.smi").path
        try "CCOc1ccccc1\tgood1\nC(C\tbroken\nNc1ccccc1\tgood2\n".write(toFile: library, atomically: true, encoding: .utf8)
        let scores = folder.appendingPathComponent("scores.csv").path
        let errors = folder.appendingPathComponent("errors.tsv").path
        let predict = try runWinnow(["predict", "--model", model, library, "-o", scores, "--errors", errors, "--quiet"])
        #expect(predict.status == 0)
        #expect(predict.stderr.contains("read 3, scored 2, rejected 1"))
        let rows = try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n")
        // The model was trained on standardised molecules (train's default), so predict standardises
        // too and says what it changed (nothing here).
        #expect(rows.first == "id,smiles,score,uncertainty,standardized")
        #expect(rows.count == 3 && rows[1].hasPrefix("good1,CCOc1ccccc1,") && rows[2].hasPrefix("good2,"))
        // Two members: an uncertainty (one-member models leave it empty).
        #expect(rows.dropFirst().allSatisfy {
            let f = $0.split(separator: ",", omittingEmptySubsequences: false)
            return f.count == 5 && !f[3].isEmpty && f[4].isEmpty
        })
        let errorLines = try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\n")
        #expect(errorLines.count == 2 && errorLines[1].hasPrefix("2\tbroken\t"))

        // A damaged model is refused with a message naming the file.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        bytes[bytes.count / 3] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: model))
        let damaged = try runWinnow(["predict", "--model", model, library])
        #expect(damaged.status != 0)
        #expect(damaged.stderr.contains(model) && damaged.stderr.contains("damaged"))
    }

    /// `winnow train` with the same data, options and seed writes the same model file bytes on 1 and
    /// 2 threads, forest included (the wall time is reported, not stored).
    @Test func trainedModelFilesAreByteIdenticalAcrossThreadCounts() throws {
        let folder = try TestPaths.scratch("models-determinism")
        let data = TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv").path
        var files: [Data] = []
        for threads in ["1", "2"] {
            let model = folder.appendingPathComponent("m\(threads).winnow").path
            let result = try runWinnow(["train", "--data", data, "--label-column", "Class", "--split-column", "split", "--model", "mlp",
                                        "--hidden", "64", "--head-hidden", "16", "--epochs", "2", "--members", "2", "--forest", "30",
                                        "--threads", threads, "-o", model])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("training_seconds"))
            files.append(try Data(contentsOf: URL(fileURLWithPath: model)))
        }
        #expect(files[0] == files[1])
    }

    /// `--model rf` on an imbalanced set (BACE with one active in 15 kept): class weights switch on by
    /// themselves and say so, the forest model predicts through `winnow predict` with the spread over
    /// trees as uncertainty, and `--model auto` records its candidates and choice in the metrics JSON.
    @Test func forestAndAutoOnAnImbalancedSet() throws {
        let folder = try TestPaths.scratch("models-rf")
        let source = try String(contentsOf: TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv"), encoding: .utf8)
        var lines = source.split(whereSeparator: \.isNewline).map(String.init)  // the file has CRLF line ends
        let header = lines.removeFirst()
        var actives = 0
        lines = lines.filter { line in
            guard line.split(separator: ",").dropFirst().first == "1" else { return true }
            actives += 1
            return actives % 15 == 0
        }
        let data = folder.appendingPathComponent("imbalanced.csv").path
        try ([header] + lines).joined(separator: "\n").appending("\n").write(toFile: data, atomically: true, encoding: .utf8)
        let model = folder.appendingPathComponent("rf.winnow").path
        let metrics = folder.appendingPathComponent("rf.json").path
        let train = try runWinnow(["train", "--data", data, "--label-column", "Class", "--split-column", "split", "--model", "rf",
                                   "--trees", "30", "-o", model, "--metrics", metrics])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("balanced class weights switched on"), "\(train.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metrics))) as? [String: Any]
        #expect(json?["model"] as? String == "rf" && json?["balanced_classes"] as? String == "true")
        #expect(json?["selection_metric"] as? String == "prc-auc")
        #expect((json?["test.roc_auc"] as? Double ?? 0) > 0.6)
        // The forest reads Morgan counts unless told otherwise, and the model file says which.
        func modelText(_ path: String) throws -> String {
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)).prefix(200_000), as: UTF8.self)
        }
        #expect(try modelText(model).contains(#""counts":true"#))
        let bitsModel = folder.appendingPathComponent("rf-bits.winnow").path
        let bits = try runWinnow(["train", "--data", data, "--label-column", "Class", "--split-column", "split", "--model", "rf",
                                  "--trees", "30", "--no-forest-counts", "-o", bitsModel])
        #expect(bits.status == 0, "\(bits.stderr)")
        #expect(try modelText(bitsModel).contains(#""counts":false"#) && !(try modelText(bitsModel).contains(#""counts":true"#)))

        let library = folder.appendingPathComponent("lib.smi").path
        try "CCOc1ccccc1\tgood1\nNc1ccccc1\tgood2\n".write(toFile: library, atomically: true, encoding: .utf8)
        let scores = folder.appendingPathComponent("scores.csv").path
        let predict = try runWinnow(["predict", "--model", model, library, "-o", scores, "--quiet"])
        #expect(predict.status == 0, "\(predict.stderr)")
        let rows = try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 3 && rows[1].hasPrefix("good1,"))

        let auto = try runWinnow(["train", "--data", data, "--label-column", "Class", "--split-column", "split", "--model", "auto",
                                  "--auto-kinds", "rf", "--trees", "20", "-o", model, "--metrics", metrics])
        #expect(auto.status == 0, "\(auto.stderr)")
        #expect(auto.stderr.contains("winnow train: auto chose"))
        let autoJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metrics))) as? [String: Any]
        let chosen = try #require(autoJSON?["auto.chosen"] as? String)
        #expect(chosen.hasPrefix("rf trees=20"))
        #expect(autoJSON?.keys.filter { $0.hasPrefix("auto.validation.") }.count == 2)
        // Chosen by 5-fold cross-validation (the default), each fold's measure in the JSON.
        #expect(auto.stderr.contains("5-fold cross-validation") && auto.stderr.contains("grouped by scaffold"))
        #expect(autoJSON?["auto.folds"] as? Double == 5)
        let foldKeys = autoJSON?.keys.filter { $0.hasPrefix("auto.fold") && $0 != "auto.folds" } ?? []
        #expect(foldKeys.count > 2 && foldKeys.count <= 10, "\(foldKeys)")
        #expect((autoJSON?["auto.rule"] as? String)?.isEmpty == false)
        // The kept forest was refit on the training + validation rows: no validation numbers, said so.
        #expect(auto.stderr.contains("refit on the training + validation rows"))
        #expect(autoJSON?.keys.contains { $0.hasPrefix("validation.") } == false)
        #expect(autoJSON?["test.roc_auc"] is Double && autoJSON?["train.roc_auc"] is Double)
    }

    @Test func trainRejectsMissingColumns() throws {
        let data = TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv").path
        let result = try runWinnow(["train", "--data", data, "--label-column", "Activity", "-o", "/tmp/never.winnow"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("Activity") && result.stderr.contains("Class"))
    }
}
