import ArgumentParser
import Chemistry
import Fingerprints

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show how Winnow perceives one SMILES: atoms, bonds, rings, aromaticity, Morgan bits.",
        discussion: "Example: winnow inspect 'CC(=O)Nc1ccc(O)cc1'"
    )

    @Argument(help: "A SMILES string.")
    var smiles: String

    func run() throws {
        let parser = try MoleculeParser()
        let graph: MolecularGraph
        do {
            graph = try parser.parse(smiles: smiles)
        } catch {
            print("rejected (\(error.kind.rawValue)): \(error.message)")
            throw ExitCode(ExitStatus.fileProblem)
        }
        print("atoms:")
        for i in 0..<graph.atomCount {
            let flags = graph.atomFlags[i]
            print("  \(i + 1)\t\(Elements.symbol(Int(graph.atomicNumbers[i])))\tcharge=\(graph.formalCharges[i])\tH=\(graph.totalHydrogens(i))\tdegree=\(graph.degree(i))\tisotope=\(graph.isotopes[i])"
                + (flags.contains(.aromatic) ? "\taromatic" : "") + (flags.contains(.inRing) ? "\tring" : ""))
        }
        print("bonds:")
        for b in 0..<graph.bondCount {
            let flags = graph.bondFlags[b]
            print("  \(graph.bondBegins[b] + 1)-\(graph.bondEnds[b] + 1)\torder=\(graph.bondOrders[b])"
                + (flags.contains(.aromatic) ? "\taromatic" : "") + (flags.contains(.inRing) ? "\tring" : "") + (flags.contains(.dative) ? "\tdative" : ""))
        }
        print("smiles: \(graph.smiles())")
        print("scaffold: \(graph.scaffoldSMILES())")
        print("rings: " + graph.smallestRings().map { "[" + $0.atoms.map { String($0 + 1) }.joined(separator: " ") + "]" }.joined(separator: " "))
        let generator = MorganGenerator()
        let words = generator.bits(graph)
        let bits = (0..<2048).filter { words[$0 >> 6] & (1 << UInt64($0 & 63)) != 0 }
        print("morgan r2/2048 bits: " + bits.map(String.init).joined(separator: ","))
    }
}
