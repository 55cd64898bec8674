import Foundation
import LibraryIO

/// Self-contained HTML pages (inline SVG, no scripts, no network) for campaign status and simulations.
public enum CampaignReport {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var colour: String
        public var dashed = false
        public init(name: String, points: [(x: Double, y: Double)], colour: String, dashed: Bool = false) {
            self.name = name; self.points = points; self.colour = colour; self.dashed = dashed
        }
    }

    /// A line chart with axes, ticks and a legend.
    public static func chart(_ series: [Series], xLabel: String, yLabel: String, width: Double = 640, height: Double = 360) -> String {
        let left = 64.0, right = 16.0, top = 16.0, bottom = 48.0
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let xMax = max(xs.max() ?? 1, 1e-9), yMax = niceCeiling(max(ys.max() ?? 1, 1e-9))
        func px(_ x: Double) -> Double { left + (width - left - right) * x / xMax }
        func py(_ y: Double) -> Double { height - bottom - (height - top - bottom) * y / yMax }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height + 22.0 * Double(series.count)))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<line x1=\"\(left)\" y1=\"\(py(0))\" x2=\"\(width - right)\" y2=\"\(py(0))\" stroke=\"#333\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(py(0))\" x2=\"\(left)\" y2=\"\(top)\" stroke=\"#333\"/>\n"
        for k in 0...4 {
            let y = yMax * Double(k) / 4
            svg += "<line x1=\"\(left - 4)\" y1=\"\(py(y))\" x2=\"\(width - right)\" y2=\"\(py(y))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(left - 8)\" y=\"\(py(y) + 4)\" text-anchor=\"end\">\(tick(y))</text>\n"
        }
        let xTicks = Set(xs).sorted()
        let step = max(1, xTicks.count / 10)
        for (i, x) in xTicks.enumerated() where i % step == 0 || i == xTicks.count - 1 {
            svg += "<text x=\"\(px(x))\" y=\"\(py(0) + 16)\" text-anchor=\"middle\">\(tick(x))</text>\n"
        }
        svg += "<text x=\"\((left + width - right) / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\">\(escapeHTML(xLabel))</text>\n"
        svg += "<text transform=\"translate(16,\((top + height - bottom) / 2)) rotate(-90)\" text-anchor=\"middle\">\(escapeHTML(yLabel))</text>\n"
        for s in series where !s.points.isEmpty {
            let path = s.points.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(path)\"/>\n"
            for p in s.points where !s.dashed {
                svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>", px(p.x), py(p.y), s.colour)
            }
            svg += "\n"
        }
        for (i, s) in series.enumerated() {
            let y = height + 14 + 22 * Double(i)
            svg += "<line x1=\"\(left)\" y1=\"\(y - 4)\" x2=\"\(left + 28)\" y2=\"\(y - 4)\" stroke=\"\(s.colour)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
            svg += "<text x=\"\(left + 36)\" y=\"\(y)\">\(escapeHTML(s.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    static func niceCeiling(_ v: Double) -> Double {
        let magnitude = pow(10, floor(log10(v)))
        for m in [1.0, 2, 2.5, 5, 10] where m * magnitude >= v { return m * magnitude }
        return 10 * magnitude
    }

    static func tick(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(format: "%.2f", v)
    }

    public static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escapeHTML(title))</title>
        <style>
        body { font-family: sans-serif; margin: 2em; color: #222; max-width: 60em; }
        table { border-collapse: collapse; margin: 1em 0; }
        th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
        th { background: #f0f0f0; }
        td.text { text-align: left; }
        .meta { color: #555; }
        </style></head><body>
        <h1>\(escapeHTML(title))</h1>
        \(body)
        </body></html>

        """
    }

    public static func table(header: [String], rows: [[String]]) -> String {
        var html = "<table>\n<tr>" + header.map { "<th>\(escapeHTML($0))</th>" }.joined() + "</tr>\n"
        for row in rows {
            html += "<tr>" + row.enumerated().map { i, cell in
                "<td\(i == row.count - 1 && Double(cell) == nil ? " class=\"text\"" : "")>\(escapeHTML(cell))</td>"
            }.joined() + "</tr>\n"
        }
        return html + "</table>\n"
    }

    public static func escapeHTML(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
