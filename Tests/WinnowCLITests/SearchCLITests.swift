import Chemistry
import Fingerprints
import Foundation
import LibraryIO
import Screening
import Testing
import WinnowTestSupport

/// `winnow index` and `winnow search` end to end on the 1,000-molecule MOSES sample.
@Suite struct SearchCLITests {
    static let library = TestPaths.fixture("library_sample_1000.smi")

    /// Queries: 25 molecules of the MOSES 10k slice that are not in the sample, plus the sample's
    /// first 5 (exact matches), plus two invalid lines.
    static func writeQueries(_ folder: URL) throws -> String {
        let sample = Set(try String(contentsOfFile: library, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t")[1] })
        let slice = try String(contentsOfFile: TestPaths.library("moses_train_10k.smi"), encoding: .utf8).split(separator: "\n")
        let outside = slice.filter { !sample.contains($0.split(separator: "\t")[1]) }.prefix(25)
        let inside = try String(contentsOfFile: library, encoding: .utf8).split(separator: "\n").prefix(5)
        let text = (outside + ["C(C\tBAD_1"] + inside + ["c1cccc1\tBAD_2"]).joined(separator: "\n") + "\n"
        let path = folder.appendingPathComponent("queries.smi").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func index(_ folder: URL, threads: Int = 2, name: String = "lib.wfp") throws -> String {
        let path = folder.appendingPathComponent(name).path
        let result = try runWinnow(["index", library, "-o", path, "--threads", String(threads), "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("read 1000, indexed 1000, rejected 0"))
        return path
    }

    static func csvRows(_ text: String) -> [[String]] {
        text.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Every hit list equals a brute-force double-precision Tanimoto over the library's fingerprints,
    /// at 1 and 2 threads (same bytes), for top-k and for a threshold.
    @Test func searchEqualsBruteForceAtAnyThreadCount() throws {
        let folder = try TestPaths.scratch("search")
        let db = try Self.index(folder)
        let queries = try Self.writeQueries(folder)
        // The brute force: Winnow's Morgan bits (RDKit-equal, see the parity tests) and double Tanimoto.
        let parser = try MoleculeParser(), generator = MorganGenerator()
        let library = try String(contentsOfFile: Self.library, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        let libraryBits = try library.map { generator.bits(try parser.parse(smiles: $0[0])) }
        let queryLines = try String(contentsOfFile: queries, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }

        for (threshold, top) in [("0", "7"), ("0.35", "all"), ("0.4", "3")] {
            var outputs: [String] = []
            for threads in ["1", "2"] {
                let out = folder.appendingPathComponent("hits-\(threads).csv").path
                let errors = folder.appendingPathComponent("errors.tsv").path
                let result = try runWinnow(["search", "--db", db, queries, "--threshold", threshold, "--top", top, "-o", out,
                                            "--threads", threads, "--errors", errors, "--quiet"])
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stderr.contains("30 queries (2 rejected)"))
                let errorLines = try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\n")
                #expect(errorLines.count == 3 && errorLines[1].hasPrefix("26\tBAD_1\t") && errorLines[2].hasPrefix("32\tBAD_2\t"))
                outputs.append(try String(contentsOfFile: out, encoding: .utf8))
            }
            #expect(outputs[0] == outputs[1], "threshold \(threshold) top \(top): 1 and 2 threads differ")
            #expect(outputs[0].hasPrefix("query_id,rank,hit_id,hit_smiles,similarity\n"))
            var expected = "query_id,rank,hit_id,hit_smiles,similarity\n"
            for q in queryLines where !q[1].hasPrefix("BAD") {
                let bits = generator.bits(try parser.parse(smiles: q[0]))
                var hits = libraryBits.enumerated().map { ($0.offset, bruteTanimoto(bits, $0.element)) }.filter { $0.1 >= Double(threshold)! }
                hits.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
                if let k = Int(top) { hits = Array(hits.prefix(k)) }
                for (rank, hit) in hits.enumerated() {
                    expected += "\(q[1]),\(rank + 1),\(library[hit.0][1]),\(csvField(library[hit.0][0])),\(String(format: "%.4f", hit.1))\n"
                }
            }
            #expect(outputs[0] == expected, "threshold \(threshold) top \(top)")
        }
    }

    /// The index does not depend on the thread count, and an FPS file gives the same search as the
    /// index (as a database, as the source of an index, and as queries).
    @Test func fpsInputEqualsTheIndex() throws {
        let folder = try TestPaths.scratch("search-fps")
        let one = try Self.index(folder, threads: 1, name: "one.wfp")
        let two = try Self.index(folder, threads: 2, name: "two.wfp")
        #expect(try Data(contentsOf: URL(fileURLWithPath: one)) == Data(contentsOf: URL(fileURLWithPath: two)))
        let fps = folder.appendingPathComponent("lib.fps").path
        #expect(try runWinnow(["fingerprint", Self.library, "-o", fps, "--quiet"]).status == 0)
        let fromFPS = folder.appendingPathComponent("fps.wfp").path
        let indexed = try runWinnow(["index", fps, "-o", fromFPS, "--quiet"])
        #expect(indexed.status == 0, "\(indexed.stderr)")
        #expect(indexed.stderr.contains("indexed 1000"))
        let queries = try Self.writeQueries(folder)
        let queryFPS = folder.appendingPathComponent("queries.fps").path
        #expect(try runWinnow(["fingerprint", queries, "-o", queryFPS, "--quiet"]).status == 0)

        func search(_ db: String, _ q: String) throws -> [[String]] {
            let result = try runWinnow(["search", "--db", db, q, "--threshold", "0.3", "--top", "20", "--quiet", "--errors",
                                        folder.appendingPathComponent("e.tsv").path])
            #expect(result.status == 0, "\(result.stderr)")
            // Without SMILES in an FPS database, compare query, rank, hit and similarity.
            return Self.csvRows(result.stdout).map { [$0[0], $0[1], $0[2], $0[$0.count - 1]] }
        }
        let reference = try search(one, queries)
        #expect(reference.count > 100)
        #expect(try search(fromFPS, queries) == reference)
        #expect(try search(fps, queries) == reference)
        #expect(try search(one, queryFPS) == reference)
    }

    /// chemfp's type line for RDKit Morgan bits (`rdkit2fps --morgan`) is read as Winnow's Morgan: SMILES
    /// queries work and give the same hits as Winnow's own FPS file; a chirality type stays foreign.
    @Test func rdkitMorganTypeLinesAreSearchableWithSMILES() throws {
        let folder = try TestPaths.scratch("search-rdkit-fps")
        let fps = folder.appendingPathComponent("winnow.fps").path
        #expect(try runWinnow(["fingerprint", Self.library, "-o", fps, "--quiet"]).status == 0)
        let text = try String(contentsOfFile: fps, encoding: .utf8)
        let winnowType = "#type=Winnow-Morgan/1 radius=2 fpSize=2048 invariants=rdkit-connectivity useBondTypes=1 useChirality=0"
        #expect(text.contains(winnowType))
        func variant(_ type: String, _ name: String) throws -> String {
            let path = folder.appendingPathComponent(name).path
            try text.replacingOccurrences(of: winnowType, with: "#type=\(type)").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let rdkit = try variant("RDKit-Morgan/1 radius=2 fpSize=2048 useFeatures=0 useChirality=0 useBondTypes=1", "rdkit.fps")
        let chiral = try variant("RDKit-Morgan/1 radius=2 fpSize=2048 useFeatures=0 useChirality=1 useBondTypes=1", "chiral.fps")
        let queries = try Self.writeQueries(folder)
        func search(_ db: String) throws -> CLIResult {
            try runWinnow(["search", "--db", db, queries, "--top", "5", "--quiet", "--errors", folder.appendingPathComponent("e.tsv").path])
        }
        let reference = try search(fps)
        #expect(reference.status == 0 && reference.stdout.split(separator: "\n").count > 100, "\(reference.stderr)")
        let fromRDKit = try search(rdkit)
        #expect(fromRDKit.status == 0 && fromRDKit.stdout == reference.stdout, "\(fromRDKit.stderr)")
        let refused = try search(chiral)
        #expect(refused.status != 0 && refused.stderr.contains("not Winnow Morgan fingerprints"), "\(refused.stderr)")
        #expect(MorganSettings(rdkitTypeString: "RDKit-Morgan/1 radius=3 fpSize=1024 useFeatures=1 useChirality=0 useBondTypes=1")
                == MorganSettings(radius: 3, size: 1024, invariants: .feature))
        #expect(MorganSettings(rdkitTypeString: "RDKit-Morgan/1 radius=2 fpSize=2048 useBondTypes=0") == nil)
        #expect(MorganSettings(rdkitTypeString: "RDKit-Fingerprint/1 minPath=1 maxPath=7 fpSize=2048") == nil)
    }

    @Test func selfSearchListsEachNearDuplicatePairBothWays() throws {
        let folder = try TestPaths.scratch("search-self")
        let db = try Self.index(folder)
        let result = try runWinnow(["search", "--db", db, "--self", "--threshold", "0.6", "--top", "all", "--quiet", "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let pairs = Self.csvRows(result.stdout).map { ($0[0], $0[2]) }
        #expect(!pairs.isEmpty)
        #expect(pairs.allSatisfy { $0.0 != $0.1 })
        let set = Set(pairs.map { "\($0.0) \($0.1)" })
        #expect(pairs.allSatisfy { set.contains("\($0.1) \($0.0)") })
    }

    @Test func oneSmilesQueryAndTversky() throws {
        let folder = try TestPaths.scratch("search-one")
        let db = try Self.index(folder)
        let first = try String(contentsOfFile: Self.library, encoding: .utf8).split(separator: "\n")[0].split(separator: "\t")
        let result = try runWinnow(["search", "--db", db, "--smiles", String(first[0]), "--top", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = Self.csvRows(result.stdout)
        #expect(rows.count == 3)
        #expect(rows[0][0] == "query" && rows[0][2] == String(first[1]) && rows[0][4] == "1.0000")
        // Tversky 1,0 measures how much of the query a molecule covers: a superset scores 1 too.
        let tversky = try runWinnow(["search", "--db", db, "--smiles", "c1ccccc1", "--tversky", "1,0", "--threshold", "1", "--top", "all"])
        #expect(tversky.status == 0, "\(tversky.stderr)")
        #expect(Self.csvRows(tversky.stdout).count > 10)
        let bad = try runWinnow(["search", "--db", db, "--smiles", "C(C"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--smiles 'C(C'"))
        #expect(try runWinnow(["search", "--db", db, "--smiles", "C", "--tversky", "2"]).status != 0)
        #expect(try runWinnow(["search", "--db", db, "--smiles", "C", "--threshold", "1.5"]).status != 0)
    }

    /// `index` and `search` apply the shared input limits (README "Bad input") like every reader:
    /// a record over one is rejected with its reason and the run goes on.
    @Test func inputLimitsApplyToIndexAndSearch() throws {
        let folder = try TestPaths.scratch("search-limits")
        let path = folder.appendingPathComponent("small.smi").path
        try "CCO a\nCCCCCCCC b\nC(C(C(C)))C c\nCCN d\n".write(toFile: path, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("small.wfp").path
        let errors = folder.appendingPathComponent("index-errors.tsv").path
        let indexed = try runWinnow(["index", path, "-o", db, "--errors", errors, "--max-atoms", "5", "--max-branch-depth", "2", "--quiet"])
        #expect(indexed.status == 0, "\(indexed.stderr)")
        #expect(indexed.stderr.contains("read 4, indexed 2, rejected 2"))
        let indexErrors = try String(contentsOfFile: errors, encoding: .utf8)
        #expect(indexErrors.contains("more than 5 atoms") && indexErrors.contains("--max-branch-depth"))

        let queryErrors = folder.appendingPathComponent("query-errors.tsv").path
        let searched = try runWinnow(["search", "--db", db, path, "--top", "1", "--errors", queryErrors, "--max-atoms", "5", "--quiet"])
        #expect(searched.status == 0, "\(searched.stderr)")
        #expect(searched.stderr.contains("3 queries (1 rejected)"))
        #expect(try String(contentsOfFile: queryErrors, encoding: .utf8).contains("more than 5 atoms"))
        #expect(Self.csvRows(searched.stdout).map { $0[0] } == ["a", "c", "d"])

        let one = try runWinnow(["search", "--db", db, "--smiles", "CCCCCCCC", "--max-atoms", "5"])
        #expect(one.status == 2)
        #expect(one.stderr.contains("more than 5 atoms"))
        #expect(try runWinnow(["index", path, "-o", db, "--max-record-bytes", "0"]).status == 64)
    }

    /// The index is written to a file of its own (mkstemp) and renamed into place: a link planted at
    /// a predictable name beside the output (the old `lib.wfp.tmp`) is not written through, and the
    /// index gets an ordinary new file's permissions.
    @Test func indexIsNotWrittenThroughAPlantedLink() throws {
        let folder = try TestPaths.scratch("search-planted")
        let victim = folder.appendingPathComponent("victim.txt").path
        try "keep me\n".write(toFile: victim, atomically: true, encoding: .utf8)
        let path = folder.appendingPathComponent("lib.wfp").path
        try FileManager.default.createSymbolicLink(atPath: path + ".tmp", withDestinationPath: victim)
        let result = try runWinnow(["index", Self.library, "-o", path, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me\n")
        #expect(try runWinnow(["index", "--verify", path]).status == 0)
        let mask = umask(0)
        umask(mask)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o666 & ~Int(mask))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("winnow-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// Truncated, damaged, other-version and foreign files are refused with a message naming the
    /// file; damage inside the rows is caught by --verify.
    @Test func damagedIndexIsRefused() throws {
        let folder = try TestPaths.scratch("search-damaged")
        let db = try Self.index(folder)
        let good = try Data(contentsOf: URL(fileURLWithPath: db))
        #expect(try runWinnow(["index", "--verify", db]).status == 0)

        func refused(_ bytes: Data, _ message: String, verify: Bool = false) throws {
            let path = folder.appendingPathComponent("bad.wfp").path
            try bytes.write(to: URL(fileURLWithPath: path))
            let result = verify ? try runWinnow(["index", "--verify", path])
                                : try runWinnow(["search", "--db", path, "--smiles", "CCO", "-o", folder.appendingPathComponent("out.csv").path])
            #expect(result.status == 2, "\(message): \(result.stderr)")
            #expect(result.stderr.contains(path) && result.stderr.contains(message), "\(result.stderr)")
            #expect(!result.signalled)
        }
        try refused(good.prefix(good.count - 100), "truncated")
        try refused(good.prefix(100), "too short")
        var header = good
        header[20] ^= 0xFF
        try refused(header, "damaged index header")
        var version = good
        version[8] = 99
        try refused(version, "format version 99")
        try refused(try Data(contentsOf: URL(fileURLWithPath: Self.library)), "not a Winnow fingerprint index")
        var row = good
        row[good.count / 2] ^= 0x10
        try refused(row, "damaged index", verify: true)
        var text = good
        text[good.count - 200] ^= 0x01
        try refused(text, "checksum", verify: true)
    }
}

/// |q & f| / |q | f| in double precision, 1 for two empty fingerprints.
func bruteTanimoto(_ q: [UInt64], _ f: [UInt64]) -> Double {
    var both = 0, either = 0
    for w in q.indices {
        both += (q[w] & f[w]).nonzeroBitCount
        either += (q[w] | f[w]).nonzeroBitCount
    }
    return either == 0 ? 1 : Double(both) / Double(either)
}
