import Fingerprints
import Foundation
import Screening
import Testing
import WinnowTestSupport

/// The whole fingerprint job (reader, pool, writer) over real data, against RDKit's totals.
/// (Moved from FingerprintsTests, which no longer imports Screening.)
@Suite struct FingerprintOnBitsTests {
    /// RDKit's total on-bit count over the 100k MOSES slice is 4,281,839.
    @Test func totalOnBitsOver100kMatchRDKit() throws {
        var job = FingerprintJob(input: TestPaths.library("moses_train_100k.smi"))
        let scratch = try TestPaths.scratch("onbits")
        job.output = scratch.appendingPathComponent("out.fps").path
        job.threads = 2
        job.showProgress = false
        let summary = try job.run()
        #expect(summary.read == 100_000 && summary.rejected == 0)
        var total = 0
        for line in try TestPaths.lines(job.output!) where line.first != UInt8(ascii: "#") {
            let hex = String(decoding: line.prefix { $0 != 9 }, as: UTF8.self)
            let words = try #require(FPSFormat.parseHex(Substring(hex), sizeInBits: 2048))
            total += words.reduce(0) { $0 + $1.nonzeroBitCount }
        }
        #expect(total == 4_281_839)
    }
}
