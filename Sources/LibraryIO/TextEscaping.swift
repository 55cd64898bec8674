import Foundation

/// Makes an input record safe for one TSV field: tabs, line breaks, control and non-ASCII bytes
/// become `\t`, `\n`, `\r`, `\xNN`, so an errors file always has four fields per line.
public func appendEscapedField<C: Collection>(_ bytes: C, to out: inout [UInt8], limit: Int = 200) where C.Element == UInt8 {
    let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
    var written = 0
    for c in bytes {
        if written >= limit { out.append(contentsOf: "...".utf8); return }
        switch c {
        case 9: out.append(contentsOf: "\\t".utf8)
        case 10: out.append(contentsOf: "\\n".utf8)
        case 13: out.append(contentsOf: "\\r".utf8)
        case 92: out.append(contentsOf: "\\\\".utf8)
        case 0x20..<0x7F: out.append(c)
        default:
            out.append(contentsOf: "\\x".utf8)
            out.append(hex[Int(c >> 4)])
            out.append(hex[Int(c & 15)])
        }
        written += 1
    }
}

/// Scores are written with at least 6 decimals, and with more when 6 would not read back as the
/// same Float: ties at 6 decimals keep their order through `merge`, and files compare byte for byte.
public func formatScore(_ value: Float) -> String {
    guard value.isFinite else { return "\(value)" }
    // Swift's shortest round-trip digits: when they already have 6 or more decimals they are exactly
    // what the loop below would find (checked on 5 million values), at a tenth of the cost of
    // String(format:) — this runs once per molecule for --all-scores and predict.
    let shortest = value.description
    if !shortest.contains("e"), let dot = shortest.firstIndex(of: "."),
       shortest.distance(from: dot, to: shortest.endIndex) > 6 {
        return shortest
    }
    for decimals in 6...17 {
        let text = String(format: "%.*f", decimals, Double(value))
        if Float(text) == value { return text }
    }
    // Tiny magnitudes: Swift's shortest representation, which reads back exactly.
    return "\(value)"
}

/// Quotes a CSV field when it holds a comma, quote or line break.
public func csvField(_ text: String) -> String {
    if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    return text
}
