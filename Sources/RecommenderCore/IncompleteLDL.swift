#if canImport(Glibc)
import Glibc
#endif

/// An incomplete LDLᵀ factorisation with a fill budget per column, for the sparse model when the
/// exact factor of the Gram matrix is too large (SANSA.swift): left-looking, column by column as
/// in Lin and Moré's ICF ("Incomplete Cholesky factorizations with limited memory", SIAM J. Sci.
/// Comput. 21(1), 1999; the factoriser SANSA offers besides CHOLMOD), each column keeping its
/// `keep` largest entries. A dropped entry c of the Schur complement's column j (row i) is
/// compensated on the diagonal as Jennings and Ajiz do ("Incomplete methods for solving AᵀAx = b",
/// SIAM J. Sci. Stat. Comput. 5(4), 1984): α|c| on d_j and |c|/α on the diagonal of i, α =
/// sqrt(a_jj / a_ii), which keeps the remaining matrix positive definite (the matrix dropped,
/// [[α|c|, -c], [-c, |c|/α]], is semi-definite), so the factorisation never breaks down.
///
/// Work: at most Σ_k (entries of column k)², i.e. n x keep² multiply-adds; memory: n x keep
/// entries (12 bytes each) plus per-item arrays. Both are known before it starts, whatever the
/// fill-in of the exact factor (which is close to dense for Zipf-shaped co-occurrences).
public enum IncompleteLDL {
    /// The factor: unit lower-triangular L without its diagonal, by columns (rows increasing),
    /// and D.
    public struct Factor {
        public var d: [Double]
        public var colStart: [Int]
        public var rowIndex: [Int32]
        public var values: [Double]
        /// Entries dropped (and compensated).
        public var dropped: Int
    }

    /// Bytes `factor` allocates for n items keeping `keep` per column (the input not counted).
    public static func bytes(n: Int, keep: Int) -> Bytes {
        Bytes.matrix(n, max(keep, 0), 12) + .elements(n, 64)
    }

    /// Factorises the symmetric matrix `a` (lower triangle by columns, each column's diagonal
    /// present; any row order) keeping `keep` off-diagonal entries per column of L (keep >= n - 1:
    /// exact, no dropping). Throws 22023 when a pivot is not positive (a is not positive definite).
    public static func factor(_ a: SparseSymmetric, keep: Int, interrupt: InterruptCheck = neverInterrupted) throws -> Factor {
        let n = a.n
        guard keep >= 0 else { throw RecError.internalError("incomplete factorisation with a negative fill budget") }
        var d = [Double](repeating: 0, count: n)
        var colStart = [Int](repeating: 0, count: n + 1)
        var rowIndex: [Int32] = [], values: [Double] = []
        let capacity = min(Double(n) * Double(keep), Double(a.nonZeros) * 4 + Double(n) * 8)
        rowIndex.reserveCapacity(Int(capacity)); values.reserveCapacity(Int(capacity))
        let diag = a.diagonal
        var comp = [Double](repeating: 0, count: n)
        var w = [Double](repeating: 0, count: n)
        var mark = [Int32](repeating: -1, count: n)
        var head = [Int32](repeating: -1, count: n)      // columns whose next row is j
        var nextInList = [Int32](repeating: -1, count: n)
        var ptr = [Int](repeating: 0, count: n)
        var pattern: [Int32] = []
        var cand: [(Int32, Double)] = []
        var dropped = 0
        var work = 0
        for j in 0..<n {
            let jj = Int32(truncatingIfNeeded: j)
            pattern.removeAll(keepingCapacity: true)
            mark[j] = jj
            w[j] = comp[j]
            for t in a.colStart[j]..<a.colStart[j + 1] {
                let i = Int(a.rowIndex[t])
                guard i >= j, i < n else { throw RecError.internalError("incomplete factorisation: the matrix is not lower-triangular") }
                if mark[i] != jj { mark[i] = jj; pattern.append(Int32(truncatingIfNeeded: i)) }
                w[i] += a.values[t]
            }
            // left-looking updates from the columns k < j with L_jk != 0
            var k = Int(head[j]); head[j] = -1
            while k >= 0 {
                let nk = Int(nextInList[k])
                let t = ptr[k]
                let ljk = values[t]
                let f = ljk * d[k]
                w[j] -= f * ljk
                let end = colStart[k + 1]
                // the hot loop: unchecked buffers (the rows come from this factor, all < n)
                w.withUnsafeMutableBufferPointer { wP in mark.withUnsafeMutableBufferPointer { mP in
                    rowIndex.withUnsafeBufferPointer { ri in values.withUnsafeBufferPointer { va in
                        var q = t + 1
                        while q < end {
                            let i = Int(ri[q])
                            if mP[i] != jj { mP[i] = jj; pattern.append(ri[q]) }
                            wP[i] -= f * va[q]
                            q += 1
                        }
                    } }
                } }
                work += end - t
                ptr[k] = t + 1
                if t + 1 < end { let r = Int(rowIndex[t + 1]); nextInList[k] = head[r]; head[r] = Int32(truncatingIfNeeded: k) }
                k = nk
            }
            var dj = w[j]; w[j] = 0
            cand.removeAll(keepingCapacity: true)
            for i in pattern {
                let v = w[Int(i)]; w[Int(i)] = 0
                if v != 0 { cand.append((i, v)) }
            }
            if cand.count > keep {
                // keep the largest |c|; compensate the dropped ones on both diagonals
                cand.sort { abs($0.1) != abs($1.1) ? abs($0.1) > abs($1.1) : $0.0 < $1.0 }
                for (i, v) in cand[keep...] {
                    let ai = diag[Int(i)], aj = diag[j]
                    let alpha = (ai > 0 && aj > 0) ? sqrt(aj / ai) : 1
                    dj += alpha * abs(v)
                    comp[Int(i)] += abs(v) / alpha
                }
                dropped += cand.count - keep
                cand.removeLast(cand.count - keep)
            }
            guard dj.isFinite, dj > 0 else {
                throw RecError.invalidParameter("the sparse model cannot be solved: the regularised Gram matrix is not positive definite (pivot \(dj) at item \(j))",
                                                hint: "Increase lambda; it must be large against the interaction weights.")
            }
            d[j] = dj
            cand.sort { $0.0 < $1.0 }
            let start = rowIndex.count
            for (i, v) in cand {
                let l = v / dj
                guard l.isFinite else { throw RecError.internalError("the incomplete factor holds a non-finite value") }
                rowIndex.append(i); values.append(l)
            }
            colStart[j + 1] = rowIndex.count
            ptr[j] = start
            if start < rowIndex.count {
                let r = Int(rowIndex[start]); nextInList[j] = head[r]; head[r] = jj
            }
            if work > 2_000_000 || j & 1023 == 1023 { work = 0; try interrupt() }
        }
        return Factor(d: d, colStart: colStart, rowIndex: rowIndex, values: values, dropped: dropped)
    }

    /// P A Pᵀ of a symmetric lower-triangular `a` for the ordering `p` (p[k]: the original index
    /// at position k), lower triangle by columns, rows increasing.
    public static func permuted(_ a: SparseSymmetric, _ p: [Int], interrupt: InterruptCheck = neverInterrupted) throws -> SparseSymmetric {
        let n = a.n
        guard p.count == n else { throw RecError.internalError("ordering of the wrong length") }
        var pinv = [Int32](repeating: -1, count: n)
        for (k, v) in p.enumerated() {
            guard v >= 0, v < n, pinv[v] < 0 else { throw RecError.internalError("the ordering is not a permutation") }
            pinv[v] = Int32(truncatingIfNeeded: k)
        }
        var start = [Int](repeating: 0, count: n + 1)
        for j in 0..<n {
            for t in a.colStart[j]..<a.colStart[j + 1] {
                let r = pinv[Int(a.rowIndex[t])], c = pinv[j]
                start[Int(min(r, c)) + 1] += 1
            }
        }
        for j in 0..<n { start[j + 1] += start[j] }
        var fill = Array(start[0..<n])
        var rows = [Int32](repeating: 0, count: a.nonZeros), vals = [Double](repeating: 0, count: a.nonZeros)
        for j in 0..<n {
            for t in a.colStart[j]..<a.colStart[j + 1] {
                let r = pinv[Int(a.rowIndex[t])], c = pinv[j]
                let col = Int(min(r, c))
                rows[fill[col]] = max(r, c); vals[fill[col]] = a.values[t]; fill[col] += 1
            }
            if j & 4095 == 4095 { try interrupt() }
        }
        // rows increasing within each column
        var seg: [(Int32, Double)] = []
        for j in 0..<n {
            let lo = start[j], hi = start[j + 1]
            if hi - lo > 1 {
                seg.removeAll(keepingCapacity: true)
                for t in lo..<hi { seg.append((rows[t], vals[t])) }
                seg.sort { $0.0 < $1.0 }
                for (q, e) in seg.enumerated() { rows[lo + q] = e.0; vals[lo + q] = e.1 }
            }
            if j & 4095 == 4095 { try interrupt() }
        }
        return SparseSymmetric(n: n, colStart: start, rowIndex: rows, values: vals)
    }
}
