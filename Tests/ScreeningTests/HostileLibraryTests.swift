import Chemistry
import Fingerprints
import Foundation
import LibraryIO
import Screening
import Testing
import WinnowTestSupport

/// Issue 11.1: hostile records inside ordinary libraries end as rejected records with their reason
/// while every other record is fingerprinted (they used to segfault Open Babel and end the run).
@Suite struct HostileLibraryTests {
    static let hostileSMILES: [(smiles: String, reason: String)] = [
        (String(repeating: "c", count: 100_000), "more than 10000 atoms"),
        (String(repeating: "C(", count: 5_000) + "C" + String(repeating: ")", count: 5_000), "branches nested more than 1000 deep"),
        (Array(repeating: "C1CC1", count: 1_500).joined(separator: "."), "more than 1000 ring closures"),
        ("[C+65535]", "beyond what any element can carry"),
        ("[NH4+0]", "valence"),
        (String(repeating: "C", count: 5_000_000), "bytes long, over the limit of 4194304"),
    ]

    private func run(_ input: String, threads: Int, in folder: URL) throws -> (out: String, errors: [[String]], summary: RunSummary) {
        var job = FingerprintJob(input: input)
        job.output = folder.appendingPathComponent("out.fps").path
        job.errorsPath = folder.appendingPathComponent("errors.tsv").path
        job.threads = threads
        job.showProgress = false
        let summary = try job.run()
        let errors = try TestPaths.tsv(job.errorsPath!).dropFirst().map { $0 }
        return (try String(contentsOfFile: job.output!, encoding: .utf8), errors, summary)
    }

    @Test func hostileSMILESRecordsAreRejectedAndTheRestFingerprinted() throws {
        let folder = try TestPaths.scratch("hostile-smi")
        let valid = try String(contentsOfFile: TestPaths.library("moses_train_10k.smi"), encoding: .utf8)
            .split(separator: "\n").prefix(600)
        var text = ""
        var hostileRecords: [Int: String] = [:]
        var record = 0
        for (i, line) in valid.enumerated() {
            text += line + "\n"
            record += 1
            if i % 100 == 50 {
                let hostile = Self.hostileSMILES[(i / 100) % Self.hostileSMILES.count]
                text += hostile.smiles + "\thostile_\(i)\n"
                record += 1
                hostileRecords[record] = hostile.reason
            }
        }
        let path = folder.appendingPathComponent("hostile.smi").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        for threads in [1, 2] {
            let (out, errors, summary) = try run(path, threads: threads, in: folder)
            #expect(summary.read == 606 && summary.written == 600 && summary.rejected == 6)
            #expect(out.split(separator: "\n").filter { !$0.hasPrefix("#") }.count == 600)
            #expect(errors.map { Int($0[0])! } == hostileRecords.keys.sorted())
            for row in errors {
                let want = try #require(hostileRecords[Int(row[0])!])
                #expect(row[3].contains(want), "record \(row[0]): \(row[3])")
            }
        }
    }

    /// The issue's V3000 record (letters for COUNTS, an atom block without its END) inside the
    /// 100-record SDF: 100 fingerprinted, 1 rejected (before: a segfault, 0 of 100 written).
    @Test func malformedV3000RecordInsideAnSDFIsRejected() throws {
        let folder = try TestPaths.scratch("hostile-sdf")
        let records = try String(contentsOfFile: TestPaths.fixture("mols_100.sdf"), encoding: .utf8).components(separatedBy: "$$$$\n")
        let hostile = "HOSTILE_V3000\n  Winnow\n\n  0  0  0     0  0            999 V3000\nM  V30 BEGIN CTAB\nM  V30 COUNTS abc\n"
            + "M  V30 BEGIN ATOM\nM  V30 1 C 0 0 0 0\nM  V30 2 C 0 0 0 0\nM  END\n"
        let text = records[0..<50].joined(separator: "$$$$\n") + "$$$$\n" + hostile + "$$$$\n" + records[50...].joined(separator: "$$$$\n")
        let path = folder.appendingPathComponent("hostile.sdf").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let (_, errors, summary) = try run(path, threads: 2, in: folder)
        #expect(summary.read == 101 && summary.written == 100 && summary.rejected == 1)
        #expect(errors.count == 1)
        #expect(errors.first?[0] == "51")
        #expect(errors.first?[1] == "HOSTILE_V3000")
        #expect(errors.first?[3].contains("COUNTS") == true)
    }
}
