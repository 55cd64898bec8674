import CZlib
import Foundation
@testable import LibraryIO
import Testing
import WinnowTestSupport

/// Records over `maxRecordBytes` are read past, never held whole, and rejected with the reason.
@Suite struct RecordLimitTests {
    private func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = try TestPaths.scratch("limits").appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func overlongSMILESLineIsARejectedRecordAndLaterIdsStay() throws {
        let text = "CCO a\n" + String(repeating: "C", count: 5_000) + " big\nCCN b\n"
        let reader = try LibraryReader(path: write(Array(text.utf8), "long.smi"))
        reader.maxRecordBytes = 1_000
        let (ids, texts, errors) = try readAll(reader)
        #expect(ids == ["a", "record 2", "b"])
        #expect(errors.keys.sorted() == [2])
        #expect(errors[2] == "line is 5004 bytes long, over the limit of 1000 (--max-record-bytes)")
        #expect(texts[1].count == 100)
        #expect(texts[2] == "CCN")
    }

    /// One 32 MiB line in a few KB of gzip: the reader's buffer stays near the limit (1 MiB), where it
    /// used to grow to hold the whole line.
    @Test func gzipBombLineDoesNotGrowTheBuffer() throws {
        let bomb = try gzipMember([UInt8](repeating: UInt8(ascii: "C"), count: 32 << 20) + Array("\tbomb\nCCO after\n".utf8))
        let reader = try LibraryReader(path: write(bomb, "bomb.smi.gz"))
        reader.maxRecordBytes = 1 << 20
        let (ids, _, errors) = try readAll(reader)
        #expect(ids == ["record 1", "after"])
        #expect(errors[1]?.hasPrefix("line is \((32 << 20) + 5) bytes long") == true)
        #expect(reader.bufferCapacity <= 4 << 20)
    }

    @Test func overlongSDFRecordAndCSVRowAreRejected() throws {
        let sdfText = try String(contentsOfFile: TestPaths.fixture("mols_100.sdf"), encoding: .utf8)
        let records = sdfText.components(separatedBy: "$$$$\n")
        let padded = records[0] + String(repeating: "> <NOTE>\n" + String(repeating: "x", count: 70) + "\n\n", count: 100)
        let sdf = try LibraryReader(path: write(Array((padded + "$$$$\n" + records[1] + "$$$$\n").utf8), "big.sdf"))
        sdf.maxRecordBytes = 4_000
        let (ids, _, errors) = try readAll(sdf)
        #expect(ids.count == 2)
        #expect(errors.keys.sorted() == [1])
        #expect(errors[1]?.hasPrefix("SDF record is ") == true)
        #expect(errors[1]?.hasSuffix("over the limit of 4000 (--max-record-bytes)") == true)

        let csv = "smiles,id\nCCO,a\n\"" + String(repeating: "C\n", count: 2_000) + "\",big\nCCN,c\n"
        let table = try LibraryReader(path: write(Array(csv.utf8), "big.csv"), idColumn: "id")
        table.maxRecordBytes = 1_000
        let rows = try readAll(table)
        #expect(rows.ids == ["a", "record 2", "c"])
        #expect(rows.errors.keys.sorted() == [2])
        #expect(rows.errors[2]?.hasPrefix("row is 4006 bytes long") == true)
    }

    /// The content hash (for resume checks) covers the dropped bytes too: it does not depend on the limit.
    @Test func contentHashDoesNotDependOnTheLimit() throws {
        let text = "CCO a\n" + String(repeating: "C", count: 50_000) + "\r\nCCN b\r\n"
        let path = try write(Array(text.utf8), "hash.smi")
        func hash(_ limit: Int?) throws -> UInt64? {
            let reader = try LibraryReader(path: path, hashContent: true)
            if let limit { reader.maxRecordBytes = limit }
            _ = try readAll(reader)
            return reader.contentHash
        }
        #expect(try hash(nil) != nil)
        #expect(try hash(1_000) == hash(nil))
        #expect(try hash(77) == hash(nil))
    }
}
