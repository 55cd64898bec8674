import COpenBabelShim

/// Turns SMILES strings and molfile records into validated `MolecularGraph`s through Open Babel.
///
/// One parser per thread: it owns an Open Babel parser (not thread safe) and scratch buffers. It is
/// `@unchecked Sendable` only so that a pool of parsers can be handed to worker threads; each
/// instance must be used by one thread at a time, which `ParserPool` guarantees.
public final class MoleculeParser: @unchecked Sendable {
    private let handle: OpaquePointer
    private var syntax = SMILESSyntax()

    /// Size limits checked before Open Babel sees a record (see `InputLimits`).
    public var limits: InputLimits {
        get { syntax.limits }
        set { syntax.limits = newValue }
    }

    /// What the standardiser changed in the last parsed molecule (nothing when `limits.standardize`
    /// is off), and running totals over this parser's molecules.
    public private(set) var lastChanges = Standardizer.Changes()
    public private(set) var standardized = Standardizer.Totals()

    public init(limits: InputLimits = InputLimits()) throws(MoleculeError) {
        syntax.limits = limits
        guard let handle = wob_parser_create() else {
            throw MoleculeError(.openBabel, "Open Babel's SMILES or MDL format plugin is missing (is libopenbabel7 installed?)")
        }
        self.handle = handle
    }

    deinit { wob_parser_destroy(handle) }

    // MARK: - SMILES

    public func parse(smiles: String) throws(MoleculeError) -> MolecularGraph {
        var copy = smiles
        let result: Result<MolecularGraph, MoleculeError> = copy.withUTF8 { buffer in
            do throws(MoleculeError) { return .success(try parse(smiles: buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public func parse(smiles: UnsafeBufferPointer<UInt8>) throws(MoleculeError) -> MolecularGraph {
        try syntax.check(smiles)
        let status = smiles.withMemoryRebound(to: CChar.self) { chars in
            wob_parser_parse(handle, WOB_SMILES, chars.baseAddress, chars.count)
        }
        try checkStatus(status)
        return finish(try build(tokens: syntax.atoms))
    }

    /// Applies the standardiser when the limits ask for it.
    private func finish(_ graph: MolecularGraph) -> MolecularGraph {
        guard limits.standardize else { return graph }
        let (result, changes) = Standardizer.standardize(graph)
        lastChanges = changes
        standardized.add(changes)
        return result
    }

    // MARK: - Molfile

    /// Parses one molfile record (header, counts line, atom and bond blocks, up to `M  END`).
    public func parse(molfile: String) throws(MoleculeError) -> MolecularGraph {
        var copy = molfile
        let limits = self.limits
        let checked: Result<wob_status, MoleculeError> = copy.withUTF8 { buffer in
            do throws(MoleculeError) {
                try MolfileCheck.check(buffer, limits: limits)
            } catch {
                return .failure(error)
            }
            return .success(buffer.withMemoryRebound(to: CChar.self) { chars in
                wob_parser_parse(handle, WOB_MOLFILE, chars.baseAddress, chars.count)
            })
        }
        try checkStatus(try checked.get())
        return finish(try build(tokens: nil))
    }

    // MARK: - Depictions (one thread at a time: the shim serialises them)

    /// An SVG picture of the molecule (Open Babel's 2D layout), `size` pixels square. With a
    /// `timeLimit` (seconds), the layout runs in a child process stopped when the time is up (an
    /// error saying so): some large molecules take minutes.
    public func svg(smiles: String, size: Int = 200, timeLimit: Double = 0) throws(MoleculeError) -> String {
        var copy = smiles
        let status = copy.withUTF8 { b in
            b.withMemoryRebound(to: CChar.self) {
                timeLimit > 0 ? wob_depict_svg_limited(handle, $0.baseAddress, $0.count, Int32(size), timeLimit)
                              : wob_depict_svg(handle, $0.baseAddress, $0.count, Int32(size))
            }
        }
        try checkStatus(status)
        return String(cString: wob_parser_text(handle))
    }

    /// A V2000 molfile record with 2D coordinates (no `$$$$` line); with `layout` false, the same
    /// record with every coordinate 0 (no 2D layout, which can take minutes for very large molecules).
    /// `timeLimit` as for `svg`.
    public func molfile2D(smiles: String, layout: Bool = true, timeLimit: Double = 0) throws(MoleculeError) -> String {
        var copy = smiles
        let status = copy.withUTF8 { b in
            b.withMemoryRebound(to: CChar.self) {
                !layout ? wob_molfile_no_layout(handle, $0.baseAddress, $0.count)
                    : timeLimit > 0 ? wob_molfile_2d_limited(handle, $0.baseAddress, $0.count, timeLimit)
                    : wob_molfile_2d(handle, $0.baseAddress, $0.count)
            }
        }
        try checkStatus(status)
        return String(cString: wob_parser_text(handle))
    }

    /// Open Babel's canonical isomeric SMILES of `smiles` (its `can` writer, stereo kept), to compare
    /// molecules written by different tools. One thread at a time, like the depictions.
    public func canonicalSMILES(_ smiles: String) throws(MoleculeError) -> String {
        var copy = smiles
        let status = copy.withUTF8 { b in b.withMemoryRebound(to: CChar.self) { wob_canonical_smiles(handle, $0.baseAddress, $0.count) } }
        try checkStatus(status)
        return String(cString: wob_parser_text(handle))
    }

    /// The standard InChIKey of `smiles` (Open Babel's InChI plugin; one at a time across threads).
    public func inchiKey(smiles: String) throws(MoleculeError) -> String {
        var copy = smiles
        let status = copy.withUTF8 { b in b.withMemoryRebound(to: CChar.self) { wob_inchikey(handle, $0.baseAddress, $0.count) } }
        try checkStatus(status)
        return String(cString: wob_parser_text(handle))
    }

    private func checkStatus(_ status: wob_status) throws(MoleculeError) {
        switch status {
        case WOB_OK: return
        case WOB_NO_ATOMS: throw MoleculeError(.empty, "the record has no atoms")
        default: throw MoleculeError(.openBabel, String(cString: wob_parser_message(handle)))
        }
    }

    // MARK: - From Open Babel's atoms to a validated graph

    private func build(tokens: [SMILESAtomToken]?) throws(MoleculeError) -> MolecularGraph {
        let rawAtomCount = Int(wob_parser_atom_count(handle))
        let rawBondCount = Int(wob_parser_bond_count(handle))
        guard let rawAtoms = wob_parser_atoms(handle) else { throw MoleculeError(.empty, "the record has no atoms") }
        let rawBonds = wob_parser_bonds(handle)
        if let tokens, tokens.count != rawAtomCount {
            throw MoleculeError(.openBabel, "Open Babel read \(rawAtomCount) atoms where the SMILES has \(tokens.count)")
        }

        // Hydrogen atoms that RDKit would remove are folded into their neighbour.
        var rawDegree = [Int32](repeating: 0, count: rawAtomCount)
        var firstNeighbour = [Int32](repeating: -1, count: rawAtomCount)
        for b in 0..<rawBondCount {
            let bond = rawBonds![b]
            rawDegree[Int(bond.begin)] += 1
            rawDegree[Int(bond.end)] += 1
            firstNeighbour[Int(bond.begin)] = bond.end
            firstNeighbour[Int(bond.end)] = bond.begin
        }
        var newIndex = [Int32](repeating: -1, count: rawAtomCount)
        var folded = [UInt8](repeating: 0, count: rawAtomCount)
        var kept: Int32 = 0
        for i in 0..<rawAtomCount {
            let atom = rawAtoms[i]
            if atom.atomic_number == 1, atom.isotope == 0, rawDegree[i] == 1,
               rawAtoms[Int(firstNeighbour[i])].atomic_number != 1 {
                folded[Int(firstNeighbour[i])] &+= 1
            } else {
                newIndex[i] = kept
                kept += 1
            }
        }

        var graph = MolecularGraph()
        let n = Int(kept)
        graph.atomicNumbers.reserveCapacity(n)
        graph.formalCharges.reserveCapacity(n)
        graph.isotopes.reserveCapacity(n)
        graph.hydrogenCounts.reserveCapacity(n)
        graph.deltaMasses.reserveCapacity(n)
        graph.atomFlags.reserveCapacity(n)
        graph.bondBegins.reserveCapacity(rawBondCount)
        graph.bondEnds.reserveCapacity(rawBondCount)
        graph.bondOrders.reserveCapacity(rawBondCount)
        graph.bondFlags.reserveCapacity(rawBondCount)
        var inputAromatic = [Bool](repeating: false, count: n)
        for i in 0..<rawAtomCount where newIndex[i] >= 0 {
            let atom = rawAtoms[i]
            guard atom.atomic_number >= 0, atom.atomic_number < 256 else {
                throw MoleculeError(.element, "atom \(i + 1) has an unsupported element")
            }
            // Open Babel reads `[N+0]` as +1 and wraps `[C+65535]` to -1: SMILES charges come from
            // Winnow's own reading of the string.
            let charge = tokens.map { Int($0[i].charge) } ?? Int(atom.formal_charge)
            guard abs(charge) <= SMILESSyntax.maxCharge else {
                throw MoleculeError(.element, "atom \(i + 1) has charge \(charge), beyond what any element can carry (at most ±\(SMILESSyntax.maxCharge))")
            }
            graph.atomicNumbers.append(UInt8(atom.atomic_number))
            graph.formalCharges.append(Int8(charge))
            graph.isotopes.append(UInt16(clamping: atom.isotope))
            graph.hydrogenCounts.append(UInt8(clamping: Int(atom.implicit_h) + Int(folded[i])))
            var delta: Int8 = 0
            if atom.isotope != 0 {
                let mass = atom.isotope_mass > 0 ? atom.isotope_mass : Double(atom.isotope)
                delta = Int8(clamping: Int(mass - Elements.averageWeight(Int(atom.atomic_number))))
            }
            graph.deltaMasses.append(delta)
            var flags: MolecularGraph.AtomFlags = []
            if atom.aromatic != 0 { flags.insert(.aromatic) }
            if atom.spin != 0 { flags.insert(.radical) }
            if let tokens { inputAromatic[Int(newIndex[i])] = tokens[i].aromatic }
            graph.atomFlags.append(flags)
        }
        for b in 0..<rawBondCount {
            let bond = rawBonds![b]
            let a = newIndex[Int(bond.begin)], c = newIndex[Int(bond.end)]
            guard a >= 0, c >= 0 else { continue }
            guard bond.order >= 1, bond.order <= 4 else {
                throw MoleculeError(.valence, "bond \(b + 1) has unsupported order \(bond.order)")
            }
            graph.bondBegins.append(a)
            graph.bondEnds.append(c)
            graph.bondOrders.append(UInt8(bond.order))
            graph.bondFlags.append(bond.aromatic != 0 ? .aromatic : [])
        }
        if tokens == nil {
            // SMILES ring closures were counted by the syntax check; a molfile's rings are
            // bonds − atoms + connected pieces.
            let rings = graph.bondBegins.count - n + graph.componentCount()
            if rings > limits.maxRings {
                throw MoleculeError(.limit, "\(rings) rings, over the limit of \(limits.maxRings) (--max-rings)")
            }
        }
        graph.buildAdjacency()
        graph.perceiveRingMembership()
        if wob_parser_tetrahedral_count(handle) > 0 || wob_parser_cis_trans_count(handle) > 0 {
            addStereo(to: &graph, newIndex: newIndex)
        }
        if tokens != nil { try Perception.checkWrittenAromaticity(&graph, inputAromatic: inputAromatic) }
        Perception.normalizeLikeRDKit(&graph)
        Perception.markDativeBonds(&graph)
        try Perception.checkValences(graph)
        try Perception.assignAromaticity(&graph)
        if !graph.doubleBonds.isEmpty { graph.doubleBonds.removeAll { graph.bondFlags[Int($0.bond)].contains(.aromatic) || graph.bondOrders[Int($0.bond)] != 2 } }
        return graph
    }

    /// Open Babel's stereo units in graph terms. Hydrogen atoms folded into their neighbour become
    /// the centre's implicit hydrogen; a double bond referenced through a folded hydrogen uses the
    /// end's other neighbour instead (on the other side).
    private func addStereo(to graph: inout MolecularGraph, newIndex: [Int32]) {
        func mapped(_ raw: Int32) -> Int32? {
            if raw == -1 { return -1 }
            guard raw >= 0, Int(raw) < newIndex.count else { return nil }
            return newIndex[Int(raw)]  // -1 for a folded hydrogen
        }
        let tetrahedral = wob_parser_tetrahedral(handle)
        for t in 0..<Int(wob_parser_tetrahedral_count(handle)) {
            guard let unit = tetrahedral?[t], let centre = mapped(unit.centre), centre >= 0 else { continue }
            let raw = [unit.refs.0, unit.refs.1, unit.refs.2, unit.refs.3]
            let refs = raw.compactMap(mapped)
            guard refs.count == 4 else { continue }
            graph.addTetrahedralCentre(atom: Int(centre), seenFromFirstClockwise: refs)
        }
        let cisTrans = wob_parser_cis_trans(handle)
        for t in 0..<Int(wob_parser_cis_trans_count(handle)) {
            guard let unit = cisTrans?[t], let a = mapped(unit.begin), let b = mapped(unit.end), a >= 0, b >= 0,
                  var x = mapped(unit.begin_ref), var y = mapped(unit.end_ref) else { continue }
            var cis = unit.cis != 0
            func otherNeighbour(_ end: Int32, _ partner: Int32) -> Int32? {
                let range = Int(graph.neighbourOffsets[Int(end)])..<Int(graph.neighbourOffsets[Int(end) + 1])
                return range.map { graph.neighbourAtoms[$0] }.first { $0 != partner }
            }
            if x < 0 { guard let other = otherNeighbour(a, b) else { continue }; x = other; cis.toggle() }
            if y < 0 { guard let other = otherNeighbour(b, a) else { continue }; y = other; cis.toggle() }
            graph.addStereoDoubleBond(Int(a), Int(b), referenceOfA: Int(x), referenceOfB: Int(y), cis: cis)
        }
        graph.finishStereo()
    }
}
