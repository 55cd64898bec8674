import Chemistry
import Foundation
import Testing
import WinnowTestSupport

/// Canonical SMILES, scaffolds and InChIKeys on real molecules: RDKit wrote each molecule in three
/// random atom orders (`Fixtures/canonical_random_smiles.tsv`, see the Fixtures README).
@Suite struct CanonicalSMILESTests {
    let parser: MoleculeParser

    init() throws { parser = try MoleculeParser() }

    static let randomSMILES: [[String]] = {
        let path = TestPaths.repository.appendingPathComponent("Tests/ChemistryTests/Fixtures/canonical_random_smiles.tsv").path
        return ((try? TestPaths.tsv(path)) ?? []).dropFirst().map { $0 }
    }()

    /// Molecules whose random SMILES Winnow's reader does not read as one molecule (so no canonical
    /// writer can give one string), with the reason.
    static let readerDifferences = [
        "FXV065": "a sulfoxide S written first with @/@@ ([S@](C)(=O)c1ccccc1): the reader (Open Babel's stereo) places the lone pair differently from RDKit when the centre is the first atom, so the first-atom forms read as the other enantiomer",
    ]

    @Test func everyAtomOrderGivesTheSameString() throws {
        let rows = Self.randomSMILES
        #expect(rows.count == 539)
        var differing: [String] = []
        for row in rows {
            let strings = try row[1...4].map { try parser.parse(smiles: $0).canonicalSMILES() }
            if Set(strings).count != 1 { differing.append(row[0]) }
            if Set(strings).count != 1 && Self.readerDifferences[row[0]] == nil {
                Issue.record("\(row[0]): \(strings.joined(separator: " "))")
            }
        }
        #expect(differing.sorted() == Self.readerDifferences.keys.sorted())
    }

    /// Winnow's canonical strings group the molecules exactly as RDKit's canonical SMILES do.
    @Test func groupsMoleculesAsRDKitDoes() throws {
        var byWinnow: [String: Set<String>] = [:], byRDKit: [String: Set<String>] = [:]
        for row in Self.randomSMILES where Self.readerDifferences[row[0]] == nil {
            let ours = try parser.parse(smiles: row[2]).canonicalSMILES()
            byWinnow[ours, default: []].insert(row[0])
            byRDKit[row[1], default: []].insert(row[0])
        }
        let ours = Set(byWinnow.values), theirs = Set(byRDKit.values)
        #expect(ours.subtracting(theirs).isEmpty && theirs.subtracting(ours).isEmpty,
                "Winnow only: \(ours.subtracting(theirs).map { $0.sorted() }), RDKit only: \(theirs.subtracting(ours).map { $0.sorted() })")
    }

    /// Reading a canonical SMILES back and writing it again gives the same string, stereo included.
    @Test func canonicalSMILESReadsBackToItself() throws {
        var stereoKept = 0
        for row in Self.randomSMILES {
            let graph = try parser.parse(smiles: row[3])
            let once = graph.canonicalSMILES()
            let again = try parser.parse(smiles: once)
            #expect(again.canonicalSMILES() == once, "\(row[0])")
            #expect(again.tetrahedralCentres.count == graph.tetrahedralCentres.count, "\(row[0]) \(once)")
            #expect(again.doubleBonds.count == graph.doubleBonds.count, "\(row[0]) \(once)")
            if graph.hasStereo { stereoKept += 1 }
        }
        #expect(stereoKept > 50)
    }

    @Test func stereoisomersStayApart() throws {
        let l = try parser.parse(smiles: "C[C@@H](C(=O)O)N").canonicalSMILES()
        let d = try parser.parse(smiles: "C[C@H](C(=O)O)N").canonicalSMILES()
        #expect(l != d)
        #expect(try parser.parse(smiles: "N[C@@H](C)C(O)=O").canonicalSMILES() == l)
        let e = try parser.parse(smiles: "C/C=C/C").canonicalSMILES(), z = try parser.parse(smiles: "C/C=C\\C").canonicalSMILES()
        #expect(e != z)
        #expect(try parser.parse(smiles: "C(\\C)=C/C").canonicalSMILES() == e)
    }

    /// Scaffolds written canonically: equal scaffolds (by `scaffoldKey`) are equal strings, on the
    /// 1,000 MOSES molecules.
    @Test func scaffoldStringsMatchScaffoldIdentity() throws {
        var keysByString: [String: Set<String>] = [:], stringsByKey: [String: Set<String>] = [:]
        var plainStrings = Set<String>()
        for line in try String(contentsOfFile: TestPaths.fixture("library_sample_1000.smi"), encoding: .utf8).split(separator: "\n") {
            let graph = try parser.parse(smiles: String(line.split(separator: "\t")[0]))
            let key = graph.scaffoldKey()
            guard !key.isEmpty else { continue }
            let text = graph.canonicalScaffoldSMILES()
            keysByString[text, default: []].insert(key)
            stringsByKey[key, default: []].insert(text)
            plainStrings.insert(graph.scaffoldSMILES())
        }
        #expect(keysByString.values.allSatisfy { $0.count == 1 })
        #expect(stringsByKey.values.allSatisfy { $0.count == 1 })
        // The writer's own atom order gave more strings than scaffolds.
        #expect(plainStrings.count > stringsByKey.count)
    }

    @Test func inchiKeysOfWellKnownMolecules() throws {
        #expect(try parser.inchiKey(smiles: "CC(=O)Oc1ccccc1C(=O)O") == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N")  // aspirin
        #expect(try parser.inchiKey(smiles: "Cn1cnc2c1c(=O)n(C)c(=O)n2C") == "RYYVLZVUVIJVGH-UHFFFAOYSA-N")  // caffeine
        #expect(try parser.inchiKey(smiles: "C[C@@H](C(=O)O)N") == "QNAYBMKLOCPYGJ-REOHCLBHSA-N")  // L-alanine
        #expect(try parser.inchiKey(smiles: "C[C@H](C(=O)O)N") == "QNAYBMKLOCPYGJ-UWTATZPHSA-N")  // D-alanine
        #expect(throws: MoleculeError.self) { try parser.inchiKey(smiles: "C1CC") }
    }

    /// The dedupe key: equal for every atom order of a molecule, and distinct keys for distinct
    /// canonical SMILES (10,000 MOSES and 5,998 HIV molecules, plus the random-order set).
    @Test func structureKeysFollowCanonicalSMILES() throws {
        for row in Self.randomSMILES where Self.readerDifferences[row[0]] == nil {
            let keys = try row[1...4].map { try parser.parse(smiles: $0).canonicalKey() }
            #expect(Set(keys).count == 1, "\(row[0])")
        }
        var byKey: [StructureKey: String] = [:]
        var strings = Set<String>()
        // MOSES, then the HIV molecules (metal complexes: a key once packed the element into too few
        // bits and gave Pd and Pt complexes one key).
        let moses = try String(contentsOfFile: TestPaths.library("moses_train_10k.smi"), encoding: .utf8).split(separator: "\n")
            .map { String($0.split(whereSeparator: { $0 == " " || $0 == "\t" })[0]) }
        let hiv = try TestPaths.tsv(TestPaths.fixture("descriptors_rdkit_hiv6k.tsv")).dropFirst().map { $0[0] }
        for smiles in moses + hiv {
            let graph = try parser.parse(smiles: smiles)
            let text = graph.canonicalSMILES()
            strings.insert(text)
            if let seen = byKey[graph.canonicalKey()] { #expect(seen == text) } else { byKey[graph.canonicalKey()] = text }
        }
        #expect(byKey.count == strings.count && strings.count > 15_000)
        #expect(try parser.parse(smiles: "Cl[Pt-2]12NCCS[S+]1CCN2").canonicalKey() != parser.parse(smiles: "Cl[Pd-2]12NCCS[S+]1CCN2").canonicalKey())
    }
}
