import ArgumentParser
import Fingerprints

extension MorganInvariants: ExpressibleByArgument {}

/// The Morgan fingerprint a command computes; shared by `fingerprint`, `index` and `train` (the
/// MLP's input), so the three accept the same names, defaults and limits.
struct MorganOptions: ParsableArguments {
    @Option(help: "Morgan radius (0 to 8).")
    var radius: Int = 2

    @Option(help: "Fingerprint size in bits (a multiple of 8).")
    var bits: Int = 2048

    @Option(help: "Atom invariants: connectivity (ECFP-like, RDKit's default) or feature (FCFP-like: donor, acceptor, aromatic, halogen, basic, acidic).")
    var invariants: MorganInvariants = .connectivity

    /// Largest `--bits` a command accepts (an index file holds at most `FingerprintIndex.maxBits`).
    func validate(maxBits: Int) throws {
        guard (0...8).contains(radius) else { throw ValidationError("--radius must be between 0 and 8") }
        guard bits >= 8, bits <= maxBits, bits % 8 == 0 else {
            throw ValidationError("--bits must be a multiple of 8 between 8 and \(maxBits)")
        }
    }

    func validate() throws { try validate(maxBits: 1 << 20) }

    var settings: MorganSettings { MorganSettings(radius: radius, size: bits, invariants: invariants) }
}
