import Foundation
import LibraryIO
import Testing
import WinnowTestSupport

/// The explain step of `screen` (scaffold, nearest known active, `--diverse`) parses the final hits
/// again. It used to do so with the default limits on the main thread, so a hit larger than the
/// default `--max-atoms` silently lost its explanations.
@Suite struct ExplainLimitsCLITests {
    static func rows(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let table = try CSVTable.read(path: path)
        return (table.header, table.rows)
    }

    @Test func aHitAboveTheDefaultAtomLimitKeepsItsScaffoldAndNearestActive() throws {
        let folder = try TestPaths.scratch("explain-limits")
        let library = folder.appendingPathComponent("giant.smi").path
        // A benzene ring on a 12,000-atom chain: 12,006 atoms, above the default 10,000.
        try ("c1ccccc1" + String(repeating: "C", count: 12_000) + "\tgiant\n").write(toFile: library, atomically: true, encoding: .utf8)
        let hits = folder.appendingPathComponent("hits.csv").path
        let result = try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", library, "--max-atoms", "20000",
                                    "--top", "1", "-o", hits, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let (header, rows) = try Self.rows(hits)
        try #require(rows.count == 1)
        let row = rows[0]
        func value(_ column: String) -> String? { header.firstIndex(of: column).map { row[$0] } }
        #expect(value("id") == "giant")
        #expect(value("scaffold") == "c1ccccc1")
        #expect(value("nearest_active")?.isEmpty == false)
        #expect(value("nearest_active_similarity")?.isEmpty == false)
        #expect(!result.stderr.contains("note:"), "\(result.stderr)")
    }

    /// The SDF and the report keep such a hit, refused for layout at once (it used to be laid out until
    /// Open Babel's 5 s limit stopped it, twice) with the reason as its `depiction` item.
    @Test func aHitAboveTheDefaultAtomLimitStaysInTheSDFAndReport() throws {
        let folder = try TestPaths.scratch("explain-limits-sdf")
        let library = folder.appendingPathComponent("giant.smi").path
        try ("c1ccccc1" + String(repeating: "C", count: 12_000) + "\tgiant\nCCOc1ccccc1\tsmall\n").write(toFile: library, atomically: true, encoding: .utf8)
        let sdf = folder.appendingPathComponent("hits.sdf").path, report = folder.appendingPathComponent("hits.html").path
        let result = try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", library, "--max-atoms", "20000",
                                    "--top", "2", "-o", folder.appendingPathComponent("hits.csv").path, "--sdf", sdf, "--report", report, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let records = try String(contentsOfFile: sdf, encoding: .utf8).components(separatedBy: "$$$$\n").filter { !$0.isEmpty }
        #expect(records.count == 2)
        let giant = try #require(records.first { $0.hasPrefix("giant\n") })
        let note = giant.components(separatedBy: ">  <depiction>\n").dropFirst().first?.split(separator: "\n").first.map(String.init)
        #expect(note?.hasPrefix("not laid out in 2D: ") == true && note?.contains("atoms") == true, "\(note ?? "no depiction item")")
        #expect(note?.contains("longer than") == false)
        #expect(records.contains { $0.hasPrefix("small\n") && !$0.contains("<depiction>") })
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("giant") && html.contains("1 of 2 hits not drawn"))
    }

    /// A hit that cannot be explained is named on standard error instead of being left silently
    /// blank: SDF hits are listed with SMILES written by Winnow, which `--max-branch-depth 1` (a limit
    /// for SMILES only) refuses to read back when its branches nest.
    @Test func aHitThatCannotBeExplainedIsNamed() throws {
        let folder = try TestPaths.scratch("explain-note")
        let hits = folder.appendingPathComponent("hits.csv").path
        let result = try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", TestPaths.fixture("mols_100.sdf"),
                                    "--max-branch-depth", "1", "--top", "100", "-o", hits, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let (header, rows) = try Self.rows(hits)
        let notes = result.stderr.split(separator: "\n").filter { $0.hasPrefix("winnow screen: note: hit ") }
        #expect(!notes.isEmpty, "\(result.stderr)")
        guard let rank = header.firstIndex(of: "rank"), let record = header.firstIndex(of: "record"),
              let scaffold = header.firstIndex(of: "scaffold"), let smiles = header.firstIndex(of: "smiles") else {
            Issue.record("hit list columns: \(header)")
            return
        }
        // Exactly the hits whose SMILES nest branches are named, and they have no scaffold.
        func branchDepth(_ text: String) -> Int {
            var depth = 0, deepest = 0
            for c in text {
                if c == "(" { depth += 1; deepest = max(deepest, depth) } else if c == ")" { depth -= 1 }
            }
            return deepest
        }
        // An explained hit's SMILES is rewritten canonically (its branches may then nest deeper than
        // the SMILES that was read back); a named hit keeps the SMILES that could not be read back.
        guard let inchi = header.firstIndex(of: "inchikey") else { Issue.record("no inchikey column"); return }
        var named = 0
        for row in rows {
            let isNamed = notes.contains { $0.hasPrefix("winnow screen: note: hit \(row[rank]) (record \(row[record]),") }
            if isNamed {
                named += 1
                #expect(branchDepth(row[smiles]) > 1, "\(row[smiles])")
                #expect(row[scaffold].isEmpty && row[inchi].isEmpty)
            } else {
                #expect(row[inchi].count == 27, "\(row[smiles])")
            }
        }
        #expect(named < rows.count)
        #expect(named == notes.count)
    }
}
