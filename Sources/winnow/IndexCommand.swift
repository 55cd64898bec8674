import ArgumentParser
import Fingerprints
import Foundation
import LibraryIO
import Screening

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build a memory-mapped fingerprint database (.wfp) for 'winnow search'.",
        discussion: """
        Fingerprints a library (SMILES, CSV, SDF, optionally gzip, or '-') with Morgan bits on all
        cores, or takes an FPS file as it is, and writes one file laid out to be memory-mapped: rows
        sorted by popcount with a popcount table, 64-byte-aligned rows, ids and SMILES in their own
        section, a versioned header and a checksum. Opening the file checks the header and section
        bounds only; 'winnow index --verify FILE' reads it whole and checks the checksum.

        Example: winnow index libraries/moses_sample_10k.smi -o sample.wfp --errors rejected.tsv
        """
    )

    @Argument(help: "Library (.smi, .csv, .tsv, .sdf, optionally .gz, '-' for standard input) or FPS file (.fps, .fps.gz); with --verify, the index to check.")
    var input: String

    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var standardizeOptions: StandardizeOptions
    @Flag(help: "Index each structure once: a record with the same standardised structure as an earlier record is left out and listed as its duplicate in --errors.")
    var dedupe = false

    @Option(name: .shortAndLong, help: "Index file to write (.wfp).")
    var output: String?

    @OptionGroup var morgan: MorganOptions

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Write rejected records here (record, id, input, reason).")
    var errors: String?

    @Flag(help: "Check an existing index: read it whole, compare its checksum and popcount table.")
    var verify = false

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        try morgan.validate(maxBits: FingerprintIndex.maxBits)
        try validateThreads(threads)
        if !verify && output == nil { throw ValidationError("give the index file to write with -o FILE.wfp") }
    }

    func run() throws {
        if verify {
            do {
                let index = try FingerprintIndex(path: input)
                try index.verify()
                print("\(input): ok, \(index.count) fingerprints, \(index.type.bitCount) bits, \(index.type.typeString)")
            } catch {
                // The do block throws only IndexFileError (typed throws): a damaged file, status 2.
                throw CommandFailure(error.message)
            }
            return
        }
        guard let output else { return }
        try checkOutputs([output, errors], inputs: [input])
        var job = IndexJob(input: input, output: output)
        job.format = inputOptions.libraryFormat
        job.smilesColumn = inputOptions.smilesColumn
        job.idColumn = inputOptions.idColumn
        job.limits = standardizeOptions.apply(to: inputOptions.limits, defaultOn: false)
        job.dedupe = dedupe
        job.errorsPath = errors
        job.settings = morgan.settings
        job.threads = threads ?? defaultThreadCount()
        job.showProgress = !quiet
        let summary = try job.run()
        printToStandardError(String(
            format: "winnow index: read %d, indexed %d, rejected %d%@ in %.2f s (%.0f molecules/s); %@",
            summary.read, summary.written, summary.rejected, dedupe ? ", duplicates \(summary.duplicates)" : "", summary.seconds, summary.rate, output))
        if job.limits.standardize { printToStandardError(standardizationNote(command: "index", summary.standardized)) }
    }
}
