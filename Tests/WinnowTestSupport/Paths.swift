import Foundation

/// Locations used by the tests: the repository, the shared data beside it, scratch folders.
public enum TestPaths {
    public static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/data` next to the repository (CI lays it there).
    public static let sharedData: URL = repository.deletingLastPathComponent().appendingPathComponent("shared/data")

    public static func fixture(_ name: String) -> String { sharedData.appendingPathComponent("fixtures/\(name)").path }
    public static func library(_ name: String) -> String { sharedData.appendingPathComponent("library/\(name)").path }

    /// A fresh empty folder for one test.
    public static func scratch(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("winnow-tests-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Lines of a text file read as raw bytes (fixtures hold control bytes on purpose).
    public static func lines(_ path: String) throws -> [[UInt8]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var lines = [UInt8](data).split(separator: 10, omittingEmptySubsequences: false).map { Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// Tab-separated fields of each line.
    public static func tsv(_ path: String) throws -> [[String]] {
        try lines(path).map { line in
            line.split(separator: 9, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        }
    }
}
