import Foundation

/// Metrics (numbers) and a few text fields as one flat JSON object: what `winnow train` prints and
/// writes to `--metrics`, and what `winnow evaluate` prints. Encoded with `JSONEncoder`, keys sorted
/// (the same bytes for the same values); numbers keep six decimals, and a NaN or infinite number
/// becomes `null` (JSON has no such numbers, and `JSONEncoder` would refuse the whole object).
public struct MetricsReport: Encodable, Sendable, Equatable {
    /// Metric name (e.g. "test.roc_auc") → value.
    public var numbers: [String: Double]
    /// Field name (e.g. "model") → text; a name in both takes the text.
    public var texts: [String: String]

    public init(numbers: [String: Double], texts: [String: String] = [:]) {
        self.numbers = numbers
        self.texts = texts
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (name, value) in numbers where texts[name] == nil {
            if value.isFinite {
                // Six decimals, as the metrics were always reported (a whole number prints without any).
                try container.encode(Double(String(format: "%.6f", value)) ?? value, forKey: Key(name))
            } else {
                try container.encodeNil(forKey: Key(name))
            }
        }
        for (name, text) in texts { try container.encode(text, forKey: Key(name)) }
    }

    /// The object as UTF-8 JSON text: sorted keys, two-space indentation, a final newline.
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
