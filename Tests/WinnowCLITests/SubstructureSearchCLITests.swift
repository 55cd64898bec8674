import Chemistry
import Foundation
import Testing
import WinnowTestSupport

/// `winnow search --smarts` end to end on 2,000 real molecules (the MOSES sample and the first 1,000
/// HIV rows) with three bad records among them, checked against RDKit's matches
/// (Tests/ChemistryTests/Fixtures/smarts_search_rdkit.tsv, made by scripts/fixtures/smarts_search.py).
@Suite struct SubstructureSearchCLITests {
    static let fixtures = TestPaths.repository.appendingPathComponent("Tests/ChemistryTests/Fixtures")
    static let patternsFile = fixtures.appendingPathComponent("smarts_search_patterns.tsv").path

    /// The library: 2,000 molecules with bad records at lines 100, 1,001 and 1,900 (1-based), and
    /// RDKit's answers by id: per pattern name, the unique match count and the union of matched atoms.
    static func library(_ folder: URL) throws -> (path: String, ids: [String], rdkit: [String: [String: (Int, Set<Int>)]], names: [String]) {
        let moses = try TestPaths.tsv(TestPaths.fixture("library_sample_1000.smi")).map { "\($0[0])\t\($0[1])" }
        let hiv = try TestPaths.tsv(TestPaths.fixture("descriptors_rdkit_hiv6k.tsv")).dropFirst().prefix(1000).map { "\($0[0])\t\($0[1])" }
        var lines = moses + hiv
        lines.insert("C(C\tBAD_1", at: 99)
        lines.insert("c1cccc1\tBAD_2", at: 1000)
        lines.insert("C[Xx]\tBAD_3", at: 1899)
        let path = folder.appendingPathComponent("library.smi").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let reference = try TestPaths.tsv(fixtures.appendingPathComponent("smarts_search_rdkit.tsv").path)
        let names = Array(reference[0].dropFirst())
        var rdkit: [String: [String: (Int, Set<Int>)]] = [:]
        for row in reference.dropFirst() {
            var byName: [String: (Int, Set<Int>)] = [:]
            for (k, name) in names.enumerated() {
                let cell = row[k + 1].split(separator: ":", maxSplits: 1)
                byName[name] = (Int(cell[0]) ?? -1, Set(cell.count > 1 ? cell[1].split(separator: ";").compactMap { Int($0) } : []))
            }
            rdkit[row[0]] = byName
        }
        return (path, lines.map { String($0.split(separator: "\t")[1]) }, rdkit, names)
    }

    static func rows(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Every pattern of the file at once: the rows are exactly RDKit's matching (record, pattern) pairs
    /// with RDKit's unique match counts, each row's atoms are one of the matches (inside RDKit's
    /// matched atoms, as many as the pattern has atoms), records come in input order, the bad records
    /// are listed, read = matched + not matched + rejected, and 1 and 2 threads write the same bytes.
    @Test func smartsFileSearchAgreesWithRDKitAtAnyThreadCount() throws {
        let folder = try TestPaths.scratch("smarts-search")
        let lib = try Self.library(folder)
        var outputs: [String] = []
        var errorFiles: [String] = []
        for threads in ["1", "2"] {
            let out = folder.appendingPathComponent("hits\(threads).csv").path
            let errors = folder.appendingPathComponent("errors\(threads).tsv").path
            let result = try runWinnow(["search", "--smarts-file", Self.patternsFile, lib.path, "-o", out, "--errors", errors,
                                        "--threads", threads, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            // HIV_353 (listed: aromaticity) matches a pattern in both tools, so the count is RDKit's.
            let matchedMolecules = lib.rdkit.values.filter { $0.values.contains { $0.0 > 0 } }.count
            #expect(result.stderr.contains("read 2003, matched \(matchedMolecules), not matched \(2000 - matchedMolecules), rejected 3"),
                    "\(result.stderr)")
            outputs.append(try String(contentsOfFile: out, encoding: .utf8))
            errorFiles.append(try String(contentsOfFile: errors, encoding: .utf8))
        }
        #expect(outputs[0] == outputs[1], "same bytes at 1 and 2 threads")
        #expect(errorFiles[0] == errorFiles[1])
        let errorLines = errorFiles[0].split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
        #expect(errorLines.map { [$0[0], $0[1]] } == [["100", "BAD_1"], ["1001", "BAD_2"], ["1900", "BAD_3"]])

        // The differences from RDKit listed (with reasons) for SMARTSSearchParityTests.
        let exceptions = Set(try TestPaths.tsv(Self.fixtures.appendingPathComponent("smarts_search_exceptions.tsv").path)
            .filter { !$0[0].hasPrefix("#") }.map { "\($0[0]) \($0[1])" })
        let rows = try Self.rows(folder.appendingPathComponent("hits1.csv").path)
        #expect(rows.first == ["record", "id", "smiles", "pattern", "matches", "atoms"])
        var patternSizes: [String: Int] = [:]
        for line in try TestPaths.tsv(Self.patternsFile) where !line[0].hasPrefix("#") { patternSizes[line[1]] = try SMARTS(line[0]).atomCount }
        var seen: Set<String> = []
        var lastRecord = 0
        for row in rows.dropFirst() {
            guard row.count == 6, let record = Int(row[0]), let count = Int(row[4]) else { Issue.record("bad row \(row)"); continue }
            #expect(record >= lastRecord, "input order")
            lastRecord = record
            #expect(lib.ids[record - 1] == row[1], "record number names the record")
            seen.insert(row[1] + " " + row[3])
            if exceptions.contains(row[1] + " " + row[3]) { continue }
            guard let want = lib.rdkit[row[1]]?[row[3]] else { Issue.record("\(row[1]) \(row[3]) not in the reference"); continue }
            #expect(count == want.0, "\(row[1]) \(row[3]): rdkit \(want.0) matches, winnow \(count)")
            let atoms = row[5].split(separator: ";").compactMap { Int($0) }
            #expect(Set(atoms).isSubset(of: want.1), "\(row[1]) \(row[3]): atoms \(atoms) outside RDKit's matched atoms")
            #expect(Set(atoms).count == atoms.count && atoms.count == patternSizes[row[3]], "\(row[1]) \(row[3]): one atom per pattern atom")
        }
        var expected: Set<String> = []
        for (id, byName) in lib.rdkit { for (name, value) in byName where value.0 > 0 { expected.insert(id + " " + name) } }
        let missing = expected.subtracting(seen).subtracting(exceptions), extra = seen.subtracting(expected).subtracting(exceptions)
        #expect(missing.isEmpty && extra.isEmpty, "RDKit matches missing: \(missing.sorted().prefix(10)); extra: \(extra.sorted().prefix(10))")
        #expect(seen.count > 9_000)
    }

    /// One pattern on the command line; `--max-hits` stops at the N-th matching molecule (the summary
    /// counts only the records read up to it, and the errors file only those); `--count` gives the
    /// per-pattern totals of the full run.
    @Test func singlePatternMaxHitsAndCount() throws {
        let folder = try TestPaths.scratch("smarts-search-max")
        let lib = try Self.library(folder)
        let smarts = "S(=O)(=O)N"
        let sulfonamides = lib.ids.filter { (lib.rdkit[$0]?["sulfonamide"]?.0 ?? 0) > 0 }
        let full = folder.appendingPathComponent("all.csv").path
        var result = try runWinnow(["search", "--smarts", smarts, lib.path, "-o", full, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        // Without --errors the rejected records go to standard error, one line each.
        #expect(result.stderr.contains("library.smi: record 100 (BAD_1): "))
        #expect(result.stderr.contains("matched \(sulfonamides.count), not matched \(2000 - sulfonamides.count), rejected 3"))
        let all = try Self.rows(full)
        #expect(all.dropFirst().map { $0[1] } == sulfonamides)
        #expect(all.dropFirst().allSatisfy { $0[3] == smarts && $0[5].split(separator: ";").count == 4 }, "S, O, O, N")

        let capped = folder.appendingPathComponent("capped.csv").path
        let errors = folder.appendingPathComponent("errors.tsv").path
        result = try runWinnow(["search", "--smarts", smarts, lib.path, "-o", capped, "--max-hits", "60", "--errors", errors,
                                "--threads", "2", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let firstSixty = Array(all.prefix(61))
        #expect(try Self.rows(capped) == firstSixty)
        let lastRecord = Int(firstSixty.last?[0] ?? "") ?? 0
        let badBefore = [100, 1001, 1900].filter { $0 <= lastRecord }.count
        #expect(result.stderr.contains("read \(lastRecord), matched 60, not matched \(lastRecord - 60 - badBefore), rejected \(badBefore)"),
                "\(result.stderr)")
        #expect(result.stderr.contains("stopped at --max-hits 60"))
        #expect(try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\n").count == 1 + badBefore)

        let counted = folder.appendingPathComponent("count.csv").path
        result = try runWinnow(["search", "--smarts", smarts, "--smarts", "c[OH]", lib.path, "-o", counted, "--count", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let phenolMatches = lib.rdkit.values.compactMap { $0["phenol"] }.filter { $0.0 > 0 }
        let sulfonamideMatches = lib.rdkit.values.compactMap { $0["sulfonamide"] }.filter { $0.0 > 0 }
        #expect(try Self.rows(counted) == [["pattern", "molecules", "matches"],
                                           [smarts, "\(sulfonamideMatches.count)", "\(sulfonamideMatches.reduce(0) { $0 + $1.0 })"],
                                           ["c[OH]", "\(phenolMatches.count)", "\(phenolMatches.reduce(0) { $0 + $1.0 })"]])
    }

    /// A bad pattern is a usage error naming the option, the pattern, the character and the reason;
    /// a bad line of a SMARTS file names the file and line; similarity options are refused.
    @Test func badPatternsAreClearErrors() throws {
        let folder = try TestPaths.scratch("smarts-search-bad")
        let library = TestPaths.fixture("library_sample_1000.smi")
        var result = try runWinnow(["search", "--smarts", "c1ccc[C", library])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--smarts 'c1ccc[C': SMARTS error at character "), "\(result.stderr)")
        result = try runWinnow(["search", "--smarts", "C(=O", library])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--smarts 'C(=O': SMARTS error at character "), "\(result.stderr)")
        let file = folder.appendingPathComponent("patterns.tsv").path
        try "# mine\nC(=O)N\tamide\nC[Zz]\tnonsense\n".write(toFile: file, atomically: true, encoding: .utf8)
        result = try runWinnow(["search", "--smarts-file", file, library, "-o", folder.appendingPathComponent("o.csv").path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("patterns.tsv: line 3: 'C[Zz]': SMARTS error at character "), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("o.csv").path), "no output left behind")
        result = try runWinnow(["search", "--smarts", "CO", "--db", "x.wfp", library])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--db belong to similarity search"), "\(result.stderr)")
        result = try runWinnow(["search", "--smarts", "CO"])
        #expect(result.status == 64)
    }
}
