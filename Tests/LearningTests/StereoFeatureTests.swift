import Chemistry
import Foundation
import Learning
import Testing
import WinnowTestSupport

/// The D-MPNN sees the same molecule whether it came from an SDF record (stereo from wedges and 2D
/// coordinates) or from RDKit's isomeric SMILES of that record, although the two list atoms in
/// different orders.
@Suite struct StereoFeatureTests {
    /// Feature rows of a graph as a sorted multiset (atom order plays no part).
    static func rows(_ sparse: SparseRows) -> [[Int32]] {
        (0..<sparse.count).map { r in
            (Int(sparse.offsets[r])..<Int(sparse.offsets[r + 1])).flatMap { [sparse.indices[$0], Int32(sparse.values[$0] * 1000)] }
        }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Offset of the chirality one-hot in the atom features (see GraphFeatures).
    static let chiralityOffset = 101 + 7 + 6

    @Test func sdfAndSMILESOfARecordGiveTheSameFeatures() throws {
        let parser = try MoleculeParser()
        let table = try TestPaths.tsv(TestPaths.fixture("mols_100_stereo_rdkit.tsv")).dropFirst()
        let text = try String(contentsOfFile: TestPaths.fixture("mols_100.sdf"), encoding: .utf8)
        let records = text.components(separatedBy: "$$$$\n").filter { $0.contains("M  END") }
        #expect(records.count == 100 && table.count == 100)
        var handed = 0
        for (fields, record) in zip(table, records) {
            let fromSDF = GraphBatch([try parser.parse(molfile: record)])
            let fromSMILES = GraphBatch([try parser.parse(smiles: fields[2])])
            #expect(Self.rows(fromSDF.atomInputs) == Self.rows(fromSMILES.atomInputs), "record \(fields[0]) \(fields[1])")
            #expect(Self.rows(fromSDF.edgeInputs) == Self.rows(fromSMILES.edgeInputs), "record \(fields[0]) \(fields[1])")
            let rows = Self.rows(fromSDF.atomInputs)
            let centres = rows.filter { row in (1...3).contains { row.contains(Int32(Self.chiralityOffset + $0)) } }.count
            handed += rows.filter { row in (1...2).contains { row.contains(Int32(Self.chiralityOffset + $0)) } }.count
            #expect(centres == Int(fields[3]), "record \(fields[0]) \(fields[1]): chirality features")
        }
        #expect(handed > 0)
    }
}
