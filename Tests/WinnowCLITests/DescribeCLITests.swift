import Foundation
import Testing
import WinnowTestSupport

@Suite struct DescribeCLITests {
    /// 60 MOSES molecules with three bad records among them: one row per record in input order, the
    /// bad ones with empty values and listed in the errors file, values equal to RDKit's reference.
    @Test func describeWritesOneRowPerRecordInOrderWithRDKitValues() throws {
        let folder = try TestPaths.scratch("describe")
        let sample = try TestPaths.tsv(TestPaths.fixture("library_sample_1000.smi")).prefix(60)
        var lines = sample.map { "\($0[0])\t\($0[1])" }
        lines.insert("C(C\tBAD_1", at: 5)
        lines.insert("c1cccc1\tBAD_2", at: 20)
        lines.insert("C[Xx]\tBAD_3", at: 40)
        let input = folder.appendingPathComponent("in.smi")
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        let reference = try TestPaths.tsv(TestPaths.fixture("descriptors_rdkit_fixtures.tsv"))
        let header = reference[0]
        var expected: [String: [String]] = [:]
        for row in reference.dropFirst() { expected[row[1]] = row }

        var outputs: [String] = []
        for threads in ["1", "2"] {
            let out = folder.appendingPathComponent("props\(threads).csv").path
            let errors = folder.appendingPathComponent("errors\(threads).tsv").path
            let result = try runWinnow(["describe", input.path, "-o", out, "--errors", errors, "--alerts", "pains,brenk",
                                        "--threads", threads, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("read 63, described 60, rejected 3"))
            let text = try String(contentsOfFile: out, encoding: .utf8)
            outputs.append(text)
            let errorLines = try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\n")
            #expect(errorLines.count == 4)
            #expect(errorLines.dropFirst().map { $0.split(separator: "\t")[1] } == ["BAD_1", "BAD_2", "BAD_3"])
        }
        #expect(outputs[0] == outputs[1], "same bytes at 1 and 2 threads")
        let rows = outputs[0].split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let columns = ["id", "smiles", "mol_wt", "exact_mass", "heavy_atoms", "clogp", "mr", "tpsa", "hbd", "hba", "lipinski_hbd",
                       "lipinski_hba", "rotatable_bonds", "rings", "aromatic_rings", "fraction_csp3", "formal_charge", "qed", "alerts"]
        #expect(rows.first == columns)
        #expect(rows.count == 64)
        #expect(rows.dropFirst().map { $0[0] } == lines.map { String($0.split(separator: "\t")[1]) })
        var compared = 0
        for row in rows.dropFirst() {
            guard let ref = expected[row[0]] else {
                #expect(row[0].hasPrefix("BAD_"))
                let empty = row.dropFirst(2).allSatisfy { $0.isEmpty }
                #expect(empty, "a rejected record keeps an empty row")
                continue
            }
            for (k, name) in columns.enumerated() where k >= 2 && k < 18 {
                guard let r = header.firstIndex(of: name), let want = Double(ref[r]), let got = Double(row[k]) else {
                    Issue.record("\(row[0]) \(name): \(row[k])")
                    continue
                }
                #expect(abs(want - got) <= 0.01, "\(row[0]) \(name): rdkit \(want) winnow \(got)")
            }
            let alerts = [ref[header.firstIndex(of: "pains")!], ref[header.firstIndex(of: "brenk")!]].filter { $0 != "-" }
                .flatMap { $0.split(separator: ";").map(String.init) }
            #expect(Set(row[18].split(separator: ";").map(String.init)) == Set(alerts), "\(row[0]) alerts")
            compared += 1
        }
        #expect(compared == 60)
    }

    /// The shared input limits apply to describe: a record over --max-atoms keeps its empty row and is
    /// listed with the limit as its reason; the others are described.
    @Test func describeAppliesTheInputLimits() throws {
        let folder = try TestPaths.scratch("describe-limits")
        let input = folder.appendingPathComponent("in.smi")
        try "CCO ethanol\nCCCCCCCCCCCC dodecane\nc1ccccc1 benzene\n".write(to: input, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("props.csv").path
        let errors = folder.appendingPathComponent("errors.tsv").path
        let result = try runWinnow(["describe", input.path, "-o", out, "--errors", errors, "--max-atoms", "8", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("read 3, described 2, rejected 1"))
        let rows = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.map { String($0[0]) } == ["id", "ethanol", "dodecane", "benzene"])
        #expect(rows[2].dropFirst(2).allSatisfy { $0.isEmpty })
        let errorLines = try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\n")
        #expect(errorLines.count == 2)
        #expect(errorLines.last?.contains("dodecane") == true && errorLines.last?.contains("--max-atoms") == true)
    }

    @Test func unknownAlertSetIsAUsageError() throws {
        let result = try runWinnow(["describe", TestPaths.fixture("library_sample_1000.smi"), "--alerts", "pains,nonsense"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown alert set 'nonsense'"))
    }
}
