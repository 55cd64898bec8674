import Chemistry
import Foundation
import LibraryIO
import Testing
import WinnowTestSupport

/// Every record of a library: ids, texts, read errors (by record number).
func readAll(_ reader: LibraryReader) throws -> (ids: [String], texts: [String], errors: [Int: String]) {
    var ids: [String] = [], texts: [String] = [], errors: [Int: String] = [:]
    while let batch = try reader.nextBatch(size: 7) {
        for i in 0..<batch.count {
            ids.append(batch.ids[i])
            texts.append(batch.text(i))
            if let e = batch.readErrors[i] { errors[batch.firstRecord + i] = e }
        }
    }
    return (ids, texts, errors)
}

@Suite struct ReaderEdgeTests {
    private func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = try TestPaths.scratch("edge").appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func write(_ text: String, _ name: String) throws -> String { try write(Array(text.utf8), name) }

    /// 10.5: a UTF-8 byte-order mark is not part of the first SMILES, header name or CSV table cell.
    @Test func byteOrderMarkIsSkipped() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let smi = try readAll(LibraryReader(path: write(bom + Array("CCO ethanol\nCCN ethylamine\n".utf8), "bom.smi")))
        #expect(smi.texts == ["CCO", "CCN"])
        #expect(smi.ids == ["ethanol", "ethylamine"])
        let header = try readAll(LibraryReader(path: write(bom + Array("smiles id\nCCO ethanol\n".utf8), "bom-header.smi")))
        #expect(header.texts == ["CCO"])
        let csv = try readAll(LibraryReader(path: write(bom + Array("smiles,name\nCCO,ethanol\n".utf8), "bom.csv"), idColumn: "name"))
        #expect(csv.texts == ["CCO"] && csv.ids == ["ethanol"])
        let tsv = try readAll(LibraryReader(path: write(bom + Array("smiles\tname\nCCO\tethanol\n".utf8), "bom.tsv"), idColumn: "name"))
        #expect(tsv.texts == ["CCO"] && tsv.ids == ["ethanol"])
        let table = try CSVTable.read(path: write(bom + Array("smiles,label\nCCO,1\n".utf8), "bom-table.csv"))
        #expect(table.header == ["smiles", "label"])
        #expect(try table.column("smiles") == 0)
        let parser = try MoleculeParser()
        let batch = try #require(try LibraryReader(path: write(bom + Array("c1ccccc1 benzene\n".utf8), "bom2.smi")).nextBatch(size: 1))
        #expect((try? batch.molecule(0, parser: parser).get()) != nil)
    }

    /// 11.6: `\r`, `\n` and `\r\n` all end lines, also mixed in one file and in gzip data.
    @Test func everyLineEndIsALineEnd() throws {
        let crOnly = try readAll(LibraryReader(path: write("CCO a\rCCN b\rc1ccccc1 c\r", "cr.smi")))
        #expect(crOnly.texts == ["CCO", "CCN", "c1ccccc1"])
        #expect(crOnly.ids == ["a", "b", "c"])
        let mixed = try readAll(LibraryReader(path: write("CCO a\r\nCCN b\nCCC c\rCCCC d", "mixed.smi")))
        #expect(mixed.ids == ["a", "b", "c", "d"])
        let csv = try readAll(LibraryReader(path: write("smiles,id\rCCO,a\r\"CC\rN\",b\rCCC,c", "cr.csv"), idColumn: "id"))
        #expect(csv.ids == ["a", "b", "c"])
        let gz = try readAll(LibraryReader(path: write(try gzipMember(Array("CCO a\rCCN b\r".utf8)), "cr.smi.gz")))
        #expect(gz.ids == ["a", "b"])
        // Line ends split across buffer refills (a 7-byte buffer) are still one line end each.
        let path = try write("CCO a\r\nCCN b\r\nCCCC c\rCC d\n", "small.smi")
        let lines = try ByteLineReader(path: path, chunkSize: 7)
        var got: [String] = []
        while let line = try lines.nextLine({ String(decoding: $0, as: UTF8.self) }) { got.append(line) }
        #expect(got == ["CCO a", "CCN b", "CCCC c", "CC d"])
    }

    /// 11.5: the end of the file inside a quoted field is an error naming where the quote opened.
    @Test func endOfFileInsideQuotesNamesTheLine() throws {
        let path = try write("smiles,id\nCCO,a\nCCN,\"b\nCCC,c\nCCCC,d\n", "open.csv")
        let all = try readAll(LibraryReader(path: path, idColumn: "id"))
        #expect(all.texts.first == "CCO")
        #expect(all.texts.count == 2)
        let reason = try #require(all.errors[2])
        #expect(reason.contains("quote opened on line 3"), "\(reason)")
        do {
            _ = try CSVTable.read(path: path)
            Issue.record("an unclosed quote in a table was accepted")
        } catch let error as InputError {
            #expect(error.file == path)
            #expect(error.message.contains("line 3"), "\(error.message)")
        }
        let header = try write("smiles,\"id\nCCO,a\n", "open-header.csv")
        #expect(throws: InputError.self) { try LibraryReader(path: header).nextBatch(size: 1) }
    }

    /// 11.7: two molfiles without the `$$$$` between them are not read as one molecule.
    @Test func missingRecordSeparatorIsAnError() throws {
        let text = try String(contentsOfFile: TestPaths.fixture("mols_100.sdf"), encoding: .utf8)
        let records = text.components(separatedBy: "$$$$\n")
        let joined = records[0] + records[1] + "$$$$\n" + records[2] + "$$$$\n"
        let all = try readAll(LibraryReader(path: write(joined, "joined.sdf")))
        #expect(all.ids.count == 2)
        let reason = try #require(all.errors[1])
        #expect(reason.contains("M  END") && reason.contains("$$$$"), "\(reason)")
        #expect(all.errors[2] == nil)
        let batch = try #require(try LibraryReader(path: write(joined, "joined2.sdf")).nextBatch(size: 5))
        let parser = try MoleculeParser()
        #expect((try? batch.molecule(0, parser: parser).get()) == nil)
        #expect((try? batch.molecule(1, parser: parser).get()) != nil)
    }

    /// 11.8: ids holding tabs or line breaks are escaped so one record stays one output line.
    @Test func idsWithTabsAndLineBreaksAreEscaped() throws {
        let csv = try readAll(LibraryReader(path: write("smiles,id\nCCO,\"eth\tanol\"\nCCN,\"two\nlines\"\nCCC,\"cr\r\nlf\"\n", "ids.csv"), idColumn: "id"))
        #expect(csv.ids == ["eth\\tanol", "two\\nlines", "cr\\nlf"])
        for id in csv.ids { #expect(!id.contains("\t") && !id.contains("\n") && !id.contains("\r")) }
        var sdf = try String(contentsOfFile: TestPaths.fixture("mols_100.sdf"), encoding: .utf8).components(separatedBy: "$$$$\n")[0] + "$$$$\n"
        sdf = "tab\there" + sdf.drop(while: { $0 != "\n" })
        let titled = try readAll(LibraryReader(path: write(sdf, "title.sdf")))
        #expect(titled.ids == ["tab\\there"])
    }

    /// 10.6: the content decides the format when the name does not; binary data is refused.
    @Test func contentDecidesUnknownFormatsAndBinaryIsRefused() throws {
        let sdf = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("mols_100.sdf")))
        let unknown = try LibraryReader(path: write([UInt8](sdf), "library.dat"))
        #expect(unknown.format == .sdf)
        #expect(try readAll(unknown).ids.count == 100)
        let gzSDF = try LibraryReader(path: write(try gzipMember([UInt8](sdf)), "library.blob"))
        #expect(gzSDF.format == .sdf)
        #expect(try LibraryReader(path: write("name,smiles\na,CCO\n", "library.data")).format == .csv)
        #expect(try LibraryReader(path: write("CCO ethanol\n", "library.data")).format == .smiles)
        #expect(try LibraryReader(path: write("smiles\tid\nCCO\tethanol\n", "library.data")).format == .smiles)
        let model = Array("WNNWMODL".utf8) + [1, 0, 0, 0, 0x5A, 0xD5, 0, 0]
        for name in ["model.winnow", "model.smi"] {
            do {
                _ = try LibraryReader(path: write(model, name))
                Issue.record("a model file was read as a library (\(name))")
            } catch let error as InputError {
                #expect(error.message.contains("Winnow model"), "\(error.message)")
            }
        }
        do {
            _ = try LibraryReader(path: write([0x43, 0x43, 0x00, 0x01, 0x02, 0xFF], "blob.bin"))
            Issue.record("binary data was read as a library")
        } catch let error as InputError {
            #expect(error.message.contains("binary data"), "\(error.message)")
        }
    }

    /// 11.15: gzip members one after another are read; anything else after the gzip data is an error.
    @Test func dataAfterTheGzipStreamIsReported() throws {
        let a = try gzipMember(Array("CCO a\nCCN b\n".utf8)), b = try gzipMember(Array("CCC c\n".utf8))
        #expect(try readAll(LibraryReader(path: write(a + b, "two.smi.gz"))).ids == ["a", "b", "c"])
        do {
            _ = try readAll(LibraryReader(path: write(a + Array("garbage after the stream\n".utf8), "tail.smi.gz")))
            Issue.record("trailing garbage after gzip data was ignored")
        } catch let error as InputError {
            #expect(error.message.contains("tail.smi.gz") && error.message.contains("not gzip"), "\(error.message)")
        }
        do {
            _ = try readAll(LibraryReader(path: write(Array(a.prefix(a.count - 6)), "cut.smi.gz")))
            Issue.record("a truncated gzip file was accepted")
        } catch let error as InputError {
            #expect(error.message.contains("damaged or truncated"), "\(error.message)")
        }
    }

    /// 11.13 (reader side): the content hash follows the bytes read, so a shuffled file differs.
    @Test func contentHashTellsShuffledFilesApart() throws {
        let one = try write("CCO a\nCCN b\nCCC c\n", "one.smi"), two = try write("CCN b\nCCO a\nCCC c\n", "two.smi")
        func hash(_ path: String, records: Int) throws -> UInt64? {
            let reader = try LibraryReader(path: path, hashContent: true)
            _ = try reader.nextBatch(size: records)
            return reader.contentHash
        }
        #expect(try hash(one, records: 2) != hash(two, records: 2))
        #expect(try hash(one, records: 2) == hash(one, records: 2))
        #expect(try hash(one, records: 3) != hash(one, records: 2))
        #expect(try LibraryReader(path: one).contentHash == nil)
    }
}
