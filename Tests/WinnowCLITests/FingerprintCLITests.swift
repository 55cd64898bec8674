import Foundation
import Testing
import WinnowTestSupport

/// End-to-end: the real `winnow` binary, its exit codes, files and messages.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// True when the process was ended by a signal (status is then the signal number).
    var signalled = false
}

func winnowBinary() -> URL {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("winnow"),
        TestPaths.repository.appendingPathComponent(".build/release/winnow"),
        TestPaths.repository.appendingPathComponent(".build/debug/winnow"),
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[1]
}

func runWinnow(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> CLIResult {
    let process = Process()
    process.executableURL = winnowBinary()
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CLIResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self), signalled: process.terminationReason == .uncaughtSignal)
}

/// Trains a small model once for a test suite (`winnow train` with `arguments` after `--data DATA`),
/// written to a fresh scratch folder; stops the test run with train's message if training fails.
func trainTestModel(_ name: String, data: String, _ arguments: [String]) -> String {
    let path = (try! TestPaths.scratch(name)).appendingPathComponent("\(name).winnow").path
    let result = try! runWinnow(["train", "--data", data] + arguments + ["-o", path])
    precondition(result.status == 0, result.stderr)
    return path
}

@Suite struct FingerprintCLITests {
    @Test func invalidFixtureRunCompletesAndListsEveryRejection() throws {
        let folder = try TestPaths.scratch("cli")
        let errors = folder.appendingPathComponent("errors.tsv").path
        let result = try runWinnow(["fingerprint", TestPaths.fixture("invalid.smi"), "-o", folder.appendingPathComponent("x.fps").path,
                                    "--errors", errors, "--quiet"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("read 63, written 0, rejected 63"))
        #expect(result.stderr.contains("molecules/s"))
        let lines = try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 64)
        #expect(lines[3].hasPrefix("3\tFXI003\tC(C\t"))
    }

    @Test func readsStandardInput() throws {
        let result = try runWinnow(["fingerprint", "-", "--counts", "--quiet"], stdin: Data("CCO ethanol\n".utf8))
        #expect(result.status == 0)
        #expect(result.stdout.hasSuffix("ethanol\t80:1,222:1,294:1,807:1,1057:1,1410:1\n"))
    }

    @Test func missingFileFailsWithItsName() throws {
        let result = try runWinnow(["fingerprint", "/nonexistent/lib.smi"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("/nonexistent/lib.smi"))
    }

    @Test func badOptionsFailWithAMessage() throws {
        let result = try runWinnow(["fingerprint", TestPaths.fixture("valid.smi"), "--bits", "7"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--bits"))
    }

    @Test func corruptSDFReportsRecord51() throws {
        let folder = try TestPaths.scratch("clisdf")
        let errors = folder.appendingPathComponent("errors.tsv").path
        let result = try runWinnow(["fingerprint", TestPaths.fixture("mols_100_plus_corrupt.sdf"), "-o",
                                    folder.appendingPathComponent("x.fps").path, "--errors", errors, "--quiet"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("read 101, written 100, rejected 1"))
        let lines = try String(contentsOfFile: errors, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines[1].hasPrefix("51\tCORRUPT_RECORD_051\t"))
    }
}
