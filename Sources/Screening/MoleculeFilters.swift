import Chemistry
import Foundation
import LibraryIO

/// A SMARTS pattern and the name filter reasons give it (the SMARTS itself when none was given).
public struct NamedPattern: Sendable {
    public var name: String
    public var pattern: SMARTS

    public init(name: String, pattern: SMARTS) { self.name = name; self.pattern = pattern }

    /// A pattern given on the command line: its text is its name.
    public init(smarts: String) throws(SMARTSError) {
        pattern = try SMARTS(smarts)
        name = smarts
    }

    /// Patterns from a file of `SMARTS<TAB>name` lines (name optional; blank lines and lines
    /// starting with `#` skipped). A bad pattern names the file and line.
    public static func read(file path: String) throws -> [NamedPattern] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw InputError("\(path): cannot read the SMARTS file")
        }
        var patterns: [NamedPattern] = []
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            do {
                let pattern = try SMARTS(fields[0])
                patterns.append(NamedPattern(name: fields.count > 1 && !fields[1].isEmpty ? fields[1] : fields[0], pattern: pattern))
            } catch {
                throw InputError("\(path): line \(index + 1): '\(fields[0])': \(error)")
            }
        }
        if patterns.isEmpty { throw InputError("\(path): no SMARTS patterns in the file") }
        return patterns
    }
}

/// The screen's filters (`--where`, `--rule`, `--require`, `--exclude`, `--exclude-alerts`),
/// applied by the worker to each parsed molecule before it is scored. Cheap tests come first:
/// descriptor conditions (each descriptor computed only when a condition reads it), then the
/// user's SMARTS, then the alert sets (hundreds of patterns).
public struct MoleculeFilters: Sendable {
    public var rules: [DescriptorRule] = []
    public var conditions: [DescriptorExpression] = []
    public var required: [NamedPattern] = []
    public var excluded: [NamedPattern] = []
    public var excludedAlerts: [AlertMatcher.Set] = []

    public init() {}

    public var isEmpty: Bool {
        rules.isEmpty && conditions.isEmpty && required.isEmpty && excluded.isEmpty && excludedAlerts.isEmpty
    }

    /// Why the molecule is filtered out (the filter and what failed), or nil when it passes.
    public func rejection(_ graph: MolecularGraph) -> String? {
        guard !isEmpty else { return nil }
        // The substructure target (ring sets) is made only if a descriptor or pattern needs it.
        var values = LazyDescriptors(graph)
        for rule in rules {
            var failed: [String] = []
            for (text, condition) in zip(rule.conditions, rule.expressions) {
                if condition.evaluate(&values) { continue }
                failed.append("\(text) (\(Self.valuesText(condition.descriptors, &values)))")
                if failed.count > rule.allowedViolations { break }
            }
            if failed.count > rule.allowedViolations {
                let allowed = rule.allowedViolations == 0 ? "" : "; at most \(rule.allowedViolations) may fail"
                return "rule \(rule.rawValue): fails " + failed.joined(separator: ", ") + allowed
            }
        }
        for condition in conditions {
            if condition.evaluate(&values) { continue }
            return "where \(condition.text): false (\(Self.valuesText(condition.descriptors, &values)))"
        }
        if required.isEmpty && excluded.isEmpty && excludedAlerts.isEmpty { return nil }
        let target = values.target
        for p in required where !target.hasMatch(p.pattern) { return "require \(p.name): no match" }
        for p in excluded where target.hasMatch(p.pattern) { return "exclude \(p.name): matches" }
        for set in excludedAlerts {
            for alert in set.alerts where target.hasMatch(alert.pattern) { return "alert \(set.rawValue): \(alert.name)" }
        }
        return nil
    }

    static func valuesText(_ descriptors: [Descriptor], _ values: inout LazyDescriptors) -> String {
        descriptors.map { d in "\(d.rawValue) " + (values.value(d).map(formatDescriptor) ?? "NA") }.joined(separator: ", ")
    }

    /// What the filters are, for the checkpoint's settings and the report.
    public var description: String {
        var parts: [String] = []
        if !rules.isEmpty { parts.append("rules " + rules.map(\.rawValue).joined(separator: ",")) }
        for c in conditions { parts.append("where \(c.text)") }
        for p in required { parts.append("require \(p.pattern.text) (\(p.name))") }
        for p in excluded { parts.append("exclude \(p.pattern.text) (\(p.name))") }
        if !excludedAlerts.isEmpty { parts.append("exclude alerts " + excludedAlerts.map(\.rawValue).joined(separator: ",")) }
        return parts.isEmpty ? "-" : parts.joined(separator: "; ")
    }
}

/// A descriptor value in reasons: integers as integers, others with two decimals.
func formatDescriptor(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e9 ? String(Int(x)) : String(format: "%.2f", x)
}

/// A descriptor as `describe` and the hit list write it (the reference files' digits): 4 decimals,
/// exact mass 5, counts as integers, an undefined QED as NA.
public func descriptorText(_ values: MolecularDescriptors, _ descriptor: Descriptor) -> String {
    switch descriptor {
    case .exactMass: return String(format: "%.5f", values.exactMass)
    case .molWt, .clogp, .mr, .tpsa, .fractionCSP3, .qed: return values[descriptor].map { String(format: "%.4f", $0) } ?? "NA"
    case .heavyAtoms, .hbd, .hba, .lipinskiHBD, .lipinskiHBA, .rotatableBonds, .rings, .aromaticRings, .formalCharge:
        return values[descriptor].map { String(Int($0)) } ?? "NA"
    }
}

/// The descriptor and alert columns the hit list, hit SDF and report show (`--properties`, `--alerts`).
public struct HitProperties: Sendable {
    public var descriptors: [Descriptor] = []
    public var alerts: [AlertMatcher.Set] = []

    public init(descriptors: [Descriptor] = [], alerts: [AlertMatcher.Set] = []) { self.descriptors = descriptors; self.alerts = alerts }

    public var isEmpty: Bool { descriptors.isEmpty && alerts.isEmpty }

    public var columns: [String] { descriptors.map(\.rawValue) + (alerts.isEmpty ? [] : ["alerts"]) }

    /// The values of `columns` for one molecule (empty strings when it could not be read).
    public func values(_ graph: MolecularGraph?) -> [String] {
        guard !isEmpty else { return [] }
        guard let graph else { return columns.map { _ in "" } }
        var lazy = LazyDescriptors(graph)
        var out = descriptors.map { d -> String in
            _ = lazy.value(d)
            return descriptorText(lazy.values, d)
        }
        if !alerts.isEmpty { out.append(AlertMatcher.matchedNames(alerts.flatMap(\.alerts), in: lazy.target).joined(separator: ";")) }
        return out
    }

    /// Parses `--properties`: `all`, or column names / aliases separated by commas.
    public static func descriptors(from list: String) -> Result<[Descriptor], DescriptorNameError> {
        if list.trimmingCharacters(in: .whitespaces).lowercased() == "all" { return .success(Descriptor.allCases) }
        var out: [Descriptor] = []
        for raw in list.split(separator: ",", omittingEmptySubsequences: false) {
            let name = raw.trimmingCharacters(in: .whitespaces)
            guard let d = Descriptor(name: name) else { return .failure(DescriptorNameError(name: name)) }
            if !out.contains(d) { out.append(d) }
        }
        return .success(out)
    }
}

public struct DescriptorNameError: Error, CustomStringConvertible {
    public let name: String
    public var description: String {
        "unknown descriptor '\(name)' (known: all, " + Descriptor.allCases.map(\.rawValue).joined(separator: ", ") + "; aliases "
            + Descriptor.aliases.keys.sorted().joined(separator: ", ") + ")"
    }
}
