/// chemfp's FPS text format (`#FPS1`), so chemfp and RDKit users can read Winnow's fingerprints (FPSim2 cannot import FPS).
/// Each line is `hex<TAB>id`; bit 0 is the least significant bit of the first byte.
public enum FPSFormat {
    public static let softwareName = "Winnow/0.1"

    /// `standardized`: the molecules were standardised when read (`--standardize`), said on the
    /// software line (FPS readers take its value as free text).
    public static func header(settings: MorganSettings, source: String?, standardized: Bool = false) -> String {
        var text = "#FPS1\n#num_bits=\(settings.size)\n#type=\(settings.typeString)\n#software=\(softwareName) (Open Babel 3.1.1 parser\(standardized ? "; standardized" : ""))\n"
        if let source { text += "#source=\(source)\n" }
        return text
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends the hex encoding of `sizeInBits` bits of `words` (little-endian bytes).
    public static func appendHex(_ words: [UInt64], sizeInBits: Int, to out: inout [UInt8]) {
        let bytes = (sizeInBits + 7) / 8
        for j in 0..<bytes {
            let byte = UInt8(truncatingIfNeeded: words[j >> 3] >> (UInt64(j & 7) * 8))
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 15)])
        }
    }

    /// Parses a hex fingerprint back into words (for tests and readers); nil when malformed.
    public static func parseHex(_ hex: Substring, sizeInBits: Int) -> [UInt64]? {
        let bytes = Array(hex.utf8)
        guard bytes.count == 2 * ((sizeInBits + 7) / 8) else { return nil }
        var words = [UInt64](repeating: 0, count: (sizeInBits + 63) / 64)
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        for j in 0..<(bytes.count / 2) {
            guard let hi = value(bytes[2 * j]), let lo = value(bytes[2 * j + 1]) else { return nil }
            words[j >> 3] |= UInt64(hi << 4 | lo) << (UInt64(j & 7) * 8)
        }
        return words
    }
}
