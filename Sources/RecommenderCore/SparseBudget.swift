/// Sizes and limits of the sparse kind (SANSA.swift), next to MemoryBudget's dense ones.
extension ModelLimits {
    /// Items with collaborative weights for the sparse kind (`max_items` is at most this).
    public static let maxSparseItems = 10_000_000
    /// `kind => 'auto'` trains the dense model up to this many items and the sparse one above
    /// (README, "The sparse kind": where dense stops being worth its items² memory).
    public static let autoSparseAbove = 20_000
    /// Each item of the sparse kind keeps at least this many weights, whatever the density
    /// (README, "The sparse kind": about what MovieLens needs to stay near dense EASE).
    public static let sparseMinWeightsPerItem = 256
}

/// Which model a training fits.
public enum ModelKind: String, Sendable {
    case dense, sparse

    /// The kind `configured` ('auto', 'dense' or 'sparse') gives for n items.
    public static func effective(_ configured: String, items n: Int) throws -> ModelKind {
        switch configured {
        case "dense":
            guard n <= ModelLimits.maxItems else {
                throw RecError.programLimit("the dense kind is limited to \(ModelLimits.maxItems) items; the data has \(n)",
                                            hint: "Use kind => 'sparse' (or 'auto') with recommender.configure.")
            }
            return .dense
        case "sparse": return .sparse
        case "auto": return n > ModelLimits.autoSparseAbove ? .sparse : .dense
        default: throw RecError.invalidParameter("kind must be auto, dense or sparse (got \"\(configured)\")")
        }
    }
}

extension MemoryBudget {
    /// The peak of a sparse training before the factorisation (the factor is checked by SANSA
    /// once CHOLMOD's analysis has sized it): the interactions as read and as rows, the column
    /// form of X, the sparse Gram matrix (and a pruned copy), the similarity projection (n x d
    /// doubles, twice, plus the floats), per-item arrays and the runtime allowance.
    public static func sparseTraining(_ s: TrainingShape, gramNonZeros: Int) -> Bytes {
        let n = s.items, d = s.similarityDims
        let sparse = Bytes.elements(s.nonZeros, 36 + 16) + .elements(s.events, 16) + .elements(s.users + 1, 108)
        let gram = Bytes.elements(gramNonZeros, SparseGram.bytesPerNonZero * 2)
        let sim = Bytes.matrix(n, d, 20)
        let content = Bytes.matrix(s.catalogItems, s.contentDims, 8) + .matrix(min(n, 1500), min(n, 1500), 4)
        return sparse + gram + sim + content + .elements(s.catalogItems, 64) + .elements(n, 64) + Bytes(64 << 20)
    }

    /// What a loaded sparse model holds in a backend: its rows (8 bytes a pair, twice while they
    /// are read), similarity and content vectors, and the per-item arrays.
    public static func sparseModel(items n: Int, nonZeros: Int, catalogItems total: Int, similarityDims d: Int,
                                   contentDims c: Int, categories: Bool) -> Bytes {
        Bytes.elements(nonZeros, 16) + .elements(n + 1, 48) + .matrix(total, d, 4) + .matrix(total, c, 4)
            + .elements(total, categories ? 120 : 80)
    }
}
