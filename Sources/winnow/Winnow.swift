import ArgumentParser
import LibraryIO
import Screening

@main
struct Winnow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "winnow",
        abstract: "Virtual screening: read compound libraries, fingerprint them, rank hits.",
        version: "0.1.0",
        subcommands: [ScreenCommand.self, FingerprintCommand.self, TrainCommand.self, EvaluateCommand.self, PredictCommand.self, MergeCommand.self, CampaignCommand.self, InspectCommand.self]
    )

    static func main() {
        tuneAllocatorForBatches()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
