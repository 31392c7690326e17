/// The sparse model's weights: per history item h, its row of B as (target index, weight) pairs
/// with the targets in increasing order. Row h holds history item h's contribution to each
/// target, as a row of the dense model does; the targets not stored have weight 0.
///
/// Stored in `recommender.model_item.weights` (bytea) as 8 bytes a pair: the target index
/// (int32) then the weight (float4), little-endian as the dense rows; the version's
/// params->>'kind' = 'sparse' tells the loader which encoding a row has.
///
/// Served from a model image (ModelImage.swift: sections sparseRowStarts, sparseIndices,
/// sparseWeights), the three arrays are views of the mapped file. The reader checks the row
/// starts (monotone, from 0 to the pair count) but not the indices and weights (bulk sections,
/// checksummed only with recommender.verify_shared_models), so every use of a stored index here
/// is bounds-checked: a damaged file changes scores, never writes out of bounds or traps.
public struct SparseItemWeights: Sendable {
    public let n: Int
    public let rowStart: Column<Int64>
    public let cols: Column<Int32>
    public let vals: Column<Float>

    public static let empty = SparseItemWeights(n: 0, rowStart: [0], cols: [], vals: [])

    init(n: Int, rowStart: [Int], cols: [Int32], vals: [Float]) {
        self.n = n; self.rowStart = Column(rowStart.map { Int64($0) }); self.cols = Column(cols); self.vals = Column(vals)
    }

    /// Over the sections of a model image (the row starts already validated by ModelImage.read:
    /// rowStart.count == n + 1, rowStart[0] == 0, monotone, rowStart[n] == cols.count == vals.count).
    init(n: Int, rowStart: Column<Int64>, cols: Column<Int32>, vals: Column<Float>) {
        self.n = n; self.rowStart = rowStart; self.cols = cols; self.vals = vals
    }

    /// The pairs of row h: [start, end) into cols/vals (empty when h is out of range).
    @inline(__always) public func range(_ h: Int) -> Range<Int> {
        guard h >= 0, h < n else { return 0..<0 }
        return Int(rowStart[h])..<Int(rowStart[h + 1])
    }

    /// From per-row pair lists (validated: targets in 0..<n, increasing, no self-weight, finite).
    public init(rows: [[(Int32, Float)]], n: Int, interrupt: InterruptCheck = neverInterrupted) throws {
        guard rows.count == n else { throw RecError.internalError("sparse weights have \(rows.count) rows for \(n) items") }
        var start = [Int](repeating: 0, count: n + 1)
        for h in 0..<n { start[h + 1] = start[h] + rows[h].count }
        var c = [Int32](repeating: 0, count: start[n]), v = [Float](repeating: 0, count: start[n])
        for h in 0..<n {
            var last: Int32 = -1
            for (q, e) in rows[h].enumerated() {
                guard e.0 > last, Int(e.0) < n, Int(e.0) != h, e.1.isFinite else {
                    throw RecError.internalError("sparse weights of row \(h) are damaged")
                }
                last = e.0
                c[start[h] + q] = e.0; v[start[h] + q] = e.1
            }
            if h & 4095 == 4095 { try interrupt() }
        }
        self.init(n: n, rowStart: start, cols: c, vals: v)
    }

    public var nonZeros: Int { vals.count }

    /// B_hj (0 when not stored): a binary search in row h.
    @inline(__always) public func weight(_ h: Int, _ j: Int) -> Float {
        guard h >= 0, h < n, j >= 0 else { return 0 }
        // a damaged (unordered) row only makes the search miss: lo and hi stay within the row
        var lo = Int(rowStart[h]), hi = Int(rowStart[h + 1])
        let target = Int32(truncatingIfNeeded: j)
        while lo < hi {
            let mid = (lo + hi) >> 1
            let c = cols[mid]
            if c == target { return vals[mid] }
            if c < target { lo = mid + 1 } else { hi = mid }
        }
        return 0
    }

    /// s[j] += x * B_hj over row h.
    @inline(__always) public func addRow(_ h: Int, times x: Float, into s: UnsafeMutableBufferPointer<Float>) {
        guard h >= 0, h < n else { return }
        let m = min(n, s.count)
        for t in range(h) {
            let j = Int(cols[t])
            if j >= 0 && j < m { s[j] += x * vals[t] }    // a damaged index is skipped
        }
    }

    public var maxAbs: Float { vals.reduce(0) { max($0, abs($1)) } }

    /// Row h as stored in the catalog (8 bytes a pair).
    public func encodeRow(_ h: Int) -> [UInt8] {
        guard h >= 0, h < n else { return [] }
        var out: [UInt8] = []
        let r = range(h)
        out.reserveCapacity(r.count * 8)
        for t in r {
            withUnsafeBytes(of: cols[t].littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: vals[t].bitPattern.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// A stored row back into pairs; nil when the bytes are not a valid row of an n-item model
    /// (length, order, range, self-weight, non-finite values).
    public static func decodeRow(_ bytes: UnsafeRawBufferPointer, row h: Int, n: Int) -> [(Int32, Float)]? {
        guard bytes.count % 8 == 0 else { return nil }
        let count = bytes.count / 8
        guard count < n else { return nil }
        var out: [(Int32, Float)] = []
        out.reserveCapacity(count)
        var last: Int32 = -1
        for q in 0..<count {
            let c = Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: q * 8, as: Int32.self))
            let v = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: q * 8 + 4, as: UInt32.self)))
            guard c > last, Int(c) < n, Int(c) != h, v.isFinite else { return nil }
            last = c
            out.append((c, v))
        }
        return out
    }

    /// The dense n x n matrix (tests and small models only).
    public func dense() -> [Float] {
        var b = [Float](repeating: 0, count: n * n)
        for h in 0..<n { for t in range(h) where cols[t] >= 0 && Int(cols[t]) < n { b[h * n + Int(cols[t])] = vals[t] } }
        return b
    }
}

/// Row access of ItemModel for both kinds: the dense n x n rows or the sparse rows.
extension ItemModel {
    /// B_ij of the collaborative model (i, j < cfCount).
    @inline(__always) func cfWeight(_ i: Int, _ j: Int) -> Float {
        if let s = sparse { return s.weight(i, j) }
        return weights[i * cfCount + j]
    }

    /// s[0..<cf] += x_e B_e. for every history entry of `entries` (the sparse kind's scores()).
    func addSparseRows(_ sw: SparseItemWeights, _ entries: ArraySlice<(index: Int32, itemId: Int64, value: Double)>,
                       scale f: Double, into s: inout [Float]) {
        let cf = cfCount
        s.withUnsafeMutableBufferPointer { sp in
            for e in entries where e.index >= 0 && Int(e.index) < cf {
                sw.addRow(Int(e.index), times: Float(e.value * f), into: sp)
            }
        }
    }
}
