import Chemistry
import Foundation
import Testing

/// Winnow loads only the Open Babel plugins it uses (SMILES, molfile, InChI, SVG, gen2D), not all
/// ~127: about 50 ms less start-up for every command.
@Suite struct OpenBabelPluginTests {
    @Test func onlyTheNeededPluginsAreLoaded() throws {
        let parser = try MoleculeParser()
        // Every format Winnow uses still works: SMILES, molfile (through SDF text), canonical SMILES, SVG.
        _ = try parser.parse(smiles: "CC(=O)Oc1ccccc1C(=O)O")
        #expect(try parser.canonicalSMILES("OC(=O)c1ccccc1OC(C)=O") == parser.canonicalSMILES("CC(=O)Oc1ccccc1C(=O)O"))
        #expect(try parser.svg(smiles: "c1ccccc1O").contains("<svg"))
        let block = try parser.molfile2D(smiles: "c1ccccc1O")
        #expect(try parser.parse(molfile: block).atomCount == 7)
        // /proc files report size 0: read to the end rather than by the reported size.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/maps"))
        let maps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        try handle.close()
        for needed in ["smilesformat.so", "mdlformat.so"] {
            #expect(maps.contains("/\(needed)"), "\(needed) is not loaded")
        }
        // Formats Winnow never reads: loading them would mean Open Babel fell back to loading every plugin.
        for unused in ["gaussformat.so", "pdbformat.so", "cifformat.so", "plugin_forcefields.so"] {
            #expect(!maps.contains("/\(unused)"), "\(unused) was loaded")
        }
    }
}
