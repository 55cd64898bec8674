import Chemistry
import Testing

@Suite struct ScaffoldTests {
    let parser: MoleculeParser

    init() throws {
        parser = try MoleculeParser()
    }

    func key(_ smiles: String) throws -> String {
        try parser.parse(smiles: smiles).scaffoldKey()
    }

    func scaffoldSize(_ smiles: String) throws -> Int {
        try parser.parse(smiles: smiles).murckoScaffoldAtoms().filter { $0 }.count
    }

    /// Side chains are removed whatever they are and wherever they sit in the SMILES.
    @Test func substituentsAndAtomOrderDoNotChangeTheKey() throws {
        let benzene = try key("c1ccccc1")
        #expect(benzene.hasPrefix("6:"))
        for smiles in ["c1ccccc1CCN", "NCCc1ccccc1", "Clc1ccccc1CCO", "CC(=O)c1ccccc1", "c1cc(C)c(O)cc1", "[Na+].[O-]C(=O)c1ccccc1"] {
            #expect(try key(smiles) == benzene, "\(smiles)")
        }
        #expect(try key("c1ccc2ccccc2c1") == key("c1cc2ccccc2cc1"))
        #expect(try key("Cc1ccncc1") == key("c1cnccc1CCCC"))
        #expect(try key("c1ccc(cc1)Cc1ccccc1") == key("CC(c1ccccc1)c1ccccc1"))
        #expect(try key("O=C1CCCCC1") == key("CC1CCCC(=O)C1"))
    }

    @Test func differentScaffoldsGetDifferentKeys() throws {
        let keys = try [
            "c1ccccc1", "c1ccncc1", "c1ccc2ccccc2c1", "C1CCCCC1", "O=C1CCCCC1",
            "c1ccc(cc1)-c1ccccc1", "c1ccc(cc1)Cc1ccccc1", "c1ccc(cc1)CCc1ccccc1",
            "C1CC1.C1CC1", "C1CCC2CCCCC2C1", "C1CCC(C1)C1CCCC1", "c1ccc2c(c1)cccc2", "c1ccc2ccccc2c1",
            "c1ccc(cc1)C(=O)c1ccccc1",
        ].map(key)
        // Naphthalene is listed twice in different atom orders; everything else is distinct.
        #expect(keys[11] == keys[2] && keys[12] == keys[2])
        let distinct = keys.enumerated().filter { $0.offset != 11 && $0.offset != 12 }.map(\.element)
        #expect(Set(distinct).count == distinct.count, "\(distinct)")
    }

    /// A substituted aromatic N counts as [nH], as in RDKit's scaffolds, so the 1,2,4-triazole
    /// tautomers stay apart (RDKit: Cn1cnnc1 → c1nnc[nH]1, Cn1cncn1 → c1nc[nH]n1).
    @Test func aromaticNHPositionIsPartOfTheScaffold() throws {
        #expect(try key("Cn1cnnc1") == key("c1nnc[nH]1"))
        #expect(try key("Cn1cncn1") == key("c1nc[nH]n1"))
        #expect(try key("c1nnc[nH]1") != key("c1nc[nH]n1"))
        #expect(try key("Cn1cccc1") == key("c1cc[nH]c1"))
    }

    @Test func acyclicMoleculesHaveNoScaffold() throws {
        #expect(try key("CCO") == "")
        #expect(try key("CC(=O)OCC") == "")
        #expect(try scaffoldSize("CCCC") == 0)
    }

    /// Ring and linker atoms stay; exocyclic double-bonded atoms on ring or linker atoms are kept as
    /// in RDKit's MurckoScaffold (=O on a removed side-chain atom is not). Sizes checked with RDKit's
    /// GetScaffoldForMol.
    @Test func frameworkAtomsMatchBemisMurcko() throws {
        #expect(try scaffoldSize("c1ccccc1CCN") == 6)
        #expect(try scaffoldSize("O=C1CCCCC1C") == 7)
        #expect(try scaffoldSize("c1ccc(cc1)-c1ccccc1") == 12)
        #expect(try scaffoldSize("c1ccc(cc1)CCc1ccccc1") == 14)
        #expect(try scaffoldSize("c1ccc(cc1)C(=O)c1ccccc1") == 14)
        #expect(try scaffoldSize("CC(=O)c1ccccc1") == 6)
        #expect(try scaffoldSize("O=C(O)c1ccccc1CC(=O)N1CCCC1") == 14)
        // An exocyclic double-bonded atom stays even when it carried more (RDKit: C=C1CCCCC1).
        #expect(try scaffoldSize("CC(C)C=C1CCCCC1") == 7)
        #expect(try key("CC(C)C=C1CCCCC1") == key("C=C1CCCCC1"))
        #expect(try key("CCOC(=O)c1ccc2c(c1)sc(=NC(C)=O)n2CCOC") == key("N=c1[nH]c2ccccc2s1"))
        let keyFormat = try key("O=C1CCCCC1")
        #expect(keyFormat.hasPrefix("7:"))
        #expect(keyFormat.count == 2 + 16)
    }
}

