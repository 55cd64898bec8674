import CBLAS
import CKernels

/// A dense row-major float32 matrix (`rows × cols`), the one numeric type of Winnow's models.
/// Products go through OpenBLAS `cblas_sgemm`; Winnow parallelises over molecules and gradient
/// shards itself, so OpenBLAS always runs on the calling thread (`BLAS.threads`).
public struct Matrix: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var values: [Float]

    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "matrix \(rows)×\(cols) needs \(rows * cols) values, got \(values.count)")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        self.init(rows: rows, cols: cols, values: [Float](repeating: value, count: rows * cols))
    }

    /// A matrix whose values the caller overwrites completely before reading (skips zero-filling,
    /// which costs a full memory pass on the large edge matrices of message passing).
    public init(uninitializedRows rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
        values = [Float](unsafeUninitializedCapacity: rows * cols) { _, count in count = rows * cols }
    }

    /// Glorot/Xavier uniform initialisation, deterministic for a generator state.
    public static func glorot<G: RandomNumberGenerator>(rows: Int, cols: Int, using generator: inout G) -> Matrix {
        let limit = (6.0 / Float(rows + cols)).squareRoot()
        var values = [Float](repeating: 0, count: rows * cols)
        for i in values.indices { values[i] = Float.random(in: -limit...limit, using: &generator) }
        return Matrix(rows: rows, cols: cols, values: values)
    }

    @inline(__always) public subscript(row: Int, col: Int) -> Float {
        get { values[row * cols + col] }
        set { values[row * cols + col] = newValue }
    }

    /// Sets every value to zero, keeping the storage.
    public mutating func zero() {
        values.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Resizes to `rows × cols` (contents unspecified), reusing storage when possible.
    public mutating func reshape(rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
        if values.count != rows * cols {
            let n = rows * cols
            values = [Float](unsafeUninitializedCapacity: n) { _, count in count = n }
        }
    }
}

public enum BLAS {
    /// y = x · w (+ bias) with every output the same fused multiply-add chain whatever the number of
    /// rows or a row's place among them (`wk_dense_linear`): inference uses it so that a molecule's
    /// score does not depend on the other molecules of its batch.
    public static func rowInvariantProduct(_ x: Matrix, _ w: Matrix, bias: Matrix? = nil, into y: inout Matrix) {
        precondition(x.cols == w.rows, "product: input width \(x.cols), weight rows \(w.rows)")
        y.reshape(rows: x.rows, cols: w.cols)
        guard x.rows > 0, w.cols > 0 else { return }
        y.values.withUnsafeMutableBufferPointer { yv in
            x.values.withUnsafeBufferPointer { xv in
                w.values.withUnsafeBufferPointer { wv in
                    if let bias {
                        bias.values.withUnsafeBufferPointer { b in
                            wk_dense_linear(Int64(x.rows), xv.baseAddress, Int64(x.cols), wv.baseAddress, Int64(w.cols), b.baseAddress, yv.baseAddress)
                        }
                    } else {
                        wk_dense_linear(Int64(x.rows), xv.baseAddress, Int64(x.cols), wv.baseAddress, Int64(w.cols), nil, yv.baseAddress)
                    }
                }
            }
        }
    }

    /// OpenBLAS's own thread count, which Learning sets to 1 before its first BLAS call: callers
    /// pass a thread count to training and run one model per worker thread when scoring, and a
    /// multi-threaded sgemm would split rows differently with the thread count (last digits change).
    public static var threads: Int {
        _ = openBLASOnCallingThread
        return Int(openblas_get_num_threads())
    }

    /// C = alpha · op(A) · op(B) + beta · C, where op is an optional transpose. OpenBLAS picks kernels
    /// and blockings by the matrix sizes, so a row's result can change in the last digits with the rows
    /// around it: training uses this, scoring uses `rowInvariantProduct`.
    public static func gemm(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
                            into c: inout Matrix, alpha: Float = 1, beta: Float = 0) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == kb, "gemm: inner dimensions \(k) and \(kb) differ")
        if beta == 0 && (c.rows != m || c.cols != n) { c.reshape(rows: m, cols: n) }
        precondition(c.rows == m && c.cols == n, "gemm: output is \(c.rows)×\(c.cols), expected \(m)×\(n)")
        guard m > 0, n > 0 else { return }
        _ = openBLASOnCallingThread
        if k == 0 {
            if beta == 0 { c.zero() }
            return
        }
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.values.withUnsafeMutableBufferPointer { pc in
                    cblas_sgemm(CblasRowMajor,
                                transposeA ? CblasTrans : CblasNoTrans,
                                transposeB ? CblasTrans : CblasNoTrans,
                                Int32(m), Int32(n), Int32(k), alpha,
                                pa.baseAddress, Int32(a.cols), pb.baseAddress, Int32(b.cols),
                                beta, pc.baseAddress, Int32(n))
                }
            }
        }
    }

    /// y += alpha · x (whole arrays).
    public static func axpy(_ alpha: Float, _ x: [Float], _ y: inout [Float]) {
        precondition(x.count == y.count)
        _ = openBLASOnCallingThread
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                cblas_saxpy(Int32(px.count), alpha, px.baseAddress, 1, py.baseAddress, 1)
            }
        }
    }
}

/// Set once, before Learning's first OpenBLAS call (a global's initialiser runs exactly once, thread
/// safely): OpenBLAS runs single-threaded in every Winnow process. Nothing else sets its threads.
let openBLASOnCallingThread: Void = openblas_set_num_threads(1)
