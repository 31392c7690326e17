#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS

/// SLIST's joint solve: the session-consistency model (SLIS, here EASE/EDLAE on the user-item
/// matrix X) and the sequential-dependency model (SLIT, past S -> future T, see Sequence.swift)
/// as ONE least-squares problem with one item-item matrix B (Choi, Kim, Lee, Shim and Lee,
/// "Session-aware Linear Item-Item Models for Session-based Recommendation", WWW 2021, eq. for
/// SLIST):
///     min_B (1 - w) ‖X - X B‖² + w c ‖T - S B‖² + ‖Λ^½ B‖²   subject to diag(B) = 0
/// with w = sequence_weight, c = trace(XᵀX) / trace(SᵀS) (so that w is a share, whatever the
/// matrices' scales) and Λ = λ I plus EDLAE's emphasis p/(1-p) on the diagonal of the stacked
/// Gram matrix. With A = (1 - w) XᵀX + w c SᵀS and H = (1 - w) XᵀX + w c SᵀT, the Lagrangian
/// solution is
///     P = (A + Λ)⁻¹,   B = P H - P diag(μ),   μ_j = (P H)_jj / P_jj
/// (μ makes the diagonal zero). For w = 0, P H = I - P Λ and B_ij = -P_ij / P_jj: plain
/// EASE/EDLAE. Measured on the temporal validation split of MovieLens-100k against the former
/// blend of two separate closed forms (README, "Quality").
extension SequenceModel {
    /// Consumes `gram` (XᵀX), `ss` (SᵀS) and `st` (SᵀT), all n x n row-major; returns B as floats
    /// (row i: contributions of history item i) and c. Peak memory: the three double matrices.
    public static func fitJoint(gram g: inout [Double], ss: inout [Double], st: inout [Double], n: Int,
                                weight w: Double, lambda: Double, dropout: Double = 0, threads: Int = 1,
                                interrupt: InterruptCheck = neverInterrupted) throws -> (weights: [Float], scale: Double) {
        guard w.isFinite, w >= 0, w <= 1 else { throw RecError.invalidParameter("sequence_weight must be in [0, 1] (got \(w))") }
        guard lambda.isFinite, lambda > 0 else { throw RecError.invalidParameter("lambda must be a finite number > 0 (got \(lambda))") }
        guard dropout.isFinite, dropout >= 0, dropout < 1 else { throw RecError.invalidParameter("dropout must be in [0, 1) (got \(dropout))") }
        guard n > 0 else { return ([], 1) }
        guard n <= 100_000, g.count == n * n, ss.count == n * n, st.count == n * n else {
            throw RecError.internalError("the joint sequential solve got matrices of the wrong size")
        }
        var trG = 0.0, trS = 0.0
        for i in 0..<n { trG += g[i * n + i]; trS += ss[i * n + i] }
        let c = (trG > 0 && trS > 0 && (trG / trS).isFinite) ? trG / trS : 1
        let a = 1 - w, bw = w * c
        // H = (1 - w) G + w c SᵀT into st; A = (1 - w) G + w c SᵀS into g
        for i in 0..<n {
            for t in (i * n)..<((i + 1) * n) {
                st[t] = a * g[t] + bw * st[t]
                g[t] = a * g[t] + bw * ss[t]
            }
            if i % 256 == 255 { try interrupt() }
        }
        try EASE.invertRegularised(&g, n: n, lambda: lambda, dropout: dropout, threads: threads,
                                   what: "the model cannot be solved with lambda \(lambda) and sequence_weight \(w)",
                                   interrupt: interrupt)
        openblas_set_num_threads(Int32(max(1, min(threads, 64))))   // for the product too
        defer { openblas_set_num_threads(1) }
        // PH = P H into ss (its SᵀS content is no longer needed), in tiles of at most 64 rows and
        // as many columns as keep one tile's dgemm under ~2e8 flops (tens of ms at any n; a tile of
        // 64 rows keeps dgemm near its speed, where single rows would run at gemv's), polling
        // between tiles.
        let bandRows = min(n, 64)
        let bandCols = max(1, min(n, Int(2e8 / (2 * Double(bandRows) * Double(n)))))
        var r0 = 0
        while r0 < n {
            let rows = min(bandRows, n - r0)
            var c0 = 0
            while c0 < n {
                let cols = min(bandCols, n - c0)
                g.withUnsafeBufferPointer { pp in st.withUnsafeBufferPointer { hp in ss.withUnsafeMutableBufferPointer { op in
                    guard let pb = pp.baseAddress, let hb = hp.baseAddress, let ob = op.baseAddress else { return }
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(cols), Int32(n), 1.0,
                                pb + r0 * n, Int32(n), hb + c0, Int32(n), 0.0, ob + r0 * n + c0, Int32(n))
                } } }
                c0 += cols
                try interrupt()
            }
            r0 += rows
        }
        st = []
        var mu = [Double](repeating: 0, count: n)
        for j in 0..<n {
            let p = g[j * n + j]
            guard p > 0, p.isFinite else { throw RecError.internalError("the joint sequential solve has a non-positive diagonal") }
            mu[j] = ss[j * n + j] / p
        }
        var b = [Float](repeating: 0, count: n * n)
        for i in 0..<n {
            let row = i * n
            for j in 0..<n where j != i { b[row + j] = Float(ss[row + j] - g[row + j] * mu[j]) }
            if i % 256 == 255 { try interrupt() }
        }
        ss = []
        g = []
        return (b, c)
    }
}
