import CZlib
import Foundation

/// Reading a library file failed as a whole (missing, unreadable, corrupt gzip).
public struct InputError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads a file (or standard input for `-`) line by line, decompressing gzip transparently: zlib's
/// `gzread` passes plain files through unchanged, so one code path serves `.smi` and `.smi.gz`.
public final class ByteLineReader {
    public let path: String
    private let file: gzFile
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var finished = false
    /// 1-based number of the last line returned.
    public private(set) var lineNumber = 0

    public init(path: String, chunkSize: Int = 1 << 20) throws(InputError) {
        self.path = path
        let handle: gzFile?
        if path == "-" {
            handle = gzdopen(dup(STDIN_FILENO), "rb")
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw InputError("\(path): no such file")
            }
            guard !isDirectory.boolValue else { throw InputError("\(path): is a directory, not a library file") }
            guard FileManager.default.isReadableFile(atPath: path) else { throw InputError("\(path): permission denied") }
            handle = gzopen(path, "rb")
        }
        guard let handle else { throw InputError("\(path): cannot open") }
        gzbuffer(handle, 1 << 17)
        file = handle
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    deinit { gzclose(file) }

    /// Fraction of the file consumed so far (compressed bytes for gzip), for progress estimates;
    /// nil for standard input.
    public var fractionRead: Double? {
        guard path != "-", let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber,
              size.doubleValue > 0 else { return nil }
        let offset = Double(gzoffset(file))
        return min(1, offset / size.doubleValue)
    }

    private func refill() throws(InputError) {
        if start > 0 {
            let remaining = end - start
            if remaining > 0 {
                buffer.withUnsafeMutableBufferPointer { b in
                    _ = memmove(b.baseAddress!, b.baseAddress! + start, remaining)
                }
            }
            start = 0
            end = remaining
        }
        if end == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
        let capacity = buffer.count - end
        let read = buffer.withUnsafeMutableBufferPointer { b in
            gzread(file, b.baseAddress! + end, UInt32(min(capacity, Int(Int32.max))))
        }
        if read < 0 {
            var code: Int32 = 0
            let message = String(cString: gzerror(file, &code))
            throw InputError("\(path): read error after line \(lineNumber) (\(message)); the file may be a damaged gzip archive")
        }
        if read == 0 {
            var code: Int32 = 0
            _ = gzerror(file, &code)
            if code != Z_OK {
                throw InputError("\(path): the gzip data is damaged or truncated after line \(lineNumber)")
            }
            finished = true
        }
        end += Int(read)
    }

    /// Calls `body` with the next line (without `\n` or a trailing `\r`); returns false at the end.
    public func nextLine<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        while true {
            let found: Int? = buffer.withUnsafeBufferPointer { b in
                guard start < end else { return nil }
                if let p = memchr(b.baseAddress! + start, Int32(UInt8(ascii: "\n")), end - start) {
                    return b.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
                }
                return nil
            }
            if let newline = found {
                let lineStart = start
                start = newline + 1
                lineNumber += 1
                return try emit(lineStart, newline, body)
            }
            if finished {
                guard start < end else { return nil }
                let lineStart = start
                start = end
                lineNumber += 1
                return try emit(lineStart, end, body)
            }
            try refill()
        }
    }

    private func emit<T>(_ from: Int, _ to: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        var stop = to
        if stop > from, buffer[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
        return try buffer.withUnsafeBufferPointer { b in
            try body(UnsafeBufferPointer(rebasing: b[from..<stop]))
        }
    }
}
