@testable import Chemistry
import Foundation
import Testing
import WinnowTestSupport

/// The fast anchored matcher (`AnchoredPattern` on `HydrogenExpandedView`) against the general
/// matcher on the hydrogen-expanded graph: Crippen sums equal to the last bit, and every tree-shaped
/// table pattern giving the same answer at every atom.
@Suite struct AnchoredPatternTests {
    /// Molecules from the three descriptor fixtures (every 2nd row: ~8,600 molecules, charged,
    /// metal-containing and isotope-labelled ones included).
    static func molecules() throws -> [(id: String, graph: MolecularGraph)] {
        let parser = try MoleculeParser()
        var out: [(id: String, graph: MolecularGraph)] = []
        for file in DescriptorParityTests.files {
            let table = try TestPaths.tsv(TestPaths.fixture(file))
            guard let header = table.first, let s = header.firstIndex(of: "smiles"), let i = header.firstIndex(of: "id") else { continue }
            for (n, row) in table.dropFirst().enumerated() where n % 2 == 0 {
                if let g = try? parser.parse(smiles: row[s]) { out.append((row[i], g)) }
            }
        }
        // Explicit hydrogen atoms kept in the graph (isotopes, H2, bridging H) next to folded ones.
        for smiles in ["[2H]C([2H])([2H])O", "[H][H]", "[H]O[H]", "[H]OC(=O)C", "[H]N([H])c1ccccc1", "[H+]", "[H-].[Na+]",
                       "B1[H]B[H]1", "C[SiH3]", "[NH4+]", "C[N+](C)(C)C", "[O-][N+](=O)c1ccccc1", "OS(=O)(=O)O", "CC#N",
                       "C=[N+]=[N-]", "[Cl-].[K+]", "O=[Se]=O", "c1cc[se]c1", "FC(F)(F)S(=O)(=O)[O-]", "[Li]C"] {
            if let g = try? parser.parse(smiles: smiles) { out.append((smiles, g)) }
        }
        return out
    }

    @Test func everyCrippenTypeCompilesToTheFastForm() throws {
        #expect(CrippenTyper.shared != nil)
        let compiled = CrippenTyper.shared?.patterns.count
        #expect(compiled == PatternTables.crippen.count)
        // What the fast form refuses: ring closures, ring and recursive primitives, two components.
        for text in ["C1CC1", "[R]C", "[r5]", "[x2]", "C[$(CO)]", "C.C"] {
            var set = AnchoredPatternSet()
            let pattern = try SMARTS(text)
            let accepted = set.append(pattern)
            #expect(!accepted, "\(text)")
            #expect(set.count == 0)
        }
    }

    @Test func crippenEqualsTheGeneralMatcherBitForBit() throws {
        let molecules = try Self.molecules()
        #expect(molecules.count > 8000)
        var differing: [String] = []
        for (id, g) in molecules {
            let fast = Descriptors.crippen(g), reference = Descriptors.crippenReference(g)
            if fast.logP.bitPattern != reference.logP.bitPattern || fast.mr.bitPattern != reference.mr.bitPattern {
                differing.append("\(id): \(fast) vs \(reference)")
            }
        }
        #expect(differing.isEmpty, "\(differing.count) differ: \(differing.prefix(5))")
    }

    /// Every table pattern without ring closures, ring or recursive primitives (Brenk, QED alerts
    /// and acceptors, Crippen) at every atom, hydrogens included, of 1,500 molecules.
    @Test func anchoredMatchesEqualTheGeneralMatcherAtEveryAtom() throws {
        var set = AnchoredPatternSet()
        let patterns = (PatternTables.brenk.map(\.pattern) + PatternTables.pains.map(\.pattern) + PatternTables.qedAlerts
            + PatternTables.qedAcceptors + PatternTables.crippen.map(\.pattern)).filter { set.append($0) }
        #expect(patterns.count > 150 && patterns.count == set.count)
        var checked = 0, matched = 0
        var differing: [String] = []
        for (id, g) in try Self.molecules().prefix(1500) {
            let expanded = g.addingHydrogens()
            let target = SubstructureTarget(expanded)
            let view = HydrogenExpandedView(g)
            // Expanded atom → view id: heavy atoms keep their index; added H follow atom by atom.
            var ids = Array(0..<g.atomCount)
            for i in 0..<g.atomCount { for k in 0..<Int(g.hydrogenCounts[i]) { ids.append(g.atomCount + i << 8 + k) } }
            var mapped = [Int](repeating: -1, count: 64)
            for (p, smarts) in patterns.enumerated() {
                for atom in 0..<expanded.atomCount {
                    let general = target.matches(smarts, at: atom)
                    checked += 1
                    if general { matched += 1 }
                    if view.matches(set, p, at: ids[atom], mapped: &mapped) != general {
                        differing.append("\(id) atom \(atom): \(smarts.text) general \(general)")
                    }
                }
            }
        }
        #expect(matched > 10000 && checked > 1_000_000)
        #expect(differing.isEmpty, "\(differing.count) differ: \(differing.prefix(5))")
    }
}
