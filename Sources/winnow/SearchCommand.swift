import ArgumentParser
import Chemistry
import Fingerprints
import Foundation
import LibraryIO
import Screening

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Similarity search in a fingerprint database, or substructure search (SMARTS) in a library.",
        discussion: """
        Similarity (--db): writes query_id,rank,hit_id,hit_smiles,similarity: for each query (in input
        order) its hits at or above --threshold, at most --top of them, most similar first, equal
        similarities in database order; the same bytes at any thread count. Similarities are exact
        fractions of bit counts (a similarity equal to the threshold is a hit), printed with 4 decimals.

        Substructure (--smarts / --smarts-file, with a LIBRARY argument): writes
        record,id,smiles,pattern,matches,atoms for every record that matches, in input order, one row
        per matched pattern: the number of unique matches (as RDKit's GetSubstructMatches) and one
        match's atoms (0-based heavy-atom indices in input order, in the pattern's atom order).

        Example: winnow search --db sample.wfp --smiles 'CC(=O)Nc1ccc(O)cc1' --threshold 0.5 --top all -o paracetamol.csv
        Example: winnow search --smarts 'S(=O)(=O)N' libraries/moses_sample_10k.smi -o sulfonamides.csv
        """
    )

    @Option(help: "Database: an index from 'winnow index' (.wfp) or an FPS file (parsed on load, slower).")
    var db: String?

    @Argument(help: "Queries: a library (.smi, .csv, .tsv, .sdf, optionally .gz, or '-') or an FPS file of the database's type; with --smarts, the library to search.")
    var queries: String?

    @Option(help: "Substructure search: the records of the LIBRARY that match this SMARTS (repeatable: one row per matched pattern).")
    var smarts: [String] = []

    @Option(help: "Substructure search with the patterns of a file of SMARTS<TAB>name lines (# comments); the pattern column names the match.")
    var smartsFile: [String] = []

    @Option(help: "Substructure search: stop after this many matching molecules (the records after the last one are not read).")
    var maxHits: Int?

    @Flag(help: "Substructure search: write only pattern,molecules,matches (per pattern) instead of the matching records.")
    var count = false

    @OptionGroup var inputOptions: InputOptions

    @Option(help: "One query molecule as SMILES.")
    var smiles: String?

    @Flag(name: .customLong("self"), help: "Search the database against itself (every pair at or above the threshold, both ways; a record never hits itself).")
    var selfSearch = false

    @Option(help: "Lowest similarity to report (a decimal from 0 to 1, at most 6 places; default 0).")
    var threshold: String?

    @Option(help: "Hits per query: a number, or 'all' for every hit at or above the threshold (default 100).")
    var top: String?

    @Option(help: "Tversky similarity with weights A (query's own bits) and B (database molecule's own bits), e.g. 0.9,0.1; default Tanimoto.")
    var tversky: String?

    @Option(name: .shortAndLong, help: "Output CSV (default: standard output).")
    var output: String?

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Write rejected query (or library, with --smarts) records here (record, id, input, reason); default: standard error.")
    var errors: String?

    @Flag(help: "No progress line.")
    var quiet = false

    var isSubstructure: Bool { !smarts.isEmpty || !smartsFile.isEmpty }

    func validate() throws {
        try validateThreads(threads)
        if isSubstructure {
            let similarityOptions = [("--db", db != nil), ("--smiles", smiles != nil), ("--self", selfSearch), ("--threshold", threshold != nil),
                                     ("--top", top != nil), ("--tversky", tversky != nil)].filter(\.1).map(\.0)
            guard similarityOptions.isEmpty else {
                throw ValidationError("--smarts / --smarts-file search a library by substructure; \(similarityOptions.joined(separator: ", ")) belong to similarity search")
            }
            guard queries != nil else { throw ValidationError("--smarts needs the LIBRARY to search (a file, or '-' for standard input)") }
            if let maxHits, maxHits < 1 { throw ValidationError("--max-hits must be at least 1") }
            if count && maxHits != nil { throw ValidationError("--count counts the whole library; leave out --max-hits") }
            for text in smarts {
                do { _ = try SMARTS(text) } catch { throw ValidationError("--smarts '\(text)': \(error)") }
            }
            return
        }
        guard maxHits == nil, !count else { throw ValidationError("--max-hits and --count belong to substructure search (--smarts)") }
        guard db != nil else { throw ValidationError("give --db DATABASE for a similarity search, or --smarts PATTERN for a substructure search") }
        let threshold = threshold ?? "0", top = top ?? "100"
        let sources = [queries != nil, smiles != nil, selfSearch].filter { $0 }.count
        guard sources == 1 else { throw ValidationError("give exactly one of: a QUERIES file, --smiles SMILES, or --self") }
        guard SimilarityThreshold(threshold) != nil else {
            throw ValidationError("--threshold must be a decimal between 0 and 1 with at most 6 places, e.g. 0.7")
        }
        guard top == "all" || (Int(top).map { $0 >= 1 } ?? false) else { throw ValidationError("--top must be a positive number or 'all'") }
        if let tversky, SimilarityMeasure(tversky: tversky) == nil {
            throw ValidationError("--tversky must be A,B: two weights between 0 and 10 with at most 3 places, not both 0 (e.g. 0.9,0.1)")
        }
    }

    func run() throws {
        if isSubstructure { return try runSubstructure() }
        let threshold = threshold ?? "0", top = top ?? "100"
        guard let db else { throw ValidationError("give --db DATABASE for a similarity search") }
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

    /// `--smarts`: the matching records of the library, in input order.
    func runSubstructure() throws {
        guard let library = queries else { throw ValidationError("--smarts needs the LIBRARY to search") }
        try checkOutputs([output ?? "-", errors], inputs: [library] + smartsFile)
        var patterns: [NamedPattern] = []
        for text in smarts {
            do { patterns.append(try NamedPattern(smarts: text)) } catch { throw ValidationError("--smarts '\(text)': \(error)") }
        }
        for path in smartsFile { patterns += try NamedPattern.read(file: path) }
        var job = SubstructureSearchJob(input: library, patterns: patterns)
        job.format = inputOptions.libraryFormat
        job.smilesColumn = inputOptions.smilesColumn
        job.idColumn = inputOptions.idColumn
        job.limits = inputOptions.limits
        job.output = output
        job.errorsPath = errors
        job.maxHits = maxHits
        job.countOnly = count
        job.threads = threads ?? defaultThreadCount()
        job.showProgress = !quiet
        let summary = try job.run()
        var line = String(format: "winnow search: read %d, matched %d, not matched %d, rejected %d in %.2f s (%.0f molecules/s)",
                          summary.read, summary.matched, summary.notMatched, summary.rejected, summary.seconds, summary.rate)
        if summary.stoppedAtMaxHits { line += "; stopped at --max-hits \(maxHits ?? 0): records after \(summary.read) not read" }
        printToStandardError(line)
    }
}
