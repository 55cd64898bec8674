import Chemistry
import Foundation

/// A fixed set of threads that run an indexed loop together. Without a `stackSize` the calling
/// thread takes part as worker 0, so `threads: 1` runs everything inline; with one, every worker is a
/// thread of that stack size (parsers need deep stacks: Open Babel recurses once per atom) and the
/// caller only waits. Worker indices are stable, which lets each worker own a non-thread-safe Open
/// Babel parser.
///
/// The threads hold the pool's shared `State`, never the pool itself: dropping the pool (with or
/// without `shutdown()`) stops them, and a thread that starts late finds the stop flag instead of a
/// freed object. (They used to reach the pool through an unowned reference, which trapped when a pool
/// was released before its threads ran.)
public final class WorkerPool: Sendable {
    public let threads: Int
    private let state: State
    /// Whether the calling thread runs worker 0 itself.
    private let callerWorks: Bool

    /// `@unchecked Sendable`: every mutable field is read and written under `lock`; the job closure
    /// is `@Sendable`.
    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var job: (@Sendable (_ index: Int, _ worker: Int) -> Void)?
        var jobCount = 0
        var nextIndex = 0
        var shuttingDown = false
        /// One start signal per thread; empty once shut down.
        var starts: [DispatchSemaphore] = []
        let done = DispatchSemaphore(value: 0)

        func take() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard nextIndex < jobCount else { return nil }
            nextIndex += 1
            return nextIndex - 1
        }

        func workerLoop(worker: Int, start: DispatchSemaphore) {
            while true {
                start.wait()
                lock.lock()
                let stop = shuttingDown
                let body = job
                lock.unlock()
                if stop { return }
                if let body { while let i = take() { body(i, worker) } }
                done.signal()
            }
        }

        /// Sets the stop flag and wakes every thread once; they return from their loops.
        func stop() {
            lock.lock()
            shuttingDown = true
            let wake = starts
            starts.removeAll()
            lock.unlock()
            for start in wake { start.signal() }
        }
    }

    public init(threads: Int, stackSize: Int? = nil) {
        self.threads = min(max(1, threads), maximumThreads)
        callerWorks = stackSize == nil
        let state = State()
        self.state = state
        for w in (callerWorks ? 1 : 0)..<self.threads {
            let start = DispatchSemaphore(value: 0)
            state.starts.append(start)
            let thread = Thread { state.workerLoop(worker: w, start: start) }
            thread.stackSize = max(8 << 20, stackSize ?? 0)
            thread.start()
        }
    }

    deinit { state.stop() }

    /// Stops the threads; call when done (dropping the pool does it too). A later `run` still runs
    /// every index, on the calling thread.
    public func shutdown() { state.stop() }

    /// Runs `body(index, worker)` for every index in `0..<count`, spread over the threads; returns
    /// when all are finished.
    public func run(count: Int, _ body: @escaping @Sendable (_ index: Int, _ worker: Int) -> Void) {
        state.lock.lock()
        state.job = body
        state.jobCount = count
        state.nextIndex = 0
        let starts = state.starts
        state.lock.unlock()
        for start in starts { start.signal() }
        // The caller works when it is worker 0, and after a shutdown, when no thread is left.
        if callerWorks || starts.isEmpty { while let i = state.take() { body(i, 0) } }
        for _ in starts { state.done.wait() }
        state.lock.lock(); state.job = nil; state.lock.unlock()
    }
}

/// Per-index result slots written by workers: each slot is written by exactly one worker and read
/// only after `WorkerPool.run` returns, hence `@unchecked Sendable`. Raw storage (not a Swift array
/// property) so that concurrent writes to different slots do not trip exclusivity checking.
public final class Slots<T>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<T?>
    public init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }
    deinit {
        storage.baseAddress?.deinitialize(count: storage.count)
        storage.deallocate()
    }
    public subscript(i: Int) -> T? {
        get { storage[i] }
        set { storage[i] = newValue }
    }
    public var count: Int { storage.count }
}

/// One value per worker of a `WorkerPool`, indexed by the worker number the pool passes to its job.
/// The rule it states once: Open Babel parsers (and model copies with forward state) are not
/// thread-safe, so each worker owns one and worker w only ever touches element w.
///
/// `@unchecked Sendable`: elements are created before the pool runs and never replaced; worker w
/// uses only element w, so no element is used by two threads at once.
public final class PerWorker<T>: @unchecked Sendable {
    private let items: [T]
    public init<E: Error>(count: Int, _ make: () throws(E) -> T) throws(E) {
        var items: [T] = []
        for _ in 0..<max(count, 1) { items.append(try make()) }
        self.items = items
    }
    public subscript(worker: Int) -> T { items[worker] }
    public var count: Int { items.count }
}

extension PerWorker where T == MoleculeParser {
    /// One Open Babel parser per worker.
    public static func parsers(count: Int, limits: InputLimits = InputLimits()) throws(MoleculeError) -> PerWorker<MoleculeParser> {
        try PerWorker(count: count) { () throws(MoleculeError) in try MoleculeParser(limits: limits) }
    }
}
