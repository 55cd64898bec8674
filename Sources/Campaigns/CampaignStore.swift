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
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE molecules (
                    molecule INTEGER PRIMARY KEY,
                    record INTEGER,
                    id TEXT NOT NULL UNIQUE,
                    smiles TEXT NOT NULL,
                    in_pool INTEGER NOT NULL,
                    graph BLOB NOT NULL);
                CREATE TABLE rejected (record INTEGER PRIMARY KEY, id TEXT NOT NULL, input TEXT NOT NULL, reason TEXT NOT NULL);
                CREATE TABLE rounds (
                    round INTEGER PRIMARY KEY,
                    created_at TEXT NOT NULL,
                    acquisition TEXT NOT NULL,
                    parameters TEXT NOT NULL,
                    model TEXT NOT NULL,
                    model_hash TEXT NOT NULL,
                    labelled INTEGER NOT NULL,
                    metrics TEXT NOT NULL);
                CREATE TABLE labels (
                    molecule INTEGER PRIMARY KEY REFERENCES molecules(molecule),
                    value REAL NOT NULL,
                    round INTEGER NOT NULL,
                    source TEXT NOT NULL,
                    recorded_at TEXT NOT NULL);
                CREATE TABLE picks (
                    round INTEGER NOT NULL REFERENCES rounds(round),
                    rank INTEGER NOT NULL,
                    molecule INTEGER NOT NULL REFERENCES molecules(molecule),
                    score REAL NOT NULL,
                    uncertainty REAL NOT NULL,
                    reason TEXT NOT NULL,
                    PRIMARY KEY (round, rank));
                CREATE INDEX picks_molecule ON picks(molecule);
                """)
            for (key, value) in [("format", format), ("version", String(version)), ("software", FPSFormat.softwareName),
                                 ("created_at", timestamp()), ("settings", settingsJSON), ("pool", pool), ("pool_hash", poolHash),
                                 ("graph_coding", String(MolecularGraph.codingVersion))] {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?)", arguments: [key, value])
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
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.write(body) } catch let error as CampaignError { throw error } catch let error as InputError {
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
            try Row.fetchAll(db, sql: "SELECT molecule, record, id, smiles, in_pool FROM molecules ORDER BY molecule").map { row in
                CampaignMolecule(index: try row.decode(forColumn: "molecule"), record: try row.decode(forColumn: "record"),
                                 id: try row.decode(forColumn: "id"), smiles: try row.decode(forColumn: "smiles"),
                                 inPool: try row.decode(forColumn: "in_pool"))
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

    /// Computes the pool checksum over the stored rows and records it (end of `init`, same transaction).
    static func sealPool(_ db: Database) throws {
        var checksum = PoolChecksum()
        let cursor = try Row.fetchCursor(db, sql: "SELECT molecule, record, id, smiles, in_pool, graph FROM molecules ORDER BY molecule")
        while let row = try cursor.next() { try checksum.add(row, graph: try row.decode(forColumn: "graph")) }
        try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('pool_checksum', ?)", arguments: [checksum.hex])
    }

    /// Every label, checked: it names a stored molecule, its value is finite and in range (0/1 for
    /// active/inactive campaigns), its round is not negative. A forged or damaged row is refused here
    /// rather than indexing out of range or training on infinity later.
    public func labels() throws -> [CampaignLabel] {
        let count = try moleculeCount()
        let classification = try settings().taskKind == .classification
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT molecule, value, round, source FROM labels ORDER BY molecule").map {
                let molecule: Int = try $0.decode(forColumn: "molecule"), value: Double = try $0.decode(forColumn: "value")
                let round: Int = try $0.decode(forColumn: "round")
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
                return CampaignLabel(molecule: molecule, value: value, round: round, source: try $0.decode(forColumn: "source"))
            }
        }
    }

    public func rounds() throws -> [CampaignRound] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rounds ORDER BY round").map {
                CampaignRound(round: try $0.decode(forColumn: "round"), createdAt: try $0.decode(forColumn: "created_at"),
                              acquisition: try $0.decode(forColumn: "acquisition"), parameters: try $0.decode(forColumn: "parameters"),
                              model: try $0.decode(forColumn: "model"), modelHash: try $0.decode(forColumn: "model_hash"),
                              labelled: try $0.decode(forColumn: "labelled"), metrics: try $0.decode(forColumn: "metrics"))
            }
        }
    }

    public func picks() throws -> [CampaignPick] {
        let count = try moleculeCount()
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM picks ORDER BY round, rank").map {
                let molecule: Int = try $0.decode(forColumn: "molecule")
                guard (0..<count).contains(molecule) else {
                    throw CampaignError("\(path): a pick names molecule \(molecule), which is not in the campaign; the file is damaged")
                }
                return CampaignPick(round: try $0.decode(forColumn: "round"), rank: try $0.decode(forColumn: "rank"), molecule: molecule,
                                    score: try $0.decode(forColumn: "score"), uncertainty: try $0.decode(forColumn: "uncertainty"),
                                    reason: try $0.decode(forColumn: "reason"))
            }
        }
    }

    public func rejected() throws -> [(record: Int, id: String, input: String, reason: String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rejected ORDER BY record").map { ($0["record"], $0["id"], $0["input"], $0["reason"]) }
        }
    }

    public func rejectedCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rejected") ?? 0 }
    }

    // MARK: - Writing (inside `write`)

    public static func insertMolecule(_ db: Database, index: Int, record: Int?, id: String, smiles: String, inPool: Bool, graph: MolecularGraph) throws {
        try db.execute(sql: "INSERT INTO molecules (molecule, record, id, smiles, in_pool, graph) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [index, record, id, smiles, inPool, Data(graph.encoded())])
    }

    public static func insertRejected(_ db: Database, record: Int, id: String, input: String, reason: String) throws {
        try db.execute(sql: "INSERT INTO rejected (record, id, input, reason) VALUES (?, ?, ?, ?)", arguments: [record, id, input, reason])
    }

    public static func insertLabel(_ db: Database, _ label: CampaignLabel) throws {
        try db.execute(sql: "INSERT INTO labels (molecule, value, round, source, recorded_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [label.molecule, label.value, label.round, label.source, timestamp()])
    }

    public static func insertRound(_ db: Database, _ round: CampaignRound) throws {
        try db.execute(sql: """
            INSERT INTO rounds (round, created_at, acquisition, parameters, model, model_hash, labelled, metrics)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [round.round, round.createdAt, round.acquisition, round.parameters, round.model, round.modelHash,
                             round.labelled, round.metrics])
    }

    public static func insertPick(_ db: Database, _ pick: CampaignPick) throws {
        try db.execute(sql: "INSERT INTO picks (round, rank, molecule, score, uncertainty, reason) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [pick.round, pick.rank, pick.molecule, pick.score, pick.uncertainty, pick.reason])
    }

    /// Test hook: `WINNOW_FAULT=kill-before-commit` kills the process with SIGKILL inside a write
    /// transaction, after all its statements ran, to check that a killed command changes nothing.
    public static func faultPoint() {
        if ProcessInfo.processInfo.environment["WINNOW_FAULT"] == "kill-before-commit" { kill(getpid(), SIGKILL) }
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
