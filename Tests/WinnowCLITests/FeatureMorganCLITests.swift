import Foundation
import Screening
import Testing
import WinnowTestSupport

/// `--invariants feature` (FCFP-like) through fingerprint → index → search and train → predict.
@Suite struct FeatureMorganCLITests {
    static let fixture = TestPaths.repository
        .appendingPathComponent("Tests/FingerprintsTests/Fixtures/fcfp_r2_2048_counts_rdkit.tsv").path

    @Test func featureFingerprintsAreRDKitsAndSearchable() throws {
        let folder = try TestPaths.scratch("fcfp-cli")
        let library = TestPaths.fixture("library_sample_1000.smi")
        let fps = folder.appendingPathComponent("lib.fps").path
        let result = try runWinnow(["fingerprint", library, "--invariants", "feature", "-o", fps, "--quiet", "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try String(contentsOfFile: fps, encoding: .utf8).split(separator: "\n")
        #expect(lines.contains("#type=Winnow-Morgan/1 radius=2 fpSize=2048 invariants=rdkit-feature useBondTypes=1 useChirality=0"))
        // The fixture's rows 243 ..< 1243 are the sample's molecules in order: RDKit's bits.
        let reference = try TestPaths.tsv(Self.fixture)[243..<1243].map { row in
            Set(row[1].split(separator: ",").compactMap { Int($0.split(separator: ":")[0]) })
        }
        let rows = lines.filter { !$0.hasPrefix("#") }
        #expect(rows.count == 1000)
        var equal = 0
        for (row, expected) in zip(rows, reference) {
            let hex = Array(row.split(separator: "\t")[0].utf8)
            let words = try #require(hex.withUnsafeBufferPointer { FPSReader.decodeHex($0, bitCount: 2048) })
            let bits = Set((0..<2048).filter { words[$0 >> 6] & (1 << UInt64($0 & 63)) != 0 })
            if bits == expected { equal += 1 }
        }
        #expect(equal == 1000)

        // An index made from the FPS file knows its invariants: a SMILES query gets feature bits too.
        let db = folder.appendingPathComponent("lib.wfp").path
        #expect(try runWinnow(["index", fps, "-o", db, "--quiet"]).status == 0)
        let first = try String(contentsOfFile: library, encoding: .utf8).split(separator: "\n")[0].split(separator: "\t")
        let search = try runWinnow(["search", "--db", db, "--smiles", String(first[0]), "--top", "1"])
        #expect(search.status == 0, "\(search.stderr)")
        let hit = search.stdout.split(separator: "\n")[1].split(separator: ",")
        #expect(hit[2] == first[1] && hit.last == "1.0000")
        // Indexing the SMILES directly with --invariants feature gives the same database.
        let direct = folder.appendingPathComponent("direct.wfp").path
        #expect(try runWinnow(["index", library, "--invariants", "feature", "-o", direct, "--quiet"]).status == 0)
        let again = try runWinnow(["search", "--db", direct, "--smiles", String(first[0]), "--top", "5"])
        let viaFPS = try runWinnow(["search", "--db", db, "--smiles", String(first[0]), "--top", "5"])
        #expect(Self.hits(again.stdout) == Self.hits(viaFPS.stdout) && Self.hits(again.stdout).count == 6)
        #expect(try runWinnow(["fingerprint", library, "--invariants", "pharmacophore"]).status == 64)
    }

    /// query, rank, hit id and similarity of each row (an FPS-made index holds no SMILES).
    static func hits(_ csv: String) -> [[String]] {
        csv.split(separator: "\n").map { line -> [String] in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return [fields[0], fields[1], fields[2], fields[fields.count - 1]]
        }
    }

    /// A model trained on feature fingerprints keeps them: predict computes the same kind.
    @Test func mlpTrainedOnFeatureFingerprintsPredictsWithThem() throws {
        let folder = try TestPaths.scratch("fcfp-train")
        let data = TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv").path
        let library = folder.appendingPathComponent("lib.smi").path
        try "CCOc1ccccc1\ta\nNc1ccc(C(=O)O)cc1\tb\nCN1CCC(CC1)Oc1ccccc1\tc\n".write(toFile: library, atomically: true, encoding: .utf8)
        func trainAndPredict(_ invariants: String) throws -> [Substring] {
            let model = folder.appendingPathComponent("\(invariants).winnow").path
            let train = try runWinnow(["train", "--data", data, "--label-column", "Class", "--split-column", "split",
                                       "--model", "mlp", "--hidden", "32", "--head-hidden", "16", "--epochs", "2",
                                       "--members", "1", "--invariants", invariants, "-o", model, "--threads", "1"])
            #expect(train.status == 0, "\(train.stderr)")
            let once = try runWinnow(["predict", "--model", model, library, "--quiet"])
            let twice = try runWinnow(["predict", "--model", model, library, "--quiet", "--threads", "2"])
            #expect(once.status == 0 && once.stdout == twice.stdout)
            return once.stdout.split(separator: "\n")
        }
        let feature = try trainAndPredict("feature")
        let connectivity = try trainAndPredict("connectivity")
        #expect(feature.count == 4 && connectivity.count == 4)
        #expect(feature != connectivity)
    }
}
