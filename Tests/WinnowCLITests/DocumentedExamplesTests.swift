import Foundation
import Testing
import WinnowTestSupport

/// Every example a user is shown runs as written: the `sh` blocks of the README and the `Example:`
/// lines of every command's `--help`, each run through `/bin/sh` in a scratch folder laid out like
/// the repository (`targets/bace1/bace.csv`, `libraries/moses_sample_10k.smi`) with `winnow` on the
/// PATH. Examples that need something no example makes get it from `prepare` (a wet lab's results
/// for the picks of a round, shard hit lists for `merge`, the pool of `scripts/campaign-example`).
@Suite struct DocumentedExamplesTests {
    struct Example: CustomStringConvertible {
        var source: String
        var command: String
        var description: String { "\(source): \(command)" }
    }

    /// README commands that are not examples to run here, and why.
    static let notRunHere: [String: String] = [
        "scripts/demo": "builds Winnow and trains the demo model: the same train and screen commands run below",
        "scripts/test": "this test suite itself",
    ]

    /// The `sh` blocks of the README, one command per entry (continuation lines joined, comments and
    /// output lines dropped).
    static func readmeExamples() throws -> [Example] {
        let text = try String(contentsOf: TestPaths.repository.appendingPathComponent("README.md"), encoding: .utf8)
        var examples: [Example] = []
        var inBlock = false, pending = ""
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("```") {
                inBlock = !inBlock && line == "```sh"
                pending = ""
                continue
            }
            guard inBlock else { continue }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && (trimmed.isEmpty || trimmed.hasPrefix("#")) { continue }
            if trimmed.hasSuffix("\\") {
                pending += String(trimmed.dropLast()) + " "
                continue
            }
            // A trailing comment (`scripts/demo    # the main job`) is not part of the command.
            var command = pending + trimmed
            if let comment = command.range(of: #"\s+#\s.*$"#, options: .regularExpression) { command.removeSubrange(comment) }
            examples.append(Example(source: "README", command: command))
            pending = ""
        }
        return examples
    }

    /// The `Example:` lines of every command's help (the discussion text of `--experimental-dump-help`).
    static func helpExamples() throws -> [Example] {
        let dump = try runWinnow(["--experimental-dump-help"])
        #expect(dump.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        var examples: [Example] = []
        func walk(_ command: [String: Any], path: String) {
            let name = command["commandName"] as? String ?? "?"
            let here = path.isEmpty ? name : path + " " + name
            if let discussion = command["discussion"] as? String {
                var lines = discussion.components(separatedBy: "\n")[...]
                while let line = lines.popFirst() {
                    guard let range = line.range(of: "Example: ") else { continue }
                    var command = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                    while command.hasSuffix("\\"), let next = lines.popFirst() {
                        command = String(command.dropLast()) + " " + next.trimmingCharacters(in: .whitespaces)
                    }
                    examples.append(Example(source: "winnow \(here.split(separator: " ").dropFirst().joined(separator: " ")) --help", command: command))
                }
            }
            for child in command["subcommands"] as? [[String: Any]] ?? [] { walk(child, path: here) }
        }
        walk(try #require(json["command"] as? [String: Any]), path: "")
        return examples
    }

    /// Order of the runs: models first (later examples screen with them), then everything that reads
    /// them, then merges of shard lists and campaigns (whose commands keep their written order).
    static func phase(_ command: String) -> Int {
        let words = command.split(separator: " ").map(String.init)
        guard let verb = words.dropFirst().first else { return 9 }
        switch verb {
        case "train": return 0
        case "merge": return 2
        case "campaign": return words.count > 2 && words[2] == "init" ? 3 : 4
        default: return 1
        }
    }

    @Test func everyDocumentedExampleRuns() throws {
        let readme = try Self.readmeExamples(), help = try Self.helpExamples()
        // Every command has at least one example somewhere, so a new command without one fails here.
        for verb in ["screen", "fingerprint", "train", "evaluate", "predict", "merge", "campaign init", "campaign select",
                     "campaign record", "campaign status", "campaign simulate"] {
            #expect((readme + help).contains { $0.command.contains("winnow \(verb) ") }, "no example of winnow \(verb)")
        }
        #expect(help.count >= 9, "\(help)")

        let lab = try Lab()
        var runnable: [Example] = []
        for example in readme + help {
            if let reason = Self.notRunHere[example.command] { _ = reason; continue }
            guard example.command.hasPrefix("winnow ") || example.command.hasPrefix(".build/release/winnow ") else {
                Issue.record("\(example) is neither a winnow command nor listed in notRunHere")
                continue
            }
            runnable.append(example)
        }
        let ordered = runnable.enumerated().sorted { (Self.phase($0.element.command), $0.offset) < (Self.phase($1.element.command), $1.offset) }
        for (_, example) in ordered {
            try lab.prepare(for: example.command)
            let result = try lab.run(example.command)
            #expect(result.status == 0, "\(example)\n\(result.stderr)")
            lab.noteOutputs(of: example.command)
        }
    }
}

/// The scratch folder the examples run in, and the stand-ins for what no example makes.
final class Lab {
    let folder: URL
    /// The BACE-1 measurements: by pool id (BACE_n, as scripts/campaign-example names them) and by SMILES.
    var truth: [String: Bool] = [:]
    /// The last picks file written for each campaign.
    var picks: [String: String] = [:]

    init() throws {
        folder = try TestPaths.scratch("examples")
        let fm = FileManager.default
        let repository = TestPaths.repository
        try fm.createDirectory(at: folder.appendingPathComponent("targets/bace1"), withIntermediateDirectories: true)
        try fm.copyItem(at: repository.appendingPathComponent("targets/bace1/bace.csv"), to: folder.appendingPathComponent("targets/bace1/bace.csv"))
        try fm.createDirectory(at: folder.appendingPathComponent("libraries"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(at: folder.appendingPathComponent("libraries/moses_sample_10k.smi"),
                                  withDestinationURL: repository.appendingPathComponent("libraries/moses_sample_10k.smi"))
        // `.build/release/winnow` as the README's fingerprint example writes it.
        try fm.createDirectory(at: folder.appendingPathComponent(".build/release"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(at: folder.appendingPathComponent(".build/release/winnow"), withDestinationURL: winnowBinary())
        // scripts/campaign-example's pool, lab and initial labels (every 25th molecule measured).
        let rows = try String(contentsOf: folder.appendingPathComponent("targets/bace1/bace.csv"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        var pool = "id,smiles\n", initial = "id,result\n"
        for (i, fields) in rows.enumerated() {
            let id = "BACE_\(i + 1)", active = fields[1] == "1"
            truth[id] = active
            truth[fields[0]] = active
            pool += "\(id),\(fields[0])\n"
            if i % 25 == 0 { initial += "\(id),\(active ? "active" : "inactive")\n" }
        }
        try fm.createDirectory(at: folder.appendingPathComponent("out/campaign"), withIntermediateDirectories: true)
        try pool.write(to: folder.appendingPathComponent("out/campaign/pool.csv"), atomically: true, encoding: .utf8)
        try initial.write(to: folder.appendingPathComponent("out/campaign/initial.csv"), atomically: true, encoding: .utf8)
    }

    func path(_ relative: String) -> String { folder.appendingPathComponent(relative).path }

    func run(_ command: String) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = winnowBinary().deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        // Output to files, not pipes: a chatty example cannot block on a full pipe.
        let outURL = folder.appendingPathComponent(".example.stdout"), errURL = folder.appendingPathComponent(".example.stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return CLIResult(status: process.terminationStatus, stdout: try String(contentsOf: outURL, encoding: .utf8),
                         stderr: try String(contentsOf: errURL, encoding: .utf8))
    }

    static func words(_ command: String) -> [String] { command.split(separator: " ").map(String.init) }

    static func option(_ name: String, in words: [String]) -> String? {
        guard let i = words.firstIndex(of: name), i + 1 < words.count else { return nil }
        return words[i + 1]
    }

    /// Makes what an example reads but no example writes.
    func prepare(for command: String) throws {
        let words = Self.words(command)
        if command.hasPrefix("winnow merge ") {
            // Shard hit lists, as `winnow screen --shard K/N` writes them on each machine.
            for k in 1...2 {
                let shard = try run("winnow screen --model targets/bace1/model.winnow --library libraries/moses_sample_10k.smi --top 1000 --shard \(k)/2 -o hits-\(k).csv --quiet")
                #expect(shard.status == 0, "\(shard.stderr)")
            }
        }
        if command.hasPrefix("winnow campaign record "), let campaign = Self.option("--campaign", in: words),
           let results = words.last, !FileManager.default.fileExists(atPath: path(results)) {
            // The wet lab: measure the campaign's last picks (BACE-1 classes; molecules BACE-1 never
            // measured come back inactive).
            let picksFile = try #require(picks[campaign], "no picks for \(campaign) before \(command)")
            let lines = try String(contentsOfFile: path(picksFile), encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst()
            var text = "id,result\n"
            for line in lines {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                let active = truth[fields[1]] ?? truth[fields[2]] ?? false
                text += "\(fields[1]),\(active ? "active" : "inactive")\n"
            }
            try text.write(toFile: path(results), atomically: true, encoding: .utf8)
        }
    }

    func noteOutputs(of command: String) {
        let words = Self.words(command)
        if command.hasPrefix("winnow campaign select "), let campaign = Self.option("--campaign", in: words), let output = Self.option("-o", in: words) {
            picks[campaign] = output
        }
    }
}
