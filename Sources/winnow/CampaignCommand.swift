import ArgumentParser
import Campaigns
import Learning

struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Active-learning campaigns: pick the next batch to test, record results, retrain.",
        subcommands: [CampaignInitCommand.self, CampaignSelectCommand.self, CampaignRecordCommand.self, CampaignStatusCommand.self,
                      CampaignSimulateCommand.self]
    )
}

// Enum options of the campaign commands, parsed by ArgumentParser.
extension Acquisition: ExpressibleByArgument {}
extension LearnerKind: ExpressibleByArgument {}
extension TaskKind: ExpressibleByArgument {}
