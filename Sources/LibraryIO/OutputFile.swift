import Foundation

private func systemReason() -> String { String(cString: strerror(errno)) }

/// close(2), callable where a method named `close` hides it.
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }

/// Buffered output to a file or standard output. A file is written under a temporary name in its
/// own folder (created exclusively, never through a link) and renamed over `path` by `close()`, so
/// a failed or killed run never leaves a partial file looking complete; one that is never closed
/// is removed when the object goes. Devices and pipes (`/dev/stdout`, a FIFO) are written directly.
public final class OutputFile {
    private var handle: UnsafeMutablePointer<FILE>?
    public let path: String
    /// The temporary file renamed over `destination` at the end; nil when writing directly.
    private let temporary: String?
    private let destination: String

    public init(path: String?) throws(InputError) {
        guard let path, path != "-" else {
            guard let handle = fdopen(dup(STDOUT_FILENO), "wb") else { throw InputError("cannot write to standard output") }
            self.handle = handle
            self.path = "standard output"
            temporary = nil
            destination = "-"
            setvbuf(handle, nil, _IOFBF, 1 << 20)
            return
        }
        self.path = path
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & mode_t(S_IFMT)) != mode_t(S_IFREG) {
            if (info.st_mode & mode_t(S_IFMT)) == mode_t(S_IFDIR) { throw InputError(file: path, reason: "is a folder, not a file name") }
            guard let handle = fopen(path, "wb") else {
                throw InputError(file: path, reason: "cannot write (\(systemReason()))")
            }
            self.handle = handle
            temporary = nil
            destination = path
        } else {
            // Through a link to an existing file: replace the file it points to, keep the link.
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)).map { link in
                link.hasPrefix("/") ? link : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(link).path
            } ?? path
            let (fd, name) = try createTemporaryFile(beside: target)
            guard let handle = fdopen(fd, "wb") else {
                let reason = systemReason()
                closeDescriptor(fd)
                unlink(name)
                throw InputError(file: path, reason: "cannot write (\(reason))")
            }
            self.handle = handle
            temporary = name
            destination = target
        }
        setvbuf(handle, nil, _IOFBF, 1 << 20)
    }

    deinit {
        if let handle { fclose(handle) }
        if handle != nil, let temporary { unlink(temporary) }
    }

    public func write(_ bytes: [UInt8]) throws(InputError) {
        guard !bytes.isEmpty, let handle else { return }
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, handle) }
        if written != bytes.count { throw InputError("\(path): write failed (\(systemReason()))") }
    }

    public func write(_ text: String) throws(InputError) { try write(Array(text.utf8)) }

    /// Flushes, closes and (for files) puts the finished file in place.
    public func close() throws(InputError) {
        guard let handle else { return }
        self.handle = nil
        let flushed = fflush(handle) == 0
        let reason = systemReason()
        let closed = fclose(handle) == 0
        guard flushed && closed else {
            if let temporary { unlink(temporary) }
            throw InputError("\(path): write failed (\(flushed ? systemReason() : reason))")
        }
        if let temporary, rename(temporary, destination) != 0 {
            let reason = systemReason()
            unlink(temporary)
            throw InputError("\(path): cannot put the finished file in place (\(reason))")
        }
    }

    /// Writes a whole file the same way (temporary name, then renamed).
    public static func write(_ text: String, to path: String) throws(InputError) {
        let out = try OutputFile(path: path)
        try out.write(text)
        try out.close()
    }
}

/// Creates a new empty file with a unique name next to `path` (same folder, so a rename onto `path`
/// stays on one file system), exclusively: mkstemp opens with O_CREAT|O_EXCL, which never follows a
/// link planted under the name. The file gets the permissions of any new output (0666 less the
/// umask), not mkstemp's private 0600, since it becomes the output when renamed. Returns the open
/// descriptor and the name.
public func createTemporaryFile(beside path: String) throws(InputError) -> (fd: Int32, path: String) {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    var template = Array((folder == "/" ? "" : folder).utf8CString.dropLast())
    template += Array("/.\(url.lastPathComponent).winnow-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
        throw InputError(file: path, reason: "cannot create a file in \(folder) (\(systemReason()))")
    }
    let name = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    let mask = umask(0)
    umask(mask)
    _ = fchmod(fd, 0o666 & ~mask)
    return (fd, name)
}

/// Writes `data` to a new temporary file beside `path` and renames it over `path`: readers see the
/// old file or the new one, never a mix (checkpoints, small outputs).
public func replaceFile(_ path: String, with data: [UInt8]) throws(InputError) {
    let (fd, name) = try createTemporaryFile(beside: path)
    var offset = 0
    var failure: String? = nil
    data.withUnsafeBytes { raw in
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                failure = systemReason()
                return
            }
            offset += n
        }
    }
    if close(fd) != 0, failure == nil { failure = systemReason() }
    if failure == nil, rename(name, path) != 0 { failure = systemReason() }
    if let failure {
        unlink(name)
        throw InputError(file: path, reason: "cannot write (\(failure))")
    }
}

/// Checks done before a command reads anything: every output can be created (its folder exists and
/// is writable, it is not a folder), no output is the same file as an input or as another output
/// (compared by device and inode, so links and other spellings of a path are caught), and no two
/// outputs both go to standard output. `-` inputs (standard input) are not files.
public func checkOutputs(_ outputs: [String?], inputs: [String?]) throws(InputError) {
    struct Identity: Hashable { var device: UInt64; var inode: UInt64; var name: String? }
    func identity(of path: String) -> Identity? {
        var info = stat()
        if stat(path, &info) == 0 { return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), name: nil) }
        // Not there yet: the folder it will be made in, and the name in it.
        let url = URL(fileURLWithPath: path)
        guard stat(url.deletingLastPathComponent().path, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), name: url.lastPathComponent)
    }
    var inputIDs: [(String, Identity)] = []
    for case let input? in inputs where input != "-" {
        var info = stat()
        if stat(input, &info) == 0 {
            inputIDs.append((input, Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), name: nil)))
        }
    }
    var seen: [(String, Identity)] = []
    var standardOutput: String? = nil
    for case let output? in outputs {
        if output == "-" {
            if let first = standardOutput { throw InputError(file: output, reason: "two outputs (\(first) and this one) both go to standard output") }
            standardOutput = "-"
            continue
        }
        var info = stat()
        let exists = stat(output, &info) == 0
        if exists, (info.st_mode & mode_t(S_IFMT)) == mode_t(S_IFDIR) {
            throw InputError(file: output, reason: "is a folder; give a file name for the output")
        }
        let special = exists && (info.st_mode & mode_t(S_IFMT)) != mode_t(S_IFREG)
        if !special {
            let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
            var folderInfo = stat()
            guard stat(folder, &folderInfo) == 0, (folderInfo.st_mode & mode_t(S_IFMT)) == mode_t(S_IFDIR) else {
                throw InputError(file: output, reason: "the folder \(folder) does not exist")
            }
            guard access(folder, W_OK) == 0 else {
                throw InputError(file: output, reason: "the folder \(folder) is not writable")
            }
        }
        guard let id = identity(of: output) else { continue }
        if let (input, _) = inputIDs.first(where: { $0.1 == id }) {
            throw InputError(file: output, reason: "is the same file as the input \(input); writing it would destroy the input")
        }
        // Devices such as /dev/null may take several outputs.
        if !special, let (other, _) = seen.first(where: { $0.1 == id }) {
            throw InputError(file: output, reason: "is the same file as the output \(other); give each output its own name")
        }
        seen.append((output, id))
    }
}

/// The most worker threads any command starts: beyond this, threads only cost memory (each holds
/// its own parser and model copy).
public let maximumThreads = 256
