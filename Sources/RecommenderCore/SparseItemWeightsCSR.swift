/// SparseItemWeights from compressed rows built elsewhere (bench/serve-bench's synthetic models),
/// validated as the per-row initialiser validates them.
extension SparseItemWeights {
    /// Row h is cols/vals[rowStart[h] ..< rowStart[h + 1]]: targets in 0..<n, increasing, no
    /// self-weight, finite weights.
    public static func compressedRows(n: Int, rowStart: [Int], cols: [Int32], vals: [Float]) throws -> SparseItemWeights {
        guard n >= 0, rowStart.count == n + 1, rowStart.first == 0, rowStart.last == cols.count, cols.count == vals.count else {
            throw RecError.internalError("compressed rows have the wrong shape")
        }
        for h in 0..<n {
            guard rowStart[h] <= rowStart[h + 1] else { throw RecError.internalError("compressed row starts decrease at row \(h)") }
            var last: Int32 = -1
            for t in rowStart[h]..<rowStart[h + 1] {
                guard cols[t] > last, Int(cols[t]) < n, Int(cols[t]) != h, vals[t].isFinite else {
                    throw RecError.internalError("compressed row \(h) is damaged")
                }
                last = cols[t]
            }
        }
        return SparseItemWeights(n: n, rowStart: rowStart, cols: cols, vals: vals)
    }
}
