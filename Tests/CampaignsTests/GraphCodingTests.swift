import Chemistry
import LibraryIO
import Testing
import WinnowTestSupport

/// The campaign file keeps parsed graphs; decoding must give back exactly the parsed graph.
@Suite struct GraphCodingTests {
    @Test func everyValidFixtureMoleculeRoundTrips() throws {
        let parser = try MoleculeParser()
        var count = 0
        for line in try TestPaths.lines(TestPaths.fixture("valid.smi")) {
            let smiles = String(decoding: line.split(whereSeparator: { $0 == 32 || $0 == 9 }).first ?? [], as: UTF8.self)
            guard let graph = try? parser.parse(smiles: smiles) else { continue }
            let decoded = try MolecularGraph(encoded: graph.encoded())
            #expect(decoded == graph, "\(smiles)")
            count += 1
        }
        #expect(count > 200)
    }

    @Test func damagedBytesAreRejected() throws {
        let graph = try MoleculeParser().parse(smiles: "c1ccccc1C(=O)N")
        var bytes = graph.encoded()
        #expect(throws: MolecularGraph.DecodingError.truncated) { try MolecularGraph(encoded: Array(bytes.dropLast(3))) }
        bytes[0] = 99
        #expect(throws: MolecularGraph.DecodingError.version(99)) { try MolecularGraph(encoded: bytes) }
        var wrongIndex = graph.encoded()
        wrongIndex[wrongIndex.count - 2] = 0xFF  // a neighbour bond index far out of range
        #expect(throws: MolecularGraph.DecodingError.inconsistent) { try MolecularGraph(encoded: wrongIndex) }
    }
}
