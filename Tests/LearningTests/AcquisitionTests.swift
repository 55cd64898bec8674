import Learning
import Testing

/// Acquisition functions on hand-made cases.
@Suite struct AcquisitionTests {
    let scores: [Float] = [0.9, 0.5, 0.7, 0.7, 0.1]
    let spread: [Float] = [0.0, 0.3, 0.05, 0.05, 0.5]

    @Test func greedyTakesTheHighestScoresWithTiesInIndexOrder() {
        #expect(Acquisition.greedy.pick(count: 3, scores: scores, uncertainties: spread, seed: 0) == [0, 2, 3])
        #expect(Acquisition.greedy.pick(count: 2, scores: scores, uncertainties: spread, minimize: true, seed: 0) == [4, 1])
    }

    @Test func ucbAddsBetaTimesUncertainty() {
        // 0.9, 0.5+0.6=1.1, 0.7+0.1=0.8, 0.8, 0.1+1.0=1.1 → 1 and 4 tie at 1.1 (index order), then 0.
        #expect(Acquisition.ucb.pick(count: 3, scores: scores, uncertainties: spread, beta: 2, seed: 0) == [1, 4, 0])
    }

    @Test func uncertaintyTakesTheWidestSpread() {
        #expect(Acquisition.uncertainty.pick(count: 2, scores: scores, uncertainties: spread, seed: 0) == [4, 1])
    }

    @Test func thompsonAndRandomAreSeeded() {
        let a = Acquisition.thompson.pick(count: 3, scores: scores, uncertainties: spread, seed: 7)
        #expect(a == Acquisition.thompson.pick(count: 3, scores: scores, uncertainties: spread, seed: 7))
        // Without spread Thompson sampling is greedy.
        #expect(Acquisition.thompson.pick(count: 3, scores: scores, uncertainties: [0, 0, 0, 0, 0], seed: 3) == [0, 2, 3])
        let r = Acquisition.random.pick(count: 5, scores: scores, uncertainties: spread, seed: 1)
        #expect(r.sorted() == [0, 1, 2, 3, 4])
        #expect(r == Acquisition.random.pick(count: 5, scores: scores, uncertainties: spread, seed: 1))
        #expect((0..<20).contains { Acquisition.random.pick(count: 5, scores: scores, uncertainties: spread, seed: UInt64($0)) != r })
    }
}
