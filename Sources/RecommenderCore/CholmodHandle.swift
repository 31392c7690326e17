import CCholmod

/// Owns every CHOLMOD object of one factorisation: the `cholmod_common`, the factor and the
/// matrices handed to CHOLMOD. Everything is freed in `deinit`, so every path (success, a thrown
/// RecError, an interrupt) releases it when the handle goes out of scope. CHOLMOD is set never to
/// print (print level 0) and its error handler does nothing: every failure is read from
/// `common.status` by `check` and becomes a RecError; CHOLMOD itself never aborts.
/// CHOLMOD: Chen, Davis, Hager, Rajamanickam, "Algorithm 887: CHOLMOD, Supernodal Sparse Cholesky
/// Factorization and Update/Downdate", ACM TOMS 35(3), 2008 (SuiteSparse 5.12, libsuitesparse-dev).
final class CholmodHandle {
    let common: UnsafeMutablePointer<cholmod_common>
    let started: Bool
    var factor: UnsafeMutablePointer<cholmod_factor>? = nil
    private var matrices: [UnsafeMutablePointer<cholmod_sparse>] = []

    init() {
        common = UnsafeMutablePointer<cholmod_common>.allocate(capacity: 1)
        common.initialize(to: cholmod_common())
        started = cholmod_l_start(common) != 0
        if started {
            common.pointee.print = 0
            common.pointee.error_handler = { _, _, _, _ in }
            // AMD only (one ordering, no METIS); supernodal where the analysis finds it worth it
            common.pointee.nmethods = 1
            common.pointee.method.0.ordering = Int32(CHOLMOD_AMD)
            common.pointee.postorder = 1
            common.pointee.supernodal = Int32(CHOLMOD_AUTO)
            common.pointee.final_ll = 0
            common.pointee.final_asis = 1
        }
    }

    deinit {
        if started {
            if factor != nil { _ = cholmod_l_free_factor(&factor, common) }
            for m in matrices { var p: UnsafeMutablePointer<cholmod_sparse>? = m; _ = cholmod_l_free_sparse(&p, common) }
            _ = cholmod_l_finish(common)
        }
        common.deinitialize(count: 1)
        common.deallocate()
    }

    /// Throws the RecError for CHOLMOD's last status (out of memory: 53200; any other error:
    /// XX000 naming `what`). Warnings (status > 0) are left to the caller.
    func check(_ what: String) throws {
        let s = common.pointee.status
        if s == CHOLMOD_OUT_OF_MEMORY || s == CHOLMOD_TOO_LARGE {
            throw RecError.outOfMemory("the sparse model ran out of memory while \(what) (CHOLMOD status \(s))",
                                       hint: "Lower the model's density or max_items, or free memory on the server.")
        }
        if s < 0 { throw RecError.internalError("CHOLMOD failed while \(what) (status \(s))") }
    }

    /// A CSC matrix allocated by CHOLMOD (freed with the handle): n x n, `nnz` entries, sorted,
    /// packed; stype -1 lower, 1 upper; values when `values` is true.
    func sparse(n: Int, nnz: Int, stype: Int32, values: Bool) throws -> UnsafeMutablePointer<cholmod_sparse> {
        guard started else { throw RecError.internalError("CHOLMOD could not start") }
        guard let a = cholmod_l_allocate_sparse(n, n, max(nnz, 1), 1, 1, stype,
                                                values ? Int32(CHOLMOD_REAL) : Int32(CHOLMOD_PATTERN), common) else {
            try check("allocating a matrix of \(nnz) non-zeros")
            throw RecError.outOfMemory("the sparse model could not allocate a matrix of \(nnz) non-zeros")
        }
        matrices.append(a)
        return a
    }

    /// Frees one matrix made by `sparse` before the handle goes.
    func free(_ a: UnsafeMutablePointer<cholmod_sparse>) {
        guard let k = matrices.firstIndex(of: a) else { return }
        matrices.remove(at: k)
        var p: UnsafeMutablePointer<cholmod_sparse>? = a
        _ = cholmod_l_free_sparse(&p, common)
    }

    /// Symbolic analysis with AMD: the factor's pattern and permutation (kept in `factor`).
    /// Afterwards `common.pointee.lnz` and `.fl` hold the factor's non-zeros and flops.
    func analyze(_ a: UnsafeMutablePointer<cholmod_sparse>) throws {
        if factor != nil { _ = cholmod_l_free_factor(&factor, common) }
        guard let f = cholmod_l_analyze(a, common) else {
            try check("ordering the Gram matrix (AMD)")
            throw RecError.internalError("CHOLMOD could not analyse the Gram matrix")
        }
        factor = f
        try check("ordering the Gram matrix (AMD)")
    }
}
