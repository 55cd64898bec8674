import Chemistry
import Foundation
import Testing
import WinnowTestSupport

/// The standardiser against RDKit's rdMolStandardize (LargestFragmentChooser(preferOrganic=True),
/// then Uncharger()) on the salts and charged molecules of HIV, BBBP and Tox21
/// (`Fixtures/standardize_rdkit.tsv`). Every difference is listed with its chemical reason in
/// `Fixtures/standardize_known_differences.tsv`; the test fails on an unlisted difference and on a
/// listed one that no longer occurs.
@Suite struct StandardizerTests {
    let parser: MoleculeParser
    let standardizing: MoleculeParser

    init() throws {
        parser = try MoleculeParser()
        var limits = InputLimits()
        limits.standardize = true
        standardizing = try MoleculeParser(limits: limits)
    }

    static func fixture(_ name: String) -> [[String]] {
        let path = TestPaths.repository.appendingPathComponent("Tests/ChemistryTests/Fixtures/\(name)").path
        return ((try? TestPaths.tsv(path)) ?? []).dropFirst().map { $0 }
    }

    @Test func agreesWithRDKitOnRealSalts() throws {
        let rows = Self.fixture("standardize_rdkit.tsv")
        #expect(rows.count == 1190)
        let listed = Dictionary(Self.fixture("standardize_known_differences.tsv").map { ($0[0], $0[1]) }, uniquingKeysWith: { a, _ in a })
        var differing: [String: String] = [:]
        var changed = 0, unparsed = 0
        for row in rows {
            guard let input = try? parser.parse(smiles: row[1]) else { unparsed += 1; continue }
            let (ours, changes) = Standardizer.standardize(input)
            if changes.changed { changed += 1 }
            let theirs: String
            do { theirs = try parser.parse(smiles: row[2]).canonicalSMILES() } catch { theirs = "unreadable \(row[2]): \(error.message)" }
            if ours.canonicalSMILES() != theirs {
                differing[row[0]] = "\(ours.canonicalSMILES()) vs RDKit \(theirs)"
            }
        }
        #expect(changed > 400)  // the others carry charges nothing can neutralise (nitro groups, N-oxides, quaternary N)
        #expect(unparsed == 0)
        let unlisted = differing.keys.filter { listed[$0] == nil }.sorted()
        #expect(unlisted.isEmpty, "\(unlisted.count) unlisted: \(unlisted.prefix(20).map { "\($0)\t\(differing[$0] ?? "")" }.joined(separator: "\n"))")
        let stale = listed.keys.filter { differing[$0] == nil }.sorted()
        #expect(stale.isEmpty, "listed but now equal: \(stale)")
    }

    /// InChIKeys (Open Babel's InChI plugin, from Winnow's canonical SMILES of the standardised
    /// molecule) against RDKit's InChIKey of its standardised molecule, on the same rows.
    @Test func inchiKeysAgreeWithRDKit() throws {
        let listed = Set(Self.fixture("standardize_known_differences.tsv").map { $0[0] })
        var compared = 0
        var differing: [String] = []
        for row in Self.fixture("standardize_rdkit.tsv") where !listed.contains(row[0]) {
            let graph = try standardizing.parse(smiles: row[1])
            let key = (try? parser.inchiKey(smiles: graph.canonicalSMILES())) ?? "none"
            compared += 1
            if key != row[3] { differing.append("\(row[0])\t\(key)\t\(row[3])\t\(graph.canonicalSMILES())") }
        }
        #expect(compared > 1100)
        // Perchloric acid, which both standardisers leave as [O-][Cl+3]([O-])([O-])O (RDKit's
        // charge-separated form of the hypervalent Cl): Open Babel hands InChI the charged atoms as they
        // are, RDKit its own InChI input; the two InChIs differ in their charge layer, so the keys differ.
        #expect(differing.map { $0.split(separator: "\t")[0] } == ["TOX21_632"], "\(differing.count): \(differing.joined(separator: "\n"))")
    }

    /// The issue's example: a salt form and its parent are one molecule after standardising.
    @Test func saltAndParentAreTheSameMolecule() throws {
        let parent = "CC(C)NCC(O)COc1cccc2ccccc12"  // propranolol
        for salt in ["\(parent).Cl", "Cl.\(parent)", "CC(C)[NH2+]CC(O)COc1cccc2ccccc12.[Cl-]", "\(parent).O.O.Cl"] {
            let standardized = try standardizing.parse(smiles: salt).canonicalSMILES()
            #expect(standardizing.lastChanges.changed)
            #expect(try standardized == standardizing.parse(smiles: parent).canonicalSMILES(), "\(salt)")
        }
        #expect(try parser.parse(smiles: "\(parent).Cl").canonicalSMILES() != parser.parse(smiles: parent).canonicalSMILES())
    }

    @Test func neutralisesWhatHydrogenCanNeutralise() throws {
        func std(_ s: String) throws -> String { try standardizing.parse(smiles: s).canonicalSMILES() }
        func can(_ s: String) throws -> String { try parser.parse(smiles: s).canonicalSMILES() }
        #expect(try std("CC(=O)[O-].[Na+]") == can("CC(=O)O"))
        #expect(try std("[O-]c1ccccc1.[K+]") == can("Oc1ccccc1"))
        #expect(try std("C[NH3+].[Cl-]") == can("CN"))
        #expect(try std("[NH3+]CC(=O)[O-]") == can("NCC(=O)O"))  // glycine zwitterion: both sides neutralisable
        // Not neutralisable: quaternary N (and the betaine that balances it), nitro, N-oxide.
        #expect(try std("C[N+](C)(C)C.[Cl-]") == can("C[N+](C)(C)C"))
        #expect(try std("C[N+](C)(C)CC(=O)[O-]") == can("C[N+](C)(C)CC(=O)[O-]"))
        #expect(try std("O=[N+]([O-])c1ccccc1") == can("O=[N+]([O-])c1ccccc1"))
        #expect(try std("[O-][n+]1ccccc1") == can("[O-][n+]1ccccc1"))
        // Largest fragment counts hydrogens; an organic fragment beats a bigger inorganic one.
        #expect(try std("OCC.CC") == can("CCO"))
        #expect(try std("CCO.[O-]S(=O)(=O)[O-].[Na+].[Na+]") == can("CCO"))
        // Stereo survives.
        #expect(try std("C[C@@H](C(=O)[O-])N.[Na+]") == can("C[C@@H](C(=O)O)N"))
    }
}
