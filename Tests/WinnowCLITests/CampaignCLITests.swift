import Foundation
import Testing
import WinnowTestSupport

@Suite struct CampaignCLITests {
    /// The same seed gives the same campaign; recall never decreases; repeats average their seeds.
    @Test func simulationIsDeterministicForASeed() throws {
        let data = TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv").path
        let arguments = ["campaign", "simulate", "--data", data, "--label-column", "Class", "--initial", "0.05", "--batch", "0.05",
                         "--rounds", "3", "--acquisition", "ucb", "--epochs", "3", "--members", "2", "--repeats", "2", "--seed", "4"]
        let first = try runWinnow(arguments), second = try runWinnow(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        func recallLines(_ text: String) -> [String] { text.split(separator: "\n").filter { $0.contains("recall") }.map(String.init) }
        #expect(recallLines(first.stdout) == recallLines(second.stdout))
        let json = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        let recall = try #require(json?["recall"] as? [Double])
        #expect(recall.count == 4)
        #expect(zip(recall, recall.dropFirst()).allSatisfy { $0 <= $1 })
        #expect((json?["hits"] as? Int) == 691 && (json?["batch"] as? Int) == 76)
        let perSeed = try #require(json?["recall_per_seed"] as? [[Double]])
        #expect(perSeed.count == 2)
        #expect(abs((perSeed[0][3] + perSeed[1][3]) / 2 - recall[3]) < 1e-4)
        // The replay reads the molecules as `campaign init` reads a pool: standardised (BACE's 838
        // protonated amidines neutralised) unless --no-standardize.
        #expect(first.stderr.contains("winnow campaign simulate: standardised 838 molecules"), "\(first.stderr)")
        let raw = try runWinnow(["campaign", "simulate", "--data", data, "--label-column", "Class", "--initial", "0.05", "--batch", "0.05",
                                 "--rounds", "1", "--trees", "20", "--no-standardize"])
        #expect(raw.status == 0 && !raw.stderr.contains("standardised"), "\(raw.stderr)")
    }
}
