#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS

/// EASE: "Embarrassingly Shallow Autoencoders for Sparse Data" (Harald Steck, WWW 2019).
/// Closed form: P = (X^T X + lambda I)^-1, B = I - P diag(1/diag(P)), i.e. B_ij = -P_ij / P_jj,
/// with a zero diagonal. A user's score for item j is sum_i x_ui B_ij: additive over the user's
/// own history items, which makes explanations exact and new interactions count at once.
public enum EASE {
    /// The dense Gram matrix G = X^T X (n x n, row-major, full symmetric), accumulated from the
    /// sparse rows. The loops poll `interrupt` every ~500,000 multiply-adds (within a user's row
    /// too) and between bands of the final mirror.
    public static func gram(_ x: SparseMatrix, interrupt: InterruptCheck = neverInterrupted) throws -> [Double] {
        let n = x.cols
        let (count, overflow) = n.multipliedReportingOverflow(by: n)
        guard !overflow else { throw RecError.programLimit("item count \(n) is too large for a dense Gram matrix") }
        var g = [Double](repeating: 0, count: count)
        var work = 0
        try g.withUnsafeMutableBufferPointer { gp in
            for u in 0..<x.rows {
                let s = x.rowStart[u], e = x.rowStart[u + 1]
                var a = s
                while a < e {
                    let ia = Int(x.colIndex[a]), va = x.values[a]
                    let base = ia &* n
                    var b = a
                    while b < e {
                        gp[base &+ Int(x.colIndex[b])] += va * x.values[b]
                        b += 1
                    }
                    a += 1
                    // within a user too: one history can hold the whole catalog
                    work += e - a
                    if work > 500_000 { work = 0; try interrupt() }
                }
                work += 1
            }
            // rows were filled for ia <= ib (colIndex sorted within each row): mirror to full,
            // in bands of 64 rows (strided writes: seconds at 25,000 items), polling between bands.
            var i0 = 0
            while i0 < n {
                for i in i0..<min(n, i0 + 64) {
                    for j in (i + 1)..<max(i + 1, n) { gp[j &* n &+ i] = gp[i &* n &+ j] }
                }
                i0 += 64
                try interrupt()
            }
        }
        return g
    }

    /// Fits B from the Gram matrix (consumed) with L2 regularisation `lambda`. Returns B in
    /// row-major order: row i holds the contributions of history item i to every target item.
    ///
    /// `dropout` p in [0, 1) adds the emphasised-denoising regularisation of EDLAE (Steck,
    /// "Autoencoders that don't overfit towards the Identity", NeurIPS 2020): the diagonal gets
    /// lambda + p / (1 - p) * G_ii instead of lambda, which penalises popular items' self-support
    /// in proportion to their frequency. p = 0 is plain EASE.
    public static func fit(gram g: inout [Double], n: Int, lambda: Double, dropout: Double = 0, threads: Int = 1,
                           interrupt: InterruptCheck = neverInterrupted) throws -> [Float] {
        guard dropout.isFinite, dropout >= 0, dropout < 1 else {
            throw RecError.invalidParameter("dropout must be in [0, 1) (got \(dropout))")
        }
        guard lambda.isFinite, lambda > 0 else {
            throw RecError.invalidParameter("lambda must be a finite number > 0 (got \(lambda))",
                                            hint: "Typical values are 10 to 1000; larger means stronger regularisation.")
        }
        guard n > 0 else { return [] }
        guard n <= 100_000 else { throw RecError.programLimit("\(n) items are too many for the dense solver") }
        guard g.count == n * n else { throw RecError.internalError("Gram matrix has the wrong size") }
        try invertRegularised(&g, n: n, lambda: lambda, dropout: dropout, threads: threads,
                              what: "the model cannot be solved with lambda \(lambda)", interrupt: interrupt)
        var b = [Float](repeating: 0, count: n * n)
        var diag = [Double](repeating: 0, count: n)
        for j in 0..<n { diag[j] = g[j * n + j] }
        for i in 0..<n {
            let row = i * n
            for j in 0..<n where j != i {
                b[row + j] = Float(-g[row + j] / diag[j])
            }
            if i % 256 == 255 { try interrupt() }
        }
        return b
    }

    /// Replaces `a` (n x n, symmetric) by (A + diag(lambda + p / (1 - p) A_ii))^-1: the EASE/EDLAE
    /// regularisation and the inverse by blocks (BlockedCholesky, polling `interrupt` every few
    /// milliseconds), with `threads` OpenBLAS threads for the solve only (scoring runs BLAS on one
    /// thread, see BLAS.singleThreaded). A matrix that is not positive definite is bad data or
    /// parameters (e.g. lambda 1e-300 on a singular Gram matrix), not an internal fault: 22023,
    /// its message starting with `what`.
    static func invertRegularised(_ a: inout [Double], n: Int, lambda: Double, dropout: Double, threads: Int,
                                  what: String, interrupt: InterruptCheck) throws {
        let emphasis = dropout / (1 - dropout)
        for i in 0..<n { a[i * n + i] += lambda + emphasis * a[i * n + i] }
        try interrupt()
        openblas_set_num_threads(Int32(max(1, min(threads, 64))))
        defer { openblas_set_num_threads(1) }
        do {
            try BlockedCholesky.invert(&a, n: n, interrupt: interrupt)
        } catch let e as RecError where e.sqlstate == "XX000" {
            throw RecError.invalidParameter("\(what): the regularised Gram matrix is not positive definite (\(e.message))",
                                            hint: "Increase lambda; it must be large against the interaction weights.")
        }
        try interrupt()
    }

    /// Item vectors for similarity when the catalog has no categories: a Gaussian random
    /// projection (Johnson-Lindenstrauss) of the rows of the cosine-normalised co-occurrence
    /// matrix C = D^-1/2 G D^-1/2, so that the cosine of two item vectors approximates the cosine
    /// of their co-occurrence profiles. Computed with one dgemm as C Omega = D (G (D Omega)), so
    /// that no copy of the n x n matrix is made (memory: G plus 2 n x dims doubles); `dims`
    /// columns, rows L2-normalised. The dgemm (cut into bands of rows of at most ~2e8 flops) polls
    /// `interrupt`.
    public static func similarityVectors(gram g: [Double], n: Int, dims: Int = 48, seed: UInt64 = 0x5EED,
                                         interrupt: InterruptCheck = neverInterrupted) throws -> [Float] {
        guard n > 0, n <= 100_000, dims > 0, dims <= 4096, g.count == n * n else { return [] }
        var d = [Double](repeating: 0, count: n)
        for i in 0..<n { let v = g[i * n + i]; d[i] = v > 0 ? 1 / sqrt(v) : 0 }
        var rng = SplitMix64(seed: seed)
        var omega = [Double](repeating: 0, count: n * dims)
        for t in 0..<omega.count { omega[t] = rng.nextGaussian() }
        for i in 0..<n { for t in 0..<dims { omega[i * dims + t] *= d[i] } }
        try interrupt()
        var y = [Double](repeating: 0, count: n * dims)
        let band = max(1, min(n, Int(2e8 / (2 * Double(n) * Double(dims)))))
        var r0 = 0
        while r0 < n {
            let rows = min(band, n - r0)
            g.withUnsafeBufferPointer { cp in omega.withUnsafeBufferPointer { op in y.withUnsafeMutableBufferPointer { yp in
                guard let cb = cp.baseAddress, let yb = yp.baseAddress else { return }
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(dims), Int32(n), 1.0,
                            cb + r0 * n, Int32(n), op.baseAddress, Int32(dims), 0.0, yb + r0 * dims, Int32(dims))
            } } }
            r0 += rows
            try interrupt()
        }
        var out = [Float](repeating: 0, count: n * dims)
        for i in 0..<n {
            for t in 0..<dims { y[i * dims + t] *= d[i] }
            var norm = 0.0
            for t in 0..<dims { norm += y[i * dims + t] * y[i * dims + t] }
            let s = norm > 0 ? 1 / sqrt(norm) : 0
            for t in 0..<dims { out[i * dims + t] = Float(y[i * dims + t] * s) }
        }
        return out
    }
}

/// A small deterministic generator (SplitMix64) so that training gives the same model every time.
public struct SplitMix64 {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    public mutating func nextUnit() -> Double { Double(next() >> 11) * (1.0 / 9007199254740992.0) }
    public mutating func nextGaussian() -> Double {
        let u1 = max(nextUnit(), 1e-300), u2 = nextUnit()
        return sqrt(-2 * log(u1)) * cos(2 * Double.pi * u2)
    }
}

extension EASE {
    /// Folds one user's changed row into a stored Gram matrix: G += new new^T - old old^T, over
    /// the collaborative items only (entries with an index outside 0..<n are ignored). Rows are
    /// (item index, value) lists, as `InteractionMatrixBuilder` builds them.
    public static func foldIn(gram g: inout [Double], n: Int, old: [(Int32, Double)], new: [(Int32, Double)]) {
        foldIn(gram: &g, n: n, old: old, new: new, interrupt: {})
    }

    /// As above, polling `interrupt` every 1,024 history items (a row can hold the catalog).
    public static func foldIn(gram g: inout [Double], n: Int, old: [(Int32, Double)], new: [(Int32, Double)],
                              interrupt: InterruptCheck) rethrows {
        guard n > 0, g.count == n * n else { return }
        for (sign, row) in [(-1.0, old), (1.0, new)] {
            let r = row.filter { $0.0 >= 0 && Int($0.0) < n }
            for (t, (a, va)) in r.enumerated() {
                let base = Int(a) * n
                for (b, vb) in r { g[base + Int(b)] += sign * va * vb }
                if t & 1023 == 1023 { try interrupt() }
            }
        }
    }
}

/// OpenBLAS starts with one thread per core and spreads any gemv/gemm above a small size over
/// them; its worker threads then busy-wait for the next call. In a database server, where every
/// backend is its own process and the cores are already shared between sessions, that turns two
/// concurrent recommend() calls into four spinning threads on two cores (measured: throughput
/// halved). Scoring therefore runs BLAS on the calling thread; only the factorisation in
/// `EASE.fit` asks for more threads, and restores one thread when it returns.
public enum BLAS {
    public static func singleThreaded() { openblas_set_num_threads(1) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
}
