import Chemistry
import Foundation
import Learning
import LibraryIO

/// The chemist-facing outputs of a screen: an SDF of the hits and a self-contained HTML report.
public enum HitReport {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Hits as SDF: 2D coordinates from Open Babel, the hit-list values as data items.
    public static func writeSDF(_ hits: [ExplainedHit], to path: String) throws {
        let parser = try MoleculeParser()
        var text = ""
        for h in hits {
            var record: String
            do { record = try parser.molfile2D(smiles: h.hit.smiles) } catch { continue }
            // Title line = id; the program line without Open Babel's timestamp, so the file is
            // identical from run to run.
            var lines = record.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard lines.count > 3 else { continue }
            lines[0] = h.hit.id
            lines[1] = "  Winnow          2D"
            record = lines.joined(separator: "\n")
            if !record.hasSuffix("\n") { record += "\n" }
            let items: [(String, String)] = [
                ("rank", String(h.rank)), ("record", String(h.hit.record)), ("id", h.hit.id), ("smiles", h.hit.smiles),
                ("score", formatScore(h.hit.score)), ("uncertainty", formatScore(h.hit.uncertainty)),
                ("nearest_active", h.nearestActive),
                ("nearest_active_similarity", h.nearestActiveSimilarity.map { String(format: "%.4f", $0) } ?? ""),
                ("scaffold", h.scaffold),
            ]
            text += record
            for (name, value) in items { text += ">  <\(name)>\n\(value)\n\n" }
            text += "$$$$\n"
        }
        try OutputFile.write(text, to: path)
    }

    public struct RunInfo {
        public var modelPath: String
        public var libraryPath: String
        public var summary: ScreenSummary
        public var histogram: [Int]
        public var shard: String?
        public init(modelPath: String, libraryPath: String, summary: ScreenSummary, histogram: [Int], shard: String?) {
            self.modelPath = modelPath; self.libraryPath = libraryPath; self.summary = summary; self.histogram = histogram; self.shard = shard
        }
    }

    /// One HTML file, no network: hit table with structure pictures, score histogram with the hit
    /// cut-off, frequent scaffolds, run metadata.
    public static func writeHTML(_ hits: [ExplainedHit], model: TrainedModel, run: RunInfo, to path: String) throws {
        let parser = try MoleculeParser()
        let header = model.header
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Winnow hits: \(escape(URL(fileURLWithPath: run.libraryPath).lastPathComponent))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#222}
        table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:middle}
        th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}
        .mol svg{width:160px;height:160px}.smiles{font-family:monospace;font-size:85%;max-width:28em;word-break:break-all}
        .meta td{border:none;padding:2px 12px 2px 0}
        </style></head><body>
        <h1>Winnow screen: top \(hits.count) hits</h1>
        <h2>Run</h2><table class="meta">
        <tr><td>Model</td><td>\(escape(run.modelPath)) — \(header.kind.rawValue) × \(header.members), tasks \(escape(header.tasks.joined(separator: ", "))), trained on \(escape(header.trainingData.file)) (\(header.trainingData.rows) molecules, \(escape(header.trainingData.split)))</td></tr>
        <tr><td>Model metrics</td><td>\(escape(header.metrics.filter { $0.key.hasPrefix("test.") && !$0.key.hasSuffix("molecules") }.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3f", $0.value))" }.joined(separator: ", ")))</td></tr>
        <tr><td>Library</td><td>\(escape(run.libraryPath))\(run.shard.map { " (shard \($0))" } ?? "")</td></tr>
        <tr><td>Molecules</td><td>read \(run.summary.read), scored \(run.summary.scored), rejected \(run.summary.rejected)</td></tr>
        <tr><td>Time</td><td>\(String(format: "%.1f s (%.0f molecules/s)", run.summary.seconds, run.summary.rate))</td></tr>
        </table>

        """
        html += "<h2>Score distribution</h2>\n" + histogramSVG(run.histogram, cutoff: hits.last.map { Double($0.hit.score) }) + "\n"
        // Frequent scaffolds among the hits (grouped by scaffold identity, shown as SMILES).
        var groups: [String: (smiles: String, count: Int, first: Int)] = [:]
        for h in hits where !h.scaffold.isEmpty {
            let key = (try? parser.parse(smiles: h.scaffold).scaffoldKey()) ?? h.scaffold
            groups[key, default: (h.scaffold, 0, h.rank)].count += 1
        }
        let frequent = groups.values.sorted { $0.count != $1.count ? $0.count > $1.count : $0.first < $1.first }.prefix(10)
        html += "<h2>Most frequent scaffolds among the hits</h2>\n<table><tr><th>Scaffold</th><th></th><th class=\"num\">Hits</th><th class=\"num\">Best rank</th></tr>\n"
        for group in frequent {
            let picture = (try? parser.svg(smiles: group.smiles, size: 160)).map(inlineSVG) ?? ""
            html += "<tr><td class=\"mol\">\(picture)</td><td class=\"smiles\">\(escape(group.smiles))</td><td class=\"num\">\(group.count)</td><td class=\"num\">\(group.first)</td></tr>\n"
        }
        html += "</table>\n<h2>Hits</h2>\n<table><tr><th class=\"num\">Rank</th><th>Structure</th><th>Id</th><th class=\"num\">Score</th><th class=\"num\">Uncertainty</th><th>Nearest known active</th><th class=\"num\">Tanimoto</th><th>SMILES</th></tr>\n"
        for h in hits {
            let picture = (try? parser.svg(smiles: h.hit.smiles, size: 160)).map(inlineSVG) ?? "(no depiction)"
            html += "<tr><td class=\"num\">\(h.rank)</td><td class=\"mol\">\(picture)</td><td>\(escape(h.hit.id))</td>"
                + "<td class=\"num\">\(formatScore(h.hit.score))</td><td class=\"num\">\(formatScore(h.hit.uncertainty))</td>"
                + "<td>\(escape(h.nearestActive))</td><td class=\"num\">\(h.nearestActiveSimilarity.map { String(format: "%.3f", $0) } ?? "")</td>"
                + "<td class=\"smiles\">\(escape(h.hit.smiles))</td></tr>\n"
        }
        html += "</table>\n<p>Made by \(escape(header.software)) (Open Babel 3.1.1 depictions).</p>\n</body></html>\n"
        try OutputFile.write(html, to: path)
    }

    /// Open Babel's SVG without its XML prolog, so it can sit inside HTML.
    static func inlineSVG(_ svg: String) -> String {
        guard let start = svg.range(of: "<svg") else { return "" }
        return String(svg[start.lowerBound...])
    }

    static func histogramSVG(_ bins: [Int], cutoff: Double?) -> String {
        let width = 600.0, height = 200.0, margin = 30.0
        let peak = Double(max(bins.max() ?? 1, 1))
        let barWidth = (width - 2 * margin) / Double(max(bins.count, 1))
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height + 30))\" role=\"img\" aria-label=\"histogram of all scores\">\n"
        for (i, count) in bins.enumerated() {
            // Square-root scale so that the few high scores stay visible next to the bulk.
            let h = (Double(count) / peak).squareRoot() * height
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#6a8fc7\"><title>%.2f–%.2f: %d</title></rect>\n",
                          margin + Double(i) * barWidth, height - h, barWidth - 1, h,
                          Double(i) / Double(bins.count), Double(i + 1) / Double(bins.count), count)
        }
        svg += "<line x1=\"\(margin)\" y1=\"\(height)\" x2=\"\(width - margin)\" y2=\"\(height)\" stroke=\"#333\"/>\n"
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%.2f</text>\n", margin + tick * (width - 2 * margin), height + 15, tick)
        }
        if let cutoff {
            let x = margin + min(max(cutoff, 0), 1) * (width - 2 * margin)
            svg += String(format: "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/>\n", x, x, height)
            let anchor = x > width / 2 ? "end" : "start"
            let labelX = String(format: "%.1f", x > width / 2 ? x - 4 : x + 4), value = String(format: "%.3f", cutoff)
            svg += "<text x=\"\(labelX)\" y=\"12\" font-size=\"11\" fill=\"#c0392b\" text-anchor=\"\(anchor)\">hit cut-off \(value)</text>\n"
        }
        svg += "<text x=\"\(width / 2)\" y=\"\(height + 28)\" font-size=\"11\" text-anchor=\"middle\">score (square-root scale counts)</text>\n</svg>"
        return svg
    }
}
