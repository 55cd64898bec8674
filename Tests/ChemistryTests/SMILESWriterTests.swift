@testable import Chemistry
import Fingerprints
import Foundation
import Testing
import WinnowTestSupport

@Suite struct SMILESWriterTests {
    /// Writing a molecule and reading it back gives the same molecule (same Morgan counts), for the
    /// 1,243 reference molecules: tricky valid SMILES and library molecules.
    @Test func writtenSMILESReadBackToTheSameMolecule() throws {
        let rows = try TestPaths.tsv(TestPaths.fixture("morgan_r2_2048_rdkit.tsv"))
        let parser = try MoleculeParser()
        let generator = MorganGenerator()
        var failures: [String] = []
        for row in rows {
            let graph = try parser.parse(smiles: row[0])
            let written = graph.smiles()
            do {
                let again = try parser.parse(smiles: written)
                let a = generator.counts(graph).map { "\($0.bit):\($0.count)" }
                let b = generator.counts(again).map { "\($0.bit):\($0.count)" }
                if a != b || graph.formalCharges.reduce(0, +) != again.formalCharges.reduce(0, +) { failures.append("\(row[0]) → \(written)") }
            } catch {
                failures.append("\(row[0]) → \(written): \(error.message)")
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }

    @Test func scaffoldsDropSideChainsAndKeepLinkers() throws {
        let parser = try MoleculeParser()
        #expect(try parser.parse(smiles: "CC(=O)Nc1ccc(O)cc1").scaffoldSMILES() == "c1ccccc1")
        #expect(try parser.parse(smiles: "CCO").scaffoldSMILES() == "")
        let scaffold = try parser.parse(smiles: "Cn1ccnc1CCc1ccccc1").scaffoldSMILES()
        // The N that lost its methyl carries the hydrogen now; the ethylene linker stays.
        #expect(scaffold == "[nH]1ccnc1CCc1ccccc1")
        #expect(try parser.parse(smiles: scaffold).scaffoldKey() == parser.parse(smiles: "c1ccccc1CCc1ncc[nH]1").scaffoldKey())
    }

    /// The writer used to recurse once per atom of its depth-first path: a 50,000-atom chain (within
    /// a raised `--max-atoms`) overflowed the main thread's 8 MiB stack while a screen explained its
    /// hits. Now it keeps its own stack: a 100,000-atom chain is written on a thread with a 1 MiB stack
    /// and reads back (on a parser-sized stack) with every atom.
    @Test func aHundredThousandAtomChainIsWrittenOnASmallStack() throws {
        let n = 100_000
        var chain = MolecularGraph()
        chain.atomicNumbers = [UInt8](repeating: 6, count: n)
        chain.formalCharges = [Int8](repeating: 0, count: n)
        chain.isotopes = [UInt16](repeating: 0, count: n)
        chain.hydrogenCounts = (0..<n).map { $0 == 0 || $0 == n - 1 ? 3 : 2 }
        chain.deltaMasses = [Int8](repeating: 0, count: n)
        chain.atomFlags = [MolecularGraph.AtomFlags](repeating: [], count: n)
        chain.bondBegins = (0..<Int32(n - 1)).map { $0 }
        chain.bondEnds = (1..<Int32(n)).map { $0 }
        chain.bondOrders = [UInt8](repeating: 1, count: n - 1)
        chain.bondFlags = [MolecularGraph.BondFlags](repeating: [], count: n - 1)
        chain.buildAdjacency()
        let graph = chain

        let written = onThread(stackBytes: 1 << 20) { graph.smiles() } ?? ""
        #expect(written == String(repeating: "C", count: n))
        let limits = InputLimits(maxAtoms: 2 * n)
        let atoms = onThread(stackBytes: limits.parserStackBytes) { () -> Int in
            guard let parser = try? MoleculeParser(limits: limits), let again = try? parser.parse(smiles: written) else { return -1 }
            return again.atomCount
        }
        #expect(atoms == n)
    }

    /// Runs `body` on a new thread with the given stack and waits for its result.
    private func onThread<T: Sendable>(stackBytes: Int, _ body: @escaping @Sendable () -> T) -> T? {
        let box = ThreadResult<T>(), done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.value = body()
            done.signal()
        }
        thread.stackSize = stackBytes
        thread.start()
        done.wait()
        return box.value
    }
}

/// A thread's result: written by the thread before it signals, read only after the wait, never at
/// once, hence `@unchecked Sendable`.
private final class ThreadResult<T>: @unchecked Sendable {
    var value: T?
}
