/// The last part of a network: from one vector per molecule (`B × d`) to the outputs (`B × tasks`:
/// logits for classification, values for regression).
public protocol Predictor: AnyObject {
    var parameters: [Parameter] { get }
    /// Outputs `B × tasks`; `generator` draws the dropout masks when `training`.
    func forward(_ x: Matrix, training: Bool, generator: inout SeededGenerator) -> Matrix
    /// Takes dL/d(outputs) of the last `forward`, adds the parameters' gradients, returns dL/dx (`B × d`).
    func backward(_ gradient: Matrix) -> Matrix
}

/// The feed-forward head (Chemprop v2's FFN predictor) is Winnow's one predictor.
extension FeedForward: Predictor {}
