#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS

/// The inverse of a symmetric positive definite matrix, P = A^-1, computed in blocks so that the
/// caller's interrupt check runs every few milliseconds whatever the size: LAPACK's dpotrf +
/// dpotri on the whole matrix cannot be interrupted (measured: a cancel took 397 s to act at
/// 25,000 items).
///
/// The algorithms are the tile algorithms of PLASMA (Buttari, Langou, Kurzak and Dongarra, "A
/// class of parallel tiled linear algebra algorithms for multicore architectures", Parallel
/// Computing 35, 2009; the inversion as in Agullo, Bouwmeester, Dongarra, Kurzak, Langou and
/// Rosenberg, "Towards an efficient tile matrix inversion of symmetric positive definite
/// matrices on multicore architectures", VECPAR 2010), written per block column:
///   1. A = L L^T, right-looking: dpotrf of the diagonal block, dtrsm for the panel below it,
///      dsyrk/dgemm for the trailing matrix;
///   2. X = L^-1 (as LAPACK's dtrtri, by block columns from the left);
///   3. P = X^T X (as LAPACK's dlauum).
/// Every BLAS call is cut into pieces of at most `maxChunkFlops` floating-point operations (with
/// at least 64 rows or columns, which keeps dgemm near its peak); the interrupt check runs after
/// each piece. With blocks of 256 and 2e8 flops per piece, one piece takes 10-25 ms on one core
/// (8-20 GFLOP/s) at any catalog size: the largest piece does not grow with n. Measured against
/// LAPACK's dpotrf + dpotri with the same 2 OpenBLAS threads: see the README (Benchmarks).
///
/// Storage: column-major n x n with leading dimension n, which for a symmetric matrix is the same
/// as the row-major full matrix the callers hold. Only the lower triangle is read; on return the
/// whole matrix holds P (both triangles).
public enum BlockedCholesky {
    public static let defaultBlockSize = 256
    public static let defaultChunkFlops = 2.0e8

    /// Replaces `a` (n x n, symmetric positive definite) by its inverse. Throws XX000 when A is
    /// not positive definite (with the index of the failing leading minor, as dpotrf's info),
    /// and whatever `interrupt` throws.
    public static func invert(_ a: inout [Double], n: Int, blockSize: Int = defaultBlockSize,
                              maxChunkFlops: Double = defaultChunkFlops,
                              interrupt: InterruptCheck = neverInterrupted) throws {
        guard n > 0 else { return }
        guard n <= 100_000, a.count == n * n else { throw RecError.internalError("matrix has the wrong size for the blocked inverse") }
        let nb = max(1, min(blockSize, n))
        try withoutActuallyEscaping(interrupt) { check in
            var s = Stepper(n: n, maxFlops: max(1e4, maxChunkFlops), interrupt: check)
            try a.withUnsafeMutableBufferPointer { buf in
                guard let p = buf.baseAddress else { return }
                try factor(p, nb, &s)
                try invertLower(p, nb, &s)
                try lowerProduct(p, nb, &s)
                try mirrorLowerToUpper(p, &s)
            }
        }
    }

    /// The Cholesky factor L of A (lower triangle; the upper triangle is left as it was).
    public static func factor(_ a: inout [Double], n: Int, blockSize: Int = defaultBlockSize,
                              maxChunkFlops: Double = defaultChunkFlops,
                              interrupt: InterruptCheck = neverInterrupted) throws {
        guard n > 0 else { return }
        guard n <= 100_000, a.count == n * n else { throw RecError.internalError("matrix has the wrong size for the blocked factorisation") }
        try withoutActuallyEscaping(interrupt) { check in
            var s = Stepper(n: n, maxFlops: max(1e4, maxChunkFlops), interrupt: check)
            try a.withUnsafeMutableBufferPointer { buf in
                guard let p = buf.baseAddress else { return }
                try factor(p, max(1, min(blockSize, n)), &s)
            }
        }
    }

    // MARK: the three phases

    /// Right-looking blocked Cholesky, lower: for each block column k, L_kk = chol(A_kk),
    /// L_(k+1:),k = A_(k+1:),k L_kk^-T, then A_(k+1:),(k+1:) -= L_(k+1:),k L_(k+1:),k^T.
    static func factor(_ a: UnsafeMutablePointer<Double>, _ nb: Int, _ s: inout Stepper) throws {
        let n = s.n
        var k = 0
        while k < n {
            let kb = min(nb, n - k)
            var info: Int32 = 0
            var nn = Int32(kb), lda = Int32(n)
            var uplo = Int8(UInt8(ascii: "L"))
            dpotrf_(&uplo, &nn, s.at(a, k, k), &lda, &info)
            guard info == 0 else {
                throw RecError("XX000", "Cholesky factorisation failed (info \(Int(info) + k))",
                               hint: "Increase lambda; the regularised Gram matrix must be positive definite.")
            }
            try s.poll()
            let below = n - k - kb
            if below > 0 {
                try s.trsmRight(trans: CblasTrans, rows: below, cols: kb, alpha: 1, t: s.at(a, k, k), b: s.at(a, k + kb, k))
                var j = k + kb
                while j < n {
                    let jb = min(nb, n - j)
                    cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, Int32(jb), Int32(kb), -1,
                                s.at(a, j, k), Int32(n), 1, s.at(a, j, j), Int32(n))
                    try s.poll()
                    if j + jb < n {
                        try s.gemm(CblasNoTrans, CblasTrans, m: n - j - jb, n: jb, k: kb, alpha: -1,
                                   a: s.at(a, j + jb, k), b: s.at(a, j, k), c: s.at(a, j + jb, j))
                    }
                    j += jb
                }
            }
            k += kb
        }
    }

    /// X = L^-1 in place (lower), by block columns from the left. With X' the inverse of the
    /// leading k x k block, the rows below it hold -L_(k:),(0:k) X' (the invariant of PLASMA's
    /// pdtrtri). Step k: A_(>k),k = -L_(>k),k L_kk^-1; A_(>k),(<k) += A_(>k),k A_k,(<k);
    /// A_k,(<k) = L_kk^-1 A_k,(<k); A_kk = L_kk^-1.
    static func invertLower(_ a: UnsafeMutablePointer<Double>, _ nb: Int, _ s: inout Stepper) throws {
        let n = s.n
        var k = 0
        while k < n {
            let kb = min(nb, n - k)
            let below = n - k - kb
            if below > 0 {
                try s.trsmRight(trans: CblasNoTrans, rows: below, cols: kb, alpha: -1, t: s.at(a, k, k), b: s.at(a, k + kb, k))
                if k > 0 {
                    try s.gemm(CblasNoTrans, CblasNoTrans, m: below, n: k, k: kb, alpha: 1,
                               a: s.at(a, k + kb, k), b: s.at(a, k, 0), c: s.at(a, k + kb, 0))
                }
            }
            if k > 0 {
                try s.trsmLeft(rows: kb, cols: k, t: s.at(a, k, k), b: s.at(a, k, 0))
            }
            var info: Int32 = 0
            var nn = Int32(kb), lda = Int32(n)
            var uplo = Int8(UInt8(ascii: "L")), diag = Int8(UInt8(ascii: "N"))
            dtrtri_(&uplo, &diag, &nn, s.at(a, k, k), &lda, &info)
            guard info == 0 else { throw RecError("XX000", "matrix inversion failed (info \(Int(info) + k))", hint: "Increase lambda.") }
            try s.poll()
            k += kb
        }
    }

    /// P = X^T X in place (lower), by block rows of X from the top (PLASMA's pdlauum). Step k
    /// adds row block k's terms: P_(<k),(<k) += X_k,(<k)^T X_k,(<k), then P_k,(<k) = X_kk^T
    /// X_k,(<k) and P_kk = X_kk^T X_kk; later steps add the terms of the rows below.
    static func lowerProduct(_ a: UnsafeMutablePointer<Double>, _ nb: Int, _ s: inout Stepper) throws {
        let n = s.n
        var k = 0
        while k < n {
            let kb = min(nb, n - k)
            if k > 0 {
                var j = 0
                while j < k {
                    let jb = min(nb, k - j)
                    cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, Int32(jb), Int32(kb), 1,
                                s.at(a, k, j), Int32(n), 1, s.at(a, j, j), Int32(n))
                    try s.poll()
                    let rows = k - j - jb
                    if rows > 0 {
                        try s.gemm(CblasTrans, CblasNoTrans, m: rows, n: jb, k: kb, alpha: 1,
                                   a: s.at(a, k, j + jb), b: s.at(a, k, j), c: s.at(a, j + jb, j))
                    }
                    j += jb
                }
                try s.trmmLeftTrans(rows: kb, cols: k, t: s.at(a, k, k), b: s.at(a, k, 0))
            }
            var info: Int32 = 0
            var nn = Int32(kb), lda = Int32(n)
            var uplo = Int8(UInt8(ascii: "L"))
            dlauum_(&uplo, &nn, s.at(a, k, k), &lda, &info)
            guard info == 0 else { throw RecError("XX000", "matrix inversion failed (dlauum info \(info))", hint: "Increase lambda.") }
            try s.poll()
            k += kb
        }
    }

    /// Copies the lower triangle onto the upper one, in 64 x 64 tiles (cache-friendly), polling
    /// after every band of 64 columns (at most 64 x n copies).
    static func mirrorLowerToUpper(_ a: UnsafeMutablePointer<Double>, _ s: inout Stepper) throws {
        let n = s.n, t = 64
        var c0 = 0
        while c0 < n {
            let c1 = min(n, c0 + t)
            var r0 = c0
            while r0 < n {
                let r1 = min(n, r0 + t)
                for c in c0..<c1 {
                    // (r, c) with r > c, at a[c * n + r], goes to (c, r), at a[r * n + c]
                    for r in max(r0, c + 1)..<max(max(r0, c + 1), r1) { a[r &* n &+ c] = a[c &* n &+ r] }
                }
                r0 = r1
            }
            try s.poll()
            c0 = c1
        }
    }

    /// Cuts BLAS calls into pieces and polls the interrupt check after each piece.
    struct Stepper {
        let n: Int
        let maxFlops: Double
        let interrupt: InterruptCheck
        /// The number of polls, for the tests.
        var polls = 0

        @inline(__always) func at(_ a: UnsafeMutablePointer<Double>, _ r: Int, _ c: Int) -> UnsafeMutablePointer<Double> {
            a + (r &+ c &* n)
        }
        mutating func poll() throws { polls += 1; try interrupt() }

        /// Pieces of `total` along one dimension so that piece * perUnit <= maxFlops (at least 64).
        func piece(_ total: Int, perUnit: Double) -> Int {
            guard perUnit > 0 else { return max(1, total) }
            return max(1, min(total, max(64, Int(maxFlops / perUnit))))
        }

        /// C (m x n) += alpha op(A) op(B), op(A) m x k, op(B) k x n, all with leading dimension n.
        mutating func gemm(_ ta: CBLAS_TRANSPOSE, _ tb: CBLAS_TRANSPOSE, m: Int, n cols: Int, k: Int, alpha: Double,
                           a: UnsafeMutablePointer<Double>, b: UnsafeMutablePointer<Double>, c: UnsafeMutablePointer<Double>) throws {
            let ld = n
            let nc = piece(cols, perUnit: 2 * Double(k) * Double(min(m, 1024)))
            let mc = piece(m, perUnit: 2 * Double(k) * Double(min(cols, nc)))
            var c0 = 0
            while c0 < cols {
                let cw = min(nc, cols - c0)
                let bp = tb == CblasNoTrans ? b + c0 &* ld : b + c0
                var r0 = 0
                while r0 < m {
                    let rw = min(mc, m - r0)
                    let ap = ta == CblasNoTrans ? a + r0 : a + r0 &* ld
                    cblas_dgemm(CblasColMajor, ta, tb, Int32(rw), Int32(cw), Int32(k), alpha, ap, Int32(ld), bp, Int32(ld),
                                1, c + (r0 &+ c0 &* ld), Int32(ld))
                    try poll()
                    r0 += rw
                }
                c0 += cw
            }
        }

        /// B (rows x cols) = alpha B op(T)^-1, T lower (cols x cols): independent by rows.
        mutating func trsmRight(trans: CBLAS_TRANSPOSE, rows: Int, cols: Int, alpha: Double,
                                t: UnsafeMutablePointer<Double>, b: UnsafeMutablePointer<Double>) throws {
            let mc = piece(rows, perUnit: Double(cols) * Double(cols))
            var r0 = 0
            while r0 < rows {
                let rw = min(mc, rows - r0)
                cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, trans, CblasNonUnit, Int32(rw), Int32(cols), alpha,
                            t, Int32(n), b + r0, Int32(n))
                try poll()
                r0 += rw
            }
        }

        /// B (rows x cols) = T^-1 B, T lower (rows x rows): independent by columns.
        mutating func trsmLeft(rows: Int, cols: Int, t: UnsafeMutablePointer<Double>, b: UnsafeMutablePointer<Double>) throws {
            let nc = piece(cols, perUnit: Double(rows) * Double(rows))
            var c0 = 0
            while c0 < cols {
                let cw = min(nc, cols - c0)
                cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, Int32(rows), Int32(cw), 1,
                            t, Int32(n), b + c0 &* n, Int32(n))
                try poll()
                c0 += cw
            }
        }

        /// B (rows x cols) = T^T B, T lower (rows x rows): independent by columns.
        mutating func trmmLeftTrans(rows: Int, cols: Int, t: UnsafeMutablePointer<Double>, b: UnsafeMutablePointer<Double>) throws {
            let nc = piece(cols, perUnit: Double(rows) * Double(rows))
            var c0 = 0
            while c0 < cols {
                let cw = min(nc, cols - c0)
                cblas_dtrmm(CblasColMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, Int32(rows), Int32(cw), 1,
                            t, Int32(n), b + c0 &* n, Int32(n))
                try poll()
                c0 += cw
            }
        }
    }
}
