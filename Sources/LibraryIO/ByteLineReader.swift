import CZlib
import Foundation

/// Reading an input file failed: which file, which record (when one is to blame) and why. Commands
/// print it as `winnow <command>: error: <message>` and exit with the bad-input code.
public struct InputError: Error, Sendable, CustomStringConvertible {
    /// The file at fault (`-` for standard input), when one is.
    public var file: String?
    /// The 1-based record number the problem belongs to, when one does.
    public var record: Int?
    /// What is wrong, in words.
    public var reason: String

    /// A message-only error (the message usually starts with the file name already).
    public init(_ message: String) { reason = message }

    public init(file: String, record: Int? = nil, reason: String) {
        self.file = file
        self.record = record
        self.reason = reason
    }

    /// `file: record N: reason`, leaving out the parts that are not known.
    public var message: String {
        var parts: [String] = []
        if let file { parts.append(file == "-" ? "standard input" : file) }
        if let record { parts.append("record \(record)") }
        parts.append(reason)
        return parts.joined(separator: ": ")
    }

    public var description: String { message }
}

/// Reads a file (or standard input for `-`) line by line, decompressing gzip when the data starts
/// with the gzip magic bytes (whatever the name), so one code path serves `.smi` and `.smi.gz`.
/// Lines end at `\n`, `\r\n` or a lone `\r`; a UTF-8 byte-order mark at the start of the file is
/// skipped. Gzip data may be several members one after another (as `cat a.gz b.gz` makes); anything
/// else after the last member is reported, not ignored.
public final class ByteLineReader {
    public let path: String
    private let fd: Int32
    private let fileSize: Int64?
    /// Raw bytes from the file (compressed for gzip) not yet handed to zlib or the line buffer.
    private var raw: [UInt8]
    private var rawStart = 0
    private var rawEnd = 0
    private var rawEOF = false
    private var bytesFromFile: Int64 = 0
    /// Gzip state, allocated once: zlib keeps a pointer back to its stream, so it must not move.
    private var stream: UnsafeMutablePointer<z_stream>? = nil
    private var memberEnded = false
    /// Decompressed bytes; lines are cut from `buffer[start..<end]`.
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var finished = false
    /// Where the next `\n` is, or how far there is none, so that files with `\r` line ends are not
    /// searched for a `\n` over and over.
    private var nextLF: Int? = nil
    private var noLFBefore = 0
    /// Content hash (FNV-1a 64) of the bytes consumed so far, when asked for at init.
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    private let hashing: Bool
    private var hashedUpTo = 0
    /// 1-based number of the last line returned.
    public private(set) var lineNumber = 0
    /// True when the data is gzip-compressed.
    public var isCompressed: Bool { stream != nil }
    /// Longest line kept whole. The rest of a longer line is dropped as it is read, so that a
    /// gzip bomb of one endless line never holds more than this in memory.
    public var maxLineBytes = Int.max
    /// The whole length of the line being returned when it was longer than `maxLineBytes` (the
    /// line handed over is then its first `maxLineBytes` bytes); nil otherwise.
    public private(set) var overlongLineLength: Int? = nil
    private var droppedFromLine = 0
    /// Bytes of the line buffer (for tests).
    var bufferCapacity: Int { buffer.count }

    public init(path: String, chunkSize: Int = 1 << 20, hashContent: Bool = false) throws(InputError) {
        self.path = path
        hashing = hashContent
        let descriptor: Int32
        if path == "-" {
            descriptor = dup(STDIN_FILENO)
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw InputError("\(path): no such file")
            }
            guard !isDirectory.boolValue else { throw InputError("\(path): is a directory, not a library file") }
            guard FileManager.default.isReadableFile(atPath: path) else { throw InputError("\(path): permission denied") }
            descriptor = open(path, O_RDONLY)
        }
        guard descriptor >= 0 else { throw InputError("\(path): cannot open (\(String(cString: strerror(errno))))") }
        fd = descriptor
        var info = stat()
        fileSize = path != "-" && fstat(descriptor, &info) == 0 && (info.st_mode & mode_t(S_IFMT)) == mode_t(S_IFREG) && info.st_size > 0
            ? Int64(info.st_size) : nil
        raw = [UInt8](repeating: 0, count: 1 << 17)
        buffer = [UInt8](repeating: 0, count: chunkSize)
        // The first bytes decide between plain text and gzip.
        var gzip = false
        do {
            while rawEnd < 2, try readRaw() {}
            gzip = rawEnd >= 2 && raw[0] == 0x1f && raw[1] == 0x8b
        } catch {
            close(descriptor)
            throw error
        }
        if gzip {
            let z = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            z.initialize(to: z_stream())
            // windowBits 15 + 16: gzip only (the magic said so).
            guard inflateInit2_(z, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                z.deallocate()
                close(descriptor)
                throw InputError("\(path): zlib could not start decompressing")
            }
            stream = z
        }
    }

    deinit {
        if let stream {
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        close(fd)
    }

    /// Fraction of the file consumed so far (compressed bytes for gzip), for progress estimates;
    /// nil for standard input and other streams.
    public var fractionRead: Double? {
        guard let fileSize else { return nil }
        return min(1, Double(bytesFromFile) / Double(fileSize))
    }

    /// FNV-1a 64 of every byte consumed so far (line ends included), when the reader was made with
    /// `hashContent: true`; nil otherwise.
    public var contentHash: UInt64? {
        guard hashing else { return nil }
        hashConsumed()
        return hash
    }

    private func hashConsumed() {
        guard hashing, hashedUpTo < start else { return }
        var h = hash
        buffer.withUnsafeBufferPointer { b in
            for i in hashedUpTo..<start {
                h = (h ^ UInt64(b[i])) &* 0x0000_0100_0000_01b3
            }
        }
        hash = h
        hashedUpTo = start
    }

    /// Reads more raw bytes from the file after the unconsumed ones; false at the end of the file.
    private func readRaw() throws(InputError) -> Bool {
        if rawEOF { return false }
        if rawStart > 0 {
            let remaining = rawEnd - rawStart
            if remaining > 0 {
                raw.withUnsafeMutableBufferPointer { b in _ = memmove(b.baseAddress!, b.baseAddress! + rawStart, remaining) }
            }
            rawStart = 0
            rawEnd = remaining
        }
        if rawEnd == raw.count { raw.append(contentsOf: [UInt8](repeating: 0, count: raw.count)) }
        while true {
            let n = raw.withUnsafeMutableBufferPointer { b in read(fd, b.baseAddress! + rawEnd, b.count - rawEnd) }
            if n < 0 {
                if errno == EINTR { continue }
                throw InputError("\(path): read error after line \(lineNumber) (\(String(cString: strerror(errno))))")
            }
            if n == 0 { rawEOF = true; return false }
            rawEnd += n
            bytesFromFile += Int64(n)
            return true
        }
    }

    private func refill() throws(InputError) {
        if start > 0 {
            hashConsumed()
            let shift = start
            let remaining = end - start
            if remaining > 0 {
                buffer.withUnsafeMutableBufferPointer { b in
                    _ = memmove(b.baseAddress!, b.baseAddress! + shift, remaining)
                }
            }
            start = 0
            end = remaining
            hashedUpTo = max(0, hashedUpTo - shift)
            nextLF = nextLF.map { $0 - shift }
            noLFBefore = max(0, noLFBefore - shift)
        }
        if end == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
        guard let stream else {
            // Plain text: first what the format check read, then straight from the file.
            if rawStart < rawEnd {
                let n = min(buffer.count - end, rawEnd - rawStart)
                buffer.withUnsafeMutableBufferPointer { b in
                    raw.withUnsafeBufferPointer { r in _ = memcpy(b.baseAddress! + end, r.baseAddress! + rawStart, n) }
                }
                rawStart += n
                end += n
                return
            }
            while true {
                let n = buffer.withUnsafeMutableBufferPointer { b in read(fd, b.baseAddress! + end, b.count - end) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw InputError("\(path): read error after line \(lineNumber) (\(String(cString: strerror(errno))))")
                }
                if n == 0 { finished = true }
                end += n
                bytesFromFile += Int64(n)
                return
            }
        }
        while true {
            if rawStart == rawEnd { _ = try readRaw() }
            if memberEnded {
                // Between gzip members: the end of the file, another member, or something else.
                if rawStart == rawEnd && rawEOF { finished = true; return }
                if rawEnd - rawStart < 2 && !rawEOF { _ = try readRaw(); continue }
                guard rawEnd - rawStart >= 2, raw[rawStart] == 0x1f, raw[rawStart + 1] == 0x8b else {
                    let offset = bytesFromFile - Int64(rawEnd - rawStart)
                    throw InputError("\(path): data that is not gzip follows the end of the gzip stream (at byte \(offset), after line \(lineNumber)); the file may be damaged or two files joined")
                }
                inflateReset(stream)
                memberEnded = false
            }
            let available = rawEnd - rawStart
            let capacity = buffer.count - end
            let status: Int32 = raw.withUnsafeMutableBufferPointer { r in
                buffer.withUnsafeMutableBufferPointer { b in
                    stream.pointee.next_in = r.baseAddress! + rawStart
                    stream.pointee.avail_in = UInt32(available)
                    stream.pointee.next_out = b.baseAddress! + end
                    stream.pointee.avail_out = UInt32(min(capacity, Int(UInt32.max)))
                    return inflate(stream, Z_NO_FLUSH)
                }
            }
            let consumed = available - Int(stream.pointee.avail_in)
            let produced = min(capacity, Int(UInt32.max)) - Int(stream.pointee.avail_out)
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
            rawStart += consumed
            end += produced
            switch status {
            case Z_STREAM_END:
                memberEnded = true
            case Z_OK, Z_BUF_ERROR:
                if rawStart == rawEnd && rawEOF && produced == 0 {
                    throw InputError("\(path): the gzip data is damaged or truncated after line \(lineNumber)")
                }
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw InputError("\(path): read error after line \(lineNumber) (\(message)); the file may be a damaged gzip archive")
            }
            if produced > 0 { return }
        }
    }

    /// The first `count` bytes not yet consumed (fewer at the end of the data), without consuming
    /// them: for telling formats apart.
    public func peek(_ count: Int) throws(InputError) -> [UInt8] {
        while end - start < count && !finished { try refill() }
        return Array(buffer[start..<min(end, start + count)])
    }

    /// Where the line starting at `start` ends and the next one starts, if the buffer holds its end.
    private func lineEnd() -> (end: Int, next: Int)? {
        guard start < end else { return nil }
        return buffer.withUnsafeBufferPointer { b -> (Int, Int)? in
            let base = b.baseAddress!
            if nextLF.map({ $0 < start }) ?? false { nextLF = nil }
            if nextLF == nil {
                let from = max(start, noLFBefore)
                if from < end, let p = memchr(base + from, 10, end - from) {
                    nextLF = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
                } else {
                    noLFBefore = end
                }
            }
            let limit = nextLF ?? end
            if limit > start, let p = memchr(base + start, 13, limit - start) {
                let cr = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
                if cr + 1 < end { return (cr, b[cr + 1] == 10 ? cr + 2 : cr + 1) }
                // A `\r` last in the buffer: the next byte decides, unless there is none.
                return finished ? (cr, cr + 1) : nil
            }
            if let lf = nextLF { return (lf, lf + 1) }
            return nil
        }
    }

    /// Calls `body` with the next line (without its line end); returns nil at the end.
    public func nextLine<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        droppedFromLine = 0
        overlongLineLength = nil
        while true {
            if let (stop, next) = lineEnd() {
                let lineStart = start
                start = next
                lineNumber += 1
                return try emitCut(lineStart, stop, body)
            }
            if finished {
                guard start < end else { return nil }
                let lineStart = start
                start = end
                lineNumber += 1
                return try emitCut(lineStart, end, body)
            }
            if end - start > maxLineBytes { dropOverlongTail() }
            try refill()
        }
    }

    /// Hands over a line, cut to `maxLineBytes` when longer (also when it arrived whole).
    private func emitCut<T>(_ from: Int, _ to: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        if droppedFromLine > 0 || to - from > maxLineBytes {
            overlongLineLength = to - from + droppedFromLine
            return try emit(from, min(to, from + maxLineBytes), body)
        }
        return try emit(from, to, body)
    }

    /// The line in the buffer has no end yet and is over `maxLineBytes`: keep its first
    /// `maxLineBytes` bytes and drop the rest (a `\r` last in the buffer is kept: it may end the line).
    private func dropOverlongTail() {
        let keep = start + maxLineBytes
        let lastIsCR = buffer[end - 1] == 13
        let dropEnd = end - (lastIsCR ? 1 : 0)
        // The kept prefix and the dropped bytes are hashed now, in order (the content hash must not
        // depend on the limit); what comes after is hashed as it is consumed.
        if hashing {
            var h = hash
            buffer.withUnsafeBufferPointer { b in
                for i in hashedUpTo..<dropEnd { h = (h ^ UInt64(b[i])) &* 0x0000_0100_0000_01b3 }
            }
            hash = h
        }
        hashedUpTo = keep
        droppedFromLine += dropEnd - keep
        if lastIsCR { buffer[keep] = 13 }
        end = keep + (lastIsCR ? 1 : 0)
        nextLF = nil
        noLFBefore = min(noLFBefore, end)
    }

    private func emit<T>(_ from: Int, _ to: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        var from = from
        // A UTF-8 byte-order mark (EF BB BF) before the first line is not part of it.
        if lineNumber == 1, to - from >= 3, buffer[from] == 0xEF, buffer[from + 1] == 0xBB, buffer[from + 2] == 0xBF { from += 3 }
        return try buffer.withUnsafeBufferPointer { b in
            try body(UnsafeBufferPointer(rebasing: b[from..<to]))
        }
    }
}
