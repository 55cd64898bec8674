import Learning
import LibraryIO

/// Which task of a model a screen or prediction uses. A multi-task model must be told (`--task`):
/// screening silently on its first task gave wrong hit lists.
public enum ModelTask {
    /// Index of `requested` among the model's tasks; the only task when none is requested.
    public static func index(in header: ModelHeader, requested: String?, modelPath: String) throws(InputError) -> Int {
        let names = header.tasks.map { "'\($0)'" }.joined(separator: ", ")
        guard let requested else {
            guard header.tasks.count == 1 else {
                throw InputError("\(modelPath) has \(header.tasks.count) tasks (\(names)): choose one with --task NAME")
            }
            return 0
        }
        guard let index = header.tasks.firstIndex(of: requested) else {
            throw InputError("\(modelPath) has no task '\(requested)' (its tasks: \(names))")
        }
        return index
    }
}
