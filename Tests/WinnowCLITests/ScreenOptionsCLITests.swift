import Foundation
import LibraryIO
import Screening
import Testing
import WinnowTestSupport

/// Screen options end to end: model tasks, regression scores and --minimize, kept columns, the
/// diversity count, empty uncertainties, nothing scored, big molecules in the report and SDF.
@Suite(.serialized) struct ScreenOptionsCLITests {
    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// CSV fields of each data line (no header).
    static func rows(_ path: String) throws -> [[String]] {
        try CSVTable.read(path: path).rows
    }

    static func header(_ path: String) throws -> [String] { try CSVTable.read(path: path).header }

    /// A two-task classifier trained on Tox21 (tiny: one epoch).
    static let tox21Model = trainTestModel("tox21", data: TestPaths.sharedData.appendingPathComponent("benchmarks/tox21.csv").path,
        ["--label-column", "NR-AR", "--label-column", "SR-p53", "--split", "random", "--model", "mlp", "--hidden", "32", "--head-hidden", "16", "--epochs", "1"])

    /// A regressor of docking scores (lower is better), trained on the Enamine docking set (one epoch).
    static let dockingModel = trainTestModel("docking", data: TestPaths.sharedData.appendingPathComponent("benchmarks/docking/enamine10k_scores.csv.gz").path,
        ["--label-column", "score", "--split", "random", "--model", "mlp", "--hidden", "32", "--head-hidden", "16", "--epochs", "1"])

    /// Screening a multi-task model without --task used to rank on its first task silently.
    @Test func multiTaskModelsScreenOnTheTaskNamed() throws {
        let folder = try TestPaths.scratch("tasks")
        let library = TestPaths.fixture("library_sample_1000.smi")
        let hits = folder.appendingPathComponent("hits.csv").path
        let unnamed = try runWinnow(["screen", "--model", Self.tox21Model, "--library", library, "-o", hits, "--quiet"])
        #expect(unnamed.status == 2)
        #expect(unnamed.stderr.contains("has 2 tasks ('NR-AR', 'SR-p53'): choose one with --task NAME"), "\(unnamed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: hits))
        let bogus = try runWinnow(["screen", "--model", Self.tox21Model, "--library", library, "-o", hits, "--task", "NR-ER", "--quiet"])
        #expect(bogus.status == 2 && bogus.stderr.contains("no task 'NR-ER' (its tasks: 'NR-AR', 'SR-p53')"), "\(bogus.stderr)")

        let scores = folder.appendingPathComponent("scores.csv").path
        let report = folder.appendingPathComponent("hits.html").path
        let screen = try runWinnow(["screen", "--model", Self.tox21Model, "--library", library, "--task", "SR-p53", "--top", "20",
                                    "-o", hits, "--all-scores", scores, "--report", report, "--quiet"])
        #expect(screen.status == 0, "\(screen.stderr)")
        let predicted = folder.appendingPathComponent("predicted.csv").path
        #expect(try runWinnow(["predict", "--model", Self.tox21Model, library, "-o", predicted, "--quiet"]).status == 0)
        let predictHeader = try Self.header(predicted)
        #expect(predictHeader == ["id", "smiles", "score_NR-AR", "uncertainty_NR-AR", "score_SR-p53", "uncertainty_SR-p53", "standardized"])
        let secondTask = Dictionary(try Self.rows(predicted).map { ($0[0], $0[4]) }, uniquingKeysWith: { a, _ in a })
        let firstTask = Dictionary(try Self.rows(predicted).map { ($0[0], $0[2]) }, uniquingKeysWith: { a, _ in a })
        let hitRows = try Self.rows(hits)
        #expect(hitRows.count == 20)
        var differsFromFirstTask = false
        for row in hitRows {
            #expect(row[9] == "SR-p53")
            #expect(secondTask[row[2]] == row[4], "\(row[2])")  // the hit's score is the named task's
            if firstTask[row[2]] != row[4] { differsFromFirstTask = true }
        }
        #expect(differsFromFirstTask)
        #expect(try Self.header(scores) == ["record", "id", "score", "uncertainty", "task"])
        #expect(try Self.rows(scores).allSatisfy { $0[4] == "SR-p53" })
        #expect(try Self.read(report).contains("<tr><td>Task</td><td>SR-p53 (highest score first)</td></tr>"))
        // predict --task writes only that task.
        let one = try runWinnow(["predict", "--model", Self.tox21Model, library, "--task", "SR-p53", "--quiet"])
        #expect(one.status == 0 && one.stdout.hasPrefix("id,smiles,score_SR-p53,uncertainty_SR-p53,standardized\n"))
    }

    /// Parses the report's histogram bars: (lower, upper, count) per bar.
    static func histogramBars(_ html: String) -> [(Double, Double, Int)] {
        html.components(separatedBy: "<title>").dropFirst().compactMap { piece in
            guard let end = piece.range(of: "</title>") else { return nil }
            let text = piece[..<end.lowerBound]
            let parts = text.split(separator: ":")
            let bounds = parts.first?.split(separator: "–") ?? []
            guard parts.count == 2, bounds.count == 2, let low = Double(bounds[0]), let high = Double(bounds[1]),
                  let count = Int(parts[1].trimmingCharacters(in: .whitespaces)) else { return nil }
            return (low, high, count)
        }
    }

    /// Docking-like scores: --minimize ranks the lowest first, the histogram spans the real scores,
    /// shards merge to the single run with --minimize, checkpoints refuse the other direction.
    @Test func regressionScoresRankLowestFirstWithMinimize() throws {
        let folder = try TestPaths.scratch("minimize")
        let library = TestPaths.library("moses_train_10k.smi")
        let single = folder.appendingPathComponent("single.csv").path
        let report = folder.appendingPathComponent("single.html").path
        let scores = folder.appendingPathComponent("scores.csv").path
        let result = try runWinnow(["screen", "--model", Self.dockingModel, "--library", library, "--top", "60", "--minimize",
                                    "-o", single, "--report", report, "--all-scores", scores, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let hitScores = try Self.rows(single).map { try #require(Double($0[4])) }
        #expect(hitScores.count == 60 && hitScores == hitScores.sorted())
        let all = try Self.rows(scores).map { try #require(Double($0[2])) }
        let low = try #require(all.min()), high = try #require(all.max())
        #expect(hitScores.first == low)
        #expect(high < 0.5 || low > 1.5 || high - low > 1)  // scores outside 0-1: the old histogram clamped them
        let html = try Self.read(report)
        let bars = Self.histogramBars(html)
        #expect(bars.map(\.2).reduce(0, +) == 10000)
        let first = try #require(bars.first), last = try #require(bars.last)
        #expect(first.0 <= low && first.1 > low && last.0 <= high && last.1 > high, "\(first) \(last) \(low) \(high)")
        #expect(html.contains("hit cut-off \(String(format: "%.4g", try #require(hitScores.last)))"))
        #expect(html.contains("lowest score first, --minimize"))

        var parts: [String] = []
        for k in 1...3 {
            let path = folder.appendingPathComponent("hits-\(k).csv").path
            #expect(try runWinnow(["screen", "--model", Self.dockingModel, "--library", library, "--top", "60", "--minimize",
                                   "--shard", "\(k)/3", "-o", path, "--quiet"]).status == 0)
            parts.append(path)
        }
        let merged = folder.appendingPathComponent("merged.csv").path
        #expect(try runWinnow(["merge"] + parts + ["--top", "60", "--minimize", "-o", merged]).status == 0)
        #expect(try Self.read(merged) == Self.read(single))
        let wrongWay = try runWinnow(["merge"] + parts + ["--top", "60", "-o", folder.appendingPathComponent("wrong.csv").path])
        #expect(wrongWay.status == 2 && wrongWay.stderr.contains("not in descending score order"), "\(wrongWay.stderr)")

        // The checkpoint records the direction: resuming without --minimize is refused.
        let checkpoint = folder.appendingPathComponent("checkpoint").path
        let arguments = ["screen", "--model", Self.dockingModel, "--library", library, "--top", "60", "-o",
                         folder.appendingPathComponent("resumed.csv").path, "--checkpoint", checkpoint, "--quiet"]
        #expect(try runWinnow(arguments + ["--minimize"]).status == 0)
        let resumed = try runWinnow(arguments + ["--resume"])
        #expect(resumed.status == 2 && resumed.stderr.contains("another library, model or settings"), "\(resumed.stderr)")
    }

    /// predict --sort / --minimize: the same rows as input order, best first (lowest first with
    /// --minimize), equal scores in input order; at 1 and 2 threads the same bytes; a multi-task
    /// model needs --task to be ranked.
    @Test func predictSortsBestFirstAndMinimizeLowestFirst() throws {
        let library = TestPaths.fixture("library_sample_1000.smi")
        let plain = try runWinnow(["predict", "--model", Self.dockingModel, library, "--quiet"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let lines = plain.stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let header = try #require(lines.first), rows = Array(lines.dropFirst())
        #expect(rows.count > 900)
        func score(_ row: String) -> Double { Double(row.split(separator: ",", omittingEmptySubsequences: false)[2]) ?? .nan }
        func expected(lowestFirst: Bool) -> [String] {
            rows.indices.sorted { a, b in
                let x = score(rows[a]), y = score(rows[b])
                return x != y ? (lowestFirst ? x < y : x > y) : a < b
            }.map { rows[$0] }
        }
        for (flags, lowestFirst) in [(["--sort"], false), (["--minimize"], true), (["--sort", "--minimize"], true)] {
            for threads in ["1", "2"] {
                let ranked = try runWinnow(["predict", "--model", Self.dockingModel, library, "--threads", threads, "--quiet"] + flags)
                #expect(ranked.status == 0, "\(ranked.stderr)")
                let rankedLines = ranked.stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
                #expect(rankedLines.first == header)
                #expect(Array(rankedLines.dropFirst()) == expected(lowestFirst: lowestFirst), "\(flags) at \(threads) threads")
            }
        }
        let multi = try runWinnow(["predict", "--model", Self.tox21Model, library, "--sort", "--quiet"])
        #expect(multi.status == 2 && multi.stderr.contains("choose one with --task NAME"), "\(multi.stderr)")
        let named = try runWinnow(["predict", "--model", Self.tox21Model, library, "--sort", "--task", "SR-p53", "--quiet"])
        #expect(named.status == 0 && named.stdout.hasPrefix("id,smiles,score_SR-p53,uncertainty_SR-p53,standardized\n"))
    }

    /// An empty library, or one where every record is rejected, is not a successful screen.
    @Test func nothingScoredExitsWithStatus3() throws {
        let folder = try TestPaths.scratch("nothing")
        let empty = folder.appendingPathComponent("empty.smi").path
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        let hits = folder.appendingPathComponent("hits.csv").path
        let none = try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", empty, "-o", hits, "--quiet"])
        #expect(none.status == 3)
        #expect(none.stderr.contains("warning: nothing was scored: \(empty) has no records"), "\(none.stderr)")
        let invalid = TestPaths.fixture("invalid.smi")
        let rejected = try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", invalid, "-o", hits, "--quiet"])
        #expect(rejected.status == 3)
        #expect(rejected.stderr.contains("warning: nothing was scored: all 63 records of \(invalid) were rejected"), "\(rejected.stderr)")
        let predict = try runWinnow(["predict", "--model", ScreenCLITests.model, invalid, "--quiet"])
        #expect(predict.status == 3 && predict.stderr.contains("nothing was scored"))
    }

    /// `--errors x.tsv.gz` is gzip like `--all-scores x.csv.gz`: its header used to be a gzip member and
    /// the rejected lines plain text after it (a file no gzip reader accepts).
    @Test func gzipErrorsFileIsGzipThroughout() throws {
        let folder = try TestPaths.scratch("gzip-errors")
        let library = folder.appendingPathComponent("mixed.smi").path
        let valid = try Self.read(TestPaths.fixture("valid.smi")).split(separator: "\n").prefix(20)
        let invalid = try Self.read(TestPaths.fixture("invalid.smi")).split(separator: "\n").prefix(20)
        try (zip(valid, invalid).map { "\($0)\n\($1)" }.joined(separator: "\n") + "\n").write(toFile: library, atomically: true, encoding: .utf8)
        var texts: [String] = []
        for name in ["rejected.tsv", "rejected.tsv.gz"] {
            let errors = folder.appendingPathComponent(name).path
            let result = try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", library, "--top", "5",
                                        "-o", folder.appendingPathComponent("hits.csv").path, "--errors", errors, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            let reader = try ByteLineReader(path: errors)
            #expect(reader.isCompressed == name.hasSuffix(".gz"))
            var lines: [String] = []
            while let line = try reader.nextLine({ String(decoding: $0, as: UTF8.self) }) { lines.append(line) }
            texts.append(lines.joined(separator: "\n"))
        }
        #expect(texts[0].split(separator: "\n").count > 10, "the plain errors file lists the rejected records")
        #expect(texts[1] == texts[0])
    }

    /// `--diverse 0.15 --top 300` cannot find 300 hits that far apart: it says how many it allowed.
    @Test func diversityFilterSaysHowManyHitsItAllowed() throws {
        let folder = try TestPaths.scratch("diverse-count")
        let hits = folder.appendingPathComponent("hits.csv").path
        let report = folder.appendingPathComponent("hits.html").path
        let result = try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", TestPaths.library("moses_train_10k.smi"),
                                    "--top", "300", "--diverse", "0.15", "-o", hits, "--report", report, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let count = try Self.rows(hits).count
        #expect(count < 300)
        let sentence = "the diversity filter (no two hits above Tanimoto 0.15) allowed \(count) of the 300 hits asked (from the 1500 best-scored candidates)"
        #expect(result.stderr.contains(sentence), "\(result.stderr)")
        #expect(try Self.read(report).contains(sentence))
    }

    /// A one-member model has no ensemble spread: the uncertainty is left empty, not 0.000000.
    @Test func oneMemberModelsLeaveTheUncertaintyEmpty() throws {
        let folder = try TestPaths.scratch("uncertainty")
        let library = TestPaths.fixture("library_sample_1000.smi")
        let hits = folder.appendingPathComponent("hits.csv").path
        let scores = folder.appendingPathComponent("scores.csv").path
        let sdf = folder.appendingPathComponent("hits.sdf").path
        #expect(try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", library, "--top", "10", "-o", hits,
                               "--all-scores", scores, "--sdf", sdf, "--quiet"]).status == 0)
        #expect(try Self.rows(hits).allSatisfy { $0[5].isEmpty && !$0[4].isEmpty })
        #expect(try Self.rows(scores).allSatisfy { $0[3].isEmpty })
        let sdfText = try Self.read(sdf)
        #expect(sdfText.components(separatedBy: ">  <uncertainty>\n\n").count - 1 == 10)
        let predict = try runWinnow(["predict", "--model", ScreenCLITests.model, library, "--quiet"])
        let lines = predict.stdout.split(separator: "\n").dropFirst()
        #expect(lines.count > 900 && lines.allSatisfy { $0.hasSuffix(",") })
    }

    /// Library columns travel into the hit list and SDF, through shards and merge.
    @Test func keptColumnsReachTheHitListAndSDF() throws {
        let folder = try TestPaths.scratch("keep")
        let smiles = try Self.read(TestPaths.library("moses_train_10k.smi")).split(separator: "\n").prefix(2000)
        var csv = "vendor_id,smiles,price,name\n"
        for (i, line) in smiles.enumerated() {
            let fields = line.split(separator: "\t", maxSplits: 1)
            csv += "EN-\(i + 1),\(fields[0]),\"\(i % 50),50\",\(fields.count > 1 ? String(fields[1]) : "")\n"
        }
        let library = folder.appendingPathComponent("vendor.csv").path
        try csv.write(toFile: library, atomically: true, encoding: .utf8)
        let single = folder.appendingPathComponent("single.csv").path
        let sdf = folder.appendingPathComponent("single.sdf").path
        let common = ["--model", ScreenCLITests.model, "--library", library, "--id-column", "name", "--keep-columns", "vendor_id,price",
                      "--top", "40", "--quiet"]
        #expect(try runWinnow(["screen"] + common + ["-o", single, "--sdf", sdf]).status == 0)
        #expect(try Self.header(single).suffix(3) == [HitList.columns.last ?? "", "vendor_id", "price"])
        let rows = try Self.rows(single)
        #expect(rows.count == 40)
        let kept = HitList.columns.count
        for row in rows {
            let record = try #require(Int(row[1]))
            #expect(row[kept] == "EN-\(record)" && row[kept + 1] == "\((record - 1) % 50),50")
        }
        let sdfText = try Self.read(sdf)
        #expect(sdfText.contains(">  <vendor_id>\n\(rows[0][kept])\n\n>  <price>\n\(rows[0][kept + 1])\n\n"))
        var parts: [String] = []
        for k in 1...2 {
            let path = folder.appendingPathComponent("hits-\(k).csv").path
            #expect(try runWinnow(["screen"] + common + ["--shard", "\(k)/2", "-o", path]).status == 0)
            parts.append(path)
        }
        let merged = folder.appendingPathComponent("merged.csv").path
        #expect(try runWinnow(["merge"] + parts + ["--top", "40", "-o", merged]).status == 0)
        #expect(try Self.read(merged) == Self.read(single))

        // SDF data items, and the errors for what cannot be kept.
        let fromSDF = folder.appendingPathComponent("sdf.csv").path
        #expect(try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", TestPaths.fixture("mols_100.sdf"),
                               "--keep-columns", "SOURCE,ID", "--top", "5", "-o", fromSDF, "--quiet"]).status == 0)
        #expect(try Self.rows(fromSDF).allSatisfy { $0.count == kept + 2 && !$0[kept].isEmpty && !$0[kept + 1].isEmpty })
        let missing = try runWinnow(["screen"] + common.map { $0 == "vendor_id,price" ? "catalogue" : $0 } + ["-o", single])
        #expect(missing.status == 2 && missing.stderr.contains("no column named 'catalogue' to keep"), "\(missing.stderr)")
        let fromSMILES = try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", TestPaths.library("moses_train_10k.smi"),
                                        "--keep-columns", "vendor_id", "-o", single, "--quiet"])
        #expect(fromSMILES.status == 2 && fromSMILES.stderr.contains("--keep-columns needs a CSV/TSV library or an SDF"))
    }

    /// Hits too big for Open Babel's 2D layout (which took 350 s on a 290-atom hit) get no picture
    /// and no coordinates, with a note, instead of stalling the report.
    @Test func bigHitsAreNotLaidOut() throws {
        let folder = try TestPaths.scratch("big-hits")
        let chain = String(repeating: "C", count: 160) + "O"
        let rings = String(repeating: "C1CC1", count: 25)
        let library = folder.appendingPathComponent("big.smi").path
        try "c1ccccc1O phenol\n\(chain) chain\nCCN(CC)CC triethylamine\n\(rings) rings\nc1ccncc1 pyridine\n"
            .write(toFile: library, atomically: true, encoding: .utf8)
        let hits = folder.appendingPathComponent("hits.csv").path
        let sdf = folder.appendingPathComponent("hits.sdf").path
        let report = folder.appendingPathComponent("hits.html").path
        let result = try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", library, "--top", "10", "-o", hits,
                                    "--sdf", sdf, "--report", report, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let records = try Self.read(sdf).components(separatedBy: "$$$$\n").filter { !$0.isEmpty }
        #expect(records.count == 5)
        for record in records {
            let big = record.hasPrefix("chain\n") || record.hasPrefix("rings\n")
            #expect(record.contains("  Winnow          0D") == big, "\(record.prefix(80))")
            #expect(record.contains(">  <depiction>\nnot laid out in 2D: ") == big)
        }
        #expect(records.contains { $0.hasPrefix("chain\n") && $0.contains("not laid out in 2D: 161 heavy atoms, above the limit of 120") })
        #expect(records.contains { $0.hasPrefix("rings\n") && $0.contains("not laid out in 2D: 25 rings, above the limit of 20") })
        let html = try Self.read(report)
        #expect(html.contains("(no depiction: not laid out in 2D: 161 heavy atoms, above the limit of 120)"))
        #expect(html.contains("<tr><td>Depictions</td><td>2 of 5 hits not drawn"))
        #expect(html.components(separatedBy: "<tr><td class=\"num\">").count - 1 == 5)

        // Within the size limits but slow to lay out (14 linked adamantanes, 140 atoms and 42 rings: 23 s
        // here; hits are laid out from their canonical SMILES, and the 151-atom tert-butyl comb used
        // before lays out in under a second when written canonically): the layout is stopped after
        // --depiction-seconds, and the hit keeps a note instead of a picture.
        let comb = String(repeating: "C12CC3CC(CC(C3)C1)C2", count: 14)
        try "c1ccccc1O phenol\n\(comb) comb\n".write(toFile: library, atomically: true, encoding: .utf8)
        let slow = try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", library, "--top", "10", "-o", hits,
                                  "--sdf", sdf, "--report", report, "--depiction-max-atoms", "1000", "--depiction-max-rings", "100",
                                  "--depiction-seconds", "1", "--quiet"])
        #expect(slow.status == 0, "\(slow.stderr)")
        let combRecord = try #require(try Self.read(sdf).components(separatedBy: "$$$$\n").first { $0.hasPrefix("comb\n") })
        #expect(combRecord.contains("  Winnow          0D"))
        #expect(combRecord.contains(">  <depiction>\nnot laid out in 2D: Open Babel's 2D layout took longer than 1 s and was stopped\n"))
        let slowHTML = try Self.read(report)
        #expect(slowHTML.contains("(no depiction: not drawn: Open Babel&#39;s 2D layout took longer than 1 s and was stopped)")
                || slowHTML.contains("(no depiction: not drawn: Open Babel's 2D layout took longer than 1 s and was stopped)"))
        #expect(slowHTML.contains("<tr><td>Depictions</td><td>1 of 2 hits not drawn"))
    }
}
