import ArgumentParser
import Fingerprints
import Foundation
import LibraryIO
import Screening

struct FingerprintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fingerprint",
        abstract: "Compute RDKit-compatible Morgan fingerprints of a library (FPS, or counts as TSV).",
        discussion: """
        Bits are written in chemfp's FPS format (hex<TAB>id). Records that cannot be read go to the
        errors file as record<TAB>id<TAB>input<TAB>reason; the run goes on. Output order is input
        order at any thread count.

        Example: winnow fingerprint libraries/moses_sample_10k.smi -o sample.fps --errors rejected.tsv
        """
    )

    @Argument(help: "Library file (.smi, .csv, .tsv, .sdf, optionally .gz), or '-' for standard input.")
    var input: String

    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var standardizeOptions: StandardizeOptions

    @Option(name: .shortAndLong, help: "Output file (default: standard output).")
    var output: String?

    @OptionGroup var morgan: MorganOptions

    @Flag(help: "Write count fingerprints (id<TAB>bit:count,...) instead of FPS bits.")
    var counts = false

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Write rejected records here (record, id, input, reason).")
    var errors: String?

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        try validateThreads(threads)
    }

    func run() throws {
        try checkOutputs([output ?? "-", errors], inputs: [input])
        var job = FingerprintJob(input: input)
        job.format = inputOptions.libraryFormat
        job.smilesColumn = inputOptions.smilesColumn
        job.idColumn = inputOptions.idColumn
        job.limits = standardizeOptions.apply(to: inputOptions.limits, defaultOn: false)
        job.output = output
        job.errorsPath = errors
        job.settings = morgan.settings
        job.counts = counts
        job.threads = threads ?? defaultThreadCount()
        job.showProgress = !quiet
        let summary = try job.run()
        printToStandardError(String(
            format: "winnow fingerprint: read %d, written %d, rejected %d in %.2f s (%.0f molecules/s)",
            summary.read, summary.written, summary.rejected, summary.seconds, summary.rate))
        if job.limits.standardize { printToStandardError(standardizationNote(command: "fingerprint", summary.standardized)) }
    }
}
