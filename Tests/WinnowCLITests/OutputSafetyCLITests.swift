import Foundation
import Testing
import WinnowTestSupport

/// Outputs never overwrite inputs, never appear half-written, and `--threads` has one limit.
@Suite struct OutputSafetyCLITests {
    private func folderWithLibrary(_ label: String) throws -> (URL, String) {
        let folder = try TestPaths.scratch(label)
        let library = folder.appendingPathComponent("lib.smi").path
        try "CCO ethanol\nc1ccccc1 benzene\n".write(toFile: library, atomically: false, encoding: .utf8)
        return (folder, library)
    }

    /// 11.10: every command refuses an output that is one of its inputs, before reading anything.
    @Test func outputOverAnInputIsRefusedByEveryCommand() throws {
        let (folder, library) = try folderWithLibrary("same-file-cli")
        let model = folder.appendingPathComponent("model.winnow").path
        try Data("not read".utf8).write(to: URL(fileURLWithPath: model))
        let data = folder.appendingPathComponent("data.csv").path
        try "smiles,label\nCCO,1\n".write(toFile: data, atomically: false, encoding: .utf8)
        let link = folder.appendingPathComponent("link.csv").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: library)
        let hits = folder.appendingPathComponent("hits.csv").path
        let runs: [[String]] = [
            ["fingerprint", library, "-o", library],
            ["fingerprint", library, "-o", folder.appendingPathComponent("x.fps").path, "--errors", link],
            ["predict", "--model", model, library, "-o", model],
            ["predict", "--model", model, library, "--errors", library],
            ["screen", "--model", model, "--library", library, "-o", link],
            ["screen", "--model", model, "--library", library, "-o", hits, "--errors", hits],
            ["screen", "--model", model, "--library", library, "-o", hits, "--all-scores", model],
            ["screen", "--model", model, "--library", library, "-o", hits, "--sdf", library],
            ["screen", "--model", model, "--library", library, "-o", hits, "--report", hits],
            ["train", "--data", data, "--label-column", "label", "-o", data],
            ["merge", library, "-o", library],
            ["campaign", "init", "--campaign", library, "--pool", library],
        ]
        let before = try Data(contentsOf: URL(fileURLWithPath: library))
        for arguments in runs {
            let result = try runWinnow(arguments + ["--quiet"].filter { _ in ["fingerprint", "predict", "screen"].contains(arguments[0]) })
            #expect(result.status != 0, "\(arguments) succeeded")
            #expect(result.stderr.contains("winnow \(arguments[0] == "campaign" ? "campaign init" : arguments[0]): error: "), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("is the same file as") || result.stderr.contains("already exists"), "\(arguments): \(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: library)) == before)
        #expect(try String(contentsOfFile: model, encoding: .utf8) == "not read")
        #expect(try String(contentsOfFile: data, encoding: .utf8) == "smiles,label\nCCO,1\n")
    }

    /// 11.11: a missing output folder is reported before the run; a run that fails part-way leaves
    /// no output file behind (before: a truncated FPS file under the final name).
    @Test func failedRunsLeaveNoOutput() throws {
        let (folder, library) = try folderWithLibrary("no-partial")
        let missing = try runWinnow(["fingerprint", library, "-o", folder.appendingPathComponent("nowhere/out.fps").path, "--quiet"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("winnow fingerprint: error: ") && missing.stderr.contains("does not exist"), "\(missing.stderr)")
        // A gzip library damaged after its first member: the run stops with an error.
        let whole = try Data(contentsOf: URL(fileURLWithPath: TestPaths.library("moses_test.smi.gz")))
        let damaged = folder.appendingPathComponent("damaged.smi.gz").path
        try (whole + Data("trailing bytes that are not gzip".utf8)).write(to: URL(fileURLWithPath: damaged))
        let output = folder.appendingPathComponent("out.fps").path, errors = folder.appendingPathComponent("errors.tsv").path
        let result = try runWinnow(["fingerprint", damaged, "-o", output, "--errors", errors, "--quiet"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("not gzip"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(!FileManager.default.fileExists(atPath: errors))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["damaged.smi.gz", "lib.smi"])
    }

    /// 11.15: `--threads` has the same limit in every command (screen took 5000 and used 3 GB).
    @Test func threadLimitIsTheSameEverywhere() throws {
        let (folder, library) = try folderWithLibrary("threads")
        let model = folder.appendingPathComponent("model.winnow").path
        for arguments in [["fingerprint", library], ["screen", "--model", model, "--library", library, "-o", folder.appendingPathComponent("h.csv").path],
                          ["predict", "--model", model, library], ["train", "--data", library, "--label-column", "x", "-o", model]] {
            let result = try runWinnow(arguments + ["--threads", "5000"])
            #expect(result.status == 64, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("--threads must be between 1 and 256"), "\(arguments): \(result.stderr)")
        }
    }

    /// 11.13: resuming with a library of the same size but other content (shuffled) is refused.
    @Test func resumeRefusesAShuffledLibrary() throws {
        let folder = try TestPaths.scratch("resume-hash")
        let lines = try String(contentsOfFile: TestPaths.library("moses_train_10k.smi"), encoding: .utf8)
            .split(separator: "\n").prefix(1500).map(String.init)
        let library = folder.appendingPathComponent("lib.smi").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: library, atomically: false, encoding: .utf8)
        let checkpoint = folder.appendingPathComponent("checkpoint").path
        let arguments = ["screen", "--model", ScreenCLITests.model, "--library", library, "--top", "10", "-o",
                         folder.appendingPathComponent("hits.csv").path, "--checkpoint", checkpoint, "--threads", "2", "--quiet"]
        let first = try runWinnow(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try runWinnow(arguments + ["--resume"]).status == 0)
        var shuffled = lines
        shuffled.swapAt(3, 1200)
        try (shuffled.joined(separator: "\n") + "\n").write(toFile: library, atomically: false, encoding: .utf8)
        let resumed = try runWinnow(arguments + ["--resume"])
        #expect(resumed.status == 2)
        #expect(resumed.stderr.contains("differs from the library of the checkpointed screen"), "\(resumed.stderr)")
    }
}
