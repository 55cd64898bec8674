import ArgumentParser
import Fingerprints
import Foundation
import LibraryIO
import Screening

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Similarity search: the most similar molecules of a fingerprint database to each query.",
        discussion: """
        Writes query_id,rank,hit_id,hit_smiles,similarity: for each query (in input order) its hits
        at or above --threshold, at most --top of them, most similar first, equal similarities in
        database order; the same bytes at any thread count. Similarities are exact fractions of bit
        counts (a similarity equal to the threshold is a hit), printed with 4 decimals.

        Example: winnow search --db sample.wfp --smiles 'CC(=O)Nc1ccc(O)cc1' --threshold 0.5 --top all -o paracetamol.csv
        """
    )

    @Option(help: "Database: an index from 'winnow index' (.wfp) or an FPS file (parsed on load, slower).")
    var db: String

    @Argument(help: "Queries: a library (.smi, .csv, .tsv, .sdf, optionally .gz, or '-') or an FPS file of the database's type.")
    var queries: String?

    @OptionGroup var inputOptions: InputOptions

    @Option(help: "One query molecule as SMILES.")
    var smiles: String?

    @Flag(name: .customLong("self"), help: "Search the database against itself (every pair at or above the threshold, both ways; a record never hits itself).")
    var selfSearch = false

    @Option(help: "Lowest similarity to report (a decimal from 0 to 1, at most 6 places).")
    var threshold = "0"

    @Option(help: "Hits per query: a number, or 'all' for every hit at or above the threshold.")
    var top = "100"

    @Option(help: "Tversky similarity with weights A (query's own bits) and B (database molecule's own bits), e.g. 0.9,0.1; default Tanimoto.")
    var tversky: String?

    @Option(name: .shortAndLong, help: "Output CSV (default: standard output).")
    var output: String?

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Write rejected query records here (record, id, input, reason); default: standard error.")
    var errors: String?

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        let sources = [queries != nil, smiles != nil, selfSearch].filter { $0 }.count
        guard sources == 1 else { throw ValidationError("give exactly one of: a QUERIES file, --smiles SMILES, or --self") }
        guard SimilarityThreshold(threshold) != nil else {
            throw ValidationError("--threshold must be a decimal between 0 and 1 with at most 6 places, e.g. 0.7")
        }
        guard top == "all" || (Int(top).map { $0 >= 1 } ?? false) else { throw ValidationError("--top must be a positive number or 'all'") }
        if let tversky, SimilarityMeasure(tversky: tversky) == nil {
            throw ValidationError("--tversky must be A,B: two weights between 0 and 10 with at most 3 places, not both 0 (e.g. 0.9,0.1)")
        }
        try validateThreads(threads)
    }

    func run() throws {
        try checkOutputs([output ?? "-", errors], inputs: [db, queries])
        var job = SearchJob(database: db)
        job.queries = queries
        job.querySMILES = smiles
        job.selfSearch = selfSearch
        job.format = inputOptions.libraryFormat
        job.smilesColumn = inputOptions.smilesColumn
        job.idColumn = inputOptions.idColumn
        job.output = output
        job.limits = inputOptions.limits
        job.errorsPath = errors
        job.request = SearchRequest(threshold: SimilarityThreshold(threshold) ?? .zero, top: top == "all" ? nil : Int(top),
                                    measure: tversky.flatMap { SimilarityMeasure(tversky: $0) } ?? .tanimoto)
        job.threads = threads ?? defaultThreadCount()
        job.showProgress = !quiet
        let summary = try job.run()
        printToStandardError(String(
            format: "winnow search: %d queries (%d rejected), %d hits in %.3f s (%.1f queries/s); %ld comparisons; database opened in %.1f ms; parser set-up %.1f ms of the search time",
            summary.queries, summary.rejected, summary.hits, summary.seconds,
            summary.seconds > 0 ? Double(summary.queries) / summary.seconds : 0, summary.comparisons, summary.openSeconds * 1000,
            summary.setupSeconds * 1000))
    }
}
