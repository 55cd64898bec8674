import Foundation
import Testing
import WinnowTestSupport

/// One convention for every command: 0 done, 2 a file that cannot be used, 64 bad usage, 1 internal
/// failure, and every error on one line `winnow <command>: error: …`.
@Suite struct ExitStatusCLITests {
    /// `winnow help bogus` used to print the root help and exit 0, hiding the typo from scripts.
    @Test func helpForAnUnknownCommandIsAUsageError() throws {
        let bogus = try runWinnow(["help", "bogus"])
        #expect(bogus.status == 64)
        #expect(bogus.stderr.contains("winnow help: error: no command 'bogus'"), "\(bogus.stderr)")
        #expect(bogus.stderr.contains("screen") && bogus.stdout.isEmpty)
        let nested = try runWinnow(["help", "campaign", "bogus"])
        #expect(nested.status == 64 && nested.stderr.contains("no command 'bogus' in winnow campaign"), "\(nested.stderr)")
        // Help that exists still works.
        let screen = try runWinnow(["help", "screen"])
        #expect(screen.status == 0 && screen.stdout.contains("--library"))
        let select = try runWinnow(["help", "campaign", "select"])
        #expect(select.status == 0 && select.stdout.contains("--acquisition"))
        #expect(try runWinnow(["--help"]).status == 0)
        #expect(try runWinnow(["screen", "--bogus-option"]).status == 64)
        #expect(try runWinnow(["bogus"]).status == 64)
        // Values that are not numbers are usage errors, before any file is touched (`--beta nan`
        // used to commit a round of picks in pool order).
        for arguments in [["campaign", "select", "--campaign", "c.sqlite", "--beta", "nan", "-o", "p.csv"],
                          ["campaign", "simulate", "--data", "d.csv", "--label-column", "y", "--beta", "inf"],
                          ["campaign", "init", "--campaign", "c.sqlite", "--pool", "p.smi", "--trees", "1000000000"]] {
            let result = try runWinnow(arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
        }
    }

    /// A missing or damaged input file exits 2 in every command, campaign commands included (they
    /// used to exit 1), with the command's name in the message.
    @Test func badInputFilesExitTwoEverywhere() throws {
        let folder = try TestPaths.scratch("exit-status")
        let missing = folder.appendingPathComponent("missing.smi").path
        let notAModel = folder.appendingPathComponent("model.winnow").path
        try "this is not a model\n".write(toFile: notAModel, atomically: true, encoding: .utf8)
        let notACampaign = folder.appendingPathComponent("c.sqlite").path
        try "id,smiles\nA,CCO\n".write(toFile: notACampaign, atomically: true, encoding: .utf8)
        let library = TestPaths.fixture("valid.smi")
        let out = folder.appendingPathComponent("out.csv").path
        let cases: [(String, [String])] = [
            ("fingerprint", ["fingerprint", missing, "-o", out]),
            ("predict", ["predict", "--model", notAModel, library, "-o", out]),
            ("screen", ["screen", "--model", notAModel, "--library", library, "-o", out]),
            ("evaluate", ["evaluate", "--model", notAModel, "--data", missing]),
            ("train", ["train", "--data", missing, "--label-column", "y", "-o", notAModel + ".new"]),
            ("merge", ["merge", missing, "-o", out]),
            ("campaign init", ["campaign", "init", "--campaign", folder.appendingPathComponent("new.sqlite").path, "--pool", missing]),
            ("campaign status", ["campaign", "status", "--campaign", notACampaign]),
            ("campaign select", ["campaign", "select", "--campaign", missing, "-o", out]),
            ("campaign record", ["campaign", "record", "--campaign", notACampaign, missing]),
            ("campaign simulate", ["campaign", "simulate", "--data", missing, "--label-column", "y"]),
        ]
        for (command, arguments) in cases {
            let result = try runWinnow(arguments)
            #expect(result.status == 2, "\(command): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("winnow \(command): error: "), "\(command): \(result.stderr)")
            #expect(!result.stderr.contains("internal error"), "\(command): \(result.stderr)")
        }
        // A rejected SMILES in `inspect` is bad input too.
        let inspect = try runWinnow(["inspect", "C(C"])
        #expect(inspect.status == 2 && inspect.stdout.contains("rejected"))
    }

    /// An output that cannot be written is a file problem (2) in the same one-line format, not a
    /// raw Foundation error dump.
    @Test func anUnwritableOutputExitsTwo() throws {
        let folder = try TestPaths.scratch("exit-status-output")
        let target = folder.appendingPathComponent("no-such-folder/out.csv").path
        let result = try runWinnow(["merge", try Self.hitList(in: folder), "-o", target])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("winnow merge: error: ") && result.stderr.contains("no-such-folder"), "\(result.stderr)")
    }

    static func hitList(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("hits.csv").path
        try "rank,record,id,smiles,score,uncertainty,nearest_active,nearest_active_similarity,scaffold\n1,1,A,CCO,0.5,0,,,\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

@Suite struct CampaignMessagesCLITests {
    /// `campaign init`'s labels file is named with --labels-id-column; the error used to suggest
    /// --id-column, which names the pool's id column instead.
    @Test func aMissingLabelsIdColumnNamesTheRightOption() throws {
        let lab = try BaceLab("campaign-labels-id-option", size: 40)
        let labels = lab.path("labels.csv")
        try "mol_id,smiles,Class\n\(lab.order[0]),\(lab.truth[lab.order[0]]!.smiles),1\n".write(toFile: labels, atomically: true, encoding: .utf8)
        let result = try runWinnow(["campaign", "init", "--campaign", lab.path("c.sqlite"), "--pool", lab.pool, "--labels", labels,
                                    "--label-column", "Class"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no 'id' column") && result.stderr.contains("choose one with --labels-id-column"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: lab.path("c.sqlite")))
    }
}
