import ArgumentParser
import Chemistry
import Foundation
import Learning
import LibraryIO
import Screening

struct ScreenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "screen",
        abstract: "Rank a compound library with a trained model: the top hits, explained.",
        discussion: """
        Streams the library through parsing, featurising and scoring on all cores and keeps the best
        --top hits in bounded memory. Hit list columns: rank, record, id, smiles, score, uncertainty,
        nearest_active (from the model's training actives), nearest_active_similarity (Tanimoto on
        Morgan r2/2048 bits), scaffold (Bemis-Murcko), task, inchikey, standardized, then any --keep-columns. Ties are broken
        by input order. A model with several tasks needs --task NAME. Exit status 3: nothing could be
        scored (an empty library, or every record rejected or filtered).

        Molecules are standardised when read unless --no-standardize is given: the largest organic
        fragment is kept and charges that a hydrogen can neutralise are neutralised, so a salt and its
        parent are one molecule with one score. The hit list's smiles and scaffold are canonical SMILES,
        inchikey the standard InChIKey, standardized what the standardiser changed in the hit.

        Filters run on each molecule before it is scored (descriptor conditions first, then SMARTS,
        then alert sets); a filtered record is counted (read = scored + rejected + filtered) and
        listed with the filter that removed it in --filtered (or in --errors, marked 'filtered:').
        --properties and --alerts add descriptor and alert columns to the hit list, SDF and report.

        Example: winnow screen --model targets/bace1/model.winnow --library libraries/moses_sample_10k.smi \\
                 --top 100 -o hits.csv
        """
    )

    @Option(help: "Model file.") var model: String
    @Option(help: "Library file (.smi, .csv, .tsv, .sdf, optionally .gz), or '-' for standard input.") var library: String
    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var standardizeOptions: StandardizeOptions
    @Option(help: "Hits to keep.") var top = 1000
    @Option(help: "Model task to screen on (required when the model has several; default: its only task).") var task: String?
    @Flag(help: "Lowest score first (docking-like scores); the default ranks the highest first.") var minimize = false
    @Option(help: "Library columns (CSV/TSV) or SDF data items to copy into the hit list and hit SDF, comma-separated, e.g. vendor_id,price.")
    var keepColumns: String?
    @Option(name: .shortAndLong, help: "Hit list (CSV).") var output: String
    @Option(help: "Hits as SDF with 2D coordinates and the hit-list values as data items.") var sdf: String?
    @Option(help: "Self-contained HTML report: hit table with structures, score histogram, scaffolds.") var report: String?
    @Option(help: "Hits with more heavy atoms get no 2D layout (no picture, zero SDF coordinates): Open Babel's layout can take minutes on very large molecules.")
    var depictionMaxAtoms = DepictionLimits().maxHeavyAtoms
    @Option(help: "Hits with more rings get no 2D layout either.") var depictionMaxRings = DepictionLimits().maxRings
    @Option(help: "Seconds one hit's 2D layout may take before it is stopped (0: no limit).") var depictionSeconds = DepictionLimits().seconds
    @Option(help: "Every scored record (record,id,score,uncertainty); gzip when the name ends in .gz.") var allScores: String?
    @Option(help: "Write rejected records here.") var errors: String?
    @Option(help: "No two hits more similar than this Tanimoto (greedy in score order).") var diverse: Double?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: "Save progress in this folder regularly.") var checkpoint: String?
    @Flag(help: "Continue the screen saved in --checkpoint.") var resume = false
    @Option(help: "Screen only shard K of N (records K, K+N, …), e.g. 3/8.") var shard: String?
    @Option(name: .customLong("where"), help: "Keep only molecules for which this holds, e.g. \"mw <= 500 and clogp <= 5 and hbd <= 5\" (descriptor names, and/or/not, comparisons, parentheses; repeatable: all must hold).")
    var conditions: [String] = []
    @Option(help: "Property rules that must hold, comma-separated: lipinski, veber, leadlike, ro3 (README 'Filters').") var rule: [String] = []
    @Option(help: "Keep only molecules matching this SMARTS (repeatable: all must match).") var require: [String] = []
    @Option(help: "Drop molecules matching this SMARTS (repeatable).") var exclude: [String] = []
    @Option(help: "File of SMARTS<TAB>name lines that must all match (# comments).") var requireFile: [String] = []
    @Option(help: "File of SMARTS<TAB>name lines none of which may match (# comments).") var excludeFile: [String] = []
    @Option(help: "Drop molecules matching an alert of these sets, comma-separated: pains, brenk.") var excludeAlerts: String?
    @Option(help: "List the alerts of these sets each hit matches (an 'alerts' column), comma-separated: pains, brenk.") var alerts: String?
    @Option(help: "Descriptor columns for the hits, comma-separated (mol_wt, clogp, tpsa, …, or all).") var properties: String?
    @Option(help: "Write filtered records here (record, id, input, the filter that removed them).") var filtered: String?
    @Flag(help: "Score each structure once: a record with the same standardised structure (canonical SMILES key) as an earlier record is not scored but counted as its duplicate and listed with it (in --filtered, else --errors); the hit list's duplicates and duplicate_ids columns name them. Within one screen or one shard only (merge does not dedupe across shards); not with --checkpoint.")
    var dedupe = false
    @Flag(help: "No progress line.") var quiet = false

    /// The filters from the command line (patterns from files added in `run`).
    func commandLineFilters() throws -> MoleculeFilters {
        var filters = MoleculeFilters()
        for list in rule {
            for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
                guard let r = DescriptorRule(rawValue: name) else {
                    throw ValidationError("--rule: unknown rule '\(name)' (known: \(DescriptorRule.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                if !filters.rules.contains(r) { filters.rules.append(r) }
            }
        }
        for text in conditions {
            do { filters.conditions.append(try DescriptorExpression(text)) } catch {
                throw ValidationError("--where \"\(text)\": \(error)")
            }
        }
        for (option, texts) in [("--require", require), ("--exclude", exclude)] {
            for text in texts {
                let pattern: NamedPattern
                do { pattern = try NamedPattern(smarts: text) } catch { throw ValidationError("\(option) '\(text)': \(error)") }
                if option == "--require" { filters.required.append(pattern) } else { filters.excluded.append(pattern) }
            }
        }
        if let excludeAlerts {
            switch AlertMatcher.sets(from: excludeAlerts) {
            case .success(let sets): filters.excludedAlerts = sets
            case .failure(let error): throw ValidationError("--exclude-alerts: \(error.description)")
            }
        }
        return filters
    }

    func hitProperties() throws -> HitProperties {
        var result = HitProperties()
        if let properties {
            switch HitProperties.descriptors(from: properties) {
            case .success(let list): result.descriptors = list
            case .failure(let error): throw ValidationError("--properties: \(error.description)")
            }
        }
        if let alerts {
            switch AlertMatcher.sets(from: alerts) {
            case .success(let sets): result.alerts = sets
            case .failure(let error): throw ValidationError("--alerts: \(error.description)")
            }
        }
        return result
    }

    func validate() throws {
        try validateThreads(threads)
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        if let diverse, !(0...1).contains(diverse) { throw ValidationError("--diverse must be a Tanimoto between 0 and 1") }
        if let shard, ShardSpec(shard) == nil { throw ValidationError("--shard must be K/N with 1 ≤ K ≤ N, e.g. 2/4") }
        if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint DIR") }
        if dedupe && checkpoint != nil {
            throw ValidationError("--dedupe cannot be combined with --checkpoint (the table of structures seen is not saved in checkpoints)")
        }
        if depictionMaxAtoms < 0 || depictionMaxRings < 0 || !(depictionSeconds >= 0 && depictionSeconds.isFinite) {
            throw ValidationError("--depiction-max-atoms, --depiction-max-rings and --depiction-seconds must be 0 or more")
        }
        if let keepColumns, parseColumnList(keepColumns) == nil {
            throw ValidationError("--keep-columns must be column names separated by commas, e.g. vendor_id,price")
        }
        _ = try commandLineFilters()
        let columns = try hitProperties().columns
        if let clash = (keepColumns.flatMap(parseColumnList) ?? []).first(where: { columns.contains($0) }) {
            throw ValidationError("--keep-columns: '\(clash)' is also a --properties/--alerts column")
        }
    }

    func run() throws {
        try checkOutputs([output, errors, allScores, sdf, report, filtered], inputs: [model, library] + requireFile + excludeFile)
        var filters = try commandLineFilters()
        for path in requireFile { filters.required += try NamedPattern.read(file: path) }
        for path in excludeFile { filters.excluded += try NamedPattern.read(file: path) }
        var job = ScreenJob(modelPath: model, library: library, output: output)
        job.format = inputOptions.libraryFormat
        job.smilesColumn = inputOptions.smilesColumn
        job.idColumn = inputOptions.idColumn
        // Standardise as the model's training molecules were (on for models that do not record it).
        let header = try ModelArchive.read(from: URL(fileURLWithPath: model)).decodeHeader(ModelHeader.self, source: model)
        job.limits = standardizeOptions.apply(to: inputOptions.limits, model: header, command: "screen", legacyDefault: true)
        job.top = top
        job.errorsPath = errors
        job.allScoresPath = allScores
        job.diverse = diverse
        job.task = task
        job.minimize = minimize
        job.keepColumns = keepColumns.flatMap(parseColumnList) ?? []
        job.filters = filters
        job.filteredPath = filtered
        job.dedupe = dedupe
        job.properties = try hitProperties()
        job.threads = threads ?? defaultThreadCount()
        job.checkpointDirectory = checkpoint
        job.resume = resume
        job.shard = shard.flatMap(ShardSpec.init)
        job.showProgress = !quiet
        let result = try job.run()
        let summary = result.summary, hits = result.hits
        let limits = DepictionLimits(maxHeavyAtoms: depictionMaxAtoms, maxRings: depictionMaxRings, seconds: depictionSeconds)
        if let sdf { try HitReport.writeSDF(hits, task: result.task, keptColumns: job.hitColumns, limits: limits, to: sdf) }
        var diversity: (threshold: Double, asked: Int, candidates: Int)? = nil
        if let diverse, let candidates = result.diversityCandidates { diversity = (diverse, top, candidates) }
        if let report {
            var run = HitReport.RunInfo(modelPath: model, libraryPath: library, summary: summary, histogram: result.histogram, shard: shard,
                                        task: result.task, minimize: minimize, diversity: diversity, limits: limits,
                                        columns: job.hitColumns, filters: filters.isEmpty ? nil : filters.description)
            run.standardize = job.limits.standardize
            try HitReport.writeHTML(hits, model: result.model, run: run, to: report)
        }
        let filteredCount = (filters.isEmpty ? "" : ", filtered \(summary.filtered)") + (dedupe ? ", duplicates \(summary.duplicates)" : "")
        printToStandardError(String(format: "winnow screen: read %d, scored %d, rejected %d%@ in %.2f s (%.0f molecules/s); %d hits in %@",
                                    summary.read, summary.scored, summary.rejected, filteredCount, summary.seconds, summary.rate, hits.count, output))
        if job.limits.standardize { printToStandardError(standardizationNote(command: "screen", summary.standardized)) }
        for note in result.notes { printToStandardError("winnow screen: note: " + note) }
        if let diversity, hits.count < top {
            printToStandardError("winnow screen: note: " + HitReport.diversitySentence(threshold: diversity.threshold, allowed: hits.count,
                                                                                      asked: top, candidates: diversity.candidates))
        }
        if summary.scored == 0 { throw nothingScored(command: "screen", summary: RunSummary(summary), library: library) }
    }
}
