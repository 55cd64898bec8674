import Campaigns
import Chemistry
import Fingerprints
import Foundation
import LibraryIO
import Screening
import Testing
import WinnowTestSupport

/// A small real campaign: 300 BACE molecules as the pool, their measured classes as "the lab".
struct BaceLab {
    let folder: URL
    let pool: String
    /// id → (smiles, class)
    let truth: [String: (smiles: String, active: Bool)]
    let order: [String]

    init(_ label: String, size: Int = 300) throws {
        folder = try TestPaths.scratch(label)
        let table = try CSVTable.read(path: TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv").path)
        let s = try table.column("smiles"), c = try table.column("Class")
        var truth: [String: (String, Bool)] = [:], order: [String] = []
        var text = "id,smiles\n"
        // The file is sorted by class: take every k-th row so the pool holds both.
        let stride = table.rows.count / size
        for (i, row) in (0..<size).map({ table.rows[$0 * stride] }).enumerated() {
            let id = "BACE_\(i + 1)"
            truth[id] = (row[s], row[c] == "1")
            order.append(id)
            text += "\(id),\(row[s])\n"
        }
        pool = folder.appendingPathComponent("pool.csv").path
        try text.write(toFile: pool, atomically: true, encoding: .utf8)
        self.truth = truth
        self.order = order
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Writes the lab's results for the ids of a picks file and returns the results path.
    func results(for picks: String, name: String) throws -> String {
        let rows = try CSVTable.read(path: picks).rows
        var text = "id,result\n"
        for row in rows { text += "\(row[1]),\(truth[row[1]]!.active ? "active" : "inactive")\n" }
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    func writeLabels(_ ids: [String], name: String, extra: String = "") throws -> String {
        var text = "id,smiles,Class\n"
        for id in ids { text += "\(id),\(truth[id]!.smiles),\(truth[id]!.active ? 1 : 0)\n" }
        try (text + extra).write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    func initialize(_ campaign: String, labels: [String], extraArguments: [String] = []) throws -> CLIResult {
        let labelsFile = try writeLabels(labels, name: "initial.csv")
        return try runWinnow(["campaign", "init", "--campaign", campaign, "--pool", pool, "--smiles-column", "smiles", "--id-column", "id",
                              "--labels", labelsFile, "--label-column", "Class", "--epochs", "5", "--members", "2"] + extraArguments)
    }
}

func pickIds(_ path: String) throws -> [String] { try CSVTable.read(path: path).rows.map { $0[1] } }

@Suite struct CampaignRoundsCLITests {
    /// Two full rounds: init with labels (one from outside the pool), select with diversity, record,
    /// select again; status and its report follow every step.
    @Test func twoRoundsFromInitToStatus() throws {
        let lab = try BaceLab("campaign-rounds")
        let campaign = lab.path("c.sqlite")
        let initial = Array(lab.order.prefix(40))
        let labelsFile = try lab.writeLabels(initial, name: "initial.csv",
                                             extra: "KNOWN_1,CC(C)(C)OC(=O)N[C@@H](Cc1ccccc1)[C@H](O)CN1CCCC[C@H]1C(=O)NC(C)(C)C,1\n")
        let created = try runWinnow(["campaign", "init", "--campaign", campaign, "--pool", lab.pool, "--smiles-column", "smiles", "--id-column", "id",
                                     "--labels", labelsFile, "--label-column", "Class", "--epochs", "5", "--members", "2"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("pool 300 molecules"))
        #expect(created.stdout.contains("initial labels: 41"))
        #expect(created.stdout.contains("1 labelled molecules from outside the pool"))

        let round1 = lab.path("round1.csv")
        let selected = try runWinnow(["campaign", "select", "--campaign", campaign, "--batch", "12", "--acquisition", "ucb", "--diverse", "0.6",
                                      "-o", round1])
        #expect(selected.status == 0, "\(selected.stderr)")
        #expect(selected.stdout.contains("round 1: picked 12"))
        let picks1 = try pickIds(round1)
        #expect(picks1.count == 12)
        #expect(Set(picks1).isDisjoint(with: initial))
        #expect(!picks1.contains("KNOWN_1"))
        // --diverse: no two picks above the threshold.
        let parser = try MoleculeParser(), generator = MorganGenerator()
        let bits = try picks1.map { generator.bits(try parser.parse(smiles: lab.truth[$0]!.smiles)) }
        for i in bits.indices { for j in bits.indices where j > i { #expect(tanimoto(bits[i], bits[j]) <= 0.6) } }
        let header = try String(contentsOfFile: round1, encoding: .utf8).split(separator: "\n")[0]
        #expect(header == "rank,id,smiles,score,uncertainty,nearest_active,nearest_active_similarity,reason")
        #expect(try String(contentsOfFile: round1, encoding: .utf8).contains("ucb: "))

        let recorded = try runWinnow(["campaign", "record", "--campaign", campaign, try lab.results(for: round1, name: "results1.csv")])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stdout.contains("recorded 12 results"))
        #expect(recorded.stdout.contains("for round 1"))

        let round2 = lab.path("round2.csv")
        let second = try runWinnow(["campaign", "select", "--campaign", campaign, "--batch", "12", "-o", round2])
        #expect(second.status == 0, "\(second.stderr)")
        let picks2 = try pickIds(round2)
        #expect(picks2.count == 12)
        #expect(Set(picks2).isDisjoint(with: Set(picks1).union(initial)))

        let report = lab.path("status.html")
        let status = try runWinnow(["campaign", "status", "--campaign", campaign, "--report", report])
        #expect(status.status == 0, "\(status.stderr)")
        let lines = status.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let round1Line = try #require(lines.first { $0.first == "1" })
        let hits1 = picks1.filter { lab.truth[$0]!.active }.count
        // round, acquisition, picked, tested, hits, hit rate, labelled, actives
        let expected1: [String] = ["12", "12", String(hits1)]
        #expect(Array(round1Line[2...4]) == expected1)
        let actives0 = initial.filter { lab.truth[$0]!.active }.count + 1
        let cumulative: String = String(actives0 + hits1)
        #expect(round1Line[6] == "53")
        #expect(round1Line[7] == cumulative)
        let round2Line = try #require(lines.first { $0.first == "2" })
        #expect(Array(round2Line[2...3]) == ["12", "0"])
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("actives found") && html.contains("random expectation"))
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").count == 2)  // only the SVG namespace
    }

    /// A results file with an unknown id, a conflicting duplicate and an unreadable value is refused as
    /// a whole, each problem named with its row; a value that contradicts an earlier record too.
    @Test func badResultsFilesWriteNothing() throws {
        let lab = try BaceLab("campaign-bad-results", size: 120)
        let campaign = lab.path("c.sqlite")
        #expect(try lab.initialize(campaign, labels: Array(lab.order.prefix(20))).status == 0)
        let before = try CampaignStore.open(path: campaign).labels()
        let bad = lab.path("bad.csv")
        try """
        id,result
        BACE_50,active
        NOT_A_MOLECULE,inactive
        BACE_51,1
        BACE_51,0
        BACE_52,maybe

        """.write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try runWinnow(["campaign", "record", "--campaign", campaign, bad])
        #expect(result.status == 2)
        #expect(result.stderr.contains("3 problems"))
        #expect(result.stderr.contains("row 2: id NOT_A_MOLECULE is not in this campaign"))
        #expect(result.stderr.contains("row 4: id BACE_51 is recorded twice with different values"))
        #expect(result.stderr.contains("row 5: id BACE_52: value 'maybe'"))
        #expect(result.stderr.contains("nothing was written"))
        #expect(try CampaignStore.open(path: campaign).labels() == before)

        let conflicting = lab.path("conflict.csv")
        let firstId = lab.order[0], firstValue = lab.truth[firstId]!.active
        try "id,result\n\(firstId),\(firstValue ? "inactive" : "active")\n".write(toFile: conflicting, atomically: true, encoding: .utf8)
        let conflict = try runWinnow(["campaign", "record", "--campaign", campaign, conflicting])
        #expect(conflict.status == 2)
        #expect(conflict.stderr.contains("id \(firstId) already has the value"))
        #expect(try CampaignStore.open(path: campaign).labels() == before)

        // Not a campaign at all, or a damaged one: a clear message, no crash.
        let notCampaign = try runWinnow(["campaign", "status", "--campaign", lab.pool])
        #expect(notCampaign.status == 2 && notCampaign.stderr.contains("cannot read the campaign file"))
    }

    /// A command killed inside its transaction (SIGKILL just before the commit) leaves the campaign
    /// exactly as it was; the same command then succeeds.
    @Test func killedCommandsLeaveTheCampaignUnchanged() throws {
        let lab = try BaceLab("campaign-kill", size: 150)
        let campaign = lab.path("c.sqlite")
        let fault = ["WINNOW_FAULT": "kill-before-commit"]

        let labelsFile = try lab.writeLabels(Array(lab.order.prefix(30)), name: "initial.csv")
        let initArguments = ["campaign", "init", "--campaign", campaign, "--pool", lab.pool, "--smiles-column", "smiles", "--id-column", "id",
                             "--labels", labelsFile, "--label-column", "Class", "--epochs", "4", "--members", "2"]
        let killedInit = try runWinnow(initArguments, environment: fault)
        #expect(killedInit.signalled && killedInit.status == SIGKILL,
                "not killed: the hook is compiled only with -Xswiftc -DWINNOW_FAULT_INJECTION (scripts/test passes it)")
        #expect(!FileManager.default.fileExists(atPath: campaign))
        #expect(try runWinnow(initArguments).status == 0)

        func snapshot() throws -> String {
            let store = try CampaignStore.open(path: campaign)
            return "\(try store.labels())|\(try store.rounds())|\(try store.picks())"
        }
        let start = try snapshot()
        let picks = lab.path("round1.csv")
        let killedSelect = try runWinnow(["campaign", "select", "--campaign", campaign, "--batch", "8", "-o", picks], environment: fault)
        #expect(killedSelect.signalled)
        #expect(try snapshot() == start)
        #expect(!FileManager.default.fileExists(atPath: picks))
        #expect(try runWinnow(["campaign", "select", "--campaign", campaign, "--batch", "8", "-o", picks]).status == 0)

        let afterSelect = try snapshot()
        #expect(afterSelect != start)
        let results = try lab.results(for: picks, name: "results1.csv")
        let killedRecord = try runWinnow(["campaign", "record", "--campaign", campaign, results], environment: fault)
        #expect(killedRecord.signalled)
        #expect(try snapshot() == afterSelect)
        let recorded = try runWinnow(["campaign", "record", "--campaign", campaign, results])
        #expect(recorded.status == 0 && recorded.stdout.contains("recorded 8 results"))
    }

    /// Picks still waiting for results and --exclude ids are not offered; the same campaign state and
    /// seed give the same picks.
    @Test func pendingAndExcludedMoleculesAreNotPickedAndPicksAreDeterministic() throws {
        let lab = try BaceLab("campaign-exclude", size: 150)
        for name in ["a.sqlite", "b.sqlite"] {
            #expect(try lab.initialize(lab.path(name), labels: Array(lab.order.prefix(30))).status == 0)
        }
        let first = lab.path("a1.csv"), twin = lab.path("b1.csv")
        #expect(try runWinnow(["campaign", "select", "--campaign", lab.path("a.sqlite"), "--batch", "10", "-o", first]).status == 0)
        #expect(try runWinnow(["campaign", "select", "--campaign", lab.path("b.sqlite"), "--batch", "10", "-o", twin]).status == 0)
        #expect(try String(contentsOfFile: first, encoding: .utf8) == String(contentsOfFile: twin, encoding: .utf8))

        let excluded = Array(lab.order[30..<60])
        try excluded.joined(separator: "\n").write(toFile: lab.path("exclude.txt"), atomically: true, encoding: .utf8)
        let second = lab.path("a2.csv")
        let result = try runWinnow(["campaign", "select", "--campaign", lab.path("a.sqlite"), "--batch", "10", "--exclude", lab.path("exclude.txt"),
                                    "-o", second])
        #expect(result.status == 0, "\(result.stderr)")
        let picks2 = try pickIds(second)
        #expect(picks2.count == 10)
        #expect(Set(picks2).isDisjoint(with: try pickIds(first)))
        #expect(Set(picks2).isDisjoint(with: excluded))
    }

    /// Continuous labels with --minimize (a docking-like score: lower is better; here minus the heavy
    /// atom count, which a fingerprint model learns easily): greedy picks beat the pool average.
    @Test func continuousLabelsWithMinimize() throws {
        let lab = try BaceLab("campaign-regression", size: 200)
        let parser = try MoleculeParser()
        var value: [String: Double] = [:]
        for id in lab.order { value[id] = -Double(try parser.parse(smiles: lab.truth[id]!.smiles).atomCount) / 10 }
        var text = "id,score\n"
        for id in lab.order.prefix(60) { text += "\(id),\(value[id]!)\n" }
        try text.write(toFile: lab.path("scores.csv"), atomically: true, encoding: .utf8)
        let campaign = lab.path("c.sqlite")
        let created = try runWinnow(["campaign", "init", "--campaign", campaign, "--pool", lab.pool, "--smiles-column", "smiles", "--id-column", "id",
                                     "--labels", lab.path("scores.csv"), "--minimize", "--epochs", "30", "--members", "2"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("regression (lower is better)"))
        let picks = lab.path("r1.csv")
        let selected = try runWinnow(["campaign", "select", "--campaign", campaign, "--batch", "15", "-o", picks])
        #expect(selected.status == 0, "\(selected.stderr)")
        let chosen: [Double] = try pickIds(picks).map { value[$0]! }
        let rest: [Double] = lab.order.dropFirst(60).map { value[$0]! }
        let chosenMean: Double = chosen.reduce(0, +) / Double(chosen.count)
        let restMean: Double = rest.reduce(0, +) / Double(rest.count)
        #expect(chosenMean < restMean - 0.3, "picked mean \(chosenMean), pool mean \(restMean)")
        let status = try runWinnow(["campaign", "status", "--campaign", campaign])
        #expect(status.stdout.contains("best_in_round"))
    }
}
