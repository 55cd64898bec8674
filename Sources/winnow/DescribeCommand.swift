import ArgumentParser
import Chemistry
import Foundation
import LibraryIO
import Screening

struct DescribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Compute RDKit-compatible descriptors (and structural alerts) for every molecule of a library.",
        discussion: """
        Writes CSV with the columns id, smiles, mol_wt, exact_mass, heavy_atoms, clogp, mr, tpsa, hbd,
        hba, lipinski_hbd, lipinski_hba, rotatable_bonds, rings, aromatic_rings, fraction_csp3,
        formal_charge, qed (then alerts with --alerts): one row per input record, in input order, at
        any thread count. A record that cannot be read keeps its row with empty values and is listed
        in the errors file (record<TAB>id<TAB>input<TAB>reason).

        Example: winnow describe libraries/moses_sample_10k.smi -o props.csv --alerts pains,brenk
        """
    )

    @Argument(help: "Library file (.smi, .csv, .tsv, .sdf, optionally .gz), or '-' for standard input.")
    var input: String

    @OptionGroup var inputOptions: InputOptions

    @Option(name: .shortAndLong, help: "Output CSV file (default: standard output).")
    var output: String?

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Alert sets to match, comma-separated: pains (PAINS A+B+C), brenk. Adds an 'alerts' column.")
    var alerts: String?

    @Option(help: "Write rejected records here (record, id, input, reason).")
    var errors: String?

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        try validateThreads(threads)
        if let alerts, case .failure(let error) = AlertMatcher.sets(from: alerts) {
            throw ValidationError("--alerts: \(error.description)")
        }
    }

    func run() throws {
        try checkOutputs([output ?? "-", errors], inputs: [input])
        var job = DescribeJob(input: input)
        job.format = inputOptions.libraryFormat
        job.smilesColumn = inputOptions.smilesColumn
        job.idColumn = inputOptions.idColumn
        job.limits = inputOptions.limits
        job.output = output
        job.errorsPath = errors
        if let alerts, case .success(let sets) = AlertMatcher.sets(from: alerts) { job.alertSets = sets }
        job.threads = threads ?? defaultThreadCount()
        job.showProgress = !quiet
        let summary = try job.run()
        printToStandardError(String(
            format: "winnow describe: read %d, described %d, rejected %d in %.2f s (%.0f molecules/s)",
            summary.read, summary.written, summary.rejected, summary.seconds, summary.rate))
    }
}

/// `winnow describe`: library in, one CSV row of descriptors per record out, in input order.
struct DescribeJob {
    var input: String
    var format: LibraryFormat?
    var smilesColumn: String?
    var idColumn: String?
    var limits = InputLimits()
    var output: String?
    var errorsPath: String?
    var alertSets: [AlertMatcher.Set] = []
    var threads = 1
    var batchSize = 128
    var showProgress = true

    init(input: String) { self.input = input }

    func run() throws -> RunSummary {
        let reader = try LibraryReader(path: input, format: format, smilesColumn: smilesColumn, idColumn: idColumn)
        reader.maxRecordBytes = limits.maxRecordBytes
        let out = try OutputFile(path: output)
        let errors = try errorsPath.map { (p) throws(InputError) in try OutputFile(path: p) }
        try errors?.write("record\tid\tinput\treason\n")
        var header = (["id", "smiles"] + MolecularDescriptors.columnNames).joined(separator: ",")
        if !alertSets.isEmpty { header += ",alerts" }
        try out.write(header + "\n")
        let pool = WorkerPool(threads: threads, stackSize: limits.parserStackBytes)
        defer { pool.shutdown() }
        let parsers = try PerWorker.parsers(count: pool.threads, limits: limits)
        let alerts = alertSets.flatMap(\.alerts)
        let withAlerts = !alertSets.isEmpty
        let emptyRow = String(repeating: ",", count: MolecularDescriptors.columnNames.count + (withAlerts ? 1 : 0) - 1)
        return try streamInOrder(reader, pool: pool, batchSize: batchSize, batchesPerRound: pool.threads * 8, out: out, errors: errors,
                                 progressLabel: showProgress ? "describe" : nil) { batch, worker in
            let parser = parsers[worker]
            var result = BatchOutput()
            result.out.reserveCapacity(batch.count * 160)
            for i in 0..<batch.count {
                let molecule = batch.molecule(i, parser: parser)
                appendCSVField(batch.ids[i].utf8, to: &result.out)
                result.out.append(44)
                switch molecule {
                case .success(let graph):
                    switch batch.kind {
                    case .smiles: appendCSVField(batch.bytes[batch.ranges[i]], to: &result.out)
                    case .molfile: appendCSVField(graph.smiles().utf8, to: &result.out)
                    }
                    let target = SubstructureTarget(graph)
                    let d = Descriptors.compute(target)
                    result.out.append(44)
                    result.out.append(contentsOf: Self.row(d).utf8)
                    if withAlerts {
                        result.out.append(44)
                        appendCSVField(AlertMatcher.matchedNames(alerts, in: target).joined(separator: ";").utf8, to: &result.out)
                    }
                    result.written += 1
                case .failure(let error):
                    if batch.kind == .smiles { appendCSVField(batch.bytes[batch.ranges[i]], to: &result.out) }
                    result.out.append(44)
                    result.out.append(contentsOf: emptyRow.utf8)
                    batch.appendErrorLine(i, reason: error.message, to: &result.errors)
                    result.rejected += 1
                }
                result.out.append(10)
            }
            return result
        }
    }

    /// The descriptor columns, formatted like the RDKit reference files (4 decimals, exact mass 5).
    static func row(_ d: MolecularDescriptors) -> String {
        Descriptor.allCases.map { descriptorText(d, $0) }.joined(separator: ",")
    }
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break; quotes doubled.
func appendCSVField<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
    let needsQuotes = bytes.contains { (c: UInt8) -> Bool in c == 44 || c == 34 || c == 10 || c == 13 }
    guard needsQuotes else { out.append(contentsOf: bytes); return }
    out.append(34)
    for c in bytes {
        if c == 34 { out.append(34) }
        out.append(c)
    }
    out.append(34)
}
