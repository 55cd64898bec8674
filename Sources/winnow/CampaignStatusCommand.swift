import ArgumentParser
import Campaigns
import Foundation
import Learning
import LibraryIO

struct CampaignStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per round: picks, results in, actives found, model metrics; --report adds an HTML plot.",
        discussion: "Example: winnow campaign status --campaign bace.sqlite --report status.html"
    )

    @Option(help: "Campaign file.") var campaign: String
    @Option(help: "Write an HTML page with the actives-found plot.") var report: String?
    @Option(help: "Write the pool records that could not be parsed (TSV).") var errors: String?

    func run() throws {
        try checkOutputs([report, errors], inputs: [campaign])
        let store = try CampaignStore.open(path: campaign)
        let status = try Campaign.status(store: store)
        let classification = status.taskKind == .classification
        print("campaign \(campaign): pool \(status.poolSize) molecules (\(status.rejected) library records rejected), \(status.taskKind.rawValue) labels")
        let header = classification
            ? ["round", "acquisition", "picked", "tested", "hits", "hit_rate", "labelled", "actives", "heldout_roc_auc"]
            : ["round", "acquisition", "picked", "tested", "best_in_round", "labelled", "best", "heldout_rmse"]
        var rows: [[String]] = []
        for r in status.rounds {
            let metrics = Campaign.roundNumbers(r.metrics)
            func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }
            if classification {
                rows.append([String(r.round), r.acquisition, String(r.picked), String(r.tested), String(r.pickedActives),
                             r.tested > 0 ? f(Double(r.pickedActives) / Double(r.tested)) : "-", String(r.labelled), String(r.actives),
                             f(metrics["validation_roc_auc"])])
            } else {
                rows.append([String(r.round), r.acquisition, String(r.picked), String(r.tested), f(r.bestPicked), String(r.labelled),
                             f(r.best), f(metrics["validation_rmse"])])
            }
        }
        let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in c == 1 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                                                 : String(repeating: " ", count: widths[c] - cell.count) + cell }.joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
        if let rate = status.baseRate { print(String(format: "random picks would hit about %.1f%% (active rate of the initial labels)", 100 * rate)) }
        if let errors {
            let out = try OutputFile(path: errors)
            try out.write("record\tid\tinput\treason\n")
            for r in try store.rejected() {
                var line = Array("\(r.record)\t".utf8)
                appendEscapedField(r.id.utf8, to: &line)
                line.append(9)
                appendEscapedField(r.input.utf8, to: &line)
                line.append(9)
                appendEscapedField(r.reason.utf8, to: &line, limit: 400)
                line.append(10)
                try out.write(line)
            }
            try out.close()
        }
        if let report {
            let html = statusPage(status, campaign: campaign, header: header, rows: rows)
            do { try html.write(toFile: report, atomically: true, encoding: .utf8) } catch {
                throw CampaignError("\(report): cannot write the report (\(error.localizedDescription))")
            }
            print("report: \(report)")
        }
    }

    func statusPage(_ status: Campaign.Status, campaign: String, header: [String], rows: [[String]]) -> String {
        var body = "<p class=\"meta\">Campaign file \(CampaignReport.escapeHTML(campaign)); pool \(status.poolSize) molecules; \(status.taskKind.rawValue) labels.</p>\n"
        if status.taskKind == .classification {
            var series = [CampaignReport.Series(name: "actives found", points: status.rounds.map { (Double($0.round), Double($0.actives)) }, colour: "#1f6fb4")]
            if let rate = status.baseRate, let first = status.rounds.first {
                // Random expectation: every molecule labelled after round 0 hits at the initial active rate.
                series.append(CampaignReport.Series(name: String(format: "random expectation (%.1f%% of new labels)", 100 * rate),
                                                    points: status.rounds.map { (Double($0.round), Double(first.actives) + rate * Double($0.labelled - first.labelled)) },
                                                    colour: "#999", dashed: true))
            }
            body += "<h2>Actives found per round</h2>\n" + CampaignReport.chart(series, xLabel: "round", yLabel: "actives labelled (cumulative)")
        } else {
            let series = [CampaignReport.Series(name: status.minimize ? "best (lowest) value so far" : "best value so far",
                                                points: status.rounds.compactMap { r in r.best.map { (Double(r.round), $0) } }, colour: "#1f6fb4")]
            body += "<h2>Best value per round</h2>\n" + CampaignReport.chart(series, xLabel: "round", yLabel: "best value")
        }
        body += "<h2>Rounds</h2>\n" + CampaignReport.table(header: header, rows: rows)
        return CampaignReport.page(title: "Winnow campaign status", body: body)
    }
}
