import Chemistry
import Foundation
import Testing
import WinnowTestSupport

/// Stereo read from SMILES and molfiles, kept on the graph and written back out, checked against
/// RDKit's reading of `mols_100.sdf` (`mols_100_stereo_rdkit.tsv`) through Open Babel's canonical
/// isomeric SMILES of both sides.
@Suite struct StereoTests {
    struct Reference {
        var record: Int
        var id: String
        var smiles: String
        var centres: Int
        var doubleBonds: Int
    }

    static func references() throws -> [Reference] {
        try TestPaths.tsv(TestPaths.fixture("mols_100_stereo_rdkit.tsv")).dropFirst().map { f in
            Reference(record: Int(f[0]) ?? -1, id: f[1], smiles: f[2], centres: Int(f[3]) ?? -1, doubleBonds: Int(f[4]) ?? -1)
        }
    }

    /// The records of an SDF file, each up to and including `M  END` (data items dropped).
    static func molfiles(_ path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.components(separatedBy: "$$$$\n").compactMap { record in
            guard let end = record.range(of: "M  END") else { return nil }
            return String(record[..<end.upperBound]) + "\n"
        }
    }

    /// Records whose stereo Winnow cannot reproduce in one check (`sdf`: reading the record;
    /// `depiction`: the 2D molfile of the hit SDF), with the reason (committed fixture).
    static func knownDifferences(_ check: String) throws -> [Int: String] {
        let path = TestPaths.repository.appendingPathComponent("Tests/ChemistryTests/Fixtures/stereo_known_differences.tsv").path
        var out: [Int: String] = [:]
        for fields in try TestPaths.tsv(path) where fields.count >= 4 && !fields[0].hasPrefix("#") && fields[2] == check {
            if let record = Int(fields[0]) { out[record] = fields[3] }
        }
        return out
    }

    @Test func sdfStereoMatchesRDKitRecordByRecord() throws {
        let parser = try MoleculeParser()
        let references = try Self.references()
        let records = try Self.molfiles(TestPaths.fixture("mols_100.sdf"))
        let known = try Self.knownDifferences("sdf")
        #expect(records.count == 100 && references.count == 100)
        #expect(references.filter { $0.centres + $0.doubleBonds > 0 }.count == 34)
        var stereoRecords = 0
        for (reference, record) in zip(references, records) {
            let graph = try parser.parse(molfile: record)
            let written = graph.smiles()
            let ours = try parser.canonicalSMILES(written)
            let theirs = try parser.canonicalSMILES(reference.smiles)
            let agrees = graph.tetrahedralCentres.count == reference.centres
                && graph.doubleBonds.count == reference.doubleBonds && ours == theirs
            if graph.hasStereo { stereoRecords += 1 }
            if let reason = known[reference.record] {
                // A listed difference must still be one, or the list would hide nothing.
                #expect(!agrees, "record \(reference.record) is listed as a known difference (\(reason)) but now agrees")
            } else {
                #expect(graph.tetrahedralCentres.count == reference.centres, "record \(reference.record) \(reference.id): centres")
                #expect(graph.doubleBonds.count == reference.doubleBonds, "record \(reference.record) \(reference.id): double bonds")
                #expect(ours == theirs, "record \(reference.record) \(reference.id): \(written) vs RDKit \(reference.smiles)")
            }
        }
        #expect(stereoRecords == 34 - known.count)
    }

    /// RDKit's isomeric SMILES parsed and written again keeps every centre and double bond.
    @Test func rdkitSMILESRoundTripThroughTheWriter() throws {
        let parser = try MoleculeParser()
        for reference in try Self.references() {
            let graph = try parser.parse(smiles: reference.smiles)
            #expect(graph.tetrahedralCentres.count == reference.centres, "\(reference.id)")
            #expect(graph.doubleBonds.count == reference.doubleBonds, "\(reference.id)")
            let written = graph.smiles()
            #expect(try parser.canonicalSMILES(written) == parser.canonicalSMILES(reference.smiles), "\(reference.id): \(written)")
            // Written again from its own output, the SMILES is stable.
            #expect(try parser.parse(smiles: written).smiles() == written, "\(reference.id)")
        }
    }

    /// Ring closures, bracket hydrogens as first atom, lone pairs, conjugated and ring double bonds.
    @Test(arguments: [
        "F/C=C/F", "F/C=C\\F", "F\\C=C/F", "C(\\F)=C/F", "[C@@H](F)(Cl)Br", "[C@H](F)(Cl)Br", "F[C@H](Cl)Br",
        "N[C@@H](C)C(=O)O", "C[C@@H]1CCCC[C@H]1O", "C[C@H]1CC[C@@H](C)CC1", "O[C@@H]1[C@H](O)CCCC1",
        "C[S@](=O)CC", "C[S@@](=O)c1ccccc1", "C/C=C/C=C/C", "C/C=C\\C=C/C(=O)O", "Cl/C=C/1.Br1",
        "C1CCC/C=C/CCC1", "C1CCCCC/C=C\\CCCC1", "F/C=C1/CCC[C@H]1C", "c1ccccc1/C=C/C(=O)O",
        "C/C(=N/O)c1ccccc1", "O=C(O)/C=C(/C)C(=O)O", "[2H][C@@](C)(F)Cl", "C[C@@]12CCCC[C@H]1CCCC2",
        "F[C@]1(Cl)CC[C@@H](Br)CC1", "[C@@H]12CCC[C@H]1CC2", "C/C=C/[C@H](F)/C=C/C",
    ])
    func writerKeepsStereo(_ smiles: String) throws {
        let parser = try MoleculeParser()
        let graph = try parser.parse(smiles: smiles)
        #expect(graph.hasStereo, "\(smiles)")
        let written = graph.smiles()
        #expect(try parser.canonicalSMILES(written) == parser.canonicalSMILES(smiles), "\(smiles) written as \(written)")
    }

    /// The same molecule written with its atoms in other orders gives the same invariant chirality
    /// per atom (matched by element and neighbours) and the same canonical SMILES.
    @Test func invariantChiralityIgnoresAtomOrder() throws {
        let parser = try MoleculeParser()
        let spellings = ["F[C@H](Cl)Br", "Cl[C@@H](F)Br", "Br[C@H](F)Cl", "[C@@H](F)(Cl)Br", "[C@H](Cl)(F)Br", "C(Br)(Cl)([H])F"]
        let reference = try parser.parse(smiles: spellings[0])
        let referenceCode = reference.invariantChirality()[1]
        #expect(referenceCode == 1 || referenceCode == 2)
        for smiles in spellings.dropLast() {
            let graph = try parser.parse(smiles: smiles)
            let centre = try #require(graph.tetrahedralCentres.first).atom
            #expect(graph.invariantChirality()[Int(centre)] == referenceCode, "\(smiles)")
        }
        // cis-1,4-dimethylcyclohexane: the ring neighbours tie, so the handedness is "other" (3).
        let cis = try parser.parse(smiles: "C[C@H]1CC[C@@H](C)CC1")
        #expect(cis.invariantChirality().filter { $0 != 0 } == [3, 3])
    }

    /// Stereo from V3000 records (written here from the V2000 ones) equals stereo from V2000.
    @Test func v3000AgreesWithV2000() throws {
        let parser = try MoleculeParser()
        let references = try Self.references()
        let records = try Self.molfiles(TestPaths.fixture("mols_100.sdf"))
        var compared = 0
        for (reference, record) in zip(references, records) where reference.centres + reference.doubleBonds > 0 {
            let v2000 = try parser.parse(molfile: record)
            let v3000 = try parser.parse(molfile: try Self.v3000(fromV2000: record))
            #expect(v3000 == v2000, "record \(reference.record) \(reference.id)")
            #expect(v3000.tetrahedralCentres.count + v3000.doubleBonds.count > 0, "record \(reference.record)")
            compared += 1
        }
        #expect(compared == 34)
    }

    /// Open Babel's 2D layout (the hit SDF) writes wedges and double-bond geometry that read back as
    /// the same stereo.
    @Test func depictionMolfileKeepsStereo() throws {
        let parser = try MoleculeParser()
        let known = try Self.knownDifferences("depiction")
        var compared = 0
        for reference in try Self.references() where reference.centres + reference.doubleBonds > 0 {
            let molfile = try parser.molfile2D(smiles: reference.smiles)
            let graph = try parser.parse(molfile: molfile)
            let ours = try parser.canonicalSMILES(graph.smiles()), theirs = try parser.canonicalSMILES(reference.smiles)
            if let reason = known[reference.record] {
                #expect(ours != theirs, "record \(reference.record) is listed (\(reason)) but now keeps its stereo")
            } else {
                #expect(ours == theirs, "\(reference.id): \(ours) vs \(theirs)")
                compared += 1
            }
        }
        #expect(compared == 34 - known.count)
    }

    /// Molecules without stereo carry none, from SMILES and from molfiles.
    @Test func noStereoWhereNoneIsDefined() throws {
        let parser = try MoleculeParser()
        for smiles in ["CC(O)CC", "C=CC", "CC=C(C)C", "CC(F)(Cl)Br", "CC=CC"] {
            #expect(try !parser.parse(smiles: smiles).hasStereo, "\(smiles)")
        }
    }

    // MARK: - V2000 → V3000 by hand

    static func v3000(fromV2000 record: String) throws -> String {
        let lines = record.components(separatedBy: "\n")
        let counts = lines[3]
        let atomCount = Int(counts.prefix(3).trimmingCharacters(in: .whitespaces)) ?? 0
        let bondCount = Int(counts.dropFirst(3).prefix(3).trimmingCharacters(in: .whitespaces)) ?? 0
        var charges: [Int: Int] = [:], masses: [Int: Int] = [:]
        for line in lines where line.hasPrefix("M  CHG") || line.hasPrefix("M  ISO") {
            let fields = line.split(separator: " ").dropFirst(3).compactMap { Int($0) }
            for k in stride(from: 0, to: fields.count - 1, by: 2) {
                if line.hasPrefix("M  CHG") { charges[fields[k]] = fields[k + 1] } else { masses[fields[k]] = fields[k + 1] }
            }
        }
        var out = lines[0...2].joined(separator: "\n") + "\n"
        out += "  0  0  0     0  0            999 V3000\n"
        out += "M  V30 BEGIN CTAB\nM  V30 COUNTS \(atomCount) \(bondCount) 0 0 0\nM  V30 BEGIN ATOM\n"
        for i in 1...atomCount {
            let f = lines[3 + i].split(separator: " ")
            var line = "M  V30 \(i) \(f[3]) \(f[0]) \(f[1]) \(f[2]) 0"
            if let c = charges[i], c != 0 { line += " CHG=\(c)" }
            if let m = masses[i] { line += " MASS=\(m)" }
            out += line + "\n"
        }
        out += "M  V30 END ATOM\nM  V30 BEGIN BOND\n"
        for j in 1...bondCount {
            let line = lines[3 + atomCount + j]
            let field = { (k: Int) in Int(line.dropFirst(3 * k).prefix(3).trimmingCharacters(in: .whitespaces)) ?? 0 }
            var text = "M  V30 \(j) \(field(2)) \(field(0)) \(field(1))"
            switch field(3) {
            case 1: text += " CFG=1"
            case 6: text += " CFG=3"
            case 3, 4: text += " CFG=2"
            default: break
            }
            out += text + "\n"
        }
        out += "M  V30 END BOND\nM  V30 END CTAB\nM  END\n"
        return out
    }
}
