import COpenBabelShim

/// Per-batch output buffers are a few hundred KiB; keep glibc from mapping and unmapping them.
public func tuneAllocatorForBatches() { wob_tune_allocator() }
