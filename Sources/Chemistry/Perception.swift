/// Chemistry perception that makes Open Babel's molecules agree with RDKit's sanitised molecules,
/// plus the checks Open Babel does not make (valence, kekulisation, aromatic atoms outside rings).
enum Perception {
    static func atomLabel(_ graph: MolecularGraph, _ atom: Int) -> String {
        let z = Int(graph.atomicNumbers[atom])
        var label = Elements.symbol(z)
        let charge = Int(graph.formalCharges[atom])
        if charge > 0 { label += charge == 1 ? "+" : "+\(charge)" }
        if charge < 0 { label += charge == -1 ? "-" : "\(charge)" }
        return "\(label) (atom \(atom + 1))"
    }

    /// Aromatic atoms written in lowercase must sit in a ring (`cc` is not benzene).
    static func checkWrittenAromaticity(_ graph: inout MolecularGraph, inputAromatic: [Bool]) throws(MoleculeError) {
        for i in 0..<graph.atomCount where inputAromatic[i] && !graph.atomFlags[i].contains(.inRing) {
            throw MoleculeError(.aromaticity, "aromatic atom \(atomLabel(graph, i)) is not in a ring")
        }
        // Kekulisation: every atom written aromatic must reach an allowed valence with the Kekulé
        // bond orders Open Babel assigned; an atom left short means no Kekulé structure exists.
        for i in 0..<graph.atomCount where inputAromatic[i] {
            guard let allowed = Elements.allowedValences(atomicNumber: Int(graph.atomicNumbers[i]),
                                                         charge: Int(graph.formalCharges[i])) else { continue }
            let v = graph.valence(i)
            // A 5-valent neutral N (pyridine N-oxide written O=n1ccccc1) is normalised later.
            if graph.atomicNumbers[i] == 7, graph.formalCharges[i] == 0, v == 5 { continue }
            if !allowed.contains(v), !graph.atomFlags[i].contains(.radical) {
                throw MoleculeError(.aromaticity, "aromatic system cannot be kekulized at \(atomLabel(graph, i)) (check for a missing [nH] or charge)")
            }
        }
    }

    /// RDKit's sanitisation clean-up: neutral 5-valent N=O (nitro, N-oxides) and N≡N (azides) become
    /// charge-separated, and neutral halogens with three =O become [X+3]([O-])([O-])[O-].
    static func normalizeLikeRDKit(_ graph: inout MolecularGraph) {
        for i in 0..<graph.atomCount where graph.formalCharges[i] == 0 {
            let z = graph.atomicNumbers[i]
            guard z == 7 || z == 17 || z == 35 || z == 53 else { continue }
            let v = graph.valence(i)
            let range = Int(graph.neighbourOffsets[i])..<Int(graph.neighbourOffsets[i + 1])
            if z == 7 && v == 5 {
                if let k = range.first(where: { k in
                    let o = Int(graph.neighbourAtoms[k])
                    return graph.atomicNumbers[o] == 8 && graph.formalCharges[o] == 0 && graph.bondOrders[Int(graph.neighbourBonds[k])] == 2
                }) {
                    graph.formalCharges[i] = 1
                    graph.formalCharges[Int(graph.neighbourAtoms[k])] = -1
                    graph.bondOrders[Int(graph.neighbourBonds[k])] = 1
                } else if let k = range.first(where: { k in
                    let o = Int(graph.neighbourAtoms[k])
                    return graph.atomicNumbers[o] == 7 && graph.formalCharges[o] == 0 && graph.bondOrders[Int(graph.neighbourBonds[k])] == 3
                }) {
                    graph.formalCharges[i] = 1
                    graph.formalCharges[Int(graph.neighbourAtoms[k])] = -1
                    graph.bondOrders[Int(graph.neighbourBonds[k])] = 2
                }
            } else if z != 7 && v == 7 {
                let oxo = range.filter { k in
                    let o = Int(graph.neighbourAtoms[k])
                    return graph.atomicNumbers[o] == 8 && graph.formalCharges[o] == 0 && graph.bondOrders[Int(graph.neighbourBonds[k])] == 2
                }
                if oxo.count == 3 {
                    graph.formalCharges[i] = 3
                    for k in oxo {
                        graph.formalCharges[Int(graph.neighbourAtoms[k])] = -1
                        graph.bondOrders[Int(graph.neighbourBonds[k])] = 1
                    }
                }
            }
        }
    }

    /// RDKit's organometallic clean-up: a neutral donor atom (the N of `[NH3]` on platinum) that is
    /// over its valence only because of single bonds to metals gets those bonds as dative bonds.
    static func markDativeBonds(_ graph: inout MolecularGraph) {
        for i in 0..<graph.atomCount {
            let z = Int(graph.atomicNumbers[i])
            guard let allowed = Elements.allowedValences(atomicNumber: z, charge: Int(graph.formalCharges[i])),
                  let maximum = allowed.last else { continue }
            var excess = graph.valence(i) - maximum
            guard excess > 0 else { continue }
            for k in Int(graph.neighbourOffsets[i])..<Int(graph.neighbourOffsets[i + 1]) where excess > 0 {
                let other = Int(graph.neighbourAtoms[k]), bond = Int(graph.neighbourBonds[k])
                let otherZ = Int(graph.atomicNumbers[other])
                if otherZ > 0, Elements.allowedValences(atomicNumber: otherZ, charge: 0) == nil, graph.bondOrders[bond] == 1 {
                    graph.bondFlags[bond].insert(.dative)
                    excess -= 1
                }
            }
        }
    }

    static func checkValences(_ graph: MolecularGraph) throws(MoleculeError) {
        for i in 0..<graph.atomCount {
            let z = Int(graph.atomicNumbers[i]), charge = Int(graph.formalCharges[i])
            guard let allowed = Elements.allowedValences(atomicNumber: z, charge: charge), let maximum = allowed.last else { continue }
            let v = graph.valence(i)
            if v > maximum {
                var message = "\(atomLabel(graph, i)) has valence \(v); at most \(maximum) is allowed"
                if charge == 0, let charged = Elements.allowedValences(atomicNumber: z, charge: 1), charged.contains(v), z != 6 {
                    message += " (a positive charge, [\(Elements.symbol(z))+], would allow it)"
                } else if charge == 0, z == 5, v == 4 {
                    message += " (a negative charge, [B-], would allow it)"
                }
                throw MoleculeError(.valence, message)
            }
        }
    }

    /// Aromaticity as RDKit perceives it (see MolecularGraph+Aromaticity.swift).
    static func assignAromaticity(_ graph: inout MolecularGraph) throws(MoleculeError) {
        try graph.perceiveAromaticity()
    }
}
