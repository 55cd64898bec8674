import ArgumentParser
import Foundation
import LibraryIO
import Screening

@main
struct Winnow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "winnow",
        abstract: "Virtual screening: read compound libraries, fingerprint them, rank hits.",
        discussion: """
        Exit status: 0 done (rejected records are listed, not fatal), 2 an input file is missing,
        unreadable or damaged, 64 wrong usage (unknown command or option, a value out of range),
        1 anything else (an output that cannot be written, an internal error).
        """,
        version: "0.1.0",
        subcommands: [ScreenCommand.self, FingerprintCommand.self, TrainCommand.self, EvaluateCommand.self, PredictCommand.self, MergeCommand.self, CampaignCommand.self, InspectCommand.self, IndexCommand.self, SearchCommand.self, DescribeCommand.self]
    )

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let problem = Failure.unknownHelpTopic(arguments) {
            printToStandardError("winnow help: error: \(problem)")
            Foundation.exit(ExitStatus.badUsage)
        }
        var command: ParsableCommand
        do { command = try parseAsRoot(arguments) } catch { exit(withError: error) }
        // Every command's errors end here: one message format and one set of exit statuses.
        do { try command.run() } catch { Failure.exit(command: Failure.commandPath(of: type(of: command)), error) }
    }
}
