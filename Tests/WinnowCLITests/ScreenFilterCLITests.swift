import Foundation
import LibraryIO
import Testing
import WinnowTestSupport

/// Filters on the screen: what they remove agrees with RDKit's values, every record is accounted
/// for (read = scored + rejected + filtered), outputs are the same at any thread count, in shards
/// and after a resume, and bad filters are usage errors that say where.
@Suite(.serialized) struct ScreenFilterCLITests {
    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// RDKit's reference rows of the HIV molecules by id (HIV has PAINS matches; MOSES has almost none).
    static func reference() throws -> (header: [String], rows: [String: [String]]) {
        let table = try TestPaths.tsv(TestPaths.fixture("descriptors_rdkit_hiv6k.tsv"))
        var rows: [String: [String]] = [:]
        for row in table.dropFirst() { rows[row[1]] = row }
        return (table[0], rows)
    }

    /// The first 1,000 HIV molecules of the RDKit reference file, less those whose descriptors are
    /// listed as differing from RDKit's (the parity exceptions), with three bad records mixed in.
    static func library(in folder: URL) throws -> (path: String, ids: [String]) {
        let exceptions = try TestPaths.tsv(TestPaths.repository.appendingPathComponent("Tests/ChemistryTests/Fixtures/descriptor_parity_exceptions.tsv").path)
        let differing = Set(exceptions.filter { $0.first == "descriptors_rdkit_hiv6k.tsv" && $0.count > 1 }.map { $0[1] })
        var lines = try TestPaths.tsv(TestPaths.fixture("descriptors_rdkit_hiv6k.tsv")).dropFirst().prefix(1000)
            .filter { !differing.contains($0[1]) }.map { "\($0[0])\t\($0[1])" }
        lines.insert("C(C\tBAD_1", at: 10)
        lines.insert("c1cccc1\tBAD_2", at: 500)
        lines.insert("C[Xx]\tBAD_3", at: 900)
        let path = folder.appendingPathComponent("library.smi")
        try (lines.joined(separator: "\n") + "\n").write(to: path, atomically: true, encoding: .utf8)
        return (path.path, lines.map { String($0.split(separator: "\t")[1]) })
    }

    // RDKit's reference values are for the molecules as written (salts included), so these screens
    // read them as written (--no-standardize; the screen standardises by default).
    static let filterArguments = ["--where", "mw <= 400 and (clogp < 4 or tpsa > 90)", "--rule", "veber", "--exclude-alerts", "pains"]

    /// Which records the filters above remove, and the filter that removes each, from RDKit's values.
    static func expectedFiltered(ids: [String]) throws -> [String: String] {
        let (header, rows) = try reference()
        func value(_ row: [String], _ name: String) -> Double { Double(row[header.firstIndex(of: name) ?? 0]) ?? .nan }
        var filtered: [String: String] = [:]
        for id in ids {
            guard let row = rows[id] else { continue }
            if !(value(row, "rotatable_bonds") <= 10 && value(row, "tpsa") <= 140) { filtered[id] = "rule veber" }
            else if !(value(row, "mol_wt") <= 400 && (value(row, "clogp") < 4 || value(row, "tpsa") > 90)) { filtered[id] = "where" }
            else if let pains = header.firstIndex(of: "pains"), row[pains] != "-" { filtered[id] = "alert pains" }
        }
        return filtered
    }

    @Test func filtersRemoveWhatRDKitValuesSayAndEveryRecordIsAccounted() throws {
        let folder = try TestPaths.scratch("screen-filters")
        let (library, ids) = try Self.library(in: folder)
        let expected = try Self.expectedFiltered(ids: ids)
        #expect(expected.values.contains("where") && expected.values.contains("alert pains"), "the sample exercises each filter")
        let valid = ids.count - 3
        let scoredCount = valid - expected.count
        var outputs: [String] = []
        for threads in ["1", "2"] {
            let hits = folder.appendingPathComponent("hits\(threads).csv").path
            let errors = folder.appendingPathComponent("errors\(threads).tsv").path
            let filtered = folder.appendingPathComponent("filtered\(threads).tsv").path
            let result = try runWinnow(["screen", "--no-standardize", "--model", ScreenCLITests.model, "--library", library, "--top", "2000", "-o", hits,
                                        "--errors", errors, "--filtered", filtered, "--properties", "mw,clogp,tpsa,qed", "--alerts", "brenk",
                                        "--threads", threads, "--quiet"] + Self.filterArguments)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("read \(ids.count), scored \(scoredCount), rejected 3, filtered \(expected.count) in"), "\(result.stderr)")
            outputs.append(try Self.read(hits) + Self.read(errors) + Self.read(filtered))

            // The filtered file: one line per filtered record, in input order, with its filter.
            let lines = try Self.read(filtered).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
            #expect(lines.first?.joined(separator: "\t") == "record\tid\tinput\treason")
            #expect(lines.count == expected.count + 1)
            var previous = -1
            for line in lines.dropFirst() {
                let id = String(line[1]), reason = String(line[3])
                #expect(reason.hasPrefix(expected[id] ?? "(not expected)"), "\(id): \(reason)")
                let record = Int(line[0]) ?? -1
                #expect(record > previous)
                previous = record
            }
            // The errors file holds only the three bad records.
            #expect(try Self.read(errors).split(separator: "\n").dropFirst().map { String($0.split(separator: "\t")[1]) } == ["BAD_1", "BAD_2", "BAD_3"])

            // The hit list: every scored record, with the properties RDKit gives them.
            let table = try CSVTable.read(path: hits)
            #expect(Array(table.header.suffix(5)) == ["mol_wt", "clogp", "tpsa", "qed", "alerts"])
            #expect(table.rows.count == scoredCount)
            let (header, rows) = try Self.reference()
            for row in table.rows {
                let id = row[2]
                #expect(expected[id] == nil, "\(id) was filtered but is in the hit list")
                guard let ref = rows[id] else { Issue.record("\(id) not in the reference"); continue }
                for (k, name) in ["mol_wt", "clogp", "tpsa", "qed"].enumerated() {
                    let wantText = ref[header.firstIndex(of: name) ?? 0], gotText = row[row.count - 5 + k]
                    if wantText == "NA" || gotText == "NA" { #expect(wantText == gotText, "\(id) \(name)"); continue }
                    let want = Double(wantText) ?? .nan, got = Double(gotText) ?? .nan
                    #expect(abs(want - got) <= 0.01, "\(id) \(name): rdkit \(want), winnow \(got)")
                }
                let brenk = ref[header.firstIndex(of: "brenk") ?? 0]
                #expect(Set(row[row.count - 1].split(separator: ";")) == Set(brenk == "-" ? [] : brenk.split(separator: ";")), "\(id) alerts")
            }
        }
        #expect(outputs[0] == outputs[1], "same bytes at 1 and 2 threads")

        // Without --filtered, the filtered records are in --errors, marked.
        let errors = folder.appendingPathComponent("errors-only.tsv").path
        let result = try runWinnow(["screen", "--no-standardize", "--model", ScreenCLITests.model, "--library", library, "--top", "10",
                                    "-o", folder.appendingPathComponent("hits-e.csv").path, "--errors", errors, "--quiet"] + Self.filterArguments)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try Self.read(errors).split(separator: "\n").dropFirst()
        #expect(lines.count == 3 + expected.count)
        #expect(lines.filter { $0.split(separator: "\t")[3].hasPrefix("filtered: ") }.count == expected.count)
    }

    /// The hit SDF carries the properties as data items; the report shows them, the filters and the
    /// filtered count.
    @Test func sdfAndReportShowPropertiesAndFilters() throws {
        let folder = try TestPaths.scratch("screen-filters-report")
        let (library, ids) = try Self.library(in: folder)
        let expected = try Self.expectedFiltered(ids: ids)
        let sdf = folder.appendingPathComponent("hits.sdf").path, report = folder.appendingPathComponent("hits.html").path
        let result = try runWinnow(["screen", "--no-standardize", "--model", ScreenCLITests.model, "--library", library, "--top", "5",
                                    "-o", folder.appendingPathComponent("hits.csv").path, "--sdf", sdf, "--report", report,
                                    "--properties", "all", "--alerts", "pains,brenk", "--quiet"] + Self.filterArguments)
        #expect(result.status == 0, "\(result.stderr)")
        let text = try Self.read(sdf)
        #expect(text.components(separatedBy: "$$$$").count - 1 == 5)
        for name in ["mol_wt", "exact_mass", "qed", "fraction_csp3", "alerts"] {
            #expect(text.components(separatedBy: ">  <\(name)>").count - 1 == 5, "\(name)")
        }
        let html = try Self.read(report)
        #expect(html.contains("<th>mol_wt</th>") && html.contains("<th>alerts</th>"))
        #expect(html.contains("filtered \(expected.count)"))
        #expect(html.contains("rules veber; where mw &lt;= 400 and (clogp &lt; 4 or tpsa &gt; 90); exclude alerts pains"))
    }

    /// --require / --exclude (on the command line and from a file): the chemically obvious answers.
    @Test func requireAndExcludeSMARTS() throws {
        let folder = try TestPaths.scratch("screen-smarts")
        let library = folder.appendingPathComponent("small.smi").path
        try "O=[N+]([O-])c1ccccc1 nitrobenzene\nOc1ccccc1 phenol\nCCCC butane\nc1ccccc1 benzene\nOc1ccncc1 pyridinol\n"
            .write(toFile: library, atomically: true, encoding: .utf8)
        let filtered = folder.appendingPathComponent("filtered.tsv").path
        let hits = folder.appendingPathComponent("hits.csv").path
        var result = try runWinnow(["screen", "--no-standardize", "--model", ScreenCLITests.model, "--library", library, "-o", hits, "--filtered", filtered,
                                    "--require", "c1ccccc1", "--exclude", "[N+](=O)[O-]", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("read 5, scored 2, rejected 0, filtered 3"))
        #expect(Set(try CSVTable.read(path: hits).rows.map { $0[2] }) == ["phenol", "benzene"])
        var reasons = try Self.read(filtered).split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
        #expect(reasons.map { [$0[1], $0[3]] } == [["nitrobenzene", "exclude [N+](=O)[O-]: matches"], ["butane", "require c1ccccc1: no match"],
                                                    ["pyridinol", "require c1ccccc1: no match"]])

        let patterns = folder.appendingPathComponent("patterns.tsv").path
        try "# aromatic hydroxyl\n[OX2H]c\taryl OH\n\n".write(toFile: patterns, atomically: true, encoding: .utf8)
        result = try runWinnow(["screen", "--no-standardize", "--model", ScreenCLITests.model, "--library", library, "-o", hits, "--filtered", filtered,
                                "--require-file", patterns, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Set(try CSVTable.read(path: hits).rows.map { $0[2] }) == ["phenol", "pyridinol"])
        reasons = try Self.read(filtered).split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
        #expect(reasons.map { $0[3] } == ["require aryl OH: no match", "require aryl OH: no match", "require aryl OH: no match"])

        // Everything filtered: nothing scored is exit 3 with the reason.
        result = try runWinnow(["screen", "--no-standardize", "--model", ScreenCLITests.model, "--library", library, "-o", hits, "--where", "mw > 1000", "--quiet"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("rejected or filtered (5 filtered"), "\(result.stderr)")
    }

    /// Shards with filters and properties merge to the single run's hit list; their filtered files
    /// together are the single run's.
    @Test func shardsMergeToTheSingleRun() throws {
        let folder = try TestPaths.scratch("screen-filters-shards")
        let (library, _) = try Self.library(in: folder)
        func screen(_ tag: String, _ extra: [String]) throws -> String {
            let result = try runWinnow(["screen", "--no-standardize", "--model", ScreenCLITests.model, "--library", library, "--top", "40",
                                        "-o", folder.appendingPathComponent("hits-\(tag).csv").path,
                                        "--filtered", folder.appendingPathComponent("filtered-\(tag).tsv").path,
                                        "--properties", "mw,qed", "--alerts", "brenk", "--quiet"] + Self.filterArguments + extra)
            #expect(result.status == 0, "\(result.stderr)")
            return result.stderr
        }
        _ = try screen("all", [])
        _ = try screen("1", ["--shard", "1/2"])
        _ = try screen("2", ["--shard", "2/2"])
        let merged = folder.appendingPathComponent("merged.csv").path
        let result = try runWinnow(["merge", folder.appendingPathComponent("hits-1.csv").path, folder.appendingPathComponent("hits-2.csv").path,
                                    "--top", "40", "-o", merged])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Self.read(merged) == Self.read(folder.appendingPathComponent("hits-all.csv").path))
        func filteredLines(_ tag: String) throws -> [Substring] {
            try Self.read(folder.appendingPathComponent("filtered-\(tag).tsv").path).split(separator: "\n").dropFirst().map { $0 }
        }
        let shards = try (filteredLines("1") + filteredLines("2")).sorted { (Int($0.prefix { $0 != "\t" }) ?? 0) < (Int($1.prefix { $0 != "\t" }) ?? 0) }
        #expect(shards == (try filteredLines("all")))
    }

    /// kill -9 part-way through a filtered screen, then --resume: identical outputs; a resume with
    /// other filters is refused (the filters are part of the checkpoint's settings).
    @Test func killedFilteredScreenResumesToIdenticalOutputs() throws {
        let folder = try TestPaths.scratch("screen-filters-resume")
        let library = TestPaths.library("moses_train_100k.smi")
        func arguments(_ tag: String, where condition: String = "mw <= 320 and tpsa < 80") -> [String] {
            ["screen", "--no-standardize", "--model", ScreenCLITests.model, "--library", library, "--top", "100",
             "-o", folder.appendingPathComponent("hits-\(tag).csv").path,
             "--filtered", folder.appendingPathComponent("filtered-\(tag).tsv").path,
             "--errors", folder.appendingPathComponent("errors-\(tag).tsv").path, "--where", condition, "--threads", "1", "--quiet"]
        }
        let reference = try runWinnow(arguments("reference"))
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(reference.stderr.contains("read 100000, scored "), "\(reference.stderr)")

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

        let other = try runWinnow(arguments("resumed", where: "mw <= 321 and tpsa < 80") + ["--checkpoint", checkpoint, "--resume"])
        #expect(other.status != 0)
        #expect(other.stderr.contains("another library, model or settings"), "\(other.stderr)")

        let resumed = try runWinnow(arguments("resumed") + ["--checkpoint", checkpoint, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let summary = { (text: String) in text.split(separator: "\n").first { $0.hasPrefix("winnow screen: read") }?.split(separator: " in ").first }
        #expect(summary(resumed.stderr) == summary(reference.stderr), "\(resumed.stderr) vs \(reference.stderr)")
        for name in ["hits", "filtered", "errors"] {
            let ext = name == "hits" ? "csv" : "tsv"
            let a = try Data(contentsOf: folder.appendingPathComponent("\(name)-reference.\(ext)"))
            let b = try Data(contentsOf: folder.appendingPathComponent("\(name)-resumed.\(ext)"))
            #expect(a == b, "\(name) differs after resume")
        }
    }

    /// Bad filters are usage errors (exit 64) naming the option and, for expressions and SMARTS,
    /// the character; a bad line in a SMARTS file names the file and line (exit 2).
    @Test func badFiltersSayWhatAndWhere() throws {
        let folder = try TestPaths.scratch("screen-filters-bad")
        let base = ["screen", "--no-standardize", "--model", ScreenCLITests.model, "--library", TestPaths.fixture("library_sample_1000.smi"),
                    "-o", folder.appendingPathComponent("hits.csv").path, "--quiet"]
        let cases: [([String], String)] = [
            (["--where", "mw <= 500 and hbd <= 5 and colgp < 5"], "--where \"mw <= 500 and hbd <= 5 and colgp < 5\": at character 28: unknown descriptor 'colgp'"),
            (["--where", "mw <= (500"], "at character 7: expected a descriptor name or a number, found '('"),
            (["--rule", "lipinski,ro5"], "--rule: unknown rule 'ro5' (known: lipinski, veber, leadlike, ro3)"),
            (["--require", "c1ccccc"], "--require 'c1ccccc': SMARTS error at character"),
            (["--exclude", "[N+](=O"], "--exclude '[N+](=O': SMARTS error at character"),
            (["--exclude-alerts", "pains,nope"], "--exclude-alerts: unknown alert set 'nope'"),
            (["--properties", "mw,weight"], "--properties: unknown descriptor 'weight'"),
            (["--alerts", "brenk,x"], "--alerts: unknown alert set 'x'"),
        ]
        for (extra, message) in cases {
            let result = try runWinnow(base + extra)
            #expect(result.status == 64, "\(extra): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(extra): \(result.stderr)")
        }
        let patterns = folder.appendingPathComponent("bad.tsv").path
        try "c1ccccc1\tbenzene\n[C;X5\tbroken\n".write(toFile: patterns, atomically: true, encoding: .utf8)
        let result = try runWinnow(base + ["--exclude-file", patterns])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("bad.tsv: line 2: '[C;X5': SMARTS error at character"), "\(result.stderr)")
    }
}
