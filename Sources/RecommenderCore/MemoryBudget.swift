/// Memory sizing: every allocation that grows with the catalog is sized here, with
/// overflow-checked arithmetic, before it is made, and checked against the limits the DBA sets
/// (`recommender.max_training_memory`, `recommender.max_cache_memory`) and against what the
/// machine can give (MemAvailable). A Swift allocation that fails traps and kills the backend,
/// so the checks must come first and be conservative.

/// The size limits a trained model must respect; training and loading use the same constants so
/// that a model that trains also loads.
public enum ModelLimits {
    /// Items with collaborative weights (the dense n x n model); `max_items` is at most this.
    public static let maxItems = 30_000
    /// Dimensions of the model-derived similarity vectors.
    public static let maxSimilarityDims = 1024
    /// Dimensions of content vectors (an embedding column, or the TF-IDF hash).
    public static let maxContentDims = 8192
    /// Catalog items (collaborative plus content-only).
    public static let maxCatalogItems = 2_000_000
}

/// Overflow-checked byte arithmetic: nil once a figure no longer fits in an Int.
public struct Bytes: Equatable, Comparable, CustomStringConvertible {
    public var value: Int?
    public init(_ v: Int?) { value = v }
    public static let zero = Bytes(0)
    public static func * (a: Bytes, b: Int) -> Bytes {
        guard let x = a.value, b >= 0 else { return Bytes(nil) }
        let (r, o) = x.multipliedReportingOverflow(by: b)
        return Bytes(o ? nil : r)
    }
    public static func + (a: Bytes, b: Bytes) -> Bytes {
        guard let x = a.value, let y = b.value else { return Bytes(nil) }
        let (r, o) = x.addingReportingOverflow(y)
        return Bytes(o ? nil : r)
    }
    /// Sizes of `count` elements of `size` bytes each (negative counts are treated as overflow).
    public static func elements(_ count: Int, _ size: Int) -> Bytes {
        guard count >= 0 else { return Bytes(nil) }
        return Bytes(size) * count
    }
    /// n x m elements of `size` bytes.
    public static func matrix(_ n: Int, _ m: Int, _ size: Int) -> Bytes { elements(n, size) * Swift.max(0, m) }
    public static func < (a: Bytes, b: Bytes) -> Bool {
        switch (a.value, b.value) {
        case let (x?, y?): return x < y
        case (nil, _): return false
        case (_, nil): return true
        }
    }
    public static func max(_ a: Bytes, _ b: Bytes) -> Bytes { a < b ? b : a }
    public var description: String { value.map(formatBytes) ?? "more than 8 EB" }
}

/// "1.2 GB", "350 MB", "12 kB" (powers of 1024, as PostgreSQL's size units).
public func formatBytes(_ b: Int) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB"]
    var x = Double(b), u = 0
    while x >= 1024 && u < units.count - 1 { x /= 1024; u += 1 }
    if u == 0 { return "\(b) bytes" }
    let r = x >= 100 ? x.rounded() : (x * 10).rounded() / 10
    return (r == r.rounded() ? String(Int(r)) : String(r)) + " " + units[u]
}

/// The figures of one training or update() that grow with the catalog.
public struct TrainingShape: Equatable {
    /// Items with collaborative weights (the n x n model).
    public var items: Int
    /// Catalog items, collaborative plus content-only (content vectors are kept for all).
    public var catalogItems: Int
    /// Non-zeros of the user-item matrix (sparse rows, 12 bytes each plus a row start per user).
    public var nonZeros: Int
    public var users: Int
    /// Interactions read (each with a time is kept for the decayed popularity).
    public var events: Int
    /// Dimensions of the model-derived similarity vectors (0 with categories).
    public var similarityDims: Int
    /// Content vector dimensions (0: no content vectors).
    public var contentDims: Int
    /// Whether the sequential component is trained (sequence_weight > 0: SᵀS and SᵀT, see Sequence.swift).
    public var sequence: Bool
    public init(items: Int, catalogItems: Int? = nil, nonZeros: Int = 0, users: Int = 0, events: Int = 0,
                similarityDims: Int = 0, contentDims: Int = 0, sequence: Bool = false) {
        self.items = items; self.catalogItems = catalogItems ?? items; self.nonZeros = nonZeros; self.users = users
        self.events = events
        self.similarityDims = similarityDims; self.contentDims = contentDims
        self.sequence = sequence
    }
}

public enum MemoryBudget {
    /// The Gram matrix X^T X: n x n doubles.
    public static func gram(items n: Int) -> Bytes { .matrix(n, n, 8) }
    /// The model's weights: n x n floats.
    public static func weights(items n: Int) -> Bytes { .matrix(n, n, 4) }

    /// The peak of a training (and of update(), which holds the same matrices): what lives
    /// throughout (the interactions as read and as a sparse matrix, per-item arrays, and a fixed
    /// runtime allowance) plus the largest of its phases, each the sum of what is alive then.
    ///   Gram:       G (8 n^2)
    ///   similarity: G + the random projection and its product (2 x 8 n d) + result (4 n d)
    ///   solve:      G (8 n^2) + B (4 n^2) + similarity vectors (4 n d)  <- the peak for any real n
    ///   sequence:   G, SᵀS and SᵀT (3 x 8 n^2, solved jointly: SequenceJoint.swift; later P, PH and
    ///               B: 20 n^2) + similarity + the time-ordered histories (about 64 bytes a
    ///               user-item pair), when sequence_weight > 0: 24 n^2 at the peak
    ///   content:    B + similarity + content vectors (4 N c, plus a per-item copy while parsing
    ///               embeddings) + the sample for beta (at most 1500^2 floats)
    /// The runtime allowance (64 MB) covers OpenBLAS's per-thread buffers during the solve, SPI's
    /// batches and the shared buffers a backend touches; measured with scripts/memory.sh
    /// (README, "Memory"): the estimate was above the measured peak at 2,000 to 10,000 items.
    public static func training(_ s: TrainingShape) -> Bytes {
        let n = s.items, d = s.similarityDims, c = s.contentDims, total = s.catalogItems
        // the builder's per-user dictionaries (about 24 bytes a pair), the sparse rows (12 a
        // pair), event times (16 an event), user ids and their index (about 100 a user)
        let sparse = Bytes.elements(s.nonZeros, 36) + .elements(s.events, 16) + .elements(s.users + 1, 108)
        let g = gram(items: n), b = weights(items: n)
        let sim = Bytes.matrix(n, d, 4)
        let simWork = Bytes.matrix(n, d, 16) + sim
        let content = Bytes.matrix(total, c, 8)            // vectors + the parsed rows (embeddings)
        let beta = Bytes.matrix(min(n, 1500), min(n, 1500), 4) + .matrix(min(n, 1500), c, 4)
        let perItem = Bytes.elements(total, 64)             // ids, popularity, users, categories, indices
            + .matrix(500, n, 8)                            // a fetched batch of stored rows (update() reads G back)
        let runtime = Bytes(64 << 20)
        let gramPhase = g
        let simPhase = g + simWork
        let solvePhase = g + b + sim
        let contentPhase = b + sim + content + beta
        let sequencePhase = s.sequence ? g + g + g + sim + .elements(s.nonZeros, 64) : .zero
        return Bytes.max(Bytes.max(Bytes.max(gramPhase, simPhase), Bytes.max(solvePhase, contentPhase)), sequencePhase)
            + sparse + perItem + runtime
    }

    /// What a loaded model holds in a backend: weights, similarity and content vectors, and the
    /// per-item arrays (ids, popularity, users, index, popularity order, content flags).
    public static func model(items n: Int, catalogItems total: Int, similarityDims d: Int, contentDims c: Int,
                             categories: Bool) -> Bytes {
        weights(items: n) + .matrix(total, d, 4) + .matrix(total, c, 4)
            + .elements(total, categories ? 120 : 80)
    }

    /// Checks a figure against the DBA's limit and what the machine can give. `limit` and
    /// `available` in bytes (nil: unknown, not checked). `what` names the allocation, `setting`
    /// the GUC, `hint` how to fit under it.
    public static func check(_ need: Bytes, what: String, limit: Int?, setting: String,
                             available: Int?, hint: String) throws {
        guard let bytes = need.value else {
            throw RecError.programLimit("\(what) would need \(need) of memory",
                                        hint: hint)
        }
        if let l = limit, bytes > l {
            throw RecError.programLimit("\(what) needs \(formatBytes(bytes)) of memory, more than \(setting) (\(formatBytes(l)))",
                                        hint: "Raise \(setting) (a superuser: SET, ALTER ROLE ... SET or postgresql.conf), or \(hint)")
        }
        if let a = available, bytes > a {
            throw RecError.outOfMemory("\(what) needs \(formatBytes(bytes)) of memory; the machine has \(formatBytes(a)) available",
                                       hint: "Free memory on the server, or \(hint)")
        }
    }
}
