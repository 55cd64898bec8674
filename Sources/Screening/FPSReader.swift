import Fingerprints
import Foundation
import LibraryIO

/// Fingerprints read from an FPS file (chemfp's format: `#FPS1`, `#num_bits=`, `#type=` header lines,
/// then `hex<TAB>id` per fingerprint), Winnow's own included.
public struct FPSContents {
    public var type: IndexFingerprintType
    public var rows: FingerprintRows
    public var ids: [String]
    /// Records that could not be read: record number (1-based) and reason.
    public var rejected: [(record: Int, id: String, reason: String)] = []
}

public enum FPSReader {
    /// True when the file name says FPS (`.fps`, `.fps.gz`).
    public static func looksLikeFPS(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".fps") || lower.hasSuffix(".fps.gz")
    }

    /// Reads a whole FPS file (gzip and `-` too). Lines with bad hex are listed in `rejected` and
    /// skipped; a file without `#num_bits` takes its width from the first fingerprint.
    public static func read(path: String) throws -> FPSContents {
        let lines = try ByteLineReader(path: path)
        var bitCount: Int? = nil
        var typeString = ""
        var words: [[UInt64]] = []
        var ids: [String] = []
        var rejected: [(record: Int, id: String, reason: String)] = []
        var record = 0
        var sawHeaderLine = false
        while try lines.nextLine({ (line: UnsafeBufferPointer<UInt8>) throws -> Bool in
            if line.first == UInt8(ascii: "#") {
                let text = String(decoding: line, as: UTF8.self)
                if !sawHeaderLine, record == 0, lines.lineNumber == 1, text != "#FPS1" {
                    throw InputError("\(path): not an FPS file (the first line is not #FPS1)")
                }
                sawHeaderLine = true
                if text.hasPrefix("#num_bits=") {
                    guard let n = Int(text.dropFirst(10)), n >= 1, n <= FingerprintIndex.maxBits else {
                        throw InputError("\(path): line \(lines.lineNumber): #num_bits must be between 1 and \(FingerprintIndex.maxBits)")
                    }
                    bitCount = n
                } else if text.hasPrefix("#type=") {
                    typeString = String(text.dropFirst(6))
                }
                return true
            }
            if line.isEmpty { return true }
            record += 1
            let tab = line.firstIndex(of: 9) ?? line.count
            let hex = UnsafeBufferPointer(rebasing: line[0..<tab])
            var idEnd = line.count
            if tab < line.count, let next = line[(tab + 1)...].firstIndex(of: 9) { idEnd = next }
            let id = tab < line.count ? String(decoding: UnsafeBufferPointer(rebasing: line[(tab + 1)..<idEnd]), as: UTF8.self) : "record \(record)"
            if bitCount == nil { bitCount = hex.count * 4 }
            guard let bits = bitCount, let fingerprint = decodeHex(hex, bitCount: bits) else {
                rejected.append((record, id, "line \(lines.lineNumber): fingerprint is not \(bitCount.map { String(($0 + 7) / 8 * 2) } ?? "?") hex digits"))
                return true
            }
            words.append(fingerprint)
            ids.append(id)
            return true
        }) == true {}
        guard let bits = bitCount else { throw InputError("\(path): no fingerprints and no #num_bits header") }
        var type = IndexFingerprintType(bitCount: bits, radius: -1, invariantVersion: -1, typeString: typeString)
        // Winnow's own Morgan type line, or chemfp's for RDKit's Morgan bits (equal to Winnow's), names
        // the settings that reproduce the bits from SMILES.
        if let morgan = MorganSettings(typeString: typeString) ?? MorganSettings(rdkitTypeString: typeString), morgan.size == bits {
            type = IndexFingerprintType(morgan: morgan)
        }
        return FPSContents(type: type, rows: FingerprintRows(bitCount: bits, fingerprints: words), ids: ids, rejected: rejected)
    }

    private static let hexValue: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (i, c) in "0123456789abcdef".utf8.enumerated() { table[Int(c)] = UInt8(i) }
        for (i, c) in "ABCDEF".utf8.enumerated() { table[Int(c)] = UInt8(10 + i) }
        return table
    }()

    /// Hex (bit 0 = least significant bit of the first byte) to words; nil when malformed.
    public static func decodeHex(_ hex: UnsafeBufferPointer<UInt8>, bitCount: Int) -> [UInt64]? {
        let bytes = (bitCount + 7) / 8
        guard hex.count == 2 * bytes else { return nil }
        var words = [UInt64](repeating: 0, count: (bitCount + 63) / 64)
        var bad: UInt8 = 0
        hexValue.withUnsafeBufferPointer { table in
            for j in 0..<bytes {
                let hi = table[Int(hex[2 * j])], lo = table[Int(hex[2 * j + 1])]
                bad |= (hi | lo) & 0xF0
                words[j >> 3] |= UInt64(hi << 4 | (lo & 15)) << (UInt64(j & 7) * 8)
            }
        }
        if bad != 0 { return nil }
        // Bits past num_bits must be zero.
        if bitCount % 64 != 0, words[words.count - 1] >> UInt64(bitCount % 64) != 0 { return nil }
        return words
    }
}
