import Chemistry
import Fingerprints
import Foundation
import LibraryIO

/// A database to search: a mapped `.wfp` index, or an FPS file parsed into memory.
public final class SearchDatabase: @unchecked Sendable {
    // @unchecked: immutable after init (the index and arena are read-only).
    public let arena: FingerprintArena
    public let type: IndexFingerprintType
    public let path: String
    private let index: FingerprintIndex?
    private let ids: [String]

    public init(path: String) throws {
        self.path = path
        if FPSReader.looksLikeFPS(path) {
            let contents = try FPSReader.read(path: path)
            for r in contents.rejected {
                FileHandle.standardError.write(Data("\(path): record \(r.record) (\(r.id)) skipped: \(r.reason)\n".utf8))
            }
            let rows = contents.rows
            arena = FingerprintArena(bitCount: rows.bitCount, fingerprints: (0..<rows.count).map { rows.fingerprint($0) })
            type = contents.type
            ids = contents.ids
            index = nil
        } else {
            do {
                let index = try FingerprintIndex(path: path)
                self.index = index
                arena = index.arena
                type = index.type
                ids = []
            } catch {
                throw InputError(error.message)
            }
        }
    }

    public var count: Int { arena.count }

    /// Maps in the pages a scan reads (an index; an FPS database is in memory already).
    @discardableResult public func mapInScannedPages() -> UInt8 { index?.mapInScannedPages() ?? 0 }

    /// `id` and `smiles` of a record (SMILES empty for FPS databases).
    public func entry(_ record: Int) throws -> (id: String, smiles: String) {
        if let index {
            guard let entry = index.entry(record) else {
                throw InputError("\(path): damaged index (text of record \(record + 1) is unreadable); check it with 'winnow index --verify'")
            }
            return entry
        }
        return (ids[record], "")
    }
}

/// What a search run reports.
public struct SearchSummary: Sendable {
    public var queries = 0
    public var rejected = 0
    public var hits = 0
    /// Query-row pairs the kernel compared (the rest were skipped by the popcount bounds).
    public var comparisons = 0
    public var openSeconds = 0.0
    /// Of `seconds`: creating the query parsers (Open Babel loads its plugins the first time), while
    /// a second thread maps the database's rows in (with --threads 2 or more).
    public var setupSeconds = 0.0
    public var seconds = 0.0
    public init() {}
}

/// `winnow search`: queries (a library, an FPS file, one SMILES, or the database itself) against a
/// fingerprint database; writes `query_id,rank,hit_id,hit_smiles,similarity` in query order, hits
/// most similar first and ties in database order, identical at any thread count.
public struct SearchJob {
    public var database: String
    public var queries: String?
    public var querySMILES: String?
    public var selfSearch = false
    public var format: LibraryFormat?
    public var smilesColumn: String?
    public var idColumn: String?
    public var output: String?
    public var errorsPath: String?
    public var request = SearchRequest(top: 100)
    public var threads = 1
    public var showProgress = true
    /// Size limits for query records (as every library reader applies them).
    public var limits = InputLimits()
    /// Query records read and searched together.
    public var roundSize = 4096

    public static let header = "query_id,rank,hit_id,hit_smiles,similarity\n"

    public init(database: String) { self.database = database }

    public func run() throws -> SearchSummary {
        let started = Date()
        let db = try SearchDatabase(path: database)
        var summary = SearchSummary()
        summary.openSeconds = Date().timeIntervalSince(started)
        let out = try OutputFile(path: output)
        try out.write(Self.header)
        let errors = try errorsPath.map { (p) throws(InputError) in try OutputFile(path: p) }
        try errors?.write("record\tid\tinput\treason\n")
        let pool = WorkerPool(threads: threads, stackSize: limits.parserStackBytes)
        defer { pool.shutdown() }
        let progress = ProgressLine(label: "search")
        // Molecule queries wait for Open Babel's plugins to load (about 0.1 s, once per process):
        // with a second thread, the database's rows are mapped in meanwhile, so the first scan does
        // not page-fault through them. The scan waits for that thread, so it never runs beside it.
        let mapping = DispatchGroup()
        if threads > 1 && !selfSearch && (querySMILES != nil || (queries.map { !FPSReader.looksLikeFPS($0) } ?? false)) {
            DispatchQueue.global().async(group: mapping) { _ = db.mapInScannedPages() }
        }
        var mapped = false
        func waitForMapping() {
            if !mapped { mapping.wait(); mapped = true }
        }

        if selfSearch {
            var rowOfRecord = [Int](repeating: 0, count: db.count)
            for (row, record) in db.arena.recordOfRow.enumerated() where Int(record) < db.count { rowOfRecord[Int(record)] = row }
            var first = 0
            while first < db.count {
                let last = min(first + roundSize, db.count)
                let rows = FingerprintRows(bitCount: db.arena.bitCount, count: last - first)
                var ids: [String] = []
                for record in first..<last {
                    (rows.row(record - first)).update(from: db.arena.rows.row(rowOfRecord[record]), count: rows.stride)
                    ids.append(try db.entry(record).id)
                }
                try out.write(try searchRound(db, rows, ids: ids, exclude: Array(first..<last), pool: pool, summary: &summary))
                first = last
                if showProgress { progress.update(done: first, total: db.count) }
            }
        } else if let querySMILES {
            let settings = try morganSettings(db)
            let setupStarted = Date()
            let parser = try MoleculeParser(limits: limits)
            summary.setupSeconds = Date().timeIntervalSince(setupStarted)
            let graph: MolecularGraph
            do { graph = try parser.parse(smiles: querySMILES) } catch {
                throw InputError("--smiles '\(querySMILES)': \(error.message)")
            }
            let rows = FingerprintRows(bitCount: settings.size, fingerprints: [MorganGenerator(settings: settings).bits(graph)])
            waitForMapping()
            try out.write(try searchRound(db, rows, ids: ["query"], exclude: nil, pool: pool, summary: &summary))
        } else if let queries, FPSReader.looksLikeFPS(queries) {
            let contents = try FPSReader.read(path: queries)
            guard contents.type.bitCount == db.type.bitCount, contents.type.typeString == db.type.typeString else {
                throw InputError("\(queries): fingerprints are '\(contents.type.typeString)' (\(contents.type.bitCount) bits) but the database holds '\(db.type.typeString)' (\(db.type.bitCount) bits)")
            }
            for r in contents.rejected {
                if let errors { try errors.write("\(r.record)\t\(r.id)\t\t\(r.reason)\n") } else {
                    FileHandle.standardError.write(Data("\(queries): record \(r.record) (\(r.id)): \(r.reason)\n".utf8))
                }
            }
            summary.rejected = contents.rejected.count
            var first = 0
            while first < contents.rows.count {
                let last = min(first + roundSize, contents.rows.count)
                let rows = FingerprintRows(bitCount: db.arena.bitCount, count: last - first)
                for i in first..<last { rows.row(i - first).update(from: contents.rows.row(i), count: rows.stride) }
                try out.write(try searchRound(db, rows, ids: Array(contents.ids[first..<last]), exclude: nil, pool: pool, summary: &summary))
                first = last
            }
        } else if let queries {
            let settings = try morganSettings(db)
            let reader = try LibraryReader(path: queries, format: format, smilesColumn: smilesColumn, idColumn: idColumn)
            reader.maxRecordBytes = limits.maxRecordBytes
            let setupStarted = Date()
            let state = try WorkerState(workers: pool.threads, settings: settings, limits: limits)
            summary.setupSeconds = Date().timeIntervalSince(setupStarted)
            while true {
                var batches: [RecordBatch] = []
                var inRound = 0
                while inRound < roundSize, let batch = try reader.nextBatch(size: 256) {
                    batches.append(batch)
                    inRound += batch.count
                }
                if batches.isEmpty { break }
                // Parse and fingerprint the round's queries on all workers.
                typealias Parsed = (fingerprints: [[UInt64]], ids: [String], errors: [UInt8], rejected: [String])
                let slots = Slots<Parsed>(count: batches.count)
                let round = batches
                pool.run(count: round.count) { index, worker in
                    let batch = round[index]
                    var parsed: Parsed = ([], [], [], [])
                    for i in 0..<batch.count {
                        switch batch.molecule(i, parser: state.parsers[worker]) {
                        case .success(let graph):
                            parsed.fingerprints.append(state.generators[worker].bits(graph))
                            parsed.ids.append(batch.ids[i])
                        case .failure(let error):
                            batch.appendErrorLine(i, reason: error.message, to: &parsed.errors)
                            parsed.rejected.append("\(queries): record \(batch.firstRecord + i) (\(batch.ids[i])): \(error.message)")
                        }
                    }
                    slots[index] = parsed
                }
                var fingerprints: [[UInt64]] = [], ids: [String] = []
                for index in 0..<round.count {
                    guard let parsed = slots[index] else { continue }
                    fingerprints += parsed.fingerprints
                    ids += parsed.ids
                    summary.rejected += parsed.rejected.count
                    if let errors { try errors.write(parsed.errors) } else {
                        for line in parsed.rejected { FileHandle.standardError.write(Data((line + "\n").utf8)) }
                    }
                }
                let rows = FingerprintRows(bitCount: settings.size, fingerprints: fingerprints)
                waitForMapping()
                try out.write(try searchRound(db, rows, ids: ids, exclude: nil, pool: pool, summary: &summary))
                if showProgress { progress.update(done: reader.recordsRead) }
            }
        }
        waitForMapping()
        progress.finish()
        try out.close()
        try errors?.close()
        summary.seconds = Date().timeIntervalSince(started) - summary.openSeconds
        return summary
    }

    /// The Morgan settings that make query fingerprints comparable with the database's.
    func morganSettings(_ db: SearchDatabase) throws -> MorganSettings {
        guard let settings = db.type.morganSettings else {
            throw InputError("\(database): its fingerprints ('\(db.type.typeString)') are not Winnow Morgan fingerprints of this version, so molecules cannot be compared with them; give the queries as an FPS file of the same type")
        }
        return settings
    }

    /// Searches one round of queries on the pool and returns their CSV lines, in query order.
    ///
    /// Many queries: groups of up to 256 queries, each group scanning the whole database with every
    /// block of rows shared by its queries. Few queries (fewer than 64 per thread): one group, with
    /// the database cut into one part per thread and the parts' hit lists merged. Hits are exact and
    /// ties go by database order, so the split never changes the output.
    func searchRound(_ db: SearchDatabase, _ rows: FingerprintRows, ids: [String], exclude: [Int]?, pool: WorkerPool,
                     summary: inout SearchSummary) throws -> [UInt8] {
        let n = rows.count
        guard n > 0 else { return [] }
        summary.queries += n
        let request = self.request
        let threads = pool.threads
        let arena = db.arena
        let results: [[Neighbour]]
        if n < threads * 64 {
            let parts = Slots<(hits: [[Neighbour]], comparisons: Int)>(count: threads)
            pool.run(count: threads) { part, _ in
                parts[part] = arena.searchCounting(rows, range: 0..<n, request: request, part: part, parts: threads, exclude: exclude)
            }
            results = (0..<n).map { q in FingerprintArena.merge((0..<threads).map { parts[$0]?.hits[q] ?? [] }, top: request.top) }
            summary.comparisons += (0..<threads).reduce(0) { $0 + (parts[$1]?.comparisons ?? 0) }
        } else {
            let groupSize = min(256, (n + 2 * threads - 1) / (2 * threads))
            let groups = (n + groupSize - 1) / groupSize
            let found = Slots<(hits: [[Neighbour]], comparisons: Int)>(count: groups)
            pool.run(count: groups) { g, _ in
                found[g] = arena.searchCounting(rows, range: (g * groupSize)..<min(n, (g + 1) * groupSize), request: request, exclude: exclude)
            }
            results = (0..<groups).flatMap { found[$0]?.hits ?? [] }
            summary.comparisons += (0..<groups).reduce(0) { $0 + (found[$1]?.comparisons ?? 0) }
        }
        var text: [UInt8] = []
        text.reserveCapacity(results.reduce(0) { $0 + $1.count } * 80)
        for (q, hits) in results.enumerated() {
            let queryField = Array(csvField(ids[q]).utf8)
            for (rank, hit) in hits.enumerated() {
                let entry = try db.entry(hit.record)
                text += queryField
                text.append(44)
                text += Array(String(rank + 1).utf8)
                text.append(44)
                text += Array(csvField(entry.id).utf8)
                text.append(44)
                text += Array(csvField(entry.smiles).utf8)
                text.append(44)
                appendFourDecimals(hit.similarity.value, to: &text)
                text.append(10)
            }
            summary.hits += hits.count
        }
        return text
    }
}

/// `%.4f` through the C library (String(format:) is slow in output loops).
func appendFourDecimals(_ value: Double, to out: inout [UInt8]) {
    var buffer = [CChar](repeating: 0, count: 32)
    let length = withVaList([value]) { vsnprintf(&buffer, 32, "%.4f", $0) }
    out += buffer.prefix(Int(max(0, min(length, 31)))).map { UInt8(bitPattern: $0) }
}
