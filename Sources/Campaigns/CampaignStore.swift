import Chemistry
import Fingerprints
import Foundation
import GRDB
import Learning
import LibraryIO

/// Why a campaign file could not be used; the message names the file.
public struct CampaignError: Error, CustomStringConvertible {
    public var message: String
    /// True when a file is at fault (a missing or damaged campaign, a bad results file, a write the
    /// disk refused); false when the command collided with another one or failed inside Winnow.
    public var isFileProblem: Bool
    public init(_ message: String, isFileProblem: Bool = true) {
        self.message = message
        self.isFileProblem = isFileProblem
    }
    public var description: String { message }
}

/// Everything fixed when a campaign starts: how its models are trained and what its labels mean.
public struct CampaignSettings: Codable, Sendable, Equatable {
    public var learner = LearnerSettings()
    public var taskKind: TaskKind = .classification
    /// For continuous labels: lower values are better (docking scores).
    public var minimize = false
    public var seed: UInt64 = 0
    public init() {}
}

/// One molecule of a campaign: a pool member (selectable) or a labelled molecule from outside the pool.
public struct CampaignMolecule: Sendable {
    public var index: Int
    public var record: Int?
    public var id: String
    public var smiles: String
    public var inPool: Bool
}

public struct CampaignLabel: Sendable, Equatable {
    public var molecule: Int
    public var value: Double
    public var round: Int
    public var source: String
    public init(molecule: Int, value: Double, round: Int, source: String) {
        self.molecule = molecule; self.value = value; self.round = round; self.source = source
    }
}

public struct CampaignPick: Sendable, Equatable {
    public var round: Int
    public var rank: Int
    public var molecule: Int
    public var score: Double
    public var uncertainty: Double
    public var reason: String
}

public struct CampaignRound: Sendable, Equatable {
    public var round: Int
    public var createdAt: String
    public var acquisition: String
    /// JSON: batch size, beta, diversity threshold, exclusions.
    public var parameters: String
    /// JSON of the learner settings that trained this round's model.
    public var model: String
    public var modelHash: String
    public var labelled: Int
    /// JSON: validation metrics of the round's model.
    public var metrics: String
}

/// A campaign in one SQLite file (through GRDB): the pool with its parsed graphs (later rounds never
/// parse the library again), every label with the round and file it came from, and every round with
/// its settings, model hash, metrics and picks. Each command's writes go through `write`, one
/// transaction: a process killed half-way leaves the file as it was before the command.
public final class CampaignStore {
    public static let format = "winnow-campaign"
    /// 2: the pool rows carry a checksum (meta `pool_checksum`). Version 1 files are still read
    /// (without that check).
    public static let version = 2

    public let path: String
    let queue: DatabaseQueue

    private init(path: String, queue: DatabaseQueue) {
        self.path = path
        self.queue = queue
    }

    static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        return configuration
    }

    /// The schema, as GRDB's migrator builds it. New files are made by this migrator (it records
    /// itself in `grdb_migrations`); files are opened without migrating, their format version checked
    /// instead. Version 1 and 2 files made before the migrator have no `grdb_migrations` table: a
    /// later schema change (format version 3) must register them as at "v2" before migrating.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v2") { db in
            try db.create(table: "meta") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
            try db.create(table: "molecules") { t in
                t.primaryKey("molecule", .integer)
                t.column("record", .integer)
                t.column("id", .text).notNull().unique()
                t.column("smiles", .text).notNull()
                t.column("in_pool", .integer).notNull()
                t.column("graph", .blob).notNull()
            }
            try db.create(table: "rejected") { t in
                t.primaryKey("record", .integer)
                t.column("id", .text).notNull()
                t.column("input", .text).notNull()
                t.column("reason", .text).notNull()
            }
            try db.create(table: "rounds") { t in
                t.primaryKey("round", .integer)
                t.column("created_at", .text).notNull()
                t.column("acquisition", .text).notNull()
                t.column("parameters", .text).notNull()
                t.column("model", .text).notNull()
                t.column("model_hash", .text).notNull()
                t.column("labelled", .integer).notNull()
                t.column("metrics", .text).notNull()
            }
            try db.create(table: "labels") { t in
                t.primaryKey("molecule", .integer).references("molecules", column: "molecule")
                t.column("value", .double).notNull()
                t.column("round", .integer).notNull()
                t.column("source", .text).notNull()
                t.column("recorded_at", .text).notNull()
            }
            try db.create(table: "picks") { t in
                t.column("round", .integer).notNull().references("rounds", column: "round")
                t.column("rank", .integer).notNull()
                t.column("molecule", .integer).notNull().references("molecules", column: "molecule")
                t.column("score", .double).notNull()
                t.column("uncertainty", .double).notNull()
                t.column("reason", .text).notNull()
                t.primaryKey(["round", "rank"])
            }
            try db.create(index: "picks_molecule", on: "picks", columns: ["molecule"])
        }
        return migrator
    }

    /// Creates a new campaign file with its schema and settings (fails if the file exists).
    public static func create(path: String, settings: CampaignSettings, pool: String, poolHash: String) throws -> CampaignStore {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CampaignError("\(path) already exists; pick another name or remove it to start over")
        }
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: configuration()) } catch {
            throw CampaignError("\(path): cannot create the campaign file (\(error))")
        }
        let settingsJSON = String(decoding: try JSONEncoder.sorted.encode(settings), as: UTF8.self)
        try migrator.migrate(queue)
        try queue.write { db in
            for (key, value) in [("format", format), ("version", String(version)), ("software", FPSFormat.softwareName),
                                 ("created_at", timestamp()), ("settings", settingsJSON), ("pool", pool), ("pool_hash", poolHash),
                                 ("graph_coding", String(MolecularGraph.codingVersion))] {
                try MetaRow(key: key, value: value).insert(db)
            }
            try db.execute(sql: "PRAGMA user_version = \(version)")
        }
        return CampaignStore(path: path, queue: queue)
    }

    /// Opens an existing campaign; another program's database, a newer format or a damaged file give
    /// a clear error.
    public static func open(path: String) throws -> CampaignStore {
        guard FileManager.default.fileExists(atPath: path) else { throw CampaignError("\(path): no such campaign file (create one with `winnow campaign init`)") }
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration())
            let (format, version, coding) = try queue.read { db -> (String?, String?, String?) in
                guard try db.tableExists("meta") else { return (nil, nil, nil) }
                return (try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'format'"),
                        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'version'"),
                        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'graph_coding'"))
            }
            guard format == Self.format, let version, let number = Int(version) else {
                throw CampaignError("\(path) is not a Winnow campaign file")
            }
            guard number <= Self.version else {
                throw CampaignError("\(path) is campaign format version \(number); this Winnow reads up to version \(Self.version) (upgrade Winnow)")
            }
            guard coding == String(MolecularGraph.codingVersion) else {
                throw CampaignError("\(path) stores molecules in graph layout \(coding ?? "?"); this Winnow uses \(MolecularGraph.codingVersion): create the campaign again")
            }
        } catch let error as CampaignError {
            throw error
        } catch {
            throw CampaignError("\(path): cannot read the campaign file, it may be damaged (\(error))")
        }
        return CampaignStore(path: path, queue: queue)
    }

    public func close() throws { try queue.close() }

    /// Runs `body` as one transaction: all of it is written, or none of it.
    public func write<T>(_ body: (CampaignTransaction) throws -> T) throws -> T {
        do { return try queue.write { db in try body(CampaignTransaction(db: db)) } } catch let error as CampaignError { throw error } catch let error as InputError {
            throw error
        } catch let error as DatabaseError {
            throw Self.explain(error, path: path, writing: true)
        } catch {
            throw CampaignError("\(path): writing failed, nothing was changed (\(error))")
        }
    }

    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.read(body) } catch let error as CampaignError { throw error } catch let error as DatabaseError {
            throw Self.explain(error, path: path, writing: false)
        } catch {
            throw CampaignError("\(path): cannot read the campaign file, it may be damaged (\(error))")
        }
    }

    /// SQLite's result codes as messages a user can act on ("SQLite error 19" helps nobody).
    static func explain(_ error: DatabaseError, path: String, writing: Bool) -> CampaignError {
        let nothing = writing ? "; nothing was changed" : ""
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return CampaignError("\(path) is in use by another winnow command that has not finished within 10 s\(nothing): run this one again when it is done",
                                 isFileProblem: false)
        case .SQLITE_CONSTRAINT:
            return CampaignError("\(path) was changed by another winnow command at the same time\(nothing): run this one again (it will see that command's results)",
                                 isFileProblem: false)
        case .SQLITE_FULL:
            return CampaignError("\(path): the disk is full\(nothing)")
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
            return CampaignError("\(path): the campaign file or its folder is not writable\(nothing)")
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return CampaignError("\(path): the campaign file is damaged (\(error.message ?? "SQLite: corrupt"))\(nothing)")
        case .SQLITE_IOERR:
            return CampaignError("\(path): the disk reported an input/output error\(nothing)")
        default:
            return CampaignError("\(path): \(writing ? "writing" : "reading") the campaign file failed (\(error.message ?? "SQLite error \(error.resultCode.rawValue)"))\(nothing)")
        }
    }

    // MARK: - Reading

    public func meta(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    public func settings() throws -> CampaignSettings {
        guard let text = try meta("settings"), let settings = try? JSONDecoder().decode(CampaignSettings.self, from: Data(text.utf8)) else {
            throw CampaignError("\(path): the campaign settings are missing or unreadable")
        }
        if let problem = settings.learner.problem {
            throw CampaignError("\(path): the stored model settings are damaged: \(problem)")
        }
        return settings
    }

    /// The number of molecules (pool and labelled outsiders); every stored molecule index is below it.
    public func moleculeCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM molecules") ?? 0 }
    }

    /// All molecules in index order (index = position in the returned array).
    public func molecules() throws -> [CampaignMolecule] {
        try read { db in
            // Throwing decodes: a forged row (NULL or text where a number belongs) is an error, not a trap.
            try MoleculeSummaryRow.fetchAll(db, sql: "SELECT molecule, record, id, smiles, in_pool FROM molecules ORDER BY molecule").map {
                CampaignMolecule(index: $0.molecule, record: $0.record, id: $0.id, smiles: $0.smiles, inPool: $0.inPool)
            }
        }
    }

    /// The stored graphs, in molecule order; a damaged blob names its molecule. The rows are checked
    /// against the pool checksum written when the campaign was created, so a flipped byte in a graph
    /// (which may still decode as some other molecule) is refused instead of trained on.
    public func graphs() throws -> [MolecularGraph] {
        try read { db in
            let stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'pool_checksum'")
            let version = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'version'").flatMap { Int($0) } ?? 0
            guard stored != nil || version < 2 else { throw CampaignError("\(path): the pool checksum is missing; the file is damaged") }
            var graphs: [MolecularGraph] = []
            var checksum = PoolChecksum()
            let cursor = try Row.fetchCursor(db, sql: "SELECT molecule, record, id, smiles, in_pool, graph FROM molecules ORDER BY molecule")
            while let row = try cursor.next() {
                let index: Int = try row.decode(forColumn: "molecule")
                guard index == graphs.count else { throw CampaignError("\(path): molecule numbers are not contiguous at \(index)") }
                let bytes: Data = try row.decode(forColumn: "graph")
                try checksum.add(row, graph: bytes)
                do { graphs.append(try MolecularGraph(encoded: [UInt8](bytes))) } catch {
                    let id: String = try row.decode(forColumn: "id")
                    throw CampaignError("\(path): the stored graph of molecule \(id) is damaged (\(error))")
                }
            }
            if let stored, stored != checksum.hex {
                throw CampaignError("\(path): the stored pool does not match its checksum (a molecule's id, SMILES or graph was changed or damaged); create the campaign again")
            }
            return graphs
        }
    }

    /// Every label, checked: it names a stored molecule, its value is finite and in range (0/1 for
    /// active/inactive campaigns), its round is not negative. A forged or damaged row is refused here
    /// rather than indexing out of range or training on infinity later.
    public func labels() throws -> [CampaignLabel] {
        let count = try moleculeCount()
        let classification = try settings().taskKind == .classification
        return try read { db in
            try LabelRow.order(Column("molecule")).fetchAll(db).map { row in
                let molecule = row.molecule, value = row.value, round = row.round
                guard (0..<count).contains(molecule) else {
                    throw CampaignError("\(path): a label names molecule \(molecule), which is not in the campaign (\(count) molecules); the file is damaged")
                }
                if let problem = Dataset.labelProblem(value) {
                    throw CampaignError("\(path): the label of molecule \(molecule) (\(value)) \(problem); the file is damaged")
                }
                guard !classification || value == 0 || value == 1 else {
                    throw CampaignError("\(path): the label of molecule \(molecule) is \(value), but this campaign's labels are active/inactive (1/0); the file is damaged")
                }
                guard round >= 0 else { throw CampaignError("\(path): the label of molecule \(molecule) has round \(round); the file is damaged") }
                return CampaignLabel(molecule: molecule, value: value, round: round, source: row.source)
            }
        }
    }

    public func rounds() throws -> [CampaignRound] {
        try read { db in
            try RoundRow.order(Column("round")).fetchAll(db).map(\.round)
        }
    }

    public func picks() throws -> [CampaignPick] {
        let count = try moleculeCount()
        return try read { db in
            try PickRow.order(Column("round"), Column("rank")).fetchAll(db).map { row in
                guard (0..<count).contains(row.pick.molecule) else {
                    throw CampaignError("\(path): a pick names molecule \(row.pick.molecule), which is not in the campaign; the file is damaged")
                }
                return row.pick
            }
        }
    }

    public func rejected() throws -> [(record: Int, id: String, input: String, reason: String)] {
        try read { db in
            try RejectedRow.order(Column("record")).fetchAll(db).map { ($0.record, $0.id, $0.input, $0.reason) }
        }
    }

    public func rejectedCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rejected") ?? 0 }
    }

    /// Test hook, compiled only into test builds (`-Xswiftc -DWINNOW_FAULT_INJECTION`, which
    /// `scripts/test` passes; a plain `swift build` has no hook): `WINNOW_FAULT=kill-before-commit`
    /// kills the process with SIGKILL inside a write transaction, after all its statements ran, to
    /// check that a killed command changes nothing.
    @inline(__always) public static func faultPoint() {
        #if WINNOW_FAULT_INJECTION
        if ProcessInfo.processInfo.environment["WINNOW_FAULT"] == "kill-before-commit" { kill(getpid(), SIGKILL) }
        #endif
    }
}

// MARK: - Rows and the write transaction

/// A stored value of the wrong type: the file was changed by something other than Winnow.
struct StoredValueError: Error, CustomStringConvertible {
    var description: String
}

extension Row {
    /// The value of `column`, only when SQLite stored it as `T`'s type. Reading a record row straight
    /// from its statement lets SQLite convert (text `abc` in a number column reads as 0); this does not.
    func strict<T: DatabaseValueConvertible>(_ column: String) throws -> T {
        let value: DatabaseValue = self[column]
        guard let converted = T.fromDatabaseValue(value) else {
            throw StoredValueError(description: "column \(column) holds \(value), which is not a \(T.self)")
        }
        return converted
    }

    func strictOptional<T: DatabaseValueConvertible>(_ column: String) throws -> T? {
        let value: DatabaseValue = self[column]
        return value.isNull ? nil : try strict(column) as T
    }
}

/// The rows of the campaign file as GRDB records (column names as stored). Rows are read with
/// `row.decode(forColumn:)`, which refuses a forged value of the wrong storage class (text where a
/// number belongs) instead of converting it to 0 as Codable decoding through SQLite's accessors would.
struct MetaRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "meta"
    var key: String
    var value: String
}

struct MoleculeRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "molecules"
    var molecule: Int
    var record: Int?
    var id: String
    var smiles: String
    var inPool: Bool
    var graph: Data
    enum CodingKeys: String, CodingKey { case molecule, record, id, smiles, inPool = "in_pool", graph }
}

/// A molecule without its graph (what most reads need).
struct MoleculeSummaryRow: FetchableRecord {
    var molecule: Int
    var record: Int?
    var id: String
    var smiles: String
    var inPool: Bool
    init(row: Row) throws {
        molecule = try row.strict("molecule"); record = try row.strictOptional("record")
        id = try row.strict("id"); smiles = try row.strict("smiles"); inPool = try row.strict("in_pool")
    }
}

struct RejectedRow: Encodable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "rejected"
    var record: Int
    var id: String
    var input: String
    var reason: String
    init(record: Int, id: String, input: String, reason: String) { self.record = record; self.id = id; self.input = input; self.reason = reason }
    init(row: Row) throws {
        record = try row.strict("record"); id = try row.strict("id")
        input = try row.strict("input"); reason = try row.strict("reason")
    }
}

struct LabelRow: Encodable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "labels"
    var molecule: Int
    var value: Double
    var round: Int
    var source: String
    var recordedAt: String
    enum CodingKeys: String, CodingKey { case molecule, value, round, source, recordedAt = "recorded_at" }
    init(molecule: Int, value: Double, round: Int, source: String, recordedAt: String) {
        self.molecule = molecule; self.value = value; self.round = round; self.source = source; self.recordedAt = recordedAt
    }
    init(row: Row) throws {
        molecule = try row.strict("molecule"); value = try row.strict("value")
        round = try row.strict("round"); source = try row.strict("source")
        recordedAt = try row.strict("recorded_at")
    }
}

struct RoundRow: FetchableRecord, PersistableRecord {
    static let databaseTableName = "rounds"
    var round: CampaignRound
    init(_ round: CampaignRound) { self.round = round }
    init(row: Row) throws {
        round = CampaignRound(round: try row.strict("round"), createdAt: try row.strict("created_at"),
                              acquisition: try row.strict("acquisition"), parameters: try row.strict("parameters"),
                              model: try row.strict("model"), modelHash: try row.strict("model_hash"),
                              labelled: try row.strict("labelled"), metrics: try row.strict("metrics"))
    }
    func encode(to container: inout PersistenceContainer) {
        container["round"] = round.round
        container["created_at"] = round.createdAt
        container["acquisition"] = round.acquisition
        container["parameters"] = round.parameters
        container["model"] = round.model
        container["model_hash"] = round.modelHash
        container["labelled"] = round.labelled
        container["metrics"] = round.metrics
    }
}

struct PickRow: FetchableRecord, PersistableRecord {
    static let databaseTableName = "picks"
    var pick: CampaignPick
    init(_ pick: CampaignPick) { self.pick = pick }
    init(row: Row) throws {
        pick = CampaignPick(round: try row.strict("round"), rank: try row.strict("rank"),
                            molecule: try row.strict("molecule"), score: try row.strict("score"),
                            uncertainty: try row.strict("uncertainty"), reason: try row.strict("reason"))
    }
    func encode(to container: inout PersistenceContainer) {
        container["round"] = pick.round
        container["rank"] = pick.rank
        container["molecule"] = pick.molecule
        container["score"] = pick.score
        container["uncertainty"] = pick.uncertainty
        container["reason"] = pick.reason
    }
}

/// One write transaction on a campaign file, handed to `CampaignStore.write`'s body: the only way a
/// command changes the file. The GRDB `Database` stays inside; every statement is here.
public struct CampaignTransaction {
    let db: Database

    public func insertMolecule(index: Int, record: Int?, id: String, smiles: String, inPool: Bool, graph: MolecularGraph) throws {
        try MoleculeRow(molecule: index, record: record, id: id, smiles: smiles, inPool: inPool, graph: Data(graph.encoded())).insert(db)
    }

    public func insertRejected(record: Int, id: String, input: String, reason: String) throws {
        try RejectedRow(record: record, id: id, input: input, reason: reason).insert(db)
    }

    public func insertLabel(_ label: CampaignLabel) throws {
        try LabelRow(molecule: label.molecule, value: label.value, round: label.round, source: label.source, recordedAt: timestamp()).insert(db)
    }

    public func insertRound(_ round: CampaignRound) throws { try RoundRow(round).insert(db) }

    public func insertPick(_ pick: CampaignPick) throws { try PickRow(pick).insert(db) }

    public func setMeta(_ key: String, _ value: String) throws { try MetaRow(key: key, value: value).insert(db) }

    /// Molecule number by id.
    public func moleculesById() throws -> [String: Int] {
        var ids: [String: Int] = [:]
        let cursor = try MoleculeSummaryRow.fetchCursor(db, sql: "SELECT molecule, record, id, smiles, in_pool FROM molecules")
        while let row = try cursor.next() { ids[row.id] = row.molecule }
        return ids
    }

    /// The highest stored round (0 before the first select).
    public func latestRound() throws -> Int { try Int.fetchOne(db, sql: "SELECT MAX(round) FROM rounds") ?? 0 }

    public func labelCount() throws -> Int { try LabelRow.fetchCount(db) }

    public func labelledMolecules() throws -> Set<Int> { Set(try Int.fetchAll(db, sql: "SELECT molecule FROM labels")) }

    /// The stored label of a molecule, if any.
    public func label(of molecule: Int) throws -> Double? {
        try Double.fetchOne(db, sql: "SELECT value FROM labels WHERE molecule = ?", arguments: [molecule])
    }

    public func id(of molecule: Int) throws -> String? {
        try String.fetchOne(db, sql: "SELECT id FROM molecules WHERE molecule = ?", arguments: [molecule])
    }

    /// Computes the pool checksum over the stored rows and records it (end of `init`, same transaction).
    public func sealPool() throws {
        var checksum = PoolChecksum()
        let cursor = try Row.fetchCursor(db, sql: "SELECT molecule, record, id, smiles, in_pool, graph FROM molecules ORDER BY molecule")
        while let row = try cursor.next() { try checksum.add(row, graph: try row.decode(forColumn: "graph")) }
        try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('pool_checksum', ?)", arguments: [checksum.hex])
    }

}

/// FNV-1a 64 over every stored pool row (molecule number, record, id, SMILES, pool flag, graph
/// bytes), each field length-prefixed so no two different pools hash the same bytes.
struct PoolChecksum {
    private var hash = FNV1a64()

    mutating func add(_ row: Row, graph: Data) throws {
        var bytes: [UInt8] = []
        func integer(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func field(_ data: some Collection<UInt8>) {
            integer(Int64(data.count))
            bytes.append(contentsOf: data)
        }
        integer(try row.decode(Int64.self, forColumn: "molecule"))
        integer(try row.decode(Int64?.self, forColumn: "record") ?? -1)
        field(Array(try row.decode(String.self, forColumn: "id").utf8))
        field(Array(try row.decode(String.self, forColumn: "smiles").utf8))
        integer(try row.decode(Int64.self, forColumn: "in_pool"))
        bytes.withUnsafeBytes { hash.update($0) }
        integer(0)
        bytes.removeAll(keepingCapacity: true)
        field(graph)
        bytes.withUnsafeBytes { hash.update($0) }
    }

    var hex: String { hash.hex }
}

func timestamp() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: Date())
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
