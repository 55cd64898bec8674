// The on-disk container for trained Winnow models.
//
// A model file holds a caller-chosen JSON header (hyper-parameters, featurisation settings, training
// provenance) and a list of named float32 tensors (weights). The format is deliberately small and
// deterministic: the same archive always encodes to the same bytes, so a retrained model with the
// same seed can be compared with `cmp`.
//
// Layout, format versions 1 and 2 (2 marks models whose networks read extra features, so that a
// Winnow that cannot compute them refuses the file instead of failing on the weights' shapes; the
// layout is the same). Every integer is little-endian; floats are IEEE-754 binary32 bit patterns.
//
//   size          field
//   8             magic, the ASCII bytes "WNNWMODL"
//   4  (u32)      format version (1, or 2 with extra features)
//   8  (u64)      header length H
//   H             header, UTF-8 JSON written by the caller
//   4  (u32)      tensor count T
//   then T times, in order:
//     4  (u32)    name length L
//     L           name, UTF-8
//     4  (u32)    rank R
//     8×R (u64)   dimensions, outermost first
//     4×N (f32)   values, row-major; N = product of the dimensions (1 for R = 0, a scalar)
//   8  (u64)      checksum: FNV-1a 64 over every preceding byte of the file
//
// Reading checks, in order: the magic, the format version, then the checksum over the whole file,
// and only then trusts the lengths inside. When the checksum fails, a second walk (which allocates
// nothing) tells a truncated file from a damaged one. Every length is bounded by the bytes that
// remain, so no file, however damaged, can cause a huge allocation, an overflow or a crash.
//
// Files are written to a temporary file in the destination folder, flushed to disk and renamed over
// the destination, so a crash leaves either the old model or the new one, never half of one.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Tensor

/// A named float32 tensor, stored row-major.
///
/// Equality is bitwise on the values (so `NaN == NaN` and `0.0 != -0.0` here): two tensors are equal
/// exactly when they encode to the same bytes.
public struct ModelTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    /// - Precondition: every dimension is non-negative and `values.count` is the product of `shape`
    ///   (1 for an empty shape, a scalar).
    public init(name: String, shape: [Int], values: [Float]) {
        ModelTensor.check(name: name, shape: shape, count: values.count)
        self.name = name
        self.shape = shape
        self.values = values
    }

    /// A rank-2 tensor holding a matrix (`[rows, cols]`, row-major like `Matrix`).
    public init(name: String, matrix: Matrix) {
        self.init(name: name, shape: [matrix.rows, matrix.cols], values: matrix.values)
    }

    /// The tensor as a matrix when it has rank 2, else nil.
    public var matrix: Matrix? {
        guard shape.count == 2 else { return nil }
        return Matrix(rows: shape[0], cols: shape[1], values: values)
    }

    /// The number of values a shape holds, nil for a negative dimension or an overflowing product.
    public static func elementCount(of shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }

    fileprivate static func check(name: String, shape: [Int], count: Int) {
        guard let expected = elementCount(of: shape) else {
            preconditionFailure("tensor '\(name)': shape \(shape) has a negative dimension or too many elements")
        }
        precondition(expected == count, "tensor '\(name)': shape \(shape) holds \(expected) values, got \(count)")
    }

    public static func == (lhs: ModelTensor, rhs: ModelTensor) -> Bool {
        guard lhs.name == rhs.name, lhs.shape == rhs.shape, lhs.values.count == rhs.values.count else { return false }
        return lhs.values.withUnsafeBufferPointer { a in
            rhs.values.withUnsafeBufferPointer { b in
                for i in 0..<a.count where a[i].bitPattern != b[i].bitPattern { return false }
                return true
            }
        }
    }
}

// MARK: - Errors

/// Why a model file could not be read or written. Every message names the file.
public enum ModelFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file does not start with the Winnow model magic.
    case notAModelFile(source: String)
    /// The file was written in a format this build does not know yet.
    case newerVersion(source: String, found: UInt32, supported: UInt32)
    /// The file declares a format older than any Winnow wrote (format 0): it is damaged.
    case olderVersion(source: String, found: UInt32, supported: UInt32)
    /// The file ends early: `expected` more bytes were needed where the data ends, at `offset`.
    case truncated(source: String, expected: UInt64, offset: Int)
    /// The bytes do not match the stored checksum.
    case checksumMismatch(source: String)
    /// The structure is inconsistent (checksum intact), or the header does not decode as asked.
    case malformed(source: String, reason: String)
    /// The file could not be read (missing, a folder, no permission, I/O error).
    case unreadable(source: String, reason: String)
    /// The file could not be written.
    case unwritable(source: String, reason: String)

    public var source: String {
        switch self {
        case .notAModelFile(let source), .newerVersion(let source, _, _), .olderVersion(let source, _, _),
             .truncated(let source, _, _), .checksumMismatch(let source), .malformed(let source, _),
             .unreadable(let source, _), .unwritable(let source, _):
            return source
        }
    }

    public var description: String {
        switch self {
        case .notAModelFile(let source):
            return "\(source) is not a Winnow model file"
        case .newerVersion(let source, let found, let supported):
            return "\(source) was written by a newer Winnow (model format \(found), this build reads up to \(supported)); upgrade Winnow"
        case .olderVersion(let source, let found, let supported):
            return "\(source) is damaged: it declares model format \(found), but formats start at 1 (this build reads 1 to \(supported))"
        case .truncated(let source, let expected, let offset):
            return "\(source) is truncated: expected \(expected) more byte\(expected == 1 ? "" : "s") at offset \(offset)"
        case .checksumMismatch(let source):
            return "\(source) is damaged: checksum mismatch"
        case .malformed(let source, let reason):
            return "\(source) is malformed: \(reason)"
        case .unreadable(let source, let reason):
            return "cannot read \(source): \(reason)"
        case .unwritable(let source, let reason):
            return "cannot write \(source): \(reason)"
        }
    }
}

// MARK: - Archive

/// A model as stored on disk: a JSON header and named tensors. See the layout at the top of this file.
public struct ModelArchive: Sendable, Equatable {
    /// The newest format this build reads and writes.
    public static let formatVersion: UInt32 = 2
    /// The first 8 bytes of every model file: "WNNWMODL".
    public static let magic = Data("WNNWMODL".utf8)

    /// UTF-8 JSON chosen by the caller (any `Codable`, see `init(header:tensors:)` and `decodeHeader`).
    public var header: Data
    public var tensors: [ModelTensor]
    /// The format version written to (or read from) the file: 1 unless the model needs a newer
    /// reader (`TrainedModel.archive` sets 2 for extra features).
    public var version: UInt32 = 1

    public init(header: Data, tensors: [ModelTensor], version: UInt32 = 1) {
        precondition((1...ModelArchive.formatVersion).contains(version), "model format \(version) is not one this build writes")
        self.header = header
        self.tensors = tensors
        self.version = version
    }

    /// Encodes `header` as JSON with sorted keys, so identical values give identical bytes.
    public init<H: Encodable>(header: H, tensors: [ModelTensor], version: UInt32 = 1) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.init(header: try encoder.encode(header), tensors: tensors, version: version)
    }

    /// The first tensor with this name.
    public func tensor(named name: String) -> ModelTensor? {
        tensors.first { $0.name == name }
    }

    /// Decodes the header JSON as `type`; `source` names the model in the error message.
    public func decodeHeader<H: Decodable>(_ type: H.Type, source: String = "model header") throws(ModelFileError) -> H {
        do {
            return try JSONDecoder().decode(H.self, from: header)
        } catch {
            throw .malformed(source: source, reason: "the header is not a valid \(H.self): \(describeDecodingError(error))")
        }
    }

    // MARK: Encoding

    /// The file bytes. Deterministic: equal archives give equal bytes.
    /// - Precondition: every tensor's values match its shape (as `ModelTensor.init` checks).
    public func encoded() -> Data {
        precondition(UInt64(tensors.count) <= UInt64(UInt32.max), "a model holds at most \(UInt32.max) tensors")
        var size = 8 + 4 + 8 + header.count + 4 + 8
        for tensor in tensors {
            size += 4 + tensor.name.utf8.count + 4 + 8 * tensor.shape.count + 4 * tensor.values.count
        }
        var out = [UInt8]()
        out.reserveCapacity(size)
        out.append(contentsOf: ModelArchive.magic)
        appendLittleEndian(version, to: &out)
        appendLittleEndian(UInt64(header.count), to: &out)
        out.append(contentsOf: header)
        appendLittleEndian(UInt32(tensors.count), to: &out)
        for tensor in tensors {
            ModelTensor.check(name: tensor.name, shape: tensor.shape, count: tensor.values.count)
            let name = Array(tensor.name.utf8)
            precondition(UInt64(name.count) <= UInt64(UInt32.max), "tensor name too long")
            precondition(UInt64(tensor.shape.count) <= UInt64(UInt32.max), "tensor rank too large")
            appendLittleEndian(UInt32(name.count), to: &out)
            out.append(contentsOf: name)
            appendLittleEndian(UInt32(tensor.shape.count), to: &out)
            for dimension in tensor.shape { appendLittleEndian(UInt64(dimension), to: &out) }
            #if _endian(little)
            tensor.values.withUnsafeBytes { out.append(contentsOf: $0) }
            #else
            for value in tensor.values { appendLittleEndian(value.bitPattern, to: &out) }
            #endif
        }
        let checksum = out.withUnsafeBytes { fnv1a64($0) }
        appendLittleEndian(checksum, to: &out)
        assert(out.count == size)
        return Data(out)
    }

    /// Writes the file atomically: a temporary file in the same folder, flushed, then renamed over `url`.
    public func write(to url: URL) throws(ModelFileError) {
        let source = url.isFileURL ? url.path : url.absoluteString
        guard url.isFileURL else { throw .unwritable(source: source, reason: "not a file URL") }
        let bytes = encoded()
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try writeDurably(bytes, to: temporary.path)
        } catch {
            removeFile(temporary.path)
            throw .unwritable(source: source, reason: error.reason)
        }
        if renameFile(temporary.path, source) != 0 {
            let reason = systemErrorReason()
            removeFile(temporary.path)
            throw .unwritable(source: source, reason: reason)
        }
        syncFolder(folder.path)
    }

    // MARK: Decoding

    /// Reads and checks a model file.
    public static func read(from url: URL) throws(ModelFileError) -> ModelArchive {
        let source = url.isFileURL ? url.path : url.absoluteString
        guard url.isFileURL else { throw .unreadable(source: source, reason: "not a file URL") }
        let bytes: [UInt8]
        do {
            bytes = try readWholeFile(url.path)
        } catch {
            throw .unreadable(source: source, reason: error.reason)
        }
        return try bytes.withUnsafeBytes { raw in Result { () throws(ModelFileError) in try decode(raw, source: source) } }.get()
    }

    /// Decodes file bytes; `source` names the file in error messages.
    public static func decode(_ data: Data, source: String) throws(ModelFileError) -> ModelArchive {
        try data.withUnsafeBytes { raw in Result { () throws(ModelFileError) in try decode(raw, source: source) } }.get()
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, source: String) throws(ModelFileError) -> ModelArchive {
        let count = bytes.count
        // Magic: a short prefix of it is a truncated model, anything else is not a model.
        let magic = Array(ModelArchive.magic)
        let magicSeen = min(count, magic.count)
        for i in 0..<magicSeen where bytes[i] != magic[i] { throw .notAModelFile(source: source) }
        if count < magic.count {
            throw .truncated(source: source, expected: UInt64(magic.count - count), offset: count)
        }
        // Version, before the checksum: another format may place or compute it differently.
        guard count >= 12 else { throw .truncated(source: source, expected: UInt64(12 - count), offset: count) }
        let version = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        if version > formatVersion { throw .newerVersion(source: source, found: version, supported: formatVersion) }
        if version < 1 { throw .olderVersion(source: source, found: version, supported: formatVersion) }

        // Checksum over everything before the last 8 bytes; only a matching file has its lengths trusted.
        if count >= 12 + 8 {
            let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(count - 8)])
            let stored = bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self).littleEndian
            if fnv1a64(body) == stored {
                var reader = Reader(bytes: bytes, offset: 12, end: count - 8, trusted: true, source: source)
                var archive = try parseBody(&reader, build: true)!
                archive.version = version
                if reader.offset != count - 8 {
                    throw .malformed(source: source,
                                     reason: "\(count - 8 - reader.offset) unexpected bytes after the last tensor")
                }
                return archive
            }
        }
        // Damaged or cut short: walk the structure without allocating to tell which.
        var reader = Reader(bytes: bytes, offset: 12, end: count, trusted: false, source: source)
        _ = try parseBody(&reader, build: false)
        if count - reader.offset < 8 {
            throw .truncated(source: source, expected: UInt64(8 - (count - reader.offset)), offset: count)
        }
        throw .checksumMismatch(source: source)
    }

    /// Parses from the header length to the end of the last tensor. With `build` false it only walks
    /// the lengths (no allocation) and returns nil.
    private static func parseBody(_ reader: inout Reader, build: Bool) throws(ModelFileError) -> ModelArchive? {
        let headerLength = try reader.u64()
        let headerRange = try reader.skip(headerLength)
        let tensorCount = try reader.u32()
        var tensors = [ModelTensor]()
        if build { tensors.reserveCapacity(min(Int(tensorCount), reader.remaining / 12)) }
        for index in 0..<Int(tensorCount) {
            let nameLength = try reader.u32()
            let nameRange = try reader.skip(UInt64(nameLength))
            let rank = try reader.u32()
            let dimensionsRange = try reader.skip(UInt64(rank) * 8)
            // Byte count of the values, saturating: a zero dimension makes it 0 whatever the others.
            var elements: UInt64 = 1
            var saturated = false
            var hasZero = false
            for i in 0..<Int(rank) {
                let dimension = reader.bytes.loadUnaligned(fromByteOffset: dimensionsRange.lowerBound + 8 * i,
                                                           as: UInt64.self).littleEndian
                if dimension == 0 { hasZero = true }
                let (next, overflow) = elements.multipliedReportingOverflow(by: dimension)
                if overflow { saturated = true } else { elements = next }
            }
            let valueBytes: UInt64
            if hasZero {
                valueBytes = 0
            } else if saturated || elements > UInt64.max / 4 {
                valueBytes = .max
            } else {
                valueBytes = elements * 4
            }
            let valuesRange = try reader.skip(valueBytes)
            guard build else { continue }

            guard let name = String(validating: UnsafeRawBufferPointer(rebasing: reader.bytes[nameRange]), as: UTF8.self) else {
                throw reader.malformed("tensor \(index) has a name that is not valid UTF-8")
            }
            var shape = [Int]()
            shape.reserveCapacity(Int(rank))
            for i in 0..<Int(rank) {
                let dimension = reader.bytes.loadUnaligned(fromByteOffset: dimensionsRange.lowerBound + 8 * i,
                                                           as: UInt64.self).littleEndian
                guard dimension <= UInt64(Int.max) else {
                    throw reader.malformed("tensor '\(name)' has dimension \(dimension), too large")
                }
                shape.append(Int(dimension))
            }
            let valueCount = valuesRange.count / 4
            let values = [Float](unsafeUninitializedCapacity: valueCount) { buffer, initialized in
                let source = UnsafeRawBufferPointer(rebasing: reader.bytes[valuesRange])
                #if _endian(little)
                if valueCount > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source) }
                #else
                for i in 0..<valueCount {
                    buffer[i] = Float(bitPattern: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                }
                #endif
                initialized = valueCount
            }
            tensors.append(ModelTensor(name: name, shape: shape, values: values))
        }
        guard build else { return nil }
        return ModelArchive(header: Data(UnsafeRawBufferPointer(rebasing: reader.bytes[headerRange])), tensors: tensors)
    }
}

// MARK: - Reading helpers

/// A bounds-checked cursor. Running past `end` is a truncation while diagnosing a damaged file,
/// and a malformed file when the checksum matched (the lengths themselves are wrong).
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int
    let end: Int
    let trusted: Bool
    let source: String

    var remaining: Int { end - offset }

    func malformed(_ reason: String) -> ModelFileError { .malformed(source: source, reason: reason) }

    /// Advances over `length` bytes and returns their range; never trusts `length` beyond `remaining`.
    mutating func skip(_ length: UInt64) throws(ModelFileError) -> Range<Int> {
        guard length <= UInt64(remaining) else {
            if trusted {
                throw malformed("a field at offset \(offset) claims \(length) bytes but only \(remaining) remain")
            }
            // The data ends at `end`; `length - remaining` more bytes would be needed to finish this field.
            throw .truncated(source: source, expected: length - UInt64(remaining), offset: end)
        }
        let start = offset
        offset += Int(length)
        return start..<offset
    }

    mutating func u32() throws(ModelFileError) -> UInt32 {
        let range = try skip(4)
        return bytes.loadUnaligned(fromByteOffset: range.lowerBound, as: UInt32.self).littleEndian
    }

    mutating func u64() throws(ModelFileError) -> UInt64 {
        let range = try skip(8)
        return bytes.loadUnaligned(fromByteOffset: range.lowerBound, as: UInt64.self).littleEndian
    }
}

/// FNV-1a, 64 bits (also the training-data hash, `fnv1aHex`).
func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var hash = FNV1a64()
    hash.update(bytes)
    return hash.value
}

/// FNV-1a 64, fed piece by piece (a multi-gigabyte library is hashed in chunks).
public struct FNV1a64: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    public init() {}
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var hash = value
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        value = hash
    }
    /// 16 lowercase hex digits.
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

private func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
}

private func describeDecodingError(_ error: any Error) -> String {
    func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.isEmpty ? "the top level" : codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    guard let error = error as? DecodingError else { return String(describing: error) }
    switch error {
    case .keyNotFound(let key, let context):
        return "missing key '\(key.stringValue)' at \(path(context.codingPath))"
    case .typeMismatch(let type, let context):
        return "expected \(type) at \(path(context.codingPath))"
    case .valueNotFound(let type, let context):
        return "missing \(type) value at \(path(context.codingPath))"
    case .dataCorrupted(let context):
        return "\(context.debugDescription) at \(path(context.codingPath))"
    @unknown default:
        return String(describing: error)
    }
}

// MARK: - File system (POSIX, for clear errno messages and an fsync before the rename)

private struct SystemError: Error {
    let reason: String
}

private func systemErrorReason() -> String {
    String(cString: strerror(errno))
}

private func readWholeFile(_ path: String) throws(SystemError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError(reason: systemErrorReason()) }
    defer { _ = close(fd) }
    var info = stat()
    var bytes = [UInt8]()
    if fstat(fd, &info) == 0, info.st_size > 0 { bytes.reserveCapacity(Int(info.st_size)) }
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw SystemError(reason: systemErrorReason())
        }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return bytes
}

private func writeDurably(_ data: Data, to path: String) throws(SystemError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SystemError(reason: systemErrorReason()) }
    var failure: String?
    data.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                failure = systemErrorReason()
                return
            }
            offset += n
        }
    }
    if failure == nil, fsync(fd) != 0 { failure = systemErrorReason() }
    if close(fd) != 0, failure == nil { failure = systemErrorReason() }
    if let failure { throw SystemError(reason: failure) }
}

private func renameFile(_ from: String, _ to: String) -> Int32 {
    rename(from, to)
}

private func removeFile(_ path: String) {
    _ = unlink(path)
}

/// Makes the rename itself durable; best effort (some file systems refuse to sync a folder).
private func syncFolder(_ path: String) {
    let fd = open(path.isEmpty ? "." : path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = fsync(fd)
    _ = close(fd)
}
