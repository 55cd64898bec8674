import Foundation
import Testing
import WinnowTestSupport

/// How the commands take their library input: content sniffing on standard input and for unknown
/// names, refusing binary files, ids that stay on one output line.
@Suite struct LibraryInputCLITests {
    /// 10.6: an SDF piped in is read as SDF (before: as SMILES lines, every record rejected).
    @Test func sdfOnStandardInputIsReadAsSDF() throws {
        let sdf = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("mols_100.sdf")))
        let result = try runWinnow(["fingerprint", "-", "--quiet"], stdin: sdf)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("read 100, written 100, rejected 0"), "\(result.stderr)")
    }

    /// 10.6: a model file given as the library stops with a message saying what it is.
    @Test func modelFileAsLibraryIsRefused() throws {
        let folder = try TestPaths.scratch("binary-input")
        let model = folder.appendingPathComponent("model.winnow")
        try Data(Array("WNNWMODL".utf8) + [1, 0, 0, 0, 0x5A, 0xD5, 0, 0, 0, 0]).write(to: model)
        let output = folder.appendingPathComponent("out.fps").path
        let result = try runWinnow(["fingerprint", model.path, "-o", output, "--quiet"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("winnow fingerprint: error: \(model.path): this is a Winnow model file, not a compound library"),
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// 11.8: an id with a tab or line break keeps the FPS file at one record per line.
    @Test func idsWithLineBreaksKeepOneRecordPerLine() throws {
        let folder = try TestPaths.scratch("ids")
        let library = folder.appendingPathComponent("ids.csv").path
        try "smiles,id\nCCO,\"two\nlines\"\nCCN,\"a\tb\"\n".write(toFile: library, atomically: true, encoding: .utf8)
        let output = folder.appendingPathComponent("out.fps").path
        let result = try runWinnow(["fingerprint", library, "--id-column", "id", "-o", output, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let records = try TestPaths.lines(output).filter { $0.first != UInt8(ascii: "#") }
        #expect(records.count == 2)
        #expect(records.map { String(decoding: Array($0.split(separator: 9, maxSplits: 1)[1]), as: UTF8.self) } == ["two\\nlines", "a\\tb"])
    }
}
