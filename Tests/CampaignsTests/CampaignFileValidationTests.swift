import Campaigns
import Chemistry
import Foundation
import GRDB
import Learning
import LibraryIO
import Testing
import WinnowTestSupport

/// Campaign files and results are untrusted input: forged or damaged rows, settings out of range,
/// values beyond what training takes, and commands that overlap each other give clear errors and
/// change nothing, instead of trapping, running out of memory or committing stale picks.
@Suite struct CampaignFileValidationTests {
    /// A 60-molecule BACE pool (ids BACE_1…) with 20 initial labels, both classes.
    struct Small {
        let folder: URL
        let campaign: String
        var truth: [String: Double] = [:]
        var ids: [String] = []

        init(_ label: String, settings: CampaignSettings = CampaignSettings()) throws {
            folder = try TestPaths.scratch(label)
            let table = try CSVTable.read(path: TestPaths.repository.appendingPathComponent("targets/bace1/bace.csv").path)
            let s = try table.column("smiles"), c = try table.column("Class")
            var pool = "id,smiles\n", labels = "id,result\n"
            let stride = table.rows.count / 60
            for i in 0..<60 {
                let row = table.rows[i * stride], id = "BACE_\(i + 1)"
                pool += "\(id),\(row[s])\n"
                truth[id] = row[c] == "1" ? 1 : 0
                ids.append(id)
                if i % 3 == 0 { labels += "\(id),\(row[c])\n" }
            }
            try pool.write(to: folder.appendingPathComponent("pool.csv"), atomically: true, encoding: .utf8)
            try labels.write(to: folder.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
            campaign = folder.appendingPathComponent("c.sqlite").path
            var settings = settings
            settings.learner.trees = 20
            let labelFile = try LabelFile.read(path: folder.appendingPathComponent("labels.csv").path)
            _ = try Campaign.initialize(path: campaign, pool: folder.appendingPathComponent("pool.csv").path, smilesColumn: "smiles",
                                        idColumn: "id", labels: labelFile, settings: settings)
        }

        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

        /// Changes the file behind Winnow's back (foreign keys off, as a forger's SQLite would have).
        func forge(_ sql: String, _ arguments: StatementArguments = []) throws {
            var configuration = Configuration()
            configuration.foreignKeysEnabled = false
            let queue = try DatabaseQueue(path: campaign, configuration: configuration)
            try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
            try queue.close()
        }

        /// Flips the lowest bit of one byte in the middle of a stored graph.
        func flipGraphByte(molecule: Int) throws {
            let queue = try DatabaseQueue(path: campaign)
            try queue.write { db in
                var bytes = [UInt8](try Data.fetchOne(db, sql: "SELECT graph FROM molecules WHERE molecule = ?", arguments: [molecule]) ?? Data())
                bytes[bytes.count / 2] ^= 1
                try db.execute(sql: "UPDATE molecules SET graph = ? WHERE molecule = ?", arguments: [Data(bytes), molecule])
            }
            try queue.close()
        }

        func results(_ ids: [String], name: String, flip: Bool = false) throws -> String {
            var text = "id,result\n"
            for id in ids { text += "\(id),\(Int(flip ? 1 - truth[id]! : truth[id]!))\n" }
            try text.write(toFile: path(name), atomically: true, encoding: .utf8)
            return path(name)
        }

        func select(_ name: String) throws -> Campaign.Selection {
            var options = Campaign.SelectOptions()
            options.batch = 5
            return try Campaign.select(store: try CampaignStore.open(path: campaign), options: options, output: path(name))
        }
    }

    static func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    /// A label row naming a molecule that does not exist made `select` trap on an index.
    @Test func aLabelOfAMissingMoleculeIsRefused() throws {
        let small = try Small("campaign-orphan-label")
        try small.forge("INSERT INTO labels (molecule, value, round, source, recorded_at) VALUES (9999, 1, 0, 'forged', 'now')")
        let error = Self.message { _ = try small.select("picks.csv") }
        #expect(error?.contains("molecule 9999, which is not in the campaign") == true, "\(error ?? "no error")")
        #expect(!FileManager.default.fileExists(atPath: small.path("picks.csv")))
    }

    /// Stored settings out of range: `trees < 0` trapped, `trees = 1e9` asked for unbounded memory.
    @Test func storedSettingsOutOfRangeAreRefused() throws {
        for (trees, expected) in [(-5, "trees is -5"), (1_000_000_000, "trees is 1000000000")] {
            let small = try Small("campaign-settings-\(trees)")
            var settings = try CampaignStore.open(path: small.campaign).settings()
            settings.learner.trees = trees
            let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
            try small.forge("UPDATE meta SET value = ? WHERE key = 'settings'", [json])
            let error = Self.message { _ = try small.select("picks.csv") }
            #expect(error?.contains(expected) == true && error?.contains("damaged") == true, "\(error ?? "no error")")
        }
    }

    /// A stored value of 1e308 scored `inf`; a stored 0.5 in an active/inactive campaign is not a class.
    @Test func storedLabelValuesAreChecked() throws {
        let small = try Small("campaign-label-values")
        for (value, expected) in [(1e308, "outside ±1e12"), (0.5, "active/inactive")] {
            try small.forge("UPDATE labels SET value = ? WHERE molecule = 0", [value])
            let error = Self.message { _ = try CampaignStore.open(path: small.campaign).labels() }
            #expect(error?.contains(expected) == true, "\(error ?? "no error")")
        }
        // Text where a number belongs is an error too, not a trap inside the SQLite layer.
        try small.forge("UPDATE labels SET value = 'abc' WHERE molecule = 0")
        #expect(Self.message { _ = try CampaignStore.open(path: small.campaign).labels() } != nil)
    }

    /// Results files: 1e308 is refused with its row, and `R2,1,000` (an extra field) is not read as 1.
    @Test func resultsFilesWithHugeValuesOrExtraFieldsAreRefused() throws {
        let folder = try TestPaths.scratch("campaign-results-fields")
        let path = folder.appendingPathComponent("r.csv").path
        try "id,value\nR1,2.5\nR2,1,000\nR3,1e308\nR4,3,\n".write(toFile: path, atomically: true, encoding: .utf8)
        let file = try LabelFile.read(path: path)
        #expect(file.problems.count == 2, "\(file.problems)")
        #expect(file.problems.contains { $0.contains("row 2") && $0.contains("3 fields, but the header has 2") })
        #expect(file.problems.contains { $0.contains("row 3") && $0.contains("'1e308'") && $0.contains("outside ±1e12") })
        // A trailing empty field (`R4,3,`) is harmless and still read.
        #expect(file.entries.map(\.id) == ["R1", "R4"] && file.entries.map(\.value) == [2.5, 3])
    }

    /// `--beta nan` committed a round of picks in pool order.
    @Test func aNonFiniteBetaIsRefused() throws {
        let small = try Small("campaign-beta")
        var options = Campaign.SelectOptions()
        options.acquisition = .ucb
        options.beta = .nan
        let error = Self.message { _ = try Campaign.select(store: try CampaignStore.open(path: small.campaign), options: options, output: small.path("p.csv")) }
        #expect(error?.contains("beta") == true)
        #expect(try CampaignStore.open(path: small.campaign).rounds().isEmpty)
    }

    /// A select that overlaps a record used to commit picks that the record had just labelled.
    @Test func aSelectOverlappedByARecordWritesNothing() throws {
        let small = try Small("campaign-select-overlap")
        let store = try CampaignStore.open(path: small.campaign)
        var options = Campaign.SelectOptions()
        options.batch = 5
        let pending = try Campaign.prepareSelection(store: store, options: options)
        // Meanwhile the lab's results for two of those very picks arrive.
        let picked = pending.selection.picks.prefix(2).map(\.id)
        _ = try Campaign.record(store: store, results: try small.results(picked, name: "meanwhile.csv"))
        let error = Self.message { _ = try Campaign.commit(pending, store: store, output: small.path("picks.csv")) }
        #expect(error?.contains("2 results were recorded while this select was training, 2 of its picks among them") == true, "\(error ?? "no error")")
        #expect(try store.rounds().isEmpty && store.picks().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: small.path("picks.csv")))
        // Run again, it picks none of the labelled ones.
        let again = try small.select("picks.csv")
        #expect(Set(again.picks.map(\.id)).isDisjoint(with: picked))
    }

    /// Two records of the same results at once: the later one used to fail with "SQLite error 19".
    @Test func concurrentRecordsAgreeOrExplainTheConflict() throws {
        let small = try Small("campaign-record-race")
        let store = try CampaignStore.open(path: small.campaign)
        // Molecules without initial labels (every third one has one).
        let unlabelled = small.ids.enumerated().filter { $0.offset % 3 != 0 }.map(\.element)
        let ids = Array(unlabelled.prefix(6))
        let pending = try Campaign.prepareRecord(store: store, results: try small.results(ids, name: "a.csv"))
        _ = try Campaign.record(store: store, results: try small.results(Array(ids.prefix(3)), name: "b.csv"))
        let summary = try Campaign.commit(pending, store: store)
        #expect(summary.recorded == 3 && summary.alreadyRecorded == 3)

        // The other command recorded different values: a conflict named by id, nothing written.
        let later = Array(unlabelled.suffix(4))
        let pendingLater = try Campaign.prepareRecord(store: store, results: try small.results(later, name: "c.csv"))
        let before = try store.labels()
        _ = try Campaign.record(store: store, results: try small.results([later[0]], name: "d.csv", flip: true))
        let error = Self.message { _ = try Campaign.commit(pendingLater, store: store) }
        #expect(error?.contains("id \(later[0]) was recorded as") == true && error?.contains("by another command meanwhile") == true, "\(error ?? "no error")")
        #expect(error?.contains("SQLite error") == false)
        #expect(try store.labels().count == before.count + 1)
    }

    /// SQLite's result codes become sentences (here a constraint violation, as a racing writer hits).
    @Test func sqliteErrorsAreExplained() throws {
        let small = try Small("campaign-sqlite-errors")
        let store = try CampaignStore.open(path: small.campaign)
        let error = Self.message {
            try store.write { tx in try tx.insertLabel(CampaignLabel(molecule: 0, value: 1, round: 0, source: "x")) }
        }
        #expect(error?.contains("was changed by another winnow command at the same time") == true, "\(error ?? "no error")")
        #expect(error?.contains("SQLite error 19") == false)
    }

    /// Campaign files of format version 1 (before the pool checksum) are still read; a version 2 file
    /// that lost its checksum is damaged.
    @Test func version1FilesAreReadWithoutAChecksum() throws {
        let small = try Small("campaign-version-1")
        try small.forge("DELETE FROM meta WHERE key = 'pool_checksum'")
        let error = Self.message { _ = try CampaignStore.open(path: small.campaign).graphs() }
        #expect(error?.contains("the pool checksum is missing") == true, "\(error ?? "no error")")
        try small.forge("UPDATE meta SET value = '1' WHERE key = 'version'")
        #expect(try CampaignStore.open(path: small.campaign).graphs().count == 60)
        #expect(try small.select("picks.csv").picks.count == 5)
    }

    /// A flipped byte in a stored graph (which may still decode as another molecule) or in an id is
    /// caught by the pool checksum.
    @Test func byteFlipsInThePoolAreRefused() throws {
        let small = try Small("campaign-pool-flip")
        _ = try CampaignStore.open(path: small.campaign).graphs()  // intact: reads
        try small.flipGraphByte(molecule: 7)
        var error = Self.message { _ = try CampaignStore.open(path: small.campaign).graphs() }
        #expect(error?.contains("does not match its checksum") == true || error?.contains("damaged") == true, "\(error ?? "no error")")
        let other = try Small("campaign-pool-flip-id")
        try other.forge("UPDATE molecules SET id = 'BACE_X' WHERE molecule = 3")
        error = Self.message { _ = try other.select("picks.csv") }
        #expect(error?.contains("does not match its checksum") == true, "\(error ?? "no error")")
    }
}
