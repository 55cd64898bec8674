import Chemistry
import Foundation
import Testing
import WinnowTestSupport

/// Records that used to crash Open Babel, hang Winnow or be mis-read, each rejected with a reason.
@Suite struct HostileInputTests {
    private func rejection(_ smiles: String, limits: InputLimits = InputLimits()) throws -> MoleculeError? {
        do throws(MoleculeError) {
            _ = try MoleculeParser(limits: limits).parse(smiles: smiles)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Charges (Open Babel reads `+0` as +1 and wraps large charges)

    @Test func plusZeroAndMinusZeroAreNoCharge() throws {
        let parser = try MoleculeParser()
        #expect(try parser.parse(smiles: "[N+0]").formalCharges == [0])
        #expect(try parser.parse(smiles: "[O-0]").formalCharges == [0])
        #expect(try parser.parse(smiles: "C[O-0]").formalCharges == [0, 0])
        #expect(try parser.parse(smiles: "[NH4+]").formalCharges == [1])
        #expect(try parser.parse(smiles: "[O--]").formalCharges == [-2])
        #expect(try parser.parse(smiles: "[Fe+3]").formalCharges == [3])
        #expect(try parser.parse(smiles: "[Fe+++]").formalCharges == [3])
        #expect(try parser.parse(smiles: "[Cl-1]").formalCharges == [-1])
    }

    @Test func neutralAmmoniumWrittenWithPlusZeroIsAValenceError() throws {
        // RDKit rejects both on valence: a neutral N with four bonds.
        #expect(try rejection("[NH4+0]")?.kind == .valence)
        #expect(try rejection("C[N+0](C)(C)C")?.kind == .valence)
    }

    @Test func chargesBeyondAnyElementAreRejected() throws {
        for smiles in ["[C+65535]", "[C+65536]", "[C-99999999999999999999]", "[C+16]", "[O-16]",
                       "[C" + String(repeating: "+", count: 16) + "]"] {
            let error = try rejection(smiles)
            #expect(error?.kind == .element, "\(smiles)")
            #expect(error?.message.contains("beyond what any element can carry") == true, "\(smiles): \(error?.message ?? "accepted")")
        }
        #expect(try MoleculeParser().parse(smiles: "[Ir+9]").formalCharges == [9])
    }

    // MARK: - Size limits, checked before Open Babel

    /// `c` × 100,000 overflowed the stack inside Open Babel (a segfault); now it never gets there.
    @Test func hundredThousandAtomAromaticChainIsRejectedBeforeOpenBabel() throws {
        let error = try rejection(String(repeating: "c", count: 100_000))
        #expect(error?.kind == .limit)
        #expect(error?.message.contains("more than 10000 atoms") == true)
        #expect(error?.message.contains("--max-atoms") == true)
    }

    @Test func branchDepthRingClosuresAndLengthHaveLimits() throws {
        let deep = String(repeating: "C(", count: 1_001) + "C" + String(repeating: ")", count: 1_001)
        #expect(try rejection(deep)?.message.contains("--max-branch-depth") == true)
        #expect(try rejection(String(repeating: "C(", count: 1_000) + "C" + String(repeating: ")", count: 1_000)) == nil)
        let rings = Array(repeating: "C1CC1", count: 1_001).joined(separator: ".")
        #expect(try rejection(rings)?.message.contains("--max-rings") == true)
        #expect(try rejection(Array(repeating: "C1CC1", count: 1_000).joined(separator: ".")) == nil)
        let short = InputLimits(maxRecordBytes: 100)
        #expect(try rejection(String(repeating: "C", count: 101), limits: short)?.message.contains("--max-record-bytes") == true)
        #expect(try rejection(String(repeating: "C", count: 100), limits: short) == nil)
    }

    // MARK: - V3000 records checked before Open Babel's reader

    private func v3000(_ body: String) -> String {
        "hostile\n  Winnow\n\n  0  0  0     0  0            999 V3000\n" + body
    }

    private static let ethanolBody = """
        M  V30 BEGIN CTAB
        M  V30 COUNTS 3 2 0 0 0
        M  V30 BEGIN ATOM
        M  V30 1 C 0 0 0 0
        M  V30 2 C 1.5 0 0 0
        M  V30 3 O 2.2 1.2 0 0
        M  V30 END ATOM
        M  V30 BEGIN BOND
        M  V30 1 1 1 2
        M  V30 2 1 2 3
        M  V30 END BOND
        M  V30 END CTAB
        M  END

        """

    private func molfileRejection(_ record: String) throws -> MoleculeError? {
        do throws(MoleculeError) {
            _ = try MoleculeParser().parse(molfile: record)
            return nil
        } catch {
            return error
        }
    }

    @Test func wellFormedV3000RecordStillParses() throws {
        let graph = try MoleculeParser().parse(molfile: v3000(Self.ethanolBody))
        #expect(graph.atomicNumbers == [6, 6, 8])
        #expect(graph.bondCount == 2)
        // A continued line is fine.
        let continued = Self.ethanolBody.replacingOccurrences(of: "M  V30 3 O 2.2 1.2 0 0", with: "M  V30 3 O 2.2 -\nM  V30 1.2 0 0")
        #expect(try molfileRejection(v3000(continued)) == nil)
    }

    /// Each of these segfaulted (or read out of bounds in) Open Babel's V3000 reader.
    @Test func malformedV3000RecordsAreRejectedWithAReason() throws {
        let cases: [(String, String)] = [
            // The issue's record: letters for the counts, and an atom block without its END.
            ("M  V30 BEGIN CTAB\nM  V30 COUNTS abc\nM  V30 BEGIN ATOM\nM  V30 1 C 0 0 0 0\nM  V30 2 C 0 0 0 0\nM  END\n", "COUNTS"),
            ("M  V30 BEGIN CTAB\nM  V30 COUNTS 2 1 0 0 0\nM  V30 BEGIN ATOM\nM  V30 1 C 0 0 0 0\nM  V30 2 C 0 0 0 0\nM  END\n", "END ATOM"),
            (Self.ethanolBody.replacingOccurrences(of: "M  V30 2 C 1.5 0 0 0", with: "M  V30 2 C"), "atom line"),
            (Self.ethanolBody.replacingOccurrences(of: "M  V30 2 1 2 3", with: "M  V30 2 1"), "bond line"),
            (Self.ethanolBody.replacingOccurrences(of: "M  V30 2 1 2 3", with: "M  V30 2 1 2 7"), "not in the atom block"),
            (Self.ethanolBody.replacingOccurrences(of: "COUNTS 3 2", with: "COUNTS 4 2"), "COUNTS line says 4"),
            (Self.ethanolBody.replacingOccurrences(of: "M  V30 END CTAB\n", with: ""), "END CTAB"),
            (Self.ethanolBody.replacingOccurrences(of: "M  V30 BEGIN ATOM", with: "M  V30 BEGIN CTAB\nM  V30 BEGIN ATOM"), "CTAB"),
            (Self.ethanolBody.replacingOccurrences(of: "M  V30 3 O 2.2 1.2 0 0", with: "M  V30 3 O 2.2 1.2 0 0 -\nM  END"), "continuation"),
            (Self.ethanolBody.replacingOccurrences(of: "M  V30 3 O 2.2 1.2 0 0",
                                                   with: "M  V30 3 O 2.2 1.2 0 0 -" + String(repeating: "\nM  V30 X -", count: 40) + "\nM  V30 X"), "continuation"),
            (Self.ethanolBody.replacingOccurrences(of: "M  V30 3 O 2.2 1.2 0 0", with: "M  V30 3 O 2.2 1.2 0 0 CHG"), "property=value"),
            (Self.ethanolBody.replacingOccurrences(of: "M  V30 END BOND", with: "M  V30 END ATOM"), "END BOND"),
            ("M  V30 BEGIN CTAB\nM  V30\nM  END\n", "'M  V30' line"),
            ("", "BEGIN CTAB"),
        ]
        for (body, reason) in cases {
            let error = try molfileRejection(v3000(body))
            #expect(error?.kind == .format, "\(body.prefix(60))")
            #expect(error?.message.contains(reason) == true, "expected '\(reason)', got: \(error?.message ?? "accepted")")
        }
    }

    @Test func molfileAtomLimitIsCheckedBeforeOpenBabel() throws {
        let tight = try MoleculeParser(limits: InputLimits(maxAtoms: 2))
        #expect(throws: MoleculeError.self) { try tight.parse(molfile: v3000(Self.ethanolBody)) }
        let record = try String(contentsOfFile: TestPaths.fixture("mols_100.sdf"), encoding: .utf8)
            .components(separatedBy: "$$$$\n")[0]
        do throws(MoleculeError) {
            _ = try tight.parse(molfile: record)
            Issue.record("a V2000 record over the atom limit was accepted")
        } catch {
            #expect(error.kind == .limit)
        }
    }

    /// A carbon chain as a V3000 record with coordinates along x.
    private func v3000Chain(_ atoms: Int) -> String {
        var lines = ["M  V30 BEGIN CTAB", "M  V30 COUNTS \(atoms) \(atoms - 1) 0 0 0", "M  V30 BEGIN ATOM"]
        for k in 0..<atoms { lines.append("M  V30 \(k + 1) C \(k).0 0 0 0") }
        lines += ["M  V30 END ATOM", "M  V30 BEGIN BOND"]
        for k in 0..<(atoms - 1) { lines.append("M  V30 \(k + 1) 1 \(k + 1) \(k + 2)") }
        lines += ["M  V30 END BOND", "M  V30 END CTAB", "M  END", ""]
        return v3000(lines.joined(separator: "\n"))
    }

    /// A 10,000-atom V3000 chain ran over 100 s inside Open Babel's molfile reader (its stereo
    /// perception's graph-symmetry pass); molfile records now have their own, lower atom limit.
    @Test func longV3000ChainIsRejectedBeforeOpenBabel() throws {
        let error = try molfileRejection(v3000Chain(10_000))
        #expect(error?.kind == .limit)
        #expect(error?.message.contains("10000 atoms in a molfile record, over the limit of 2000 (--max-molfile-atoms)") == true,
                "\(error?.message ?? "accepted")")
        #expect(try molfileRejection(v3000Chain(2_001))?.message.contains("--max-molfile-atoms") == true)
        // At the limit the record is read; a raised limit lets a longer one through.
        #expect(try MoleculeParser().parse(molfile: v3000Chain(2_000)).atomCount == 2_000)
        #expect(try MoleculeParser(limits: InputLimits(maxMolfileAtoms: 2_100)).parse(molfile: v3000Chain(2_050)).atomCount == 2_050)
        // The same chain as SMILES has only the general limit.
        #expect(try MoleculeParser().parse(smiles: String(repeating: "C", count: 5_000)).atomCount == 5_000)
    }
}
