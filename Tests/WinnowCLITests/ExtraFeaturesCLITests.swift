import Foundation
import Testing
import WinnowTestSupport

/// `winnow train --extra-features descriptors --feature-columns COL` end to end: the model reads the
/// same features in `predict`, `screen` and `evaluate`; a library without the column is a clear
/// error; a value that is not a number is that record's error.
@Suite struct ExtraFeaturesCLITests {
    /// BACE-1 (the bundled target, first 400 rows) with an `assay` column, and a model trained on it.
    static func trained(_ folder: URL) throws -> (data: String, model: String, rows: [[String]]) {
        let lines = try String(contentsOf: TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).map(String.init)
        var rows: [[String]] = []
        var text = "smiles,Class,split,assay\n"
        for (k, line) in lines.dropFirst().prefix(400).enumerated() {
            let f = line.split(separator: ",").map(String.init)
            let assay = String(format: "%.2f", (Double(f[1]) ?? 0) + Double((k * 37) % 11) / 10)
            rows.append([f[0], "BACE_\(k + 1)", assay])
            text += "\(f[0]),\(f[1]),\(f[2]),\(assay)\n"
        }
        let data = folder.appendingPathComponent("data.csv").path
        try text.write(toFile: data, atomically: true, encoding: .utf8)
        let model = folder.appendingPathComponent("m.winnow").path
        let result = try runWinnow(["train", "--data", data, "--label-column", "Class", "--split-column", "split", "--model", "mlp",
                                    "--epochs", "2", "--hidden", "32", "--head-hidden", "8", "--members", "2",
                                    "--extra-features", "descriptors", "--feature-columns", "assay", "-o", model, "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("17 extra features (mol_wt,exact_mass,"), "\(result.stderr)")
        return (data, model, rows)
    }

    @Test func featuresAreReadWhereverTheModelScores() throws {
        let folder = try TestPaths.scratch("extra-features-cli")
        let (data, model, rows) = try Self.trained(folder)

        // A library with the column; record 3's value is not a number, record 5's is empty.
        var library = "smiles,id,assay\n"
        for (k, row) in rows.prefix(60).enumerated() {
            library += "\(row[0]),\(row[1]),\(k == 2 ? "n/a" : k == 4 ? "" : row[2])\n"
        }
        let lib = folder.appendingPathComponent("lib.csv").path
        try library.write(toFile: lib, atomically: true, encoding: .utf8)
        var outputs: [String] = []
        for threads in ["1", "2"] {
            let out = folder.appendingPathComponent("scores\(threads).csv").path
            let errors = folder.appendingPathComponent("errors\(threads).tsv").path
            let result = try runWinnow(["predict", "--model", model, lib, "-o", out, "--errors", errors, "--threads", threads, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("read 60, scored 58, rejected 2"), "\(result.stderr)")
            outputs.append(try String(contentsOfFile: out, encoding: .utf8))
            let errorLines = try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\n").dropFirst()
            #expect(errorLines.count == 2)
            #expect(errorLines.first?.contains("feature column assay: 'n/a' is not a number") == true, "\(errorLines)")
            #expect(errorLines.last?.contains("feature column assay: '' is empty") == true, "\(errorLines)")
        }
        #expect(outputs[0] == outputs[1], "same bytes at 1 and 2 threads")

        // The assay value moves the score: the same molecules with another value score differently.
        let shifted = folder.appendingPathComponent("shifted.csv").path
        try ("smiles,id,assay\n" + rows.prefix(10).map { "\($0[0]),\($0[1]),\((Double($0[2]) ?? 0) + 5)\n" }.joined())
            .write(toFile: shifted, atomically: true, encoding: .utf8)
        let shiftedOut = folder.appendingPathComponent("shifted_scores.csv").path
        #expect(try runWinnow(["predict", "--model", model, shifted, "-o", shiftedOut, "--quiet"]).status == 0)
        let before = outputs[0].split(separator: "\n").prefix(3), after = try String(contentsOfFile: shiftedOut, encoding: .utf8).split(separator: "\n").prefix(3)
        #expect(before.first == after.first && Array(before) != Array(after))

        // The screen reads the column the same way (its hit list keeps only the columns asked for).
        // Both standardise as the model's training molecules were.
        let hits = folder.appendingPathComponent("hits.csv").path
        let screenErrors = folder.appendingPathComponent("screen_errors.tsv").path
        var result = try runWinnow(["screen", "--model", model, "--library", lib, "--top", "5", "-o", hits, "--errors", screenErrors,
                                    "--threads", "2", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: screenErrors, encoding: .utf8).contains("feature column assay: 'n/a' is not a number"))
        let scores = Dictionary(uniqueKeysWithValues: outputs[0].split(separator: "\n").dropFirst().map {
            let f = $0.split(separator: ",", omittingEmptySubsequences: false); return (String(f[0]), String(f[2]))
        })
        let hitRows = try String(contentsOfFile: hits, encoding: .utf8).split(separator: "\n")
        let header = hitRows[0].split(separator: ",").map(String.init)
        #expect(!header.contains("assay"))
        let idColumn = try #require(header.firstIndex(of: "id")), scoreColumn = try #require(header.firstIndex(of: "score"))
        for row in hitRows.dropFirst() {
            let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            #expect(scores[f[idColumn]] == f[scoreColumn], "screen and predict give \(f[idColumn]) the same score")
        }

        // evaluate reads the training file's column.
        result = try runWinnow(["evaluate", "--model", model, "--data", data, "--part", "test"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"roc_auc\""))
    }

    @Test func missingColumnsAndWrongUsesAreClearErrors() throws {
        let folder = try TestPaths.scratch("extra-features-errors")
        let (_, model, rows) = try Self.trained(folder)
        let noColumn = folder.appendingPathComponent("plain.csv").path
        try ("smiles,id\n" + rows.prefix(5).map { "\($0[0]),\($0[1])\n" }.joined()).write(toFile: noColumn, atomically: true, encoding: .utf8)
        var result = try runWinnow(["predict", "--model", model, noColumn, "-o", folder.appendingPathComponent("o.csv").path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("plain.csv: no column named 'assay', which the model reads as features (trained with --feature-columns) (columns: smiles, id)"),
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("o.csv").path))
        result = try runWinnow(["screen", "--model", model, "--library", noColumn, "--top", "5", "-o", folder.appendingPathComponent("h.csv").path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no column named 'assay', which the model reads as features"), "\(result.stderr)")
        let smi = folder.appendingPathComponent("plain.smi").path
        try rows.prefix(5).map { "\($0[0]) \($0[1])\n" }.joined().write(toFile: smi, atomically: true, encoding: .utf8)
        result = try runWinnow(["predict", "--model", model, smi])
        #expect(result.status == 2)
        #expect(result.stderr.contains("a SMILES file has no columns, but assay the model reads as features"), "\(result.stderr)")
        let labelled = folder.appendingPathComponent("labelled.csv").path
        try ("smiles,Class\n" + rows.prefix(5).map { "\($0[0]),1\n" }.joined()).write(toFile: labelled, atomically: true, encoding: .utf8)
        result = try runWinnow(["evaluate", "--model", model, "--data", labelled])
        #expect(result.status == 2)
        #expect(result.stderr.contains("labelled.csv: no column named 'assay'"), "\(result.stderr)")

        // Training: a forest cannot take them; an unknown column is named; a bad value rejects its row.
        result = try runWinnow(["train", "--data", labelled, "--label-column", "Class", "--model", "rf", "--extra-features", "descriptors",
                                "-o", folder.appendingPathComponent("rf.winnow").path])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--model rf reads Morgan bits only"), "\(result.stderr)")
        result = try runWinnow(["train", "--data", labelled, "--label-column", "Class", "--model", "mlp", "--feature-columns", "assay,ph",
                                "-o", folder.appendingPathComponent("x.winnow").path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no columns named 'assay', 'ph'"), "\(result.stderr)")
        let badValue = folder.appendingPathComponent("bad.csv").path
        try ("smiles,Class,assay\n" + rows.prefix(40).enumerated().map { k, r in "\(r[0]),\(k % 2),\(k == 7 ? "high" : r[2])\n" }.joined())
            .write(toFile: badValue, atomically: true, encoding: .utf8)
        let errors = folder.appendingPathComponent("train_errors.tsv").path
        result = try runWinnow(["train", "--data", badValue, "--label-column", "Class", "--model", "mlp", "--epochs", "1", "--hidden", "8",
                                "--feature-columns", "assay", "--split", "random", "--errors", errors, "-o", folder.appendingPathComponent("y.winnow").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: errors, encoding: .utf8).contains("8\trow 8\t\(rows[7][0])\tfeature column assay: 'high' is not a number"))
    }
}
