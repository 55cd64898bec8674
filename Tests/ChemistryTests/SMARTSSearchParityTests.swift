import Chemistry
import Foundation
import Testing
import WinnowTestSupport

/// `winnow search --smarts` answers with `SubstructureTarget.matches`: on 2,000 real molecules (the
/// MOSES sample and the first 1,000 HIV rows) and 24 patterns that exercise the matcher's primitives,
/// whether a pattern matches, how many unique matches it has and which atoms they cover (indices in
/// input order) must equal RDKit's `HasSubstructMatch` / `GetSubstructMatches` (fixture made by
/// scripts/fixtures/smarts_search.py).
@Suite struct SMARTSSearchParityTests {
    static let fixtures = TestPaths.repository.appendingPathComponent("Tests/ChemistryTests/Fixtures")

    /// The patterns file as `(name, SMARTS)`.
    static func patterns() throws -> [(String, SMARTS)] {
        try TestPaths.tsv(fixtures.appendingPathComponent("smarts_search_patterns.tsv").path)
            .filter { !$0[0].hasPrefix("#") && $0.count == 2 }
            .map { ($0[1], try SMARTS($0[0])) }
    }

    /// The listed differences from RDKit ("id pattern"), each with its reason in the file.
    static func exceptions() throws -> Set<String> {
        Set(try TestPaths.tsv(fixtures.appendingPathComponent("smarts_search_exceptions.tsv").path)
            .filter { !$0[0].hasPrefix("#") && $0.count == 3 }.map { "\($0[0]) \($0[1])" })
    }

    /// `(id, SMILES)` of the 2,000 molecules, in the fixture's order.
    static func molecules() throws -> [(String, String)] {
        let moses = try TestPaths.tsv(TestPaths.fixture("library_sample_1000.smi")).map { ($0[1], $0[0]) }
        let hiv = try TestPaths.tsv(TestPaths.fixture("descriptors_rdkit_hiv6k.tsv")).dropFirst().prefix(1000).map { ($0[1], $0[0]) }
        return moses + hiv
    }

    @Test func matchesUniqueMatchCountsAndMatchedAtomsEqualRDKit() throws {
        let patterns = try Self.patterns()
        let reference = try TestPaths.tsv(Self.fixtures.appendingPathComponent("smarts_search_rdkit.tsv").path)
        #expect(reference[0] == ["id"] + patterns.map(\.0))
        let rows = Dictionary(uniqueKeysWithValues: reference.dropFirst().map { ($0[0], $0) })
        let parser = try MoleculeParser()
        let exceptions = try Self.exceptions()
        var compared = 0, matched = 0, differences: [String] = [], listed: Set<String> = []
        for (id, smiles) in try Self.molecules() {
            guard let row = rows[id] else { Issue.record("\(id) missing from the fixture"); continue }
            let target = SubstructureTarget(try parser.parse(smiles: smiles))
            for (k, (name, pattern)) in patterns.enumerated() {
                // `count` or `count:atom;atom;…` (the sorted union of the matched atoms).
                let cell = row[k + 1].split(separator: ":", maxSplits: 1)
                let want = Int(cell[0]) ?? -1
                let wantAtoms = cell.count > 1 ? cell[1].split(separator: ";").compactMap { Int($0) } : []
                let found = target.matches(pattern)
                let got = found.count
                let gotAtoms = Set(found.joined()).sorted()
                let differs = got != want || gotAtoms != wantAtoms || target.hasMatch(pattern) != (want > 0)
                if differs && exceptions.contains("\(id) \(name)") {
                    listed.insert("\(id) \(name)")
                } else if differs {
                    differences.append("\(id) \(name): rdkit \(want) matches on atoms \(wantAtoms), winnow \(got) on \(gotAtoms)")
                }
                if want > 0 { matched += 1 }
                compared += 1
            }
        }
        #expect(compared == 2_000 * 24)
        #expect(matched > 9_000, "the patterns match often enough to test something (\(matched) pairs)")
        #expect(listed == exceptions, "listed differences that no longer occur: \(exceptions.subtracting(listed).sorted())")
        #expect(differences.isEmpty, "\(differences.count) differences: \(differences.prefix(20).joined(separator: "; "))")
    }
}
