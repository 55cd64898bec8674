import Chemistry
import Foundation
import LibraryIO
import Testing
import WinnowTestSupport

@Suite struct ReaderTests {
    /// The corrupt SDF: 100 molecules read, record 51 reported, later ids not shifted.
    @Test func corruptSDFRecordIsReportedAndReaderResynchronises() throws {
        let reader = try LibraryReader(path: TestPaths.fixture("mols_100_plus_corrupt.sdf"))
        let parser = try MoleculeParser()
        var good = 0
        var rejected: [(Int, String)] = []
        var idsAfter: [String] = []
        while let batch = try reader.nextBatch(size: 32) {
            for i in 0..<batch.count {
                switch batch.molecule(i, parser: parser) {
                case .success: good += 1
                case .failure: rejected.append((batch.firstRecord + i, batch.ids[i]))
                }
                if batch.firstRecord + i == 52 { idsAfter.append(batch.ids[i]) }
            }
        }
        #expect(good == 100)
        #expect(rejected.map(\.0) == [51])
        #expect(rejected.first?.1 == "CORRUPT_RECORD_051")
        // Record 52 is the 51st record of the clean file.
        let clean = try LibraryReader(path: TestPaths.fixture("mols_100.sdf"))
        var cleanIds: [String] = []
        while let batch = try clean.nextBatch(size: 100) { cleanIds += batch.ids }
        #expect(idsAfter == [cleanIds[50]])
    }

    /// Molfile and SMILES routes agree: each SDF record gives the graph of its SMILES data item.
    @Test func sdfRecordsMatchTheirSMILES() throws {
        let reader = try LibraryReader(path: TestPaths.fixture("mols_100.sdf"))
        let parser = try MoleculeParser()
        var compared = 0
        while let batch = try reader.nextBatch(size: 100) {
            for i in 0..<batch.count {
                let text = batch.text(i)
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                let smilesLine = try #require(lines.firstIndex { $0.hasPrefix(">") && $0.hasSuffix("<SMILES>") })
                let smiles = String(lines[smilesLine + 1])
                let fromSDF = try batch.molecule(i, parser: parser).get()
                let fromSMILES = try parser.parse(smiles: smiles)
                #expect(fromSDF.atomicNumbers.sorted() == fromSMILES.atomicNumbers.sorted(), "\(batch.ids[i])")
                #expect(fromSDF.atomFlags.filter { $0.contains(.aromatic) }.count
                    == fromSMILES.atomFlags.filter { $0.contains(.aromatic) }.count, "\(batch.ids[i])")
                compared += 1
            }
        }
        #expect(compared == 100)
    }

    /// V3000 records (parsed under the shim's lock, from several threads) give their SMILES' molecules.
    @Test func v3000RecordsMatchTheirSMILES() throws {
        let path = TestPaths.repository.appendingPathComponent("Tests/ChemistryTests/Fixtures/v3000_sample.sdf").path
        let reader = try LibraryReader(path: path)
        let batch = try #require(try reader.nextBatch(size: 100))
        #expect(batch.count == 12)
        #expect(batch.ids.first == "MOSES_0000029")
        let pool = WorkerPool(threads: 3)
        defer { pool.shutdown() }
        let parsers = try (0..<3).map { _ in try MoleculeParser() }
        let slots = Slots<Bool>(count: batch.count)
        pool.run(count: batch.count) { i, worker in
            let text = batch.text(i)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            guard let at = lines.firstIndex(where: { $0.hasSuffix("<SMILES>") }),
                  let fromSDF = try? batch.molecule(i, parser: parsers[worker]).get(),
                  let fromSMILES = try? parsers[worker].parse(smiles: String(lines[at + 1])) else { slots[i] = false; return }
            slots[i] = fromSDF.atomicNumbers.sorted() == fromSMILES.atomicNumbers.sorted()
                && fromSDF.hydrogenCounts.reduce(0, +) == fromSMILES.hydrogenCounts.reduce(0, +)
                && fromSDF.atomFlags.filter { $0.contains(.aromatic) }.count == fromSMILES.atomFlags.filter { $0.contains(.aromatic) }.count
        }
        #expect((0..<batch.count).allSatisfy { slots[$0] == true })
    }

    /// 20,000 molecules parsed on 1 and on 4 threads give identical graphs.
    @Test func parsingOnFourThreadsGivesIdenticalGraphs() throws {
        let reader = try LibraryReader(path: TestPaths.library("moses_train_100k.smi"))
        var batches: [RecordBatch] = []
        var total = 0
        while total < 20_000, let batch = try reader.nextBatch(size: 250) { batches.append(batch); total += batch.count }
        #expect(total == 20_000)
        func parseAll(threads: Int) throws -> [[MolecularGraph]] {
            let pool = WorkerPool(threads: threads)
            defer { pool.shutdown() }
            let parsers = try (0..<threads).map { _ in try MoleculeParser() }
            let slots = Slots<[MolecularGraph]>(count: batches.count)
            let work = batches
            pool.run(count: work.count) { index, worker in
                let batch = work[index]
                slots[index] = (0..<batch.count).compactMap { try? batch.molecule($0, parser: parsers[worker]).get() }
            }
            return (0..<batches.count).map { slots[$0] ?? [] }
        }
        let one = try parseAll(threads: 1)
        let four = try parseAll(threads: 4)
        #expect(one.reduce(0) { $0 + $1.count } == 20_000)
        #expect(one == four)
    }

    @Test func smilesFilesNumberEveryRecordAndNameMissingIds() throws {
        let folder = try TestPaths.scratch("reader")
        let path = folder.appendingPathComponent("mixed.smi").path
        try "smiles\tid\nCCO\tethanol\nC(C\tbroken\n\nc1ccccc1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try LibraryReader(path: path)
        let batch = try #require(try reader.nextBatch(size: 10))
        #expect(batch.ids == ["ethanol", "broken", "record 3", "record 4"])
        #expect(batch.readErrors[2] == "empty line")
        let parser = try MoleculeParser()
        #expect((try? batch.molecule(1, parser: parser).get()) == nil)
        #expect((try? batch.molecule(3, parser: parser).get()) != nil)
    }

    @Test func csvColumnsAndQuotes() throws {
        let folder = try TestPaths.scratch("csv")
        let path = folder.appendingPathComponent("data.csv").path
        try "name,smiles,label\n\"acetic, acid\",CC(=O)O,1\nbenzene,c1ccccc1,0\n".write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try LibraryReader(path: path, idColumn: "name")
        let batch = try #require(try reader.nextBatch(size: 10))
        #expect(batch.ids == ["acetic, acid", "benzene"])
        #expect(batch.text(0) == "CC(=O)O")
        #expect(throws: InputError.self) { try LibraryReader(path: path, smilesColumn: "structure").nextBatch(size: 1) }
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: InputError.self) { try LibraryReader(path: "/nonexistent/library.smi") }
    }
}
