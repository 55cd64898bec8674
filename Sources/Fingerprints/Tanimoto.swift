import CKernels

/// Tanimoto similarity of two bit fingerprints (1 for two empty fingerprints: identical).
public func tanimoto(_ a: [UInt64], _ b: [UInt64]) -> Double {
    // The CPU's popcount instruction through CKernels (Swift's baseline x86-64 target has none).
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            wk_tanimoto(pa.baseAddress, pb.baseAddress, Int64(min(pa.count, pb.count)))
        }
    }
}
