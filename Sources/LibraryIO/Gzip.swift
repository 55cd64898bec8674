import CZlib

/// Compresses `bytes` as one complete gzip member (header, deflate data, trailer). Several members
/// written one after another form a valid gzip file, which is how `--all-scores FILE.gz` grows round
/// by round and stays resumable; `ByteLineReader` reads such files back.
public func gzipMember(_ bytes: [UInt8]) throws(InputError) -> [UInt8] {
    var stream = z_stream()
    // windowBits 15 + 16: write a gzip header and trailer.
    guard deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw InputError("zlib could not start compressing")
    }
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
    var input = bytes
    let status: Int32 = input.withUnsafeMutableBufferPointer { inBuffer in
        output.withUnsafeMutableBufferPointer { outBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = UInt32(inBuffer.count)
            stream.next_out = outBuffer.baseAddress
            stream.avail_out = UInt32(outBuffer.count)
            return deflate(&stream, Z_FINISH)
        }
    }
    guard status == Z_STREAM_END else { throw InputError("zlib could not compress the data") }
    return Array(output.prefix(Int(stream.total_out)))
}
