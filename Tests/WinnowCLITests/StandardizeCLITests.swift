import Chemistry
import Foundation
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
}
