import ArgumentParser
import Campaigns
import Chemistry
import Foundation
import Learning
import LibraryIO

/// The exit statuses of every command; the README's "Exit status" section lists them.
enum ExitStatus {
    /// The run completed (rejected records included: they are listed, not fatal).
    static let done: Int32 = 0
    /// The run failed for another reason: training diverged (NaN loss), another command changed a
    /// campaign at the same moment, or an internal error.
    static let internalFailure: Int32 = 1
    /// A file cannot be used: an input (library, model, labels, campaign, hit list) is missing,
    /// unreadable or damaged, or an output cannot be written.
    static let fileProblem: Int32 = 2
    /// Nothing could be scored: the library is empty or every record was rejected (`screen`, `predict`).
    static let nothingScored: Int32 = 3
    /// The command line is wrong: unknown command or option, a value out of range (BSD's EX_USAGE,
    /// which swift-argument-parser also uses for its own parse errors).
    static let badUsage: Int32 = 64
}

/// An error a command raises itself, with the exit status it should end with.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var status: Int32
    init(_ message: String, status: Int32 = ExitStatus.fileProblem) {
        self.message = message
        self.status = status
    }
    var description: String { message }
}

enum Failure {
    /// The message and exit status for an error that ended a command. `nil` for errors that carry
    /// their own exit (an `ExitCode` after the command printed its message, `--help`, `--version`,
    /// ArgumentParser's usage errors).
    static func classify(_ error: Error) -> (message: String, status: Int32)? {
        switch error {
        case is ExitCode, is CleanExit: return nil
        case let failure as CommandFailure: return (failure.message, failure.status)
        case let error as ValidationError: return (error.message, ExitStatus.badUsage)
        case let error as InputError: return (error.message, ExitStatus.fileProblem)
        case let error as CampaignError: return (error.message, error.isFileProblem ? ExitStatus.fileProblem : ExitStatus.internalFailure)
        case let error as ModelFileError: return (error.description, ExitStatus.fileProblem)
        case let error as SplitColumnError: return (error.description, ExitStatus.fileProblem)
        case let error as MoleculeError: return (error.message, ExitStatus.fileProblem)
        case let error as TrainingError: return (error.description, ExitStatus.internalFailure)
        case let error as CocoaError:
            // Foundation's file errors (an input that cannot be read, an output that cannot be written).
            let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? "a file"
            let reading = error.code.rawValue >= CocoaError.fileReadUnknown.rawValue
                && error.code.rawValue <= CocoaError.fileReadUnknownStringEncoding.rawValue
            let reason = (error.userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription ?? error.localizedDescription
            return ("\(path): \(reading ? "cannot read" : "cannot write") (\(reason))", ExitStatus.fileProblem)
        default:
            // ArgumentParser's own errors (help requested, an option it could not parse) keep its
            // messages and codes; anything it does not know is an internal error.
            if Winnow.exitCode(for: error) != .failure { return nil }
            return ("internal error: \(error)", ExitStatus.internalFailure)
        }
    }

    /// Prints `winnow <command>: error: <message>` on standard error and ends the process with the
    /// error's exit status; `ExitCode`, `--help` and `--version` go through ArgumentParser as before.
    static func exit(command: String, _ error: Error) -> Never {
        guard let (message, status) = classify(error) else { Winnow.exit(withError: error) }
        printToStandardError("winnow\(command.isEmpty ? "" : " " + command): error: \(message)")
        Foundation.exit(status)
    }

    /// The command path of a parsed command type ("screen", "campaign init"), from the root's tree.
    static func commandPath(of type: ParsableCommand.Type) -> String {
        func search(_ node: ParsableCommand.Type, _ path: [String]) -> [String]? {
            if node == type { return path }
            for child in node.configuration.subcommands {
                let name = child.configuration.commandName ?? String(describing: child).lowercased()
                if let found = search(child, path + [name]) { return found }
            }
            return nil
        }
        return search(Winnow.self, [])?.joined(separator: " ") ?? ""
    }

    /// `winnow help NAME …` for a command that does not exist: ArgumentParser would print the root's
    /// help and exit 0, which hides a typo from scripts. Returns the message to print (exit 64), or nil.
    static func unknownHelpTopic(_ arguments: [String]) -> String? {
        var node: ParsableCommand.Type = Winnow.self
        var index = 0
        // Walk the subcommands named before `help` (`winnow campaign help select`).
        while index < arguments.count, arguments[index] != "help" {
            guard let child = subcommand(of: node, named: arguments[index]) else { return nil }
            node = child
            index += 1
        }
        guard index < arguments.count else { return nil }
        for name in arguments[(index + 1)...] where !name.hasPrefix("-") {
            guard let child = subcommand(of: node, named: name) else {
                let known = node.configuration.subcommands.compactMap { $0.configuration.commandName }
                let where_ = node == Winnow.self ? "winnow" : "winnow \(commandPath(of: node))"
                return "no command '\(name)' in \(where_) (commands: \(known.joined(separator: ", ")))"
            }
            node = child
        }
        return nil
    }

    private static func subcommand(of node: ParsableCommand.Type, named name: String) -> ParsableCommand.Type? {
        node.configuration.subcommands.first { $0.configuration.commandName == name || $0.configuration.aliases.contains(name) }
    }
}
