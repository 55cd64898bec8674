import Chemistry
import Foundation
let parser = try MoleculeParser()
let data = FileManager.default.contents(atPath: CommandLine.arguments[1])!
for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) where !line.isEmpty {
    let parts = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
    let smi = Array(parts[0])
    let id = String(decoding: parts[1], as: UTF8.self)
    do { _ = try smi.withUnsafeBufferPointer { b throws(MoleculeError) in try parser.parse(smiles: b) }; print("OK", id, String(decoding: smi, as: UTF8.self)) }
    catch { print("REJECT", id, error.kind, error.message) }
}
