/// Structural alert sets (PAINS A+B+C, Brenk) matched on a prepared molecule.
public enum AlertMatcher {
    public enum Set: String, CaseIterable, Sendable {
        case pains, brenk

        public var alerts: [PatternTables.Alert] {
            switch self {
            case .pains: return PatternTables.pains
            case .brenk: return PatternTables.brenk
            }
        }
    }

    /// Names of the alerts that match, in table order.
    public static func matchedNames(_ alerts: [PatternTables.Alert], in target: SubstructureTarget) -> [String] {
        var names: [String] = []
        for i in alerts.indices where target.hasMatch(alerts[i].pattern) { names.append(alerts[i].name) }
        return names
    }

    /// Parses a comma-separated list of set names (`pains,brenk`).
    public static func sets(from list: String) -> Result<[Set], AlertSetError> {
        var sets: [Set] = []
        for name in list.split(separator: ",").map({ $0.trimmingSpaces().lowercased() }) where !name.isEmpty {
            guard let set = Set(rawValue: name) else { return .failure(AlertSetError(name: name)) }
            if !sets.contains(set) { sets.append(set) }
        }
        return .success(sets)
    }
}

public struct AlertSetError: Error, CustomStringConvertible, Sendable {
    public let name: String
    public var description: String {
        "unknown alert set '\(name)' (known: \(AlertMatcher.Set.allCases.map(\.rawValue).joined(separator: ", ")))"
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
