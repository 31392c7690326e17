#if canImport(Glibc)
import Glibc
#endif

/// A symmetric matrix stored by its lower triangle, column by column (CSC): column j holds the
/// rows i >= j in increasing order, the diagonal first. The sparse model's Gram matrix G = XᵀX.
public struct SparseSymmetric: Sendable {
    public let n: Int
    public var colStart: [Int]
    public var rowIndex: [Int32]
    public var values: [Double]
    public var nonZeros: Int { values.count }
    public init(n: Int, colStart: [Int], rowIndex: [Int32], values: [Double]) {
        self.n = n; self.colStart = colStart; self.rowIndex = rowIndex; self.values = values
    }
    /// The diagonal (0 where a column has no diagonal entry).
    public var diagonal: [Double] {
        var d = [Double](repeating: 0, count: n)
        for j in 0..<n where colStart[j] < colStart[j + 1] && Int(rowIndex[colStart[j]]) == j { d[j] = values[colStart[j]] }
        return d
    }
}

/// The sparse Gram matrix of the sparse model: the same G = XᵀX as `EASE.gram`, from the same
/// weighted rows (the builder's weighting, row_norm), but holding only the co-occurring pairs, so
/// that its memory follows the non-zeros (sized by `count` before `build` allocates).
public enum SparseGram {
    /// Bytes per stored non-zero of the lower triangle (a row index and a value).
    public static let bytesPerNonZero = 12

    /// X by columns: for item i, the users who have it and the position of i in each user's row.
    struct Columns {
        var start: [Int]
        var user: [Int32]
        var pos: [Int]
    }

    static func columns(_ x: SparseMatrix, interrupt: InterruptCheck) throws -> Columns {
        let n = x.cols
        var start = [Int](repeating: 0, count: n + 1)
        for c in x.colIndex { start[Int(c) + 1] += 1 }
        for j in 0..<n { start[j + 1] += start[j] }
        var fill = Array(start[0..<n])
        var user = [Int32](repeating: 0, count: x.nonZeros)
        var pos = [Int](repeating: 0, count: x.nonZeros)
        for u in 0..<x.rows {
            for a in x.rowStart[u]..<x.rowStart[u + 1] {
                let c = Int(x.colIndex[a])
                user[fill[c]] = Int32(truncatingIfNeeded: u); pos[fill[c]] = a; fill[c] += 1
            }
            if u & 4095 == 4095 { try interrupt() }
        }
        return Columns(start: start, user: user, pos: pos)
    }

    /// The bytes `build` needs beyond X: the column form of X (16 bytes a non-zero) and per-item
    /// work arrays.
    public static func workBytes(_ x: SparseMatrix) -> Bytes {
        Bytes.elements(x.nonZeros, 16) + .elements(x.cols + 1, 40)
    }

    /// The number of non-zeros of the lower triangle of XᵀX (diagonal included), without
    /// allocating it: what `build` will hold. Polls `interrupt` every ~500,000 pairs.
    public static func count(_ x: SparseMatrix, interrupt: InterruptCheck = neverInterrupted) throws -> Int {
        let cols = try columns(x, interrupt: interrupt)
        return try pass(x, cols, fill: nil, interrupt: interrupt)
    }

    /// G = XᵀX (lower triangle). Throws 54000 when it would hold more than `maxNonZeros`.
    public static func build(_ x: SparseMatrix, maxNonZeros: Int = Int.max,
                             interrupt: InterruptCheck = neverInterrupted) throws -> SparseSymmetric {
        let cols = try columns(x, interrupt: interrupt)
        let nnz = try pass(x, cols, fill: nil, interrupt: interrupt)
        guard nnz <= maxNonZeros else {
            throw RecError.programLimit("the sparse Gram matrix has \(nnz) non-zeros, more than the \(maxNonZeros) the memory limit allows")
        }
        var g = SparseSymmetric(n: x.cols, colStart: [Int](repeating: 0, count: x.cols + 1),
                                rowIndex: [Int32](repeating: 0, count: nnz), values: [Double](repeating: 0, count: nnz))
        _ = try withUnsafeMutablePointer(to: &g) { try pass(x, cols, fill: $0, interrupt: interrupt) }
        return g
    }

    /// One pass over the co-occurring pairs: counts them (fill nil) or fills `fill`.
    static func pass(_ x: SparseMatrix, _ cols: Columns, fill: UnsafeMutablePointer<SparseSymmetric>?,
                     interrupt: InterruptCheck) throws -> Int {
        let n = x.cols
        var mark = [Int32](repeating: -1, count: n)
        var acc = fill == nil ? [] : [Double](repeating: 0, count: n)
        var touched: [Int32] = []
        var total = 0, work = 0
        for i in 0..<n {
            touched.removeAll(keepingCapacity: true)
            for t in cols.start[i]..<cols.start[i + 1] {
                let u = Int(cols.user[t]), a = cols.pos[t]
                let e = x.rowStart[u + 1]
                let xi = x.values[a]
                var b = a
                while b < e {          // the row's items j >= i (colIndex sorted within a row)
                    let j = Int(x.colIndex[b])
                    if mark[j] != Int32(truncatingIfNeeded: i) { mark[j] = Int32(truncatingIfNeeded: i); touched.append(Int32(truncatingIfNeeded: j)) }
                    if fill != nil { acc[j] += xi * x.values[b] }
                    b += 1
                }
                work += e - a
                if work > 500_000 { work = 0; try interrupt() }
            }
            if let g = fill {
                touched.sort()
                g.pointee.colStart[i] = total
                for j in touched {
                    g.pointee.rowIndex[total] = j
                    g.pointee.values[total] = acc[Int(j)]
                    acc[Int(j)] = 0
                    total += 1
                }
                g.pointee.colStart[i + 1] = total
            } else {
                total += touched.count
            }
        }
        return total
    }

    /// Keeps, for every item, at most its `keep` strongest co-occurrences by cosine
    /// G_ij / sqrt(G_ii G_jj): a pair stays when both items keep it (mutual neighbours; keeping it
    /// when either does left the popular items' columns full, and the fill-in with them: at
    /// 100,000 Zipf items the factor still had 28 M non-zeros with one neighbour per item); the
    /// diagonal is always kept. The fill-in of the LDLᵀ factor of a Zipf Gram matrix can be dense (the popular
    /// items co-occur with everything); pruning the Gram matrix before the factorisation bounds it
    /// (the alternative SANSA offers is an incomplete factorisation, ICF). `keep` <= 0: unchanged.
    public static func prune(_ g: SparseSymmetric, keep: Int, interrupt: InterruptCheck = neverInterrupted) throws -> SparseSymmetric {
        let n = g.n
        guard keep > 0 else { return g }
        let d = g.diagonal.map { $0 > 0 ? 1 / sqrt($0) : 0 }
        // per item, the neighbour lists of both triangles: degree first
        var degree = [Int](repeating: 0, count: n)
        for j in 0..<n {
            for t in g.colStart[j]..<g.colStart[j + 1] where Int(g.rowIndex[t]) != j {
                degree[j] += 1; degree[Int(g.rowIndex[t])] += 1
            }
        }
        // threshold per item: the keep-th largest cosine (or 0 when it has at most keep)
        var threshold = [Double](repeating: 0, count: n)
        var start = [Int](repeating: 0, count: n + 1)
        for j in 0..<n { start[j + 1] = start[j] + degree[j] }
        var cos = [Double](repeating: 0, count: start[n])
        var fill = Array(start[0..<n])
        for j in 0..<n {
            for t in g.colStart[j]..<g.colStart[j + 1] where Int(g.rowIndex[t]) != j {
                let i = Int(g.rowIndex[t])
                let c = abs(g.values[t]) * d[i] * d[j]
                cos[fill[j]] = c; fill[j] += 1
                cos[fill[i]] = c; fill[i] += 1
            }
            if j & 1023 == 1023 { try interrupt() }
        }
        for j in 0..<n where degree[j] > keep {
            var seg = Array(cos[start[j]..<start[j + 1]])
            threshold[j] = kthLargest(&seg, keep)
            if j & 1023 == 1023 { try interrupt() }
        }
        cos = []
        // Dropping an entry g_ij of a positive semi-definite matrix can make it indefinite; adding
        // |g_ij| to both diagonals keeps it semi-definite (the dropped part plus the compensation,
        // [[|g|, -g], [-g, |g|]], is itself semi-definite): diagonal compensation, as in modified
        // incomplete factorisations. It regularises the items that lost neighbours a little more.
        var compensation = [Double](repeating: 0, count: n)
        var colStart = [Int](repeating: 0, count: n + 1)
        var rows: [Int32] = [], vals: [Double] = []
        for j in 0..<n {
            for t in g.colStart[j]..<g.colStart[j + 1] {
                let i = Int(g.rowIndex[t])
                let c = abs(g.values[t]) * d[i] * d[j]
                if i == j || (c >= threshold[j] && c >= threshold[i]) {
                    rows.append(g.rowIndex[t]); vals.append(g.values[t])
                } else {
                    compensation[i] += abs(g.values[t]); compensation[j] += abs(g.values[t])
                }
            }
            colStart[j + 1] = rows.count
            if j & 1023 == 1023 { try interrupt() }
        }
        for j in 0..<n where colStart[j] < colStart[j + 1] && Int(rows[colStart[j]]) == j { vals[colStart[j]] += compensation[j] }
        return SparseSymmetric(n: n, colStart: colStart, rowIndex: rows, values: vals)
    }

    /// The k-th largest value of `a` (k >= 1; reorders `a`): quickselect.
    static func kthLargest(_ a: inout [Double], _ k: Int) -> Double {
        guard !a.isEmpty else { return 0 }
        let target = min(max(k, 1), a.count) - 1
        var lo = 0, hi = a.count - 1
        while lo < hi {
            let pivot = a[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while a[i] > pivot { i += 1 }
                while a[j] < pivot { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { break }
        }
        return a[target]
    }

    /// `EASE.similarityVectors` for the sparse Gram matrix: a Gaussian random projection of the
    /// rows of the cosine-normalised co-occurrence matrix D^-1/2 G D^-1/2, `dims` columns, rows
    /// L2-normalised (memory: n x dims, never n²).
    public static func similarityVectors(_ g: SparseSymmetric, dims: Int = 48, seed: UInt64 = 0x5EED,
                                         interrupt: InterruptCheck = neverInterrupted) throws -> [Float] {
        let n = g.n
        guard n > 0, dims > 0, dims <= 4096 else { return [] }
        let d = g.diagonal.map { $0 > 0 ? 1 / sqrt($0) : 0 }
        var rng = SplitMix64(seed: seed)
        var omega = [Double](repeating: 0, count: n * dims)
        for t in 0..<omega.count { omega[t] = rng.nextGaussian() }
        for i in 0..<n { for t in 0..<dims { omega[i * dims + t] *= d[i] } }
        try interrupt()
        var y = [Double](repeating: 0, count: n * dims)
        for j in 0..<n {
            for t in g.colStart[j]..<g.colStart[j + 1] {
                let i = Int(g.rowIndex[t]), v = g.values[t]
                for q in 0..<dims { y[i * dims + q] += v * omega[j * dims + q] }
                if i != j { for q in 0..<dims { y[j * dims + q] += v * omega[i * dims + q] } }
            }
            if j & 1023 == 1023 { try interrupt() }
        }
        var out = [Float](repeating: 0, count: n * dims)
        for i in 0..<n {
            var norm = 0.0
            for q in 0..<dims { y[i * dims + q] *= d[i]; norm += y[i * dims + q] * y[i * dims + q] }
            let s = norm > 0 ? 1 / sqrt(norm) : 0
            for q in 0..<dims { out[i * dims + q] = Float(y[i * dims + q] * s) }
        }
        return out
    }
}
