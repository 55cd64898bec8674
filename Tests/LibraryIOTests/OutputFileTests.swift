import Foundation
import LibraryIO
import Testing
import WinnowTestSupport

@Suite struct OutputFileTests {
    /// 11.11: an output appears under its name only when closed; one dropped unclosed leaves nothing.
    @Test func outputsAppearOnlyWhenComplete() throws {
        let folder = try TestPaths.scratch("output")
        let path = folder.appendingPathComponent("out.txt").path
        do {
            let out = try OutputFile(path: path)
            try out.write("half")
            #expect(!FileManager.default.fileExists(atPath: path))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        let out = try OutputFile(path: path)
        try out.write("whole\n")
        try out.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "whole\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.txt"])
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue & 0o044 != 0, "outputs are not left private to the owner (mkstemp's 0600)")
    }

    /// Writing through a link replaces the file it points to and keeps the link.
    @Test func outputThroughALinkKeepsTheLink() throws {
        let folder = try TestPaths.scratch("output-link")
        let target = folder.appendingPathComponent("target.txt").path
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        let link = folder.appendingPathComponent("link.txt").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try OutputFile.write("new", to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "new")
    }

    /// 11.12: temporary files are new files with unique names, never an existing name or link.
    @Test func temporaryFilesAreCreatedExclusively() throws {
        let folder = try TestPaths.scratch("temporary")
        let path = folder.appendingPathComponent("checkpoint.json").path
        let a = try createTemporaryFile(beside: path), b = try createTemporaryFile(beside: path)
        close(a.fd)
        close(b.fd)
        #expect(a.path != b.path)
        #expect(a.path.hasPrefix(folder.path + "/.checkpoint.json."))
        let victim = folder.appendingPathComponent("victim").path
        try "keep".write(toFile: victim, atomically: false, encoding: .utf8)
        // A link planted under the old fixed temporary name is not written through.
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent(".checkpoint.json.tmp").path, withDestinationPath: victim)
        try replaceFile(path, with: Array("{}".utf8))
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{}")
    }

    /// 11.10: an output that is an input (by any path, through links) or another output is refused.
    @Test func outputsThatAreInputsOrEachOtherAreRefused() throws {
        let folder = try TestPaths.scratch("same-file")
        let input = folder.appendingPathComponent("lib.smi").path
        try "CCO a\n".write(toFile: input, atomically: false, encoding: .utf8)
        let link = folder.appendingPathComponent("link.fps").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: input)
        let other = folder.appendingPathComponent("out.fps").path
        for (outputs, words) in [([input], "same file as the input"), ([link], "same file as the input"),
                                 ([folder.path + "/./lib.smi"], "same file as the input"),
                                 ([other, folder.path + "/../" + folder.lastPathComponent + "/out.fps"], "same file as the output"),
                                 (["-", "-"], "standard output"),
                                 ([folder.appendingPathComponent("missing/out.fps").path], "does not exist"),
                                 ([folder.path], "is a folder")] {
            do {
                try checkOutputs(outputs, inputs: [input])
                Issue.record("\(outputs) accepted")
            } catch {
                #expect(error.message.contains(words), "\(error.message)")
            }
        }
        try checkOutputs([other, "-", "/dev/null", "/dev/null", nil], inputs: [input, "-", nil])
    }
}
