import Fingerprints
import Foundation
import LibraryIO
import Screening
import Testing
import WinnowTestSupport

@Suite struct FingerprintJobTests {
    private func run(_ input: String, threads: Int, counts: Bool = false, in folder: URL, name: String) throws -> (Data, Data, RunSummary) {
        var job = FingerprintJob(input: input)
        job.output = folder.appendingPathComponent("\(name).out").path
        job.errorsPath = folder.appendingPathComponent("\(name).err").path
        job.threads = threads
        job.counts = counts
        job.showProgress = false
        let summary = try job.run()
        return (try Data(contentsOf: URL(fileURLWithPath: job.output!)),
                try Data(contentsOf: URL(fileURLWithPath: job.errorsPath!)), summary)
    }

    /// A library with garbage mixed in: the same bytes at 1 and 4 threads, every record accounted for.
    @Test func outputIsByteIdenticalAtAnyThreadCountAndEveryRecordIsAccounted() throws {
        let folder = try TestPaths.scratch("job")
        let valid = try String(contentsOfFile: TestPaths.library("moses_train_10k.smi"), encoding: .utf8)
            .split(separator: "\n").prefix(3000)
        let invalid = try TestPaths.lines(TestPaths.fixture("invalid.smi"))
        var bytes: [UInt8] = []
        for (i, line) in valid.enumerated() {
            bytes += Array(line.utf8) + [10]
            if i % 50 == 0 { bytes += invalid[(i / 50) % invalid.count] + [10] }
        }
        let path = folder.appendingPathComponent("mixed.smi").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (out1, err1, s1) = try run(path, threads: 1, in: folder, name: "t1")
        let (out4, err4, s4) = try run(path, threads: 4, in: folder, name: "t4")
        #expect(out1 == out4)
        #expect(err1 == err4)
        #expect(s1.read == 3060 && s1.read == s1.written + s1.rejected)
        #expect(s1.rejected == 60 && s4.rejected == 60)
        let errorLines = String(decoding: err1, as: UTF8.self).split(separator: "\n")
        #expect(errorLines.first == "record\tid\tinput\treason")
        #expect(errorLines.count == 61)
        #expect(errorLines.dropFirst().allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 4 })
        let fpsLines = String(decoding: out1, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(fpsLines.count == 3000)
    }

    @Test func gzipInputGivesTheSameBytesAsPlainInput() throws {
        let folder = try TestPaths.scratch("gzip")
        let plain = folder.appendingPathComponent("lib.smi").path
        try FileManager.default.copyItem(atPath: TestPaths.library("moses_train_10k.smi"), toPath: plain)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-k", plain]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(gzip.terminationStatus == 0)
        var a = FingerprintJob(input: plain), b = FingerprintJob(input: plain + ".gz")
        a.output = folder.appendingPathComponent("a.fps").path
        b.output = folder.appendingPathComponent("b.fps").path
        a.showProgress = false; b.showProgress = false
        a.threads = 2; b.threads = 2
        _ = try a.run()
        let summary = try b.run()
        #expect(summary.read == 10_000)
        // Only the #source header line names the input file.
        func body(_ path: String) throws -> [Substring] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#source") }
        }
        #expect(try body(a.output!) == body(b.output!))
    }

    @Test func damagedGzipIsAFileError() throws {
        let folder = try TestPaths.scratch("badgz")
        let path = folder.appendingPathComponent("bad.smi.gz").path
        var bytes: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03]
        bytes += [UInt8](repeating: 0xAB, count: 200)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var job = FingerprintJob(input: path)
        job.output = folder.appendingPathComponent("out.fps").path
        job.showProgress = false
        #expect(throws: InputError.self) { try job.run() }
    }

    @Test func fpsHeaderNamesSettingsAndBitOrderIsChemfps() throws {
        let folder = try TestPaths.scratch("fps")
        let path = folder.appendingPathComponent("one.smi").path
        try "CCO\tethanol\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (out, _, _) = try run(path, threads: 1, in: folder, name: "fps")
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
        #expect(lines[0] == "#FPS1")
        #expect(lines[1] == "#num_bits=2048")
        #expect(lines[2].hasPrefix("#type=Winnow-Morgan/\(MorganSettings.invariantVersion) radius=2 fpSize=2048"))
        #expect(lines.contains { $0.hasPrefix("#software=") })
        let record = lines.last!.split(separator: "\t")
        #expect(record[1] == "ethanol")
        // Bit 80 = byte 10, value 0x01 (bit 0 is the least significant bit of the first byte).
        let hex = Array(record[0])
        #expect(String(hex[20..<22]) == "01")
        let words = try #require(FPSFormat.parseHex(record[0], sizeInBits: 2048))
        #expect(words.reduce(0) { $0 + $1.nonzeroBitCount } == 6)
    }

    @Test func countOutputListsBitsWithCounts() throws {
        let folder = try TestPaths.scratch("counts")
        let path = folder.appendingPathComponent("one.smi").path
        try "CCO\tethanol\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (out, _, _) = try run(path, threads: 1, counts: true, in: folder, name: "c")
        let last = String(decoding: out, as: UTF8.self).split(separator: "\n").last!
        #expect(last == "ethanol\t80:1,222:1,294:1,807:1,1057:1,1410:1")
    }
}
