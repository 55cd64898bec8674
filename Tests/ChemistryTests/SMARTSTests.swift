import Chemistry
import Testing

@Suite struct SMARTSTests {
    let parser: MoleculeParser
    init() throws { parser = try MoleculeParser() }

    func count(_ smarts: String, _ smiles: String) throws -> Int {
        SubstructureTarget(try parser.parse(smiles: smiles)).matchCount(try SMARTS(smarts))
    }

    @Test func uniqueMatchesCountAtomSetsOnce() throws {
        // Benzene has 12 mappings of a 6-ring pattern but one atom set.
        #expect(try count("c1ccccc1", "c1ccccc1") == 1)
        #expect(try count("[OX2H]", "OCCO") == 2)
        #expect(try count("C-C", "CCC") == 2)
    }

    @Test func aromaticAndAliphaticPrimitivesFollowRDKitsModel() throws {
        #expect(try count("c", "c1ccccc1") == 6)
        #expect(try count("C", "c1ccccc1") == 0)
        #expect(try count("[#6]", "c1ccccc1") == 6)
        #expect(try count("c:c", "c1ccccc1") == 6)
        #expect(try count("c-c", "c1ccccc1") == 0)
        #expect(try count("[nH]", "c1cc[nH]c1") == 1)
        // An unwritten bond is single or aromatic, never double.
        #expect(try count("CC", "C=C") == 0)
    }

    @Test func logicalOperatorsHaveRDKitsPrecedence() throws {
        // `,` binds tighter than `;`: [C,N;H1] = (C or N) and H1.
        #expect(try count("[C,N;H1]", "CNC(C)C") == 2)
        // `&` binds tighter than `,`: [C&H3,N] = (C and H3) or N.
        #expect(try count("[C&H3,N]", "CNC(C)C") == 4)
        #expect(try count("[!#6;!#1]", "CCO") == 1)
    }

    @Test func ringPrimitivesUseTheSmallestRings() throws {
        #expect(try count("[R2]", "c1ccc2ccccc2c1") == 2)
        #expect(try count("[r5]", "C1CCCC1CC1CCCCC1") == 5)
        #expect(try count("[x3]", "c1ccc2ccccc2c1") == 2)
        #expect(try count("C@C", "CC1CC1") == 3)
        #expect(try count("C!@C", "CC1CC1") == 1)
        #expect(try count("[R0]", "CC1CC1") == 1)
    }

    @Test func countPrimitives() throws {
        #expect(try count("[CH3]", "CC(C)O") == 2)
        #expect(try count("[CX4]", "CC=C") == 1)
        #expect(try count("[CD3]", "CC(C)O") == 1)
        #expect(try count("[Nv4+]", "C[N+](C)(C)C") == 1)
        #expect(try count("[O-]", "CC(=O)[O-]") == 1)
        #expect(try count("[13C]", "[13CH4]") == 1)
        #expect(try count("[C,H1]", "CO") == 2)
    }

    @Test func recursivePatternsAnchorOnTheirFirstAtom() throws {
        // Carbons bonded to an oxygen.
        #expect(try count("[$(C~O)]", "CCO") == 1)
        #expect(try count("[$(C=O);!$(C-N)]", "CC(=O)NC(C)=O") == 0)
        #expect(try count("[$(C=O)]", "CC(=O)NC(C)=O") == 2)
        #expect(try count("[$([CH2]),$([CH][CX4])]=[CH2]", "CCC=C") == 1)
    }

    @Test func disconnectedPatternsUseDistinctAtoms() throws {
        #expect(try count("F.F.F.F", "FC(F)(F)F") == 1)
        #expect(try count("F.F.F.F", "FC(F)F") == 0)
    }

    @Test func badPatternsAreRejectedWithAPosition() {
        for bad in ["", "C(", "C)", "C1CC", "[C", "C=", "[Q]", "C$", "[$(C]"] {
            #expect(throws: SMARTSError.self, "\(bad)") { try SMARTS(bad) }
        }
        do {
            _ = try SMARTS("CC[Q]")
            Issue.record("accepted")
        } catch {
            #expect(error.position == 4)
        }
    }

    /// RDKit's symmetrised SSSR keeps equal-size alternative rings (the `rings` descriptor).
    @Test func ringCountFollowsRDKitsSymmetrisedSSSR() throws {
        for (smiles, rings) in [("C1CC2CCC1CC2", 3), ("C12C3C4C1C5C2C3C45", 6), ("c1ccc2ccccc2c1", 2), ("C1CC2CC1C2", 3), ("C1C3CC2CC(CC1C2)C3", 4),
                                ("CC12CCC(CC1)C(C)(C)NC(=N)S2", 3), ("CCO", 0)] {
            let got = try parser.parse(smiles: smiles).symmetrizedRingCount()
            #expect(got == rings, "\(smiles): \(got)")
        }
    }
}
