import Foundation
import LibraryIO
import Testing

@Suite struct WorkerPoolTests {
    /// Worker threads used to reach the pool through an unowned reference: a pool released before
    /// (or while) its threads started trapped ("object was already deallocated"), and a pool dropped
    /// without `shutdown()` was never freed. Pools made and dropped at once, with and without work and
    /// with and without `shutdown()`, must all end cleanly.
    @Test func poolsDroppedAtOnceEndCleanly() {
        for round in 0..<300 {
            let pool = WorkerPool(threads: 4, stackSize: round % 2 == 0 ? nil : 1 << 20)
            if round % 3 == 0 {
                let sum = Slots<Int>(count: 64)
                pool.run(count: 64) { i, _ in sum[i] = i }
                #expect((0..<64).allSatisfy { sum[$0] == $0 })
            }
            if round % 5 == 0 { pool.shutdown() }
        }
    }

    /// After `shutdown()` a pool still runs work (on the calling thread) instead of waiting forever
    /// or dropping it.
    @Test func runAfterShutdownStillRunsEveryIndex() {
        for stack in [nil, 1 << 20] as [Int?] {
            let pool = WorkerPool(threads: 3, stackSize: stack)
            pool.shutdown()
            let seen = Slots<Bool>(count: 10)
            pool.run(count: 10) { i, _ in seen[i] = true }
            #expect((0..<10).allSatisfy { seen[$0] == true })
        }
    }

    /// Every index runs exactly once, on a worker number below `threads`.
    @Test func everyIndexRunsOnceOnAValidWorker() {
        let pool = WorkerPool(threads: 4)
        defer { pool.shutdown() }
        let workers = Slots<Int>(count: 10_000)
        pool.run(count: 10_000) { i, w in workers[i] = w }
        #expect((0..<10_000).allSatisfy { (workers[$0] ?? -1) >= 0 && (workers[$0] ?? 99) < 4 })
    }
}
