import Foundation
import Testing
import WinnowTestSupport

/// Issue 11.1 end to end: a screen over a library with hostile records finishes, and so does its
/// `--resume` (which used to crash again on the same record); the limits are options.
@Suite(.serialized) struct HostileCLITests {
    private func library(in folder: URL) throws -> String {
        let valid = try String(contentsOfFile: TestPaths.library("moses_train_10k.smi"), encoding: .utf8)
            .split(separator: "\n").prefix(2_000)
        var text = ""
        for (i, line) in valid.enumerated() {
            text += line + "\n"
            if i % 500 == 100 {
                text += String(repeating: "c", count: 100_000) + "\tchain_\(i)\n[N+0]\tneutral_\(i)\n[C+65535]\twrapped_\(i)\n"
            }
        }
        let path = folder.appendingPathComponent("hostile.smi").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func screenWithHostileRecordsFinishesAndResumes() throws {
        let folder = try TestPaths.scratch("hostile-screen")
        let path = try library(in: folder)
        let checkpoint = folder.appendingPathComponent("ckpt").path
        func screen(_ extra: [String], _ tag: String) throws -> CLIResult {
            try runWinnow(["screen", "--model", ScreenCLITests.model, "--library", path, "--top", "20", "--threads", "2", "--quiet",
                           "-o", folder.appendingPathComponent("hits-\(tag).csv").path,
                           "--errors", folder.appendingPathComponent("errors-\(tag).tsv").path] + extra)
        }
        let first = try screen(["--checkpoint", checkpoint], "a")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("read 2012, scored 2004, rejected 8"))
        let errors = try String(contentsOfFile: folder.appendingPathComponent("errors-a.tsv").path, encoding: .utf8)
        #expect(errors.components(separatedBy: "more than 10000 atoms").count - 1 == 4)
        #expect(errors.components(separatedBy: "beyond what any element can carry").count - 1 == 4)
        let resumed = try screen(["--checkpoint", checkpoint, "--resume"], "a")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("read 2012, scored 2004, rejected 8"))
        let plain = try screen([], "b")
        #expect(plain.status == 0)
        #expect(try Data(contentsOf: folder.appendingPathComponent("hits-a.csv")) == Data(contentsOf: folder.appendingPathComponent("hits-b.csv")))
    }

    @Test func limitsAreOptions() throws {
        let folder = try TestPaths.scratch("hostile-options")
        let path = folder.appendingPathComponent("small.smi").path
        try "CCO a\nCCCCCCCC b\nC(C(C(C)))C c\n".write(toFile: path, atomically: true, encoding: .utf8)
        let errors = folder.appendingPathComponent("errors.tsv").path
        let result = try runWinnow(["fingerprint", path, "-o", folder.appendingPathComponent("out.fps").path, "--errors", errors,
                                    "--max-atoms", "5", "--max-branch-depth", "2", "--quiet"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("read 3, written 1, rejected 2"))
        let text = try String(contentsOfFile: errors, encoding: .utf8)
        #expect(text.contains("more than 5 atoms"))
        #expect(text.contains("--max-branch-depth"))
        let sdfBad = try runWinnow(["fingerprint", path, "--max-molfile-atoms", "0"])
        #expect(sdfBad.status == 64)
        #expect(sdfBad.stderr.contains("--max-molfile-atoms must be between 1"))
        let bad = try runWinnow(["fingerprint", path, "--max-atoms", "0"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--max-atoms must be between 1"))
    }
}
