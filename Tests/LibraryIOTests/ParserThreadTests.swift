import Chemistry
import LibraryIO
import Testing

/// Open Babel's kekulizer recurses once per atom of an aromatic chain: `c` × 100,000 overflowed an
/// 8 MiB thread stack (a segfault). Parser threads get a stack sized from the atom limit.
@Suite struct ParserThreadTests {
    /// With the limit raised, the same chain reaches Open Babel on a parser thread whose stack is
    /// sized from the limit, and ends as an ordinary rejection (aromatic atoms outside a ring).
    @Test func raisedAtomLimitParsesOnABigStackThread() throws {
        let limits = InputLimits(maxAtoms: 200_000)
        let pool = WorkerPool(threads: 1, stackSize: limits.parserStackBytes)
        defer { pool.shutdown() }
        let parser = try MoleculeParser(limits: limits)
        let outcome = Slots<MoleculeError.Kind>(count: 1)
        let chain = String(repeating: "c", count: 100_000)
        pool.run(count: 1) { _, _ in
            do throws(MoleculeError) { _ = try parser.parse(smiles: chain); outcome[0] = nil } catch { outcome[0] = error.kind }
        }
        #expect(outcome[0] == .aromaticity)
    }

}
