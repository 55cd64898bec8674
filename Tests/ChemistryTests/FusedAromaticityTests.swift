@testable import Chemistry
import Testing

/// Aromaticity tries every combination of up to six rings of a fused system: an acene of 60 rings
/// took 9 s and one of 99 rings over 100 s. A system needing millions of combinations of one size is
/// now refused with the reason instead of left to run.
@Suite struct FusedAromaticityTests {
    private func acene(_ rings: Int) -> String {
        func label(_ r: Int) -> String { r < 10 ? String(r) : "%" + String(r) }
        return "c1ccc2" + (3...max(3, rings)).filter { _ in rings >= 3 }.map { "cc" + label($0) }.joined() + "cccc" + "c" + label(rings)
            + stride(from: rings - 1, through: 2, by: -1).map { "cc" + label($0) }.joined() + "c1"
    }

    @Test func acenesAreAromaticUpToTheCombinationLimit() throws {
        let parser = try MoleculeParser()
        #expect(acene(3) == "c1ccc2cc3ccccc3cc2c1")
        for rings in [2, 3, 10, 30] {
            let graph = try parser.parse(smiles: acene(rings))
            #expect(graph.atomCount == 4 * rings + 2)
            #expect(graph.atomFlags.allSatisfy { $0.contains(.aromatic) }, "\(rings) rings")
        }
        for rings in [60, 99] {
            do throws(MoleculeError) {
                _ = try parser.parse(smiles: acene(rings))
                Issue.record("an acene of \(rings) rings was accepted")
            } catch {
                #expect(error.kind == .limit)
                #expect(error.message.contains("a fused ring system of \(rings) rings"))
            }
        }
    }

    @Test func combinationCountsSaturate() {
        #expect(MolecularGraph.binomial(35, 6) == 1_623_160)
        #expect(MolecularGraph.binomial(36, 6) <= MolecularGraph.maxRingCombinations)
        #expect(MolecularGraph.binomial(37, 6) > MolecularGraph.maxRingCombinations)
        #expect(MolecularGraph.binomial(1_000, 6) == 1 << 40)
        #expect(MolecularGraph.binomial(5, 6) == 0)
    }
}
