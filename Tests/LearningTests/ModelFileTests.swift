import Foundation
import Learning
import Testing

// Tests of the model file container (Sources/Learning/ModelArchive.swift): round trips, byte-level
// determinism and layout, and that damaged files of every kind fail with the right error, never a
// crash and never a wrong model.

private struct SampleHeader: Codable, Equatable {
    var kind: String
    var radius: Int
    var bits: Int
    var learningRate: Double
    var layers: [Int]
    var notes: String?
}

private let sampleHeader = SampleHeader(kind: "mlp", radius: 2, bits: 2048, learningRate: 0.001,
                                        layers: [2048, 512, 1], notes: "seed 42")

private func sampleArchive() throws -> ModelArchive {
    try ModelArchive(header: sampleHeader, tensors: [
        ModelTensor(name: "layer0.weight", shape: [2, 3], values: [1, -2.5, 0.125, .pi, -0.0, 1e-30]),
        ModelTensor(name: "layer0.bias", shape: [3], values: [0.5, .infinity, .nan]),
        ModelTensor(name: "temperature", shape: [], values: [0.75]),
        ModelTensor(name: "unused", shape: [0, 4], values: []),
        ModelTensor(name: "größe/β", shape: [1, 1, 2], values: [-1, 1]),
    ])
}

/// A model with a bigger weight matrix, for sampled corruption.
private func largerArchive() throws -> ModelArchive {
    var generator = SeededGenerator(seed: 7)
    let weights = (0..<(64 * 32)).map { _ in Float(generator.nextGaussian()) }
    return try ModelArchive(header: sampleHeader, tensors: [
        ModelTensor(name: "w", shape: [64, 32], values: weights),
        ModelTensor(name: "b", shape: [32], values: [Float](repeating: 0.25, count: 32)),
    ])
}

/// FNV-1a 64, written independently of the library.
private func fnv(_ bytes: some Sequence<UInt8>) -> UInt64 {
    var hash: UInt64 = 14_695_981_039_346_656_037
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
    return hash
}

private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// Replaces the trailing checksum so the bytes pass the integrity check.
private func rechecksummed(_ bytes: [UInt8]) -> [UInt8] {
    let body = Array(bytes.dropLast(8))
    return body + le(fnv(body))
}

/// Body bytes (everything before the checksum) plus a valid checksum.
private func sealed(_ body: [UInt8]) -> Data {
    Data(body + le(fnv(body)))
}

private func decodeError(_ bytes: some Sequence<UInt8>, source: String = "sample.wnm") -> ModelFileError? {
    do {
        _ = try ModelArchive.decode(Data(bytes), source: source)
        return nil
    } catch {
        return error
    }
}

private let magicBytes = Array("WNNWMODL".utf8)

@Suite("ModelFile")
struct ModelFileTests {
    // MARK: Round trips

    @Test func roundTripThroughFile() throws {
        let folder = try makeScratch("roundtrip")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.wnm")
        let archive = try sampleArchive()
        try archive.write(to: url)
        let back = try ModelArchive.read(from: url)
        #expect(back == archive)
        #expect(back.tensor(named: "layer0.bias")?.values[2].isNaN == true)
        #expect(back.tensor(named: "layer0.weight")?.values[4].sign == .minus)
        #expect(try back.decodeHeader(SampleHeader.self) == sampleHeader)
        // Only the model is left in the folder: the temporary file was renamed, not copied.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.wnm"])
        #expect(try Data(contentsOf: url) == archive.encoded())
    }

    @Test func overwriteReplacesTheModel() throws {
        let folder = try makeScratch("overwrite")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.wnm")
        try sampleArchive().write(to: url)
        let second = try largerArchive()
        try second.write(to: url)
        #expect(try ModelArchive.read(from: url) == second)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.wnm"])
    }

    @Test func emptyArchiveRoundTrips() throws {
        let archive = ModelArchive(header: Data(), tensors: [])
        #expect(try ModelArchive.decode(archive.encoded(), source: "empty") == archive)
    }

    @Test func decodesFromADataSlice() throws {
        let bytes = try sampleArchive().encoded()
        let padded = Data([0xAA, 0xBB, 0xCC]) + bytes + Data([0xDD])
        let slice = padded[3..<(3 + bytes.count)]
        #expect(slice.startIndex == 3)
        #expect(try ModelArchive.decode(slice, source: "slice") == sampleArchive())
    }

    @Test func headerOfACodableStructRoundTrips() throws {
        let archive = try sampleArchive()
        #expect(try archive.decodeHeader(SampleHeader.self) == sampleHeader)
        // The JSON is compact with sorted keys.
        let json = String(decoding: archive.header, as: UTF8.self)
        #expect(json.hasPrefix(#"{"bits":2048,"kind":"mlp","#))
        // Asking for the wrong type is a clear error, not a crash.
        struct Other: Decodable { var epochs: Int }
        #expect(throws: ModelFileError.self) { try archive.decodeHeader(Other.self) }
        do {
            _ = try archive.decodeHeader(Other.self, source: "models/a.wnm")
        } catch {
            guard case .malformed = error else { Issue.record("expected .malformed, got \(error)"); return }
            #expect(error.description.contains("models/a.wnm"))
            #expect(error.description.contains("epochs"))
        }
    }

    @Test func tensorMatrixConversion() throws {
        let matrix = Matrix(rows: 2, cols: 3, values: [1, 2, 3, 4, 5, 6])
        let tensor = ModelTensor(name: "w", matrix: matrix)
        #expect(tensor.shape == [2, 3])
        #expect(tensor.matrix == matrix)
        #expect(ModelTensor(name: "b", shape: [6], values: matrix.values).matrix == nil)
        #expect(ModelTensor.elementCount(of: []) == 1)
        #expect(ModelTensor.elementCount(of: [3, 0, 5]) == 0)
        #expect(ModelTensor.elementCount(of: [-1]) == nil)
        #expect(ModelTensor.elementCount(of: [Int.max, 2]) == nil)
    }

    // MARK: Determinism and layout

    @Test func identicalContentGivesIdenticalBytes() throws {
        let first = try sampleArchive().encoded()
        let second = try sampleArchive().encoded()
        #expect(first == second)
        let decoded = try ModelArchive.decode(first, source: "a")
        #expect(decoded.encoded() == first)
        // Larger model, written through files twice.
        let folder = try makeScratch("determinism")
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = folder.appendingPathComponent("a.wnm"), b = folder.appendingPathComponent("b.wnm")
        try largerArchive().write(to: a)
        try largerArchive().write(to: b)
        #expect(try Data(contentsOf: a) == Data(contentsOf: b))
        // Different content, different bytes.
        var changed = try largerArchive()
        changed.tensors[1].values[0] = 0.5
        #expect(try changed.encoded() != largerArchive().encoded())
    }

    @Test func emptyArchiveLayoutIsExact() {
        let body = magicBytes + le(UInt32(1)) + le(UInt64(0)) + le(UInt32(0))
        #expect(ModelArchive(header: Data(), tensors: []).encoded() == sealed(body))
        #expect(ModelArchive.magic == Data(magicBytes))
        // Format 2 (extra features) is the newest read; an archive writes 1 unless told otherwise.
        #expect(ModelArchive.formatVersion == 2)
    }

    @Test func tensorLayoutIsExact() {
        let archive = ModelArchive(header: Data("{}".utf8), tensors: [
            ModelTensor(name: "w", shape: [2], values: [1.0, -2.0]),
            ModelTensor(name: "s", shape: [], values: [0.5]),
        ])
        var body = magicBytes + le(UInt32(1)) + le(UInt64(2)) + Array("{}".utf8) + le(UInt32(2))
        body += le(UInt32(1)) + Array("w".utf8) + le(UInt32(1)) + le(UInt64(2))
        body += [0x00, 0x00, 0x80, 0x3F] + [0x00, 0x00, 0x00, 0xC0]
        body += le(UInt32(1)) + Array("s".utf8) + le(UInt32(0)) + [0x00, 0x00, 0x00, 0x3F]
        #expect(archive.encoded() == sealed(body))
    }

    // MARK: Damage

    @Test func everyTruncationIsReportedAsTruncated() throws {
        let full = try [UInt8](sampleArchive().encoded())
        let named = [0, 7, 8 + 3, full.count / 2, full.count - 1]
        for length in Set(Array(0..<full.count) + named) {
            let error = decodeError(full.prefix(length))
            guard case .truncated(let source, let expected, let offset) = error else {
                Issue.record("prefix of \(length) bytes: expected .truncated, got \(String(describing: error))")
                continue
            }
            #expect(source == "sample.wnm")
            #expect(expected > 0)
            #expect(offset == length, "prefix of \(length) bytes")
        }
        // The last byte missing: the checksum field lacks exactly one byte.
        #expect(decodeError(full.dropLast()) == .truncated(source: "sample.wnm", expected: 1, offset: full.count - 1))
        #expect(decodeError([]) == .truncated(source: "sample.wnm", expected: 8, offset: 0))
        #expect(decodeError(full.prefix(11)) == .truncated(source: "sample.wnm", expected: 1, offset: 11))
        let message = decodeError(full.dropLast())!.description
        #expect(message == "sample.wnm is truncated: expected 1 more byte at offset \(full.count - 1)")
    }

    @Test func truncatedFileOnDisk() throws {
        let folder = try makeScratch("truncated")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("cut.wnm")
        let bytes = try largerArchive().encoded()
        try bytes.prefix(bytes.count / 3).write(to: url)
        do {
            _ = try ModelArchive.read(from: url)
            Issue.record("a truncated file decoded")
        } catch {
            guard case .truncated = error else { Issue.record("expected .truncated, got \(error)"); return }
            #expect(error.description.hasPrefix("\(url.path) is truncated: expected "))
        }
    }

    @Test func everySingleByteFlipIsDetected() throws {
        let full = try [UInt8](sampleArchive().encoded())
        for position in full.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var damaged = full
                damaged[position] ^= mask
                guard let error = decodeError(damaged) else {
                    Issue.record("flipping byte \(position) with \(mask) decoded successfully")
                    continue
                }
                switch error {
                case .notAModelFile: #expect(position < 8)
                case .newerVersion, .olderVersion: #expect((8..<12).contains(position))
                case .checksumMismatch, .truncated: #expect(position >= 12)
                default: Issue.record("flipping byte \(position): unexpected \(error)")
                }
            }
        }
    }

    @Test func sampledByteFlipsInALargerModelAreDetected() throws {
        let full = try [UInt8](largerArchive().encoded())
        var generator = SeededGenerator(seed: 2024)
        var positions = [12, 20, full.count - 8, full.count - 1]
        for _ in 0..<300 { positions.append(generator.nextInt(below: full.count)) }
        for position in positions {
            var damaged = full
            damaged[position] ^= UInt8(1 + generator.nextInt(below: 255))
            #expect(decodeError(damaged) != nil, "flipping byte \(position) decoded successfully")
        }
        // A flipped value byte is a checksum mismatch, described as damage.
        var damaged = full
        damaged[full.count / 2] ^= 0x10
        let error = decodeError(damaged, source: "models/kinase.wnm")
        #expect(error == .checksumMismatch(source: "models/kinase.wnm"))
        #expect(error?.description == "models/kinase.wnm is damaged: checksum mismatch")
    }

    @Test func newerFormatAsksForAnUpgrade() throws {
        var bytes = try [UInt8](sampleArchive().encoded())
        bytes.replaceSubrange(8..<12, with: le(UInt32(3)))
        let error = decodeError(rechecksummed(bytes), source: "future.wnm")
        #expect(error == .newerVersion(source: "future.wnm", found: 3, supported: 2))
        let message = error?.description ?? ""
        #expect(message.contains("future.wnm"))
        #expect(message.contains("upgrade Winnow"))
        #expect(message == "future.wnm was written by a newer Winnow (model format 3, this build reads up to 2); upgrade Winnow")
        // Without re-checksumming, and for any far-future version, the answer is the same.
        bytes.replaceSubrange(8..<12, with: le(UInt32.max))
        #expect(decodeError(bytes, source: "future.wnm") == .newerVersion(source: "future.wnm", found: .max, supported: 2))
    }

    @Test func formatZeroIsOlderVersion() throws {
        var bytes = try [UInt8](sampleArchive().encoded())
        bytes.replaceSubrange(8..<12, with: le(UInt32(0)))
        let error = decodeError(rechecksummed(bytes))
        #expect(error == .olderVersion(source: "sample.wnm", found: 0, supported: 2))
        #expect(error?.description.contains("sample.wnm") == true)
    }

    @Test func randomGarbageIsNotAModelFile() {
        var generator = SeededGenerator(seed: 99)
        for length in [1, 7, 8, 9, 31, 32, 33, 100, 4096, 70_000] {
            for _ in 0..<5 {
                var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                if bytes[0] == magicBytes[0] { bytes[0] ^= 0xFF }
                #expect(decodeError(bytes) == .notAModelFile(source: "sample.wnm"), "garbage of \(length) bytes")
            }
        }
        #expect(decodeError(Array("CCO ethanol\nc1ccccc1 benzene\n".utf8)) == .notAModelFile(source: "sample.wnm"))
        #expect(decodeError([0x1F, 0x8B, 0x08, 0x00]) == .notAModelFile(source: "sample.wnm"))
        #expect(decodeError(Array("WNNWMODX".utf8) + le(UInt32(1))) == .notAModelFile(source: "sample.wnm"))
        #expect(decodeError(Array("WNNX".utf8)) == .notAModelFile(source: "sample.wnm"))
        let message = ModelFileError.notAModelFile(source: "lib.smi").description
        #expect(message == "lib.smi is not a Winnow model file")
    }

    /// Lengths that lie, behind a valid checksum (a writer bug or a crafted file): malformed, bounded, no crash.
    @Test func lyingLengthsBehindAValidChecksumAreMalformed() {
        let prefix = magicBytes + le(UInt32(1))
        func expectMalformed(_ body: [UInt8], _ what: String) {
            let error = decodeError(sealed(body))
            guard case .malformed(let source, _) = error else {
                Issue.record("\(what): expected .malformed, got \(String(describing: error))")
                return
            }
            #expect(source == "sample.wnm")
        }
        expectMalformed(prefix + le(UInt64.max) + le(UInt32(0)), "huge header length")
        expectMalformed(prefix + le(UInt64(1) << 62) + le(UInt32(0)), "large header length")
        expectMalformed(prefix + le(UInt64(0)) + le(UInt32.max), "huge tensor count")
        let tensorStart = prefix + le(UInt64(0)) + le(UInt32(1))
        expectMalformed(tensorStart + le(UInt32.max) + Array("w".utf8), "huge name length")
        expectMalformed(tensorStart + le(UInt32(1)) + Array("w".utf8) + le(UInt32.max), "huge rank")
        expectMalformed(tensorStart + le(UInt32(1)) + Array("w".utf8) + le(UInt32(2)) + le(UInt64(1) << 40)
                        + le(UInt64(1) << 40) + [0, 0, 0, 0], "huge dimensions")
        expectMalformed(tensorStart + le(UInt32(1)) + Array("w".utf8) + le(UInt32(3)) + le(UInt64.max)
                        + le(UInt64.max) + le(UInt64(3)), "overflowing dimensions")
        expectMalformed(tensorStart + le(UInt32(1)) + Array("w".utf8) + le(UInt32(2)) + le(UInt64(0))
                        + le(UInt64.max), "empty tensor with a dimension beyond Int")
        expectMalformed(tensorStart + le(UInt32(2)) + [0xC3, 0x28] + le(UInt32(0)) + [0, 0, 0, 0], "invalid UTF-8 name")
        expectMalformed(prefix + le(UInt64(0)) + le(UInt32(0)) + [1, 2, 3], "trailing bytes")
        // The same structures without a valid checksum are damage or truncation, never success.
        let lying = prefix + le(UInt64.max) + le(UInt32(0)) + le(UInt64(0))
        #expect(decodeError(lying) != nil)
    }

    // MARK: I/O errors

    @Test func missingFileAndFolderAreUnreadable() throws {
        let folder = try makeScratch("unreadable")
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("nope.wnm")
        do {
            _ = try ModelArchive.read(from: missing)
            Issue.record("a missing file was read")
        } catch {
            guard case .unreadable = error else { Issue.record("expected .unreadable, got \(error)"); return }
            #expect(error.description.contains(missing.path))
        }
        #expect(throws: ModelFileError.self) { try ModelArchive.read(from: folder) }
    }

    @Test func writingIntoAMissingFolderFailsCleanly() throws {
        let folder = try makeScratch("unwritable")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("no/such/folder/model.wnm")
        do {
            try sampleArchive().write(to: url)
            Issue.record("wrote into a missing folder")
        } catch let error as ModelFileError {
            guard case .unwritable = error else { Issue.record("expected .unwritable, got \(error)"); return }
            #expect(error.description.contains(url.path))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    private func makeScratch(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-modelfile-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
