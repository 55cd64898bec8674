import Chemistry
@testable import Fingerprints
import Foundation
import Testing
import WinnowTestSupport

/// The environment loop for molecules over 64 bonds used to keep one bit per bond for every atom and
/// compare each new bond set with every earlier one: a 20,000-atom chain took over 100 s and a 1 MB
/// line of `C` 23.8 GB. These tests pin that the near-linear replacement gives RDKit's identifiers.
@Suite struct MorganGeneralPathTests {
    private func identifiers(_ graph: MolecularGraph, radius: Int, path: MorganGenerator.EnvironmentPath) -> [UInt32] {
        let generator = MorganGenerator(settings: MorganSettings(radius: radius))
        generator.environments(graph, path: path)
        return generator.identifiers
    }

    /// Every fixture molecule of at most 64 bonds, through both paths at radius 1-4: the same
    /// identifiers in the same order (radius 3 and 4 let atoms die and be read again by neighbours).
    @Test func generalPathEqualsOneWordPathOnFixtureMolecules() throws {
        let rows = try TestPaths.tsv(TestPaths.fixture("morgan_r2_2048_rdkit.tsv"))
        let parser = try MoleculeParser()
        var compared = 0
        var mismatches: [String] = []
        for row in rows {
            let graph = try parser.parse(smiles: row[0])
            guard graph.bondCount <= 64 else { continue }
            for radius in 1...4 where identifiers(graph, radius: radius, path: .oneWord) != identifiers(graph, radius: radius, path: .general) {
                mismatches.append("\(row[0]) radius \(radius)")
            }
            compared += 1
        }
        #expect(compared > 1000)
        #expect(mismatches == [])
    }

    /// Molecules over 64 bonds in the RDKit fixtures (they go through the general path) still match
    /// RDKit bit for bit; the suite-wide parity test covers them too, this one makes sure they exist.
    @Test func fixtureMoleculesOver64BondsMatchRDKit() throws {
        let rows = try TestPaths.tsv(TestPaths.fixture("morgan_r2_2048_rdkit.tsv"))
        let parser = try MoleculeParser()
        let generator = MorganGenerator()
        var large = 0
        for row in rows {
            let graph = try parser.parse(smiles: row[0])
            guard graph.bondCount > 64 else { continue }
            large += 1
            let words = generator.bits(graph)
            let bits = (0..<2048).filter { words[$0 >> 6] & (1 << UInt64($0 & 63)) != 0 }
            #expect(bits == row[1].split(separator: ",").compactMap { Int($0) }, "\(row[0])")
        }
        #expect(large > 0)
    }

    private func countMap(_ graph: MolecularGraph) -> [Int: Int] {
        Dictionary(uniqueKeysWithValues: MorganGenerator().counts(graph).map { ($0.bit, $0.count) })
    }

    /// Away from its ends a long molecule repeats one local pattern, so its count fingerprint grows
    /// by the same amount per repeat: counts(k) = counts(a) + (k − a)·(counts(a + 1) − counts(a)).
    /// The small sizes go through the one-word path, the large one through the general path.
    private func expectAffineCounts(small a: Int, large: Int, make: (Int) -> String, limits: InputLimits) throws {
        let parser = try MoleculeParser(limits: limits)
        let base = try parser.parse(smiles: make(a)), step = try parser.parse(smiles: make(a + 1))
        #expect(step.bondCount <= 64)
        let big = try parser.parse(smiles: make(large))
        #expect(big.bondCount > 10_000)
        let c0 = countMap(base), c1 = countMap(step), cBig = countMap(big)
        var expected: [Int: Int] = [:]
        for bit in Set(c0.keys).union(c1.keys) {
            let value = c0[bit, default: 0] + (large - a) * (c1[bit, default: 0] - c0[bit, default: 0])
            if value != 0 { expected[bit] = value }
        }
        #expect(cBig == expected)
        #expect(MorganGenerator().bits(big) == MorganGenerator().bits(base))
    }

    @Test func twentyThousandAtomChainFingerprints() throws {
        try expectAffineCounts(small: 20, large: 20_000, make: { String(repeating: "C", count: $0) },
                               limits: InputLimits(maxAtoms: 20_000))
    }

    /// `C(C(C(…C)C)C)C`: 10,000 nested branches, a comb of 20,001 atoms.
    @Test func tenThousandLevelBranchNestingFingerprints() throws {
        func comb(_ levels: Int) -> String {
            String(repeating: "C(", count: levels) + "C" + String(repeating: ")C", count: levels)
        }
        try expectAffineCounts(small: 20, large: 10_000, make: comb,
                               limits: InputLimits(maxAtoms: 20_001, maxBranchDepth: 10_000))
    }

    /// RDKit's environment loop written out plainly (sets of bonds, sorted as unsigned integers,
    /// a set of every emitted set), for comparison on molecules where a formula is not at hand.
    private func referenceIdentifiers(_ graph: MolecularGraph, radius: Int) -> [UInt32] {
        let n = graph.atomCount
        var current = (0..<n).map { MorganGenerator.atomInvariant(graph, $0) }
        var result = current
        var sets = [Set<Int>](repeating: [], count: n)
        var dead = [Bool](repeating: false, count: n)
        var seen = Set<[Int]>()
        // Sets as their bonds from the highest down: the first difference decides, a prefix is smaller.
        func less(_ a: [Int], _ b: [Int]) -> Bool {
            for (x, y) in zip(a, b) where x != y { return x < y }
            return a.count < b.count
        }
        for layer in 0..<radius {
            var round = sets
            var next = [UInt32](repeating: 0, count: n)
            var entries: [(set: [Int], invariant: UInt32, atom: Int)] = []
            for atom in 0..<n where !dead[atom] {
                let range = Int(graph.neighbourOffsets[atom])..<Int(graph.neighbourOffsets[atom + 1])
                if range.isEmpty { dead[atom] = true; continue }
                var pairs: [(UInt32, UInt32)] = []
                for k in range {
                    let other = Int(graph.neighbourAtoms[k]), bond = Int(graph.neighbourBonds[k])
                    round[atom].insert(bond)
                    round[atom].formUnion(sets[other])
                    pairs.append((MorganGenerator.bondInvariant(graph, bond), current[other]))
                }
                pairs.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
                var invariant = UInt32(layer)
                MorganGenerator.combine(&invariant, current[atom])
                for (b, v) in pairs { MorganGenerator.combine(&invariant, MorganGenerator.hashPair(b, v)) }
                next[atom] = invariant
                entries.append((round[atom].sorted(by: >), invariant, atom))
            }
            entries.sort { x, y in
                if x.set != y.set { return less(x.set, y.set) }
                return x.invariant != y.invariant ? x.invariant < y.invariant : x.atom < y.atom
            }
            for entry in entries {
                if seen.contains(entry.set) { dead[entry.atom] = true } else { result.append(entry.invariant); seen.insert(entry.set) }
            }
            sets = round
            current = next
        }
        return result
    }

    /// Molecules over 64 bonds of every awkward shape, at radius 1-4, against the plain loop: a metal
    /// with 300 ligands (its ligands' sets are large and stored as bit sets, and all duplicates), a
    /// chain, a comb, fused rings, and several pieces.
    @Test func generalPathEqualsPlainLoopOnLargeMolecules() throws {
        let parser = try MoleculeParser()
        let smiles = [
            "[Fe]" + String(repeating: "(C)", count: 299) + "C",
            String(repeating: "C", count: 300),
            String(repeating: "C(", count: 150) + "O" + String(repeating: ")N", count: 150),
            String(repeating: "c1ccc(cc1)", count: 15) + "C",
            "C1CC2CC3CC4CC5CC6CC7CC8CC9CC%10CC%11CC%12CC%13CCCCC%13CC%12CC%11CC%10CC9CC8CC7CC6CC5CC4CC3CC2C1",
            String(repeating: "C1CCCCC1.", count: 20) + "[Na+].[Cl-]",
            "[Pt]" + String(repeating: "(N)", count: 40) + "C" + String(repeating: "CC(=O)O", count: 20),
        ]
        for text in smiles {
            let graph = try parser.parse(smiles: text)
            #expect(graph.bondCount > 64, "\(text.prefix(30))")
            for radius in 1...4 {
                #expect(identifiers(graph, radius: radius, path: .general) == referenceIdentifiers(graph, radius: radius),
                        "\(text.prefix(30)) radius \(radius)")
            }
        }
        // And the plain loop agrees with the one-word path on small molecules.
        for text in ["CCO", "c1ccccc1C(=O)O", "C1CC2CCC1C2", "[Na+].[Cl-]", "CC(C)(C)C1CCC(CC1)N"] {
            let graph = try parser.parse(smiles: text)
            for radius in 1...4 {
                #expect(identifiers(graph, radius: radius, path: .oneWord) == referenceIdentifiers(graph, radius: radius), "\(text) \(radius)")
            }
        }
    }
}
