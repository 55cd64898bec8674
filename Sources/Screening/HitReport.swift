import Chemistry
import Foundation
import Learning
import LibraryIO

/// How much of Open Babel's 2D layout (gen2D) a hit may use. Its time can explode with size (a
/// 290-atom hit took 350 s; a 151-atom branched alkane over 60 s where 126 atoms took 0.7 s, see
/// scripts/bench/depiction) and it cannot be interrupted, so hits beyond the size limits are not
/// laid out at all, and any other layout runs in a child process stopped after `seconds`. Hits not
/// laid out get no picture in the report and zero coordinates in the SDF, with a note saying why.
public struct DepictionLimits: Sendable {
    public var maxHeavyAtoms: Int
    /// Independent rings (bonds − atoms + fragments).
    public var maxRings: Int
    /// Time limit of one layout (0: none).
    public var seconds: Double

    public init(maxHeavyAtoms: Int = 120, maxRings: Int = 20, seconds: Double = 5) {
        self.maxHeavyAtoms = maxHeavyAtoms; self.maxRings = maxRings; self.seconds = seconds
    }

    /// Why a molecule is not laid out, or nil when it is within the limits.
    public func refusal(_ graph: MolecularGraph) -> String? {
        if graph.atomCount > maxHeavyAtoms {
            return "not laid out in 2D: \(graph.atomCount) heavy atoms, above the limit of \(maxHeavyAtoms)"
        }
        let rings = graph.bondCount - graph.atomCount + graph.fragmentCount
        if rings > maxRings { return "not laid out in 2D: \(rings) rings, above the limit of \(maxRings)" }
        return nil
    }

    /// The refusal for a SMILES (parsed with `parser`), or nil when it may be laid out. A hit that
    /// `parser` cannot read (a hit above the default input limits, scored under raised ones) is
    /// refused too: its size is unknown, and Open Babel's layout of a large molecule only ends at
    /// the time limit.
    func refusal(smiles: String, parser: MoleculeParser) -> String? {
        do throws(MoleculeError) {
            return refusal(try parser.parse(smiles: smiles))
        } catch {
            return "not laid out in 2D: \(error.message)"
        }
    }

    /// A molfile record with 2D coordinates, or, for a hit beyond the limits or whose layout failed
    /// or ran out of time, the record without layout and the reason.
    func molfile(smiles: String, parser: MoleculeParser) -> (record: String, note: String?) {
        var note = refusal(smiles: smiles, parser: parser)
        if note == nil {
            do { return (try parser.molfile2D(smiles: smiles, timeLimit: seconds), nil) } catch {
                note = "not laid out in 2D: \(error.message)"
            }
        }
        do throws(MoleculeError) {
            return (try parser.molfile2D(smiles: smiles, layout: false), note)
        } catch {
            // Not even a molfile without layout: an empty structure keeps the hit's record and data
            // items in the file, with the reason.
            return (Self.emptyMolfile, "no structure written: \(error.message)")
        }
    }

    /// A V2000 record of no atoms (title and program lines are replaced by the writer).
    static let emptyMolfile = "\n\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n"

    /// An SVG picture, or why there is none.
    func picture(smiles: String, parser: MoleculeParser, size: Int) -> Result<String, PictureRefusal> {
        if let note = refusal(smiles: smiles, parser: parser) { return .failure(PictureRefusal(note: note)) }
        do { return .success(try parser.svg(smiles: smiles, size: size, timeLimit: seconds)) } catch {
            return .failure(PictureRefusal(note: "not drawn: \(error.message)"))
        }
    }
}

struct PictureRefusal: Error {
    var note: String
}

extension MolecularGraph {
    /// Connected pieces (`.`-separated parts of a SMILES).
    var fragmentCount: Int {
        var seen = [Bool](repeating: false, count: atomCount)
        var fragments = 0
        var stack: [Int] = []
        for root in 0..<atomCount where !seen[root] {
            fragments += 1
            seen[root] = true
            stack.append(root)
            while let atom = stack.popLast() {
                for k in Int(neighbourOffsets[atom])..<Int(neighbourOffsets[atom + 1]) {
                    let next = Int(neighbourAtoms[k])
                    if !seen[next] { seen[next] = true; stack.append(next) }
                }
            }
        }
        return fragments
    }
}

/// The chemist-facing outputs of a screen: an SDF of the hits and a self-contained HTML report.
public enum HitReport {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Hits as SDF: 2D coordinates from Open Babel, the hit-list values (task and kept columns
    /// included) as data items. A hit too large to lay out keeps zero coordinates and a `depiction`
    /// item saying why.
    public static func writeSDF(_ hits: [ExplainedHit], task: String, keptColumns: [String] = [], limits: DepictionLimits = DepictionLimits(),
                                to path: String) throws {
        let parser = try MoleculeParser()
        var text = ""
        for h in hits {
            let (layout, refusal) = limits.molfile(smiles: h.hit.smiles, parser: parser)
            var record = layout
            // Title line = id; the program line without Open Babel's timestamp, so the file is
            // identical from run to run.
            var lines = record.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.count <= 3 { lines = DepictionLimits.emptyMolfile.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
            lines[0] = h.hit.id
            lines[1] = refusal == nil ? "  Winnow          2D" : "  Winnow          0D"
            record = lines.joined(separator: "\n")
            if !record.hasSuffix("\n") { record += "\n" }
            var items: [(String, String)] = [
                ("rank", String(h.rank)), ("record", String(h.hit.record)), ("id", h.hit.id), ("smiles", h.hit.smiles),
                ("score", formatScore(h.hit.score)), ("uncertainty", h.hit.uncertainty.map(formatScore) ?? ""),
                ("nearest_active", h.nearestActive),
                ("nearest_active_similarity", h.nearestActiveSimilarity.map { String(format: "%.4f", $0) } ?? ""),
                ("scaffold", h.scaffold), ("task", task), ("inchikey", h.inchiKey), ("standardized", h.hit.standardized), ("duplicates", h.duplicates), ("duplicate_ids", h.duplicateIDs),
            ]
            items += zip(keptColumns, h.hit.kept).map { ($0, $1) }
            if let refusal { items.append(("depiction", refusal)) }
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
        public var histogram: ScoreHistogram
        public var shard: String?
        public var task: String
        public var minimize: Bool
        /// `--diverse`: its threshold, the hits asked for and the candidates it went through.
        public var diversity: (threshold: Double, asked: Int, candidates: Int)?
        public var limits: DepictionLimits
        /// The hit list's columns after `task` (kept library columns, properties, alerts), shown
        /// in the hit table.
        public var columns: [String]
        /// The filters applied before scoring, in words (nil: none).
        public var filters: String?
        /// Whether molecules were standardised when read (the counts are in `summary`).
        public var standardize = false
        public init(modelPath: String, libraryPath: String, summary: ScreenSummary, histogram: ScoreHistogram, shard: String?,
                    task: String, minimize: Bool = false, diversity: (threshold: Double, asked: Int, candidates: Int)? = nil,
                    limits: DepictionLimits = DepictionLimits(), columns: [String] = [], filters: String? = nil) {
            self.modelPath = modelPath; self.libraryPath = libraryPath; self.summary = summary; self.histogram = histogram; self.shard = shard
            self.task = task; self.minimize = minimize; self.diversity = diversity; self.limits = limits
            self.columns = columns; self.filters = filters
        }
    }

    /// The sentence saying how many hits the diversity filter let through (report and standard error).
    public static func diversitySentence(threshold: Double, allowed: Int, asked: Int, candidates: Int) -> String {
        "the diversity filter (no two hits above Tanimoto \(String(format: "%.2f", threshold))) allowed \(allowed) of the \(asked) hits asked"
            + " (from the \(candidates) best-scored candidates)"
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
        <tr><td>Task</td><td>\(escape(run.task)) (\(run.minimize ? "lowest score first, --minimize" : "highest score first"))</td></tr>
        <tr><td>Library</td><td>\(escape(run.libraryPath))\(run.shard.map { " (shard \($0))" } ?? "")</td></tr>
        <tr><td>Molecules</td><td>read \(run.summary.read), scored \(run.summary.scored), rejected \(run.summary.rejected)\(run.filters == nil ? "" : ", filtered \(run.summary.filtered)")\(run.summary.duplicates == 0 ? "" : ", duplicates \(run.summary.duplicates)")</td></tr>
        <tr><td>Time</td><td>\(String(format: "%.1f s (%.0f molecules/s)", run.summary.seconds, run.summary.rate))</td></tr>

        """
        html += "<tr><td>Standardisation</td><td>" + (run.standardize
            ? "on (largest organic fragment kept, charges neutralised where a hydrogen can be added or removed): \(escape(run.summary.standardized.description))"
            : "off") + "</td></tr>\n"
        if let filters = run.filters {
            html += "<tr><td>Filters</td><td>\(escape(filters))</td></tr>\n"
        }
        if let diversity = run.diversity {
            html += "<tr><td>Diversity</td><td>\(escape(diversitySentence(threshold: diversity.threshold, allowed: hits.count, asked: diversity.asked, candidates: diversity.candidates)))</td></tr>\n"
        }
        let pictures = hits.map { run.limits.picture(smiles: $0.hit.smiles, parser: parser, size: 160) }
        let undrawn = pictures.filter { if case .failure = $0 { return true } else { return false } }.count
        if undrawn > 0 {
            html += "<tr><td>Depictions</td><td>\(undrawn) of \(hits.count) hits not drawn: above \(run.limits.maxHeavyAtoms) heavy atoms or \(run.limits.maxRings) rings, or a 2D layout over \(String(format: "%g", run.limits.seconds)) s (Open Babel's layout can take minutes on large molecules)</td></tr>\n"
        }
        html += "</table>\n\n"
        html += "<h2>Score distribution</h2>\n" + histogramSVG(run.histogram, cutoff: hits.last.map { Double($0.hit.score) })
            + (run.histogram.nonFinite > 0 ? "<p>\(run.histogram.nonFinite) non-finite scores not shown.</p>" : "") + "\n"
        // Frequent scaffolds among the hits (grouped by scaffold identity, shown as SMILES).
        var groups: [String: (smiles: String, count: Int, first: Int)] = [:]
        for h in hits where !h.scaffold.isEmpty {
            let key = (try? parser.parse(smiles: h.scaffold).scaffoldKey()) ?? h.scaffold
            groups[key, default: (h.scaffold, 0, h.rank)].count += 1
        }
        let frequent = groups.values.sorted { $0.count != $1.count ? $0.count > $1.count : $0.first < $1.first }.prefix(10)
        html += "<h2>Most frequent scaffolds among the hits</h2>\n<table><tr><th>Scaffold</th><th></th><th class=\"num\">Hits</th><th class=\"num\">Best rank</th></tr>\n"
        for group in frequent {
            let picture: String
            switch run.limits.picture(smiles: group.smiles, parser: parser, size: 160) {
            case .success(let svg): picture = inlineSVG(svg)
            case .failure(let refusal): picture = "(no depiction: \(escape(refusal.note)))"
            }
            html += "<tr><td class=\"mol\">\(picture)</td><td class=\"smiles\">\(escape(group.smiles))</td><td class=\"num\">\(group.count)</td><td class=\"num\">\(group.first)</td></tr>\n"
        }
        html += "</table>\n<h2>Hits</h2>\n<table><tr><th class=\"num\">Rank</th><th>Structure</th><th>Id</th><th class=\"num\">Score</th><th class=\"num\">Uncertainty</th><th>Nearest known active</th><th class=\"num\">Tanimoto</th><th>SMILES</th>"
            + run.columns.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for (h, drawn) in zip(hits, pictures) {
            let picture: String
            switch drawn {
            case .success(let svg): picture = inlineSVG(svg)
            case .failure(let refusal): picture = "(no depiction: \(escape(refusal.note)))"
            }
            html += "<tr><td class=\"num\">\(h.rank)</td><td class=\"mol\">\(picture)</td><td>\(escape(h.hit.id))</td>"
                + "<td class=\"num\">\(formatScore(h.hit.score))</td><td class=\"num\">\(h.hit.uncertainty.map(formatScore) ?? "")</td>"
                + "<td>\(escape(h.note.isEmpty ? h.nearestActive : "(\(h.note))"))</td><td class=\"num\">\(h.nearestActiveSimilarity.map { String(format: "%.3f", $0) } ?? "")</td>"
                + "<td class=\"smiles\">\(escape(h.hit.smiles))</td>"
                + h.hit.kept.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
        }
        html += "</table>\n<p>Made by \(escape(header.software)) (Open Babel 3.1.1 depictions).</p>\n</body></html>\n"
        try OutputFile.write(html, to: path)
    }

    /// Open Babel's SVG without its XML prolog, so it can sit inside HTML.
    static func inlineSVG(_ svg: String) -> String {
        guard let start = svg.range(of: "<svg") else { return "" }
        return String(svg[start.lowerBound...])
    }

    /// The score histogram over the scores' real range (probabilities: 0 to 1), counts on a
    /// square-root scale, with the hit cut-off.
    static func histogramSVG(_ histogram: ScoreHistogram, cutoff: Double?) -> String {
        let width = 600.0, height = 200.0, margin = 30.0
        let bins = Array(histogram.shownCounts)
        let (lower, binWidth) = histogram.range
        let upper = lower + Double(max(bins.count, 1)) * binWidth
        let peak = Double(max(bins.max() ?? 1, 1))
        let barWidth = (width - 2 * margin) / Double(max(bins.count, 1))
        func x(_ value: Double) -> Double { margin + min(max((value - lower) / (upper - lower), 0), 1) * (width - 2 * margin) }
        func label(_ value: Double) -> String {
            histogram.scale == .probability ? String(format: "%.2f", value) : String(format: "%.4g", value)
        }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height + 30))\" role=\"img\" aria-label=\"histogram of all scores\">\n"
        for (i, count) in bins.enumerated() {
            // Square-root scale so that the few high scores stay visible next to the bulk.
            let h = (Double(count) / peak).squareRoot() * height
            let from = lower + Double(i) * binWidth
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#6a8fc7\"><title>", margin + Double(i) * barWidth, height - h,
                          max(barWidth - 1, 0.5), h)
                + "\(label(from))–\(label(from + binWidth)): \(count)</title></rect>\n"
        }
        svg += "<line x1=\"\(margin)\" y1=\"\(height)\" x2=\"\(width - margin)\" y2=\"\(height)\" stroke=\"#333\"/>\n"
        for tick in 0...4 {
            let value = lower + Double(tick) / 4 * (upper - lower)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">", x(value), height + 15) + label(value) + "</text>\n"
        }
        if let cutoff, cutoff.isFinite {
            let at = x(cutoff)
            svg += String(format: "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/>\n", at, at, height)
            let anchor = at > width / 2 ? "end" : "start"
            let labelX = String(format: "%.1f", at > width / 2 ? at - 4 : at + 4), value = String(format: "%.4g", cutoff)
            svg += "<text x=\"\(labelX)\" y=\"12\" font-size=\"11\" fill=\"#c0392b\" text-anchor=\"\(anchor)\">hit cut-off \(value)</text>\n"
        }
        svg += "<text x=\"\(width / 2)\" y=\"\(height + 28)\" font-size=\"11\" text-anchor=\"middle\">score (square-root scale counts)</text>\n</svg>"
        return svg
    }
}
