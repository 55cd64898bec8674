import Chemistry
import Fingerprints
import Foundation
import LibraryIO
import Screening
import Testing
import WinnowTestSupport

/// The screen end to end: determinism, accounting, shards and kill/resume, on real libraries.
@Suite(.serialized) struct ScreenCLITests {
    /// A small MLP trained once on the bundled target (a few seconds).
    static let model = trainTestModel("bace", data: TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv").path,
        ["--label-column", "Class", "--split-column", "split", "--model", "mlp", "--hidden", "128", "--head-hidden", "32", "--epochs", "3"])

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test func rankingIsIdenticalAtAnyThreadCountAndGarbageIsAccounted() throws {
        let folder = try TestPaths.scratch("screen")
        // The 10k sample with every invalid fixture line mixed in.
        let valid = try Self.read(TestPaths.library("moses_train_10k.smi")).split(separator: "\n")
        let invalid = try TestPaths.lines(TestPaths.fixture("invalid.smi"))
        var bytes: [UInt8] = []
        for (i, line) in valid.enumerated() {
            bytes += Array(line.utf8) + [10]
            if i % 150 == 0 { bytes += invalid[(i / 150) % invalid.count] + [10] }
        }
        let library = folder.appendingPathComponent("mixed.smi").path
        try Data(bytes).write(to: URL(fileURLWithPath: library))
        var outputs: [String] = []
        for threads in ["1", "2", "4"] {
            let hits = folder.appendingPathComponent("hits\(threads).csv").path
            let errors = folder.appendingPathComponent("errors\(threads).tsv").path
            let scores = folder.appendingPathComponent("scores\(threads).csv").path
            let result = try runWinnow(["screen", "--model", Self.model, "--library", library, "--top", "50", "-o", hits,
                                        "--errors", errors, "--all-scores", scores, "--threads", threads, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("read 10067, scored 10000, rejected 67"))
            outputs.append(try Self.read(hits) + Self.read(errors) + Self.read(scores))
            let errorLines = try Self.read(errors).split(separator: "\n")
            #expect(errorLines.count == 68)  // header + every rejected record
            let scoreLines = try Self.read(scores).split(separator: "\n")
            #expect(scoreLines.count == 10001)
        }
        #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2])
        let hitLines = try Self.read(folder.appendingPathComponent("hits1.csv").path).split(separator: "\n")
        #expect(hitLines.count == 51)
        #expect(hitLines[0] == "rank,record,id,smiles,score,uncertainty,nearest_active,nearest_active_similarity,scaffold,task,inchikey,standardized,duplicates,duplicate_ids")
        // Scores are in descending order.
        let scores = hitLines.dropFirst().map { Double($0.split(separator: ",", omittingEmptySubsequences: false)[4])! }
        #expect(scores == scores.sorted(by: >))
    }

    @Test func fourShardsMergeToTheSingleRun() throws {
        let folder = try TestPaths.scratch("shards")
        let library = TestPaths.library("moses_train_10k.smi")
        let single = folder.appendingPathComponent("single.csv").path
        #expect(try runWinnow(["screen", "--model", Self.model, "--library", library, "--top", "100", "-o", single, "--quiet"]).status == 0)
        var parts: [String] = []
        for k in 1...4 {
            let path = folder.appendingPathComponent("hits-\(k).csv").path
            let result = try runWinnow(["screen", "--model", Self.model, "--library", library, "--top", "100", "-o", path,
                                        "--shard", "\(k)/4", "--quiet"])
            #expect(result.status == 0)
            #expect(result.stderr.contains("read 2500,"))
            parts.append(path)
        }
        let merged = folder.appendingPathComponent("merged.csv").path
        #expect(try runWinnow(["merge"] + parts + ["--top", "100", "-o", merged]).status == 0)
        // Fingerprint MLPs score with row-invariant kernels (a molecule's score does not depend on the
        // other molecules of its batch), so the merged list is the single run's, byte for byte.
        #expect(try Self.read(merged) == Self.read(single))
        #expect(try Self.read(single).split(separator: "\n").count == 101)
    }

    /// D-MPNN scores are row-invariant too (message passing and head use the same kernels at inference):
    /// every molecule of a shard screened on 2 threads gets the very line it gets in a 1-thread single run.
    @Test func dmpnnScoresDoNotDependOnTheBatch() throws {
        let folder = try TestPaths.scratch("dmpnn-shards")
        let model = TestPaths.repository.appendingPathComponent("Tests/LearningTests/Fixtures/frozen_dmpnn.winnow").path
        let library = TestPaths.library("moses_train_10k.smi")
        let single = folder.appendingPathComponent("single.csv").path
        let shard = folder.appendingPathComponent("shard.csv").path
        #expect(try runWinnow(["screen", "--model", model, "--library", library, "--top", "10", "--threads", "1",
                               "-o", folder.appendingPathComponent("h1.csv").path, "--all-scores", single, "--quiet"]).status == 0)
        #expect(try runWinnow(["screen", "--model", model, "--library", library, "--top", "10", "--threads", "2", "--shard", "2/3",
                               "-o", folder.appendingPathComponent("h2.csv").path, "--all-scores", shard, "--quiet"]).status == 0)
        let all = Set(try Self.read(single).split(separator: "\n").dropFirst())
        let part = try Self.read(shard).split(separator: "\n").dropFirst()
        #expect(all.count == 10000 && part.count == 3333)
        for line in part { #expect(all.contains(line), "\(line)") }
    }

    /// A gzip library cut off mid-stream stops the screen with an error naming the file and where the
    /// damage starts, and leaves no hit list that could be mistaken for a complete one.
    @Test func truncatedGzipLibraryIsReportedWithItsPlace() throws {
        let folder = try TestPaths.scratch("truncated")
        let whole = try Data(contentsOf: URL(fileURLWithPath: TestPaths.library("moses_train.smi.gz")))
        let library = folder.appendingPathComponent("cut.smi.gz").path
        try whole.prefix(300_000).write(to: URL(fileURLWithPath: library))
        let hits = folder.appendingPathComponent("hits.csv").path
        let result = try runWinnow(["screen", "--model", Self.model, "--library", library, "--top", "10", "-o", hits, "--quiet"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("cut.smi.gz: the gzip data is damaged or truncated after line "), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: hits))
    }

    @Test func diverseHitsAreNotAnalogues() throws {
        let folder = try TestPaths.scratch("diverse")
        let hits = folder.appendingPathComponent("hits.csv").path
        let result = try runWinnow(["screen", "--model", Self.model, "--library", TestPaths.library("moses_train_10k.smi"),
                                    "--top", "30", "--diverse", "0.4", "-o", hits, "--quiet"])
        #expect(result.status == 0)
        let rows = try Self.read(hits).split(separator: "\n").dropFirst()
        #expect(rows.count == 30)
        let parser = try MoleculeParser()
        let generator = MorganGenerator()
        let bits = try rows.map { row in generator.bits(try parser.parse(smiles: String(row.split(separator: ",")[3]))) }
        for i in bits.indices { for j in bits.indices where j > i { #expect(tanimoto(bits[i], bits[j]) <= 0.4) } }
    }

    /// The report is one self-contained HTML file with the hits, their pictures, the histogram and the
    /// scaffolds; the SDF carries the same hits with coordinates and data items, identical run to run.
    @Test func reportAndSDFCarryTheHits() throws {
        let folder = try TestPaths.scratch("report")
        var outputs: [Data] = []
        for run in 1...2 {
            let hits = folder.appendingPathComponent("hits\(run).csv").path
            let report = folder.appendingPathComponent("hits\(run).html").path
            let sdf = folder.appendingPathComponent("hits\(run).sdf").path
            let result = try runWinnow(["screen", "--model", Self.model, "--library", TestPaths.library("moses_train_10k.smi"),
                                        "--top", "25", "-o", hits, "--report", report, "--sdf", sdf, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: sdf)))
            let html = try Self.read(report)
            #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
            #expect(html.components(separatedBy: "<tr><td class=\"num\">").count - 1 == 25)  // one row per hit
            #expect(html.components(separatedBy: "<svg").count - 1 >= 25 + 1)      // pictures + histogram
            #expect(html.contains("hit cut-off") && html.contains("Most frequent scaffolds") && html.contains("read 10000, scored 10000, rejected 0"))
            let firstHit = try Self.read(hits).split(separator: "\n")[1].split(separator: ",")
            #expect(html.contains(String(firstHit[2])))
            // Nothing is fetched from the network.
            #expect(!html.contains("<script src") && !html.contains("<link") && !html.contains("src=\"http"))
            // The SDF reads back: 25 molecules with their scores.
            let reader = try LibraryReader(path: sdf)
            let parser = try MoleculeParser()
            var molecules = 0
            while let batch = try reader.nextBatch(size: 100) {
                for i in 0..<batch.count {
                    #expect((try? batch.molecule(i, parser: parser).get()) != nil)
                    #expect(batch.text(i).contains(">  <score>") && batch.text(i).contains(">  <scaffold>"))
                    molecules += 1
                }
            }
            #expect(molecules == 25)
        }
        #expect(outputs[0] == outputs[1])
    }

    /// kill -9 part-way, then --resume: the outputs equal an uninterrupted run's, byte for byte.
    @Test func killedScreenResumesToIdenticalOutputs() throws {
        let folder = try TestPaths.scratch("resume")
        let library = TestPaths.library("moses_train_100k.smi")
        func arguments(_ tag: String) -> [String] {
            ["screen", "--model", Self.model, "--library", library, "--top", "200", "-o", folder.appendingPathComponent("hits-\(tag).csv").path,
             "--all-scores", folder.appendingPathComponent("scores-\(tag).csv.gz").path,
             "--errors", folder.appendingPathComponent("errors-\(tag).tsv").path, "--threads", "1", "--quiet"]
        }
        let reference = try runWinnow(arguments("reference"))
        #expect(reference.status == 0)

        let checkpoint = folder.appendingPathComponent("checkpoint").path
        let process = Process()
        process.executableURL = winnowBinary()
        process.arguments = arguments("resumed") + ["--checkpoint", checkpoint]
        process.standardError = FileHandle.nullDevice
        try process.run()
        let checkpointFile = checkpoint + "/screen.checkpoint.json"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: checkpointFile) && Date() < deadline && process.isRunning { usleep(20_000) }
        usleep(300_000)
        let killedMidway = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(killedMidway, "the screen finished before it could be killed")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("hits-resumed.csv").path))

        let resumed = try runWinnow(arguments("resumed") + ["--checkpoint", checkpoint, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("read 100000, scored 100000, rejected 0"))
        for name in ["hits", "scores", "errors"] {
            let ext = name == "hits" ? "csv" : (name == "scores" ? "csv.gz" : "tsv")
            let a = try Data(contentsOf: folder.appendingPathComponent("\(name)-reference.\(ext)"))
            let b = try Data(contentsOf: folder.appendingPathComponent("\(name)-resumed.\(ext)"))
            #expect(a == b, "\(name) differs after resume")
        }
    }
}
