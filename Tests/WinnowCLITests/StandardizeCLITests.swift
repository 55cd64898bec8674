import Chemistry
import Foundation
import Learning
import LibraryIO
import Screening
import Testing
import WinnowTestSupport

/// Canonical hit lists, InChIKeys, the standardiser and dedupe, end to end on real libraries.
@Suite(.serialized) struct StandardizeCLITests {
    static let model = ScreenCLITests.model

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// Hit-list rows by column name (the hit list's fields hold no commas for these molecules).
    static func hitRows(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let table = try CSVTable.read(path: path)
        return (table.header, table.rows)
    }

    /// A 1,000-hit list from the 10k MOSES slice: equal scaffolds are equal strings, every SMILES is
    /// the canonical SMILES of its record, and each InChIKey is the hit's.
    @Test func hitListIsCanonical() throws {
        let folder = try TestPaths.scratch("canonical-hits")
        let library = TestPaths.library("moses_train_10k.smi")
        let hits = folder.appendingPathComponent("hits.csv").path
        let result = try runWinnow(["screen", "--model", Self.model, "--library", library, "--top", "1000", "-o", hits, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let (header, rows) = try Self.hitRows(hits)
        #expect(rows.count == 1000)
        guard let smiles = header.firstIndex(of: "smiles"), let scaffold = header.firstIndex(of: "scaffold"),
              let record = header.firstIndex(of: "record"), let inchi = header.firstIndex(of: "inchikey") else {
            Issue.record("columns missing: \(header)"); return
        }
        let parser = try MoleculeParser()
        let inputs = try Self.read(library).split(separator: "\n").map { String($0.split(separator: " ")[0].split(separator: "\t")[0]) }
        var keysByString: [String: Set<String>] = [:], stringsByKey: [String: Set<String>] = [:]
        for (n, row) in rows.enumerated() {
            guard let r = Int(row[record]) else { Issue.record("bad record \(row)"); continue }
            #expect(row[smiles] == (try parser.parse(smiles: inputs[r - 1]).canonicalSMILES()))
            if !row[scaffold].isEmpty {
                let key = try parser.parse(smiles: row[scaffold]).scaffoldKey()
                keysByString[row[scaffold], default: []].insert(key)
                stringsByKey[key, default: []].insert(row[scaffold])
            }
            if n < 50 { #expect(row[inchi] == (try parser.inchiKey(smiles: inputs[r - 1]))) }
            #expect(row[inchi].count == 27)
        }
        #expect(stringsByKey.count > 500)
        #expect(keysByString.values.allSatisfy { $0.count == 1 } && stringsByKey.values.allSatisfy { $0.count == 1 })
    }

    /// Salt forms from HIV/BBBP/Tox21 next to their parents (RDKit's standardised molecule), in one
    /// library: `salt\tSALT_<id>` then `parent\tPARENT_<id>`.
    static func saltLibrary(in folder: URL, limit: Int = 300) throws -> (path: String, pairs: Int) {
        let path = TestPaths.repository.appendingPathComponent("Tests/ChemistryTests/Fixtures/standardize_rdkit.tsv").path
        let listed = Set(try TestPaths.tsv(TestPaths.repository.appendingPathComponent("Tests/ChemistryTests/Fixtures/standardize_known_differences.tsv").path).map { $0[0] })
        var text = "", pairs = 0
        for row in try TestPaths.tsv(path).dropFirst() where row[1].contains(".") && !listed.contains(row[0]) && pairs < limit {
            text += "\(row[1])\tSALT_\(row[0])\n\(row[2])\tPARENT_\(row[0])\n"
            pairs += 1
        }
        let library = folder.appendingPathComponent("salts.smi").path
        try text.write(toFile: library, atomically: true, encoding: .utf8)
        return (library, pairs)
    }

    /// The issue's bug: `A.Cl` and `A` were scored as two molecules. Standardised (the screen's
    /// default), each salt has its parent's SMILES and score; with --no-standardize they differ.
    @Test func saltAndParentScoreAlike() throws {
        let folder = try TestPaths.scratch("salts")
        let (library, pairs) = try Self.saltLibrary(in: folder)
        #expect(pairs > 250)
        for standardize in [true, false] {
            let hits = folder.appendingPathComponent("hits-\(standardize).csv").path
            let report = folder.appendingPathComponent("report-\(standardize).html").path
            let result = try runWinnow(["screen", "--model", Self.model, "--library", library, "--top", "100000", "-o", hits,
                                        "--report", report, "--quiet"] + (standardize ? [] : ["--no-standardize"]))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("winnow screen: standardised ") == standardize, "\(result.stderr)")
            let (header, rows) = try Self.hitRows(hits)
            guard let id = header.firstIndex(of: "id"), let score = header.firstIndex(of: "score"), let smiles = header.firstIndex(of: "smiles"),
                  let changed = header.firstIndex(of: "standardized") else { Issue.record("\(header)"); return }
            var byID: [String: [String]] = [:]
            for row in rows { byID[row[id]] = row }
            var same = 0
            for (name, salt) in byID where name.hasPrefix("SALT_") {
                guard let parent = byID["PARENT_" + name.dropFirst(5)] else { continue }
                if salt[score] == parent[score] && salt[smiles] == parent[smiles] { same += 1 }
                if standardize { #expect(salt[changed].hasPrefix("removed "), "\(salt[changed])") } else { #expect(salt[changed].isEmpty) }
            }
            if standardize {
                #expect(same == pairs)
                #expect(try Self.read(report).contains("<tr><td>Standardisation</td><td>on "))
            } else {
                #expect(same == 0)
                #expect(try Self.read(report).contains("<tr><td>Standardisation</td><td>off</td></tr>"))
            }
        }
    }

    /// train standardises by default and records it in the model; a salt trains as its parent; a
    /// model trained with --no-standardize makes predict read molecules as written.
    @Test func trainRecordsStandardisation() throws {
        let folder = try TestPaths.scratch("salts-train")
        let bace = try CSVTable.read(path: TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv").path)
        // 300 BACE rows, every other one as a hydrochloride.
        var text = "smiles,Class,split\n"
        for (i, f) in bace.rows.prefix(300).enumerated() {
            text += (i % 2 == 0 ? "\(f[0]).Cl" : f[0]) + ",\(f[1]),\(f[2])\n"
        }
        let data = folder.appendingPathComponent("salts.csv").path
        try text.write(toFile: data, atomically: true, encoding: .utf8)
        let library = folder.appendingPathComponent("lib.smi").path
        try "CCOc1ccccc1N.Cl\tsalt\nCCOc1ccccc1N\tparent\n".write(toFile: library, atomically: true, encoding: .utf8)
        var headers: [Bool: [String]] = [:]
        for standardize in [true, false] {
            let model = folder.appendingPathComponent("rf-\(standardize).winnow").path
            let trained = try runWinnow(["train", "--data", data, "--label-column", "Class", "--split-column", "split", "--model", "rf",
                                         "--trees", "20", "-o", model] + (standardize ? [] : ["--no-standardize"]))
            #expect(trained.status == 0, "\(trained.stderr)")
            // (BACE's protonated amidines are neutralised as well.)
            #expect(trained.stderr.contains("fragments removed from 150, charges neutralised in") == standardize, "\(trained.stderr)")
            let header = try ModelArchive.read(from: URL(fileURLWithPath: model)).decodeHeader(ModelHeader.self)
            #expect(header.trainingData.standardized == standardize)
            let scores = folder.appendingPathComponent("scores-\(standardize).csv").path
            let predicted = try runWinnow(["predict", "--model", model, library, "-o", scores, "--quiet"])
            #expect(predicted.status == 0 && !predicted.stderr.contains("warning"), "\(predicted.stderr)")
            let table = try CSVTable.read(path: scores)
            headers[standardize] = table.header
            // Standardised, the salt and its parent are one molecule with one score.
            if standardize { #expect(table.rows[0][2] == table.rows[1][2] && table.rows[0][4] == "removed 1 fragment") }
            // evaluate reads the data as the model was trained, or as told (with a warning).
            let evaluated = try runWinnow(["evaluate", "--model", model, "--data", data])
            #expect(evaluated.status == 0 && !evaluated.stderr.contains("warning"), "\(evaluated.stderr)")
            let flipped = try runWinnow(["evaluate", "--model", model, "--data", data, standardize ? "--no-standardize" : "--standardize"])
            #expect(flipped.status == 0, "\(flipped.stderr)")
            #expect(flipped.stderr.contains("winnow evaluate: warning: the model was trained on \(standardize ? "standardised" : "unstandardised") molecules"),
                    "\(flipped.stderr)")
            // The salts read as written are other molecules to the standardised model, and the reverse.
            #expect(evaluated.stdout != flipped.stdout)
        }
        #expect(headers[true] == ["id", "smiles", "score", "uncertainty", "standardized"])
        #expect(headers[false] == ["id", "smiles", "score", "uncertainty"])
    }

    /// predict standardises as the model's training molecules were (the model here: standardised,
    /// train's default) and warns when told otherwise; fingerprint and index only when asked.
    @Test func otherCommandsStandardiseWhenAsked() throws {
        let folder = try TestPaths.scratch("salts-other")
        let (library, pairs) = try Self.saltLibrary(in: folder, limit: 50)
        for standardize in [true, false] {
            let flag = standardize ? ["--standardize"] : []
            let scores = folder.appendingPathComponent("scores-\(standardize).csv").path
            let predicted = try runWinnow(["predict", "--model", Self.model, library, "-o", scores, "--quiet"] + (standardize ? [] : ["--no-standardize"]))
            #expect(predicted.status == 0, "\(predicted.stderr)")
            #expect(predicted.stderr.contains("winnow predict: standardised 50 molecules (fragments removed from 50") == standardize, "\(predicted.stderr)")
            #expect(predicted.stderr.contains("warning: the model was trained on standardised molecules; scoring unstandardised ones as asked") == !standardize,
                    "\(predicted.stderr)")
            let table = try CSVTable.read(path: scores)
            let rows = table.rows
            #expect(table.header == ["id", "smiles", "score", "uncertainty"] + (standardize ? ["standardized"] : []))
            #expect(rows.count == 2 * pairs)
            let equal = stride(from: 0, to: rows.count, by: 2).filter { rows[$0][2] == rows[$0 + 1][2] }.count
            if standardize {
                #expect(equal == pairs)
                // What was scored: the salt lost its counter-ion; the parent is unchanged.
                #expect(stride(from: 0, to: rows.count, by: 2).allSatisfy { rows[$0][4].hasPrefix("removed ") && rows[$0 + 1][4].isEmpty })
            } else { #expect(equal < pairs / 2) }

            let fps = folder.appendingPathComponent("fp-\(standardize).fps").path
            let printed = try runWinnow(["fingerprint", library, "-o", fps, "--quiet"] + flag)
            #expect(printed.status == 0 && printed.stderr.contains("winnow fingerprint: standardised") == standardize, "\(printed.stderr)")
            let lines = try Self.read(fps).split(separator: "\n")
            #expect(lines.contains { $0.hasPrefix("#software=") && $0.contains("standardized") } == standardize)
            let bits = lines.filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t")[0] }
            let sameBits = stride(from: 0, to: bits.count, by: 2).filter { bits[$0] == bits[$0 + 1] }.count
            if standardize { #expect(sameBits == pairs) } else { #expect(sameBits < pairs / 2) }
        }
        let index = folder.appendingPathComponent("salts.wdx").path
        let indexed = try runWinnow(["index", library, "-o", index, "--standardize", "--quiet"])
        #expect(indexed.status == 0 && indexed.stderr.contains("winnow index: standardised 50 molecules"), "\(indexed.stderr)")
    }

    /// A checkpointed screen records the setting: resuming with the other one is refused.
    @Test func resumeWithTheOtherSettingIsRefused() throws {
        let folder = try TestPaths.scratch("salts-resume")
        let (library, _) = try Self.saltLibrary(in: folder, limit: 20)
        let checkpoint = folder.appendingPathComponent("ck").path
        let hits = folder.appendingPathComponent("hits.csv").path
        #expect(try runWinnow(["screen", "--model", Self.model, "--library", library, "-o", hits, "--checkpoint", checkpoint, "--quiet"]).status == 0)
        let other = try runWinnow(["screen", "--model", Self.model, "--library", library, "-o", hits, "--checkpoint", checkpoint,
                                   "--resume", "--no-standardize", "--quiet"])
        #expect(other.status != 0 && other.stderr.contains("was made by a screen with another library, model or settings"), "\(other.stderr)")
    }

    /// `--dedupe` on the 10k MOSES slice read twice (the second copy after the first, so duplicates are
    /// met in later batches of the same round and in the next round) and on the salts written before
    /// all of their parents: every structure is scored once, each duplicate is listed with the record it
    /// repeats, the hit list names the duplicates, and the bytes are the same at 1 and 2 threads.
    @Test func dedupeScoresEachStructureOnce() throws {
        let folder = try TestPaths.scratch("dedupe")
        let moses = try Self.read(TestPaths.library("moses_train_10k.smi"))
        let (salts, pairs) = try Self.saltLibrary(in: folder)
        let saltLines = try Self.read(salts).split(separator: "\n")
        let library = folder.appendingPathComponent("doubled.smi").path
        // MOSES twice, then every salt, then every parent.
        let text = moses + moses + stride(from: 0, to: saltLines.count, by: 2).map { saltLines[$0] + "\n" }.joined()
            + stride(from: 1, to: saltLines.count, by: 2).map { saltLines[$0] + "\n" }.joined()
        try text.write(toFile: library, atomically: true, encoding: .utf8)

        // What dedupe must find, from the standardised canonical keys.
        var limits = InputLimits()
        limits.standardize = true
        let parser = try MoleculeParser(limits: limits)
        var firstOf: [StructureKey: Int] = [:]
        var expectedFirst: [Int: Int] = [:]  // duplicate record -> first record
        var laterOf: [Int: [String]] = [:]
        var parsed = 0
        for (n, line) in text.split(separator: "\n").enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let graph = try? parser.parse(smiles: String(fields[0])) else { continue }
            parsed += 1
            let key = graph.canonicalKey()
            if let first = firstOf[key] {
                expectedFirst[n + 1] = first
                laterOf[first, default: []].append(fields.count > 1 ? String(fields[1]) : "")
            } else {
                firstOf[key] = n + 1
            }
        }
        #expect(expectedFirst.count >= 10_000 + pairs)

        var outputs: [String] = []
        for threads in ["1", "2"] {
            let hits = folder.appendingPathComponent("hits\(threads).csv").path
            let errors = folder.appendingPathComponent("errors\(threads).tsv").path
            let result = try runWinnow(["screen", "--model", Self.model, "--library", library, "--top", "500", "-o", hits, "--errors", errors,
                                        "--dedupe", "--threads", threads, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            let read = 20_000 + 2 * pairs
            #expect(result.stderr.contains("read \(read), scored \(parsed - expectedFirst.count), rejected \(read - parsed), duplicates \(expectedFirst.count) "),
                    "\(result.stderr)")
            outputs.append(try Self.read(hits) + Self.read(errors))
            // Every duplicate is listed with the record it repeats.
            var listed: [Int: Int] = [:]
            for line in try Self.read(errors).split(separator: "\n").dropFirst() {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
                if let reason = fields.last, reason.hasPrefix("duplicate of record "), let record = Int(fields[0]),
                   let first = Int(reason.dropFirst("duplicate of record ".count).prefix { $0.isNumber }) {
                    listed[record] = first
                }
            }
            let wrong = Set(listed.keys).union(expectedFirst.keys).filter { listed[$0] != expectedFirst[$0] }.sorted()
            #expect(wrong.isEmpty, "\(wrong.count) records: \(wrong.prefix(10).map { "\($0): listed \(listed[$0].map(String.init) ?? "-") expected \(expectedFirst[$0].map(String.init) ?? "-")" })")
            let (header, rows) = try Self.hitRows(hits)
            guard let record = header.firstIndex(of: "record"), let count = header.firstIndex(of: "duplicates"),
                  let ids = header.firstIndex(of: "duplicate_ids") else { Issue.record("\(header)"); return }
            #expect(rows.count == 500)
            for row in rows {
                let r = try #require(Int(row[record]))
                #expect(expectedFirst[r] == nil)
                let later = laterOf[r] ?? []
                #expect(row[count] == String(later.count) && row[ids] == later.joined(separator: ";"))
            }
        }
        #expect(outputs[0] == outputs[1])
        let refused = try runWinnow(["screen", "--model", Self.model, "--library", library, "-o", folder.appendingPathComponent("x.csv").path,
                                     "--dedupe", "--checkpoint", folder.appendingPathComponent("ck").path, "--quiet"])
        #expect(refused.status == 64 && refused.stderr.contains("--dedupe cannot be combined with --checkpoint"), "\(refused.stderr)")
    }

    /// campaign init standardises its pool by default and, with --dedupe, keeps one molecule per structure.
    @Test func campaignInitStandardisesAndDedupes() throws {
        let folder = try TestPaths.scratch("dedupe-campaign")
        let (library, pairs) = try Self.saltLibrary(in: folder, limit: 100)
        let campaign = folder.appendingPathComponent("c.sqlite").path
        let created = try runWinnow(["campaign", "init", "--campaign", campaign, "--pool", library, "--dedupe"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("pool \(pairs) molecules from \(library) (\(2 * pairs) records, 0 rejected"), "\(created.stdout)")
        #expect(created.stdout.contains("pool: \(pairs) records left out as duplicates"), "\(created.stdout)")
        #expect(created.stdout.contains("pool standardised \(pairs) molecules"), "\(created.stdout)")
        let plain = folder.appendingPathComponent("plain.sqlite").path
        let kept = try runWinnow(["campaign", "init", "--campaign", plain, "--pool", library, "--no-standardize", "--dedupe"])
        #expect(kept.status == 0 && kept.stdout.contains("pool \(2 * pairs) molecules"), "\(kept.stdout)")
    }

    /// `index --dedupe` on the 10k MOSES slice read twice: one row per structure, each duplicate listed
    /// in --errors with the record it repeats (in record order among the rejected records), and the
    /// same index bytes at 1 and 2 threads.
    @Test func indexDedupeKeepsOneRowPerStructure() throws {
        let folder = try TestPaths.scratch("dedupe-index")
        let moses = try Self.read(TestPaths.library("moses_train_10k.smi"))
        let invalid = "C1CC bad\n"
        let library = folder.appendingPathComponent("doubled.smi").path
        try (moses + invalid + moses).write(toFile: library, atomically: true, encoding: .utf8)
        let parser = try MoleculeParser()
        var firstOf: [StructureKey: Int] = [:]
        var expected: [Int: Int] = [:]
        for (n, line) in (moses + invalid + moses).split(separator: "\n").enumerated() {
            guard let graph = try? parser.parse(smiles: String(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[0])) else { continue }
            let key = graph.canonicalKey()
            if let first = firstOf[key] { expected[n + 1] = first } else { firstOf[key] = n + 1 }
        }
        var indexes: [Data] = []
        for threads in ["1", "2"] {
            let index = folder.appendingPathComponent("i\(threads).wfp").path
            let errors = folder.appendingPathComponent("e\(threads).tsv").path
            let result = try runWinnow(["index", library, "-o", index, "--errors", errors, "--dedupe", "--threads", threads, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("read 20001, indexed \(firstOf.count), rejected 1, duplicates \(expected.count) "), "\(result.stderr)")
            indexes.append(try Data(contentsOf: URL(fileURLWithPath: index)))
            let lines = try Self.read(errors).split(separator: "\n").dropFirst()
            let records = lines.map { Int($0.prefix { $0 != "\t" }) ?? 0 }
            #expect(records == records.sorted() && records.count == expected.count + 1)
            var listed: [Int: Int] = [:]
            for line in lines {
                guard let reason = line.split(separator: "\t").last, reason.hasPrefix("duplicate of record ") else { continue }
                listed[Int(line.prefix { $0 != "\t" }) ?? 0] = Int(reason.dropFirst("duplicate of record ".count).prefix { $0.isNumber })
            }
            #expect(listed == expected)
        }
        #expect(indexes[0] == indexes[1])
    }
}
