/// Exact masses for `ExactMolWt` and isotope-labelled atoms (RDKit's periodic table, via
/// `PatternTables+Data.swift`).
extension Elements {
    private static let monoisotopic: [Double] = {
        var table = [Double](repeating: 0, count: 119)
        for line in PatternTables.monoisotopicTSV.split(separator: "\n") {
            let f = line.split(separator: "\t")
            if f.count == 2, let z = Int(f[0]), z < table.count, let m = Double(f[1]) { table[z] = m }
        }
        return table
    }()

    private static let isotopes: [Int: Double] = {
        var table: [Int: Double] = [:]
        for line in PatternTables.isotopeTSV.split(separator: "\n") {
            let f = line.split(separator: "\t")
            if f.count == 3, let z = Int(f[0]), let a = Int(f[1]), let m = Double(f[2]) { table[z * 1000 + a] = m }
        }
        return table
    }()

    /// Mass of the most common isotope (0 for the dummy atom and unknown numbers).
    public static func monoisotopicMass(_ atomicNumber: Int) -> Double {
        atomicNumber > 0 && atomicNumber < monoisotopic.count ? monoisotopic[atomicNumber] : 0
    }

    /// Mass of one isotope; the mass number itself where the table has no entry.
    public static func isotopeMass(_ atomicNumber: Int, _ massNumber: Int) -> Double {
        isotopes[atomicNumber * 1000 + massNumber] ?? Double(massNumber)
    }
}
