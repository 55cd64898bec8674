/// Why one input record could not become a molecule. The message is written for a chemist; `kind`
/// groups reasons for summaries and tests.
public struct MoleculeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case empty, syntax, element, valence, aromaticity, bytes, openBabel, format, limit
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
