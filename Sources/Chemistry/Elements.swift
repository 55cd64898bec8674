/// Element facts: symbols, RDKit's valence model and atomic weights (see `Elements+Data.swift`).
public enum Elements {
    /// Atomic number for a symbol as written in SMILES (`"Cl"`, `"Se"`), or nil.
    public static func atomicNumber(of symbol: String) -> Int? {
        symbolIndex[symbol]
    }

    private static let symbolIndex: [String: Int] = {
        var index: [String: Int] = [:]
        for (z, symbol) in symbols.enumerated() where z > 0 { index[symbol] = z }
        return index
    }()

    /// Symbol for an atomic number, `"*"` for 0, `"?"` when out of range.
    public static func symbol(_ atomicNumber: Int) -> String {
        atomicNumber >= 0 && atomicNumber < symbols.count ? symbols[atomicNumber] : "?"
    }

    /// RDKit's average atomic weight (0 for the dummy atom and unknown numbers).
    public static func averageWeight(_ atomicNumber: Int) -> Double {
        atomicNumber > 0 && atomicNumber < averageWeights.count ? averageWeights[atomicNumber] : 0
    }

    /// The valences RDKit allows for an atom of this element and formal charge, or nil when any
    /// valence is accepted (metals, the dummy atom). A charged main-group atom takes the valences of
    /// its isoelectronic neighbour (N+ like C, O- like F), with RDKit's carbon exception: C+ and C-
    /// both have valence 3.
    public static func allowedValences(atomicNumber z: Int, charge: Int) -> [Int]? {
        guard z > 0, z < valences.count else { return nil }
        let own = valences[z]
        if own.contains(-1) { return nil }
        if charge == 0 { return own }
        // H+ has no bonds; a hydride may bridge two atoms (boranes), as RDKit accepts.
        if z == 1 { return charge > 0 ? [0] : [0, 1, 2] }
        if z == 6 { return abs(charge) == 1 ? [3] : (abs(charge) == 2 ? [2] : nil) }
        let effective = z - charge
        guard effective > 0, effective < valences.count else { return nil }
        // Only shift within the p-block rows the valence model describes; a shift that crosses into
        // metals or noble gases of another period would be meaningless, so accept any valence then.
        let shifted = valences[effective]
        if shifted.contains(-1) { return nil }
        return shifted
    }
}
