#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS

/// Content vectors of the catalog (an embedding the shop provides, or TF-IDF of titles, text and
/// categories built at training), for items the collaborative model has not seen yet.
public struct ContentVectors: Sendable {
    /// Dimension of the vectors.
    public var dims: Int
    /// count x dims, row-major, L2-normalised; all zeros for an item without content.
    public var vectors: Column<Float>
    public var present: Column<Bool>
    /// Maps cosine similarity into the units of the item-item weights (fitted at training:
    /// B_ij ~ beta * cos(v_i, v_j) over pairs of items the model knows).
    public var beta: Double
    /// Items with few interactions lean on content: a model item j's score is
    /// (1 - a_j) * collaborative + a_j * content with a_j = prior / (prior + users_j); 0 keeps
    /// model items purely collaborative. Items the model has not seen are scored by content.
    public var prior: Double
    /// Distinct users per item (0 for items the model has not seen).
    public var users: Column<Int>
    /// The content-only items' vectors as slots (ContentSlots.swift), from a model image; nil:
    /// they are scored from the dense vectors.
    public var slots: ContentSlots? = nil
    public init(dims: Int, vectors: [Float], present: [Bool], beta: Double, prior: Double, users: [Int]) {
        self.init(dims: dims, vectors: Column(vectors), present: Column(present), beta: beta, prior: prior, users: Column(users))
    }
    /// Over storage that is already laid out (a model image).
    public init(dims: Int, vectors: Column<Float>, present: Column<Bool>, beta: Double, prior: Double, users: Column<Int>,
                slots: ContentSlots? = nil) {
        self.dims = dims; self.vectors = vectors; self.present = present; self.beta = beta; self.prior = prior; self.users = users
        self.slots = slots
    }
    /// Whether item i has a content vector.
    @inline(__always) func has(_ i: Int) -> Bool { i >= 0 && i < present.count && present[i] }
    /// Cosine of two items' content vectors (0 when either has none).
    func cosine(_ a: Int, _ b: Int) -> Double {
        guard has(a), has(b) else { return 0 }
        let d = dims
        var dot: Float = 0
        let ba = a * d, bb = b * d
        for t in 0..<d { dot += vectors[ba + t] * vectors[bb + t] }
        return Double(dot)
    }
}

/// A trained item-item model, as loaded into a backend: immutable and shared by every call.
/// The arrays that grow with the catalog are `Column`s: views of a model image mapped read-only
/// and shared by every backend (ModelImage.swift), or heap copies for a model built in memory.
/// Items 0..<cfCount are the items the collaborative model was trained on (they have weights);
/// items cfCount..<count are catalog items without interactions at training, reachable through
/// their content vectors only.
public final class ItemModel: @unchecked Sendable {
    /// Number of items with collaborative weights (the first ones).
    public let cfCount: Int
    public let content: ContentVectors?
    public let version: Int64
    public let itemIds: Column<Int64>
    public let index: ItemIndex
    /// The item keys when the item ids are text or uuid keys (surrogate ids), from the image.
    public private(set) var keys: ImageKeys? = nil
    /// Row-major n x n: row i holds the contributions of history item i to every target
    /// (empty for the sparse kind, whose rows are `sparse`).
    public let weights: Column<Float>
    /// The sparse kind's rows (SparseItemWeights.swift); nil for the dense kind.
    public let sparse: SparseItemWeights?
    /// Fallback ranking for users with no usable history (decayed popularity when timestamps
    /// exist, distinct users otherwise).
    public let popularity: Column<Double>
    /// Per item: sorted category ids (empty when the item has none); nil when the catalog has no
    /// categories, in which case `similarityVectors` are used for diversity.
    public let categories: CategoryLists?
    public let similarityDims: Int
    public let similarityVectors: Column<Float>
    public let weighting: Weighting
    /// How a user's summed weights become model values at serving (as at training).
    public let transform: ValueTransform
    /// Popularity order (most popular first), precomputed for the cold-start fallback.
    public let popularOrder: Column<Int32>
    /// The largest |B_ij|, for bounding Float rounding errors.
    public let maxAbsWeight: Float
    /// Category names by category id (as stored at training), for the `category` rule.
    public var categoryNames: [String] = []
    /// The share of the sequential component in the jointly solved `weights` at training (0: none).
    public var sequenceWeight: Double = 0

    public var count: Int { itemIds.count }

    public init(version: Int64, itemIds: [Int64], weights: [Float], popularity: [Double],
                categories: [[Int32]]?, similarityDims: Int, similarityVectors: [Float],
                weighting: Weighting, transform: ValueTransform? = nil,
                cfCount: Int? = nil, content: ContentVectors? = nil, sparse: SparseItemWeights? = nil,
                interrupt: InterruptCheck = neverInterrupted) throws {
        let n = itemIds.count
        let cf = cfCount ?? n
        guard cf >= 0, cf <= n else { throw RecError.internalError("model has \(cf) collaborative items of \(n)") }
        let (wCount, wOverflow) = cf.multipliedReportingOverflow(by: cf)
        if let sw = sparse {
            guard weights.isEmpty, sw.n == cf, sw.rowStart.count == cf + 1 else {
                throw RecError.internalError("model sparse weights have \(sw.n) rows for \(cf) items")
            }
        } else if wOverflow || weights.count != wCount {
            throw RecError.internalError("model weights have \(weights.count) values for \(cf) items; expected \(wOverflow ? "more than Int.max" : String(wCount))")
        }
        if let c = content {
            let (vc, vo) = n.multipliedReportingOverflow(by: max(0, c.dims))
            guard c.dims > 0, !vo, c.vectors.count == vc, c.present.count == n, c.users.count == n,
                  c.beta.isFinite, c.prior.isFinite, c.prior >= 0, c.users.allSatisfy({ $0 >= 0 }) else {
                throw RecError.internalError("model content vectors have the wrong size")
            }
            var start = 0
            while start < c.vectors.count {
                let end = min(c.vectors.count, start + 1 << 20)
                guard c.vectors[start..<end].allSatisfy({ $0.isFinite }) else {
                    throw RecError.internalError("model content vectors hold a non-finite value")
                }
                start = end
                try interrupt()
            }
        } else if cf != n {
            throw RecError.internalError("items without collaborative weights need content vectors")
        }
        self.cfCount = cf
        self.content = content
        guard popularity.count == n else { throw RecError.internalError("model popularity has the wrong size") }
        guard popularity.allSatisfy({ $0.isFinite }) else { throw RecError.internalError("model popularity holds a non-finite value") }
        if let c = categories, c.count != n { throw RecError.internalError("model categories have the wrong size") }
        let (simCount, simOverflow) = n.multipliedReportingOverflow(by: max(0, similarityDims))
        guard similarityDims >= 0, !simOverflow, similarityVectors.count == simCount else {
            throw RecError.internalError("model similarity vectors have the wrong size")
        }
        let ids = Column(itemIds)
        guard let idx = ItemIndex(ids: ids) else {
            var seen = Set<Int64>()
            let twice = itemIds.first { !seen.insert($0).inserted } ?? 0
            throw RecError.internalError("model lists item \(twice) twice")
        }
        self.version = version
        self.itemIds = ids
        self.index = idx
        self.weights = Column(weights)
        self.sparse = sparse
        self.popularity = Column(popularity)
        self.categories = categories.map { CategoryLists($0) }
        self.similarityDims = similarityDims
        self.similarityVectors = Column(similarityVectors)
        self.weighting = weighting
        self.transform = transform ?? ValueTransform(weighting)
        var m: Float = 0
        // items^2 values (9e8 at 30,000 items): checked in bands of rows, polling between them
        var start = 0
        while start < weights.count {
            let end = min(weights.count, start + 1 << 20)
            for w in weights[start..<end] {
                guard w.isFinite else { throw RecError.internalError("model weights hold a non-finite value") }
                m = max(m, abs(w))
            }
            start = end
            try interrupt()
        }
        self.maxAbsWeight = max(m, sparse?.maxAbs ?? 0)
        self.popularOrder = Column((0..<Int32(n)).sorted {
            let a = popularity[Int($0)], b = popularity[Int($1)]
            return a != b ? a > b : itemIds[Int($0)] < itemIds[Int($1)]
        })
    }

    /// Over a model image (ModelImage.read validated every section and index); the small
    /// per-model parameters come from the catalog.
    public init(image p: ModelImage.Parts, weighting: Weighting, transform: ValueTransform, contentBeta: Double,
                contentPrior: Double) throws {
        guard contentBeta.isFinite, contentPrior.isFinite, contentPrior >= 0 else {
            throw RecError.internalError("model content parameters are not finite")
        }
        version = p.shape.modelVersion
        cfCount = p.shape.cfCount
        itemIds = p.itemIds
        index = p.index
        keys = p.keys
        weights = p.weights
        sparse = p.sparse
        popularity = p.popularity
        categories = p.categories
        similarityDims = p.shape.similarityDims
        similarityVectors = p.similarity
        self.weighting = weighting
        self.transform = transform
        maxAbsWeight = p.maxAbsWeight
        popularOrder = p.popularOrder
        content = p.shape.contentDims > 0
            ? ContentVectors(dims: p.shape.contentDims, vectors: p.contentVectors, present: p.contentPresent,
                             beta: contentBeta, prior: contentPrior, users: p.users, slots: p.contentSlots)
            : nil
        if content == nil && cfCount != p.shape.count {
            throw RecError.internalError("items without collaborative weights need content vectors")
        }
    }

    /// Whether the big arrays live in a shared file mapping (not in this backend's memory).
    public var isShared: Bool { weights.isShared || (weights.isEmpty && itemIds.isShared) }

    /// Similarity in [0, 1] of two items, for diversity: Jaccard of category sets when the
    /// catalog has categories, otherwise the cosine of the model-derived item vectors (clamped).
    public func similarity(_ a: Int, _ b: Int) -> Double {
        if a == b { return 1 }
        // optional chaining borrows the stored lists: no copy (no reference counting) per call
        if categories != nil {
            return categories?.jaccard(a, b) ?? 0
        }
        let d = similarityDims
        guard d > 0 else { return 0 }
        guard a >= 0, b >= 0, a < count, b < count else { return 0 }
        var s: Float = 0
        similarityVectors.withUnsafeBufferPointer { v in
            guard let base = v.baseAddress, v.count >= count * d else { return }
            s = cblas_sdot(Int32(d), base + a * d, 1, base + b * d, 1)
        }
        return Double(max(0, min(1, s)))
    }
}

/// Jaccard similarity of two sorted id lists; two empty lists count as unrelated (0).
public func jaccard<A: RandomAccessCollection, B: RandomAccessCollection>(_ x: A, _ y: B) -> Double
    where A.Element == Int32, B.Element == Int32, A.Index == Int, B.Index == Int {
    if x.isEmpty || y.isEmpty { return 0 }
    var i = 0, j = 0, inter = 0
    while i < x.count && j < y.count {
        if x[i] == y[j] { inter += 1; i += 1; j += 1 } else if x[i] < y[j] { i += 1 } else { j += 1 }
    }
    let union = x.count + y.count - inter
    return union > 0 ? Double(inter) / Double(union) : 0
}

/// One user's history as read live from the interactions table, aggregated per item.
public struct History {
    /// item id -> summed event weight
    public private(set) var totals: [Int64: Double] = [:]
    public private(set) var order: [Int64] = []
    public private(set) var eventCounts: [Int64: Int] = [:]
    /// item id -> latest event time (seconds since 1970; nil when the item's events have none)
    public private(set) var lastTime: [Int64: Double?] = [:]
    /// Recency weighting at scoring (see `Recency`): half-life in history positions, 0 = off.
    public var recencyHalfLife: Double = 0
    /// The share of its value an old history item keeps under recency weighting (see `Recency`).
    public var recencyFloor: Double = 0
    public init() {}
    public mutating func add(item: Int64, weight: Double, time: Double? = nil) {
        if totals[item] == nil { order.append(item) }
        totals[item, default: 0] += weight
        eventCounts[item, default: 0] += 1
        let t = (time?.isFinite ?? false) ? time : nil
        if let old = lastTime[item] {
            if let tt = t, old.map({ tt > $0 }) ?? true { lastTime[item] = tt }
        } else {
            lastTime[item] = .some(t)
        }
    }
    public var isEmpty: Bool { totals.isEmpty }
    public var items: Set<Int64> { Set(order) }
}

/// The model's view of a history: the weighted entries it can score with.
public struct ScoredHistory {
    public var entries: [(index: Int32, itemId: Int64, value: Double)] = []
    public var unknownItems: [Int64] = []
    public var seen: Set<Int32> = []
    /// Per scored item: its age rank and the recency factor its value was multiplied by.
    public var recency: [Int64: (rank: Int, factor: Double)] = [:]
}

public struct Recommendation: Equatable {
    public var itemId: Int64
    public var score: Double
    public var relevanceRank: Int
    public var forVariety: Bool
    public var source: String
}

public enum Reranker: String, Sendable {
    /// relevance by rank, plus new categories and distance to the list (see coverage(...))
    case coverage
    case mmr
    case dpp
}

public struct RecommendOptions {
    public var k: Int
    public var diversity: Double
    public var excludeSeen: Bool = true
    public var reranker: Reranker = .coverage
    /// Candidate pool for re-ranking: max(poolMinimum, poolFactor * k), capped by the catalog.
    public var poolMinimum: Int = 100
    public var poolFactor: Int = 5
    /// Only items whose flag is true may be recommended (the shop's filters); nil: every item.
    public var allowed: [Bool]? = nil
    /// At most this many items of one category in a list (needs categories); nil: no cap.
    public var maxPerCategory: Int? = nil
    /// Polled by every loop of the call whose cost grows with the catalog, the history or k
    /// (the glue passes PostgreSQL's interrupt check: cancel and statement_timeout).
    public var interrupt: InterruptCheck = neverInterrupted
    /// The backend's working memory for this model (ScoringScratch.swift), reused by every call;
    /// nil (or one of another size): each call allocates its own arrays as before.
    public var scratch: ScoringScratch? = nil
    public init(k: Int, diversity: Double) { self.k = k; self.diversity = diversity }
}

/// Counts the categories of the items placed so far, for a per-category cap. An item with
/// several categories is blocked when any of them is full.
struct CategoryCap {
    let limit: Int?
    let categories: CategoryLists?
    var counts: [Int32: Int] = [:]
    func allows(_ i: Int) -> Bool {
        guard let l = limit, let list = categories?.list(at: i) else { return true }
        for cat in list where counts[cat, default: 0] >= l { return false }
        return true
    }
    mutating func add(_ i: Int) {
        guard limit != nil, let list = categories?.list(at: i) else { return }
        for cat in list { counts[cat, default: 0] += 1 }
    }
}

/// Largest k accepted: a list longer than this is a mistake, not a request.
public let maxK = 10_000

public func validate(k: Int, diversity: Double) throws {
    if k <= 0 {
        throw RecError.invalidParameter("k must be positive (got \(k))", hint: "Ask for the number of items to show, for example 10.")
    }
    if k > maxK {
        throw RecError.invalidParameter("k = \(k) is larger than the limit of \(maxK)",
                                        hint: "Ask for at most \(maxK) items; to score a whole catalog use a batch query.")
    }
    if diversity.isNaN || diversity < 0 || diversity > 1 {
        throw RecError.invalidParameter("diversity must be between 0 and 1 (got \(diversity))",
                                        hint: "0 is pure relevance; 0.3 is a mild mix; 1 is the most varied list.")
    }
}

extension ItemModel {
    public func prepare(_ history: History) -> ScoredHistory {
        var h = ScoredHistory()
        let ranks = history.recencyHalfLife > 0 ? Recency.ageRanks(history.lastTime) : [:]
        for item in history.order {
            guard let total = history.totals[item] else { continue }
            if let i = index[item] {
                h.seen.insert(i)
                var v = transform.apply(total)
                if let r = ranks[item] {
                    let f = Recency.weight(ageRank: r, halfLife: history.recencyHalfLife, floor: history.recencyFloor)
                    h.recency[item] = (r, f)
                    v *= f
                }
                if v > 0 && v.isFinite { h.entries.append((i, item, v)) }
            } else {
                h.unknownItems.append(item)
            }
        }
        return h
    }

    /// Relevance scores of every item for a history: s_j = sum_i x_i B_ij (one saxpy per entry).
    public func scores(_ h: ScoredHistory) -> [Float] { scores(h, interrupt: {}) }

    /// As `scores(_:)`, polling `interrupt` every 64 history entries (a history can hold the
    /// whole catalog: n saxpys of n).
    public func scores(_ h: ScoredHistory, interrupt: InterruptCheck) rethrows -> [Float] {
        var s = [Float](repeating: 0, count: count)
        try scores(h, into: &s, interrupt: interrupt)
        return s
    }

    /// As `scores(_:interrupt:)`, into `s`: `count` zeros (a fresh array, or the scratch's
    /// array once zeroed).
    func scores(_ h: ScoredHistory, into s: inout [Float], interrupt: InterruptCheck) rethrows {
        let n = count, cf = cfCount
        guard n > 0, s.count == n else { return }
        let f = floatScale(h)
        if cf > 0, let sw = sparse {
            var start = 0
            while start < h.entries.count {
                let end = min(h.entries.count, start + 64)
                addSparseRows(sw, h.entries[start..<end], scale: f, into: &s)
                start = end
                if start < h.entries.count { try interrupt() }
            }
        } else if cf > 0 {
            var start = 0
            while start < h.entries.count {
                let end = min(h.entries.count, start + 64)
                weights.withUnsafeBufferPointer { w in
                    s.withUnsafeMutableBufferPointer { sp in
                        guard let wb = w.baseAddress, let sb = sp.baseAddress else { return }
                        for e in h.entries[start..<end] where e.index >= 0 && Int(e.index) < cf {
                            cblas_saxpy(Int32(cf), Float(e.value * f), wb + Int(e.index) * cf, 1, sb, 1)
                        }
                    }
                }
                start = end
                if start < h.entries.count { try interrupt() }
            }
        }
        // Content scores only matter for items without collaborative weights or when a prior
        // blends them in; otherwise the gemv over the catalog is skipped.
        applyContentScores(h, scale: f, into: &s)
    }

    /// The content part of `scores`: the content-only items' scores (NaN where the history has
    /// no content vector) and, with a prior, the blend of every item (s holds the collaborative
    /// scores; `f` is floatScale(h)).
    func applyContentScores(_ h: ScoredHistory, scale f: Double, into s: inout [Float]) {
        let n = count, cf = cfCount
        if let c = content, n > cf || c.prior > 0 {
            // without a prior only the content-only items (indices cf..<n, at the end) need
            // content scores: the gemv covers just those rows (cs[j - first] is item j's)
            let first = c.prior > 0 ? 0 : cf
            let (cs, any) = contentScores(h, scale: f, from: first)
            for j in first..<n {   // without a prior only the content-only items change
                if j >= cf {
                    s[j] = (any && c.present[j]) ? cs[j - first] : .nan    // unreachable without content
                } else if c.prior > 0 && c.present[j] {
                    let a = Float(c.prior / (c.prior + Double(c.users[j])))
                    s[j] = (1 - a) * s[j] + a * cs[j - first]
                }
            }
        }
    }

    /// The history's content profile beta * sum_i x_i v_i (Float, scaled by f), and whether any
    /// history item has a content vector.
    func contentProfile(_ h: ScoredHistory, scale f: Double) -> (profile: [Float], any: Bool) {
        let n = count
        guard let c = content else { return ([], false) }
        let d = c.dims
        var profile = [Float](repeating: 0, count: d)
        var any = false
        for e in h.entries where Int(e.index) < n && c.present[Int(e.index)] {
            any = true
            let base = Int(e.index) * d
            let x = Float(e.value * f * c.beta)
            for t in 0..<d { profile[t] += x * c.vectors[base + t] }
        }
        return (profile, any)
    }

    /// Content scores beta * (v_j . sum_i x_i v_i) of items first..<count (one gemv over those
    /// rows; cs[j - first] is item j's), and whether the history has a content vector at all.
    func contentScores(_ h: ScoredHistory, scale f: Double, from first: Int) -> (cs: [Float], any: Bool) {
        let n = count
        guard let c = content, first >= 0, first <= n else { return ([], false) }
        let d = c.dims
        let (profile, any) = contentProfile(h, scale: f)
        var cs = [Float](repeating: 0, count: max(0, n - first))
        if any && first < n && c.vectors.count >= n * d {
            c.vectors.withUnsafeBufferPointer { v in profile.withUnsafeBufferPointer { p in cs.withUnsafeMutableBufferPointer { o in
                guard let vb = v.baseAddress, let pb = p.baseAddress, let ob = o.baseAddress else { return }
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n - first), Int32(d), 1, vb + first * d, Int32(d), pb, 1, 0, ob, 1)
            } } }
        }
        return (cs, any)
    }

    /// The content-only items' scores (indices cfCount..<count) as scores() gives them without a
    /// content prior: NaN for an item without a content vector or a history without any.
    func contentOnlyScores(_ h: ScoredHistory, scale f: Double) -> [Float] {
        let n = count, cf = cfCount
        guard n > cf, let c = content else { return [] }
        let (cs, any) = contentScores(h, scale: f, from: cf)
        return (cf..<n).map { j in (any && c.present[j] && j - cf < cs.count) ? cs[j - cf] : .nan }
    }

    /// Whether a history can be scored at all: an item with collaborative weights, or one with a
    /// content vector. Otherwise the user is treated as new (the popularity fallback).
    func hasUsableEntries(_ h: ScoredHistory) -> Bool {
        for e in h.entries {
            let i = Int(e.index)
            if i < cfCount { return true }
            if let c = content, i < c.present.count, c.present[i] { return true }
        }
        return false
    }

    /// Whether item j can get a score from this history (content-only items need a history item
    /// with a content vector).
    func reachable(_ h: ScoredHistory, _ j: Int) -> Bool {
        if j < cfCount { return true }
        guard let c = content, j < c.present.count, c.present[j] else { return false }
        for e in h.entries where Int(e.index) < c.present.count && c.present[Int(e.index)] { return true }
        return false
    }

    /// The content blend of item j: 0 for purely collaborative scoring, 1 for content only.
    @inline(__always) func contentBlend(_ j: Int) -> Double {
        guard content?.has(j) == true, let prior = content?.prior else { return 0 }
        if j >= cfCount { return 1 }
        return prior > 0 ? prior / (prior + Double(content?.users[j] ?? 0)) : 0
    }

    /// Cosine of two items' content vectors (0 when either has none).
    @inline(__always) func contentCosine(_ a: Int, _ b: Int) -> Double {
        content?.cosine(a, b) ?? 0
    }

    /// History item i's exact contribution to item j's score: collaborative x_i B_ij and content
    /// x_i beta cos(v_i, v_j), blended by j's content weight.
    @inline(__always) func contribution(_ e: (index: Int32, itemId: Int64, value: Double), _ j: Int, blend a: Double) -> (total: Double, collaborative: Double, content: Double) {
        let i = Int(e.index)
        let cfPart = (i < cfCount && j < cfCount) ? e.value * Double(cfWeight(i, j)) : 0
        if a == 0 { return (cfPart, cfPart, 0) }
        let ctPart = e.value * (content?.beta ?? 0) * contentCosine(i, j)
        return ((1 - a) * cfPart + a * ctPart, (1 - a) * cfPart, a * ctPart)
    }

    /// A power of two that keeps a history's values well inside Float's range for the Float
    /// scoring pass (1 for ordinary values). A common factor changes no ranking.
    func floatScale(_ h: ScoredHistory) -> Double {
        var m = 0.0
        for e in h.entries { m = max(m, abs(e.value)) }
        guard m.isFinite, m > 0 else { return 1 }
        var f = 1.0
        while m * f > 1e15 { f *= 0x1p-40 }
        // bounded: for subnormal values (down to 4.9e-324) an unbounded loop overflowed f to
        // infinity, and infinity times a zero weight made every score NaN (an empty list)
        while m * f < 1e-15 && f < 0x1p960 { f *= 0x1p40 }
        return f
    }

    /// A bound on the error of a Float score (from scores()) against the exact double sum,
    /// in the units of scores(): relative to the summed magnitudes, plus an absolute term for
    /// products that fall into Float's subnormal range.
    func floatErrorBound(_ h: ScoredHistory) -> Double {
        let f = floatScale(h)
        var absSum = 0.0
        for e in h.entries { absSum += abs(e.value * f) }
        let terms = Double(h.entries.count + 2)
        let scale = Double(maxAbsWeight) + abs(content?.beta ?? 0) * 1.0001
        return terms * 1.2e-7 * absSum * scale * 4
            + terms * Double(Float.leastNormalMagnitude) * (1 + scale) * 4
    }

    /// s_j in double precision, summed over the history in its order (as explain() sums it).
    public func exactScore(_ h: ScoredHistory, _ j: Int) -> Double {
        guard j >= 0, j < count else { return 0 }
        let a = contentBlend(j)
        var total = 0.0
        if a == 0 {
            guard j < cfCount else { return 0 }
            let cf = cfCount
            for e in h.entries where Int(e.index) < cf { total += e.value * Double(cfWeight(Int(e.index), j)) }
            return total
        }
        for e in h.entries { total += contribution(e, j, blend: a).total }
        return total
    }

    /// The eligibility mask of a call: the shop's filter, minus the history when it is excluded.
    func eligibility(_ h: ScoredHistory, _ opt: RecommendOptions) -> [Bool] {
        var eligible = opt.allowed ?? [Bool](repeating: true, count: count)
        if opt.excludeSeen { for i in h.seen where Int(i) < count { eligible[Int(i)] = false } }
        return eligible
    }

    /// The k best items for a history, re-ranked for diversity when asked, within the shop's
    /// rules (filter, seen items, per-category cap).
    public func recommend(_ history: History, _ opt: RecommendOptions) throws -> [Recommendation] {
        try validate(k: opt.k, diversity: opt.diversity)
        if let cap = opt.maxPerCategory, cap <= 0 {
            throw RecError.invalidParameter("max_per_category must be positive (got \(cap))")
        }
        if let a = opt.allowed, a.count != count {
            throw RecError.internalError("the filter mask has \(a.count) entries for \(count) items")
        }
        let h = prepare(history)
        // the backend's reused working memory when it fits this model (ScoringScratch.swift)
        let scratch = opt.scratch.flatMap { $0.items == count ? $0 : nil }
        if scratch != nil {
            if !hasUsableEntries(h) {
                // cold start: the popularity order, eligibility tested per item (no mask)
                var cap = CategoryCap(limit: opt.maxPerCategory, categories: categories)
                let unknown = opt.excludeSeen ? Set(h.unknownItems) : []
                let allowed = opt.allowed, excludeSeen = opt.excludeSeen
                return popular(k: opt.k, isEligible: { j in
                    (allowed.map { $0[j] } ?? true) && !(excludeSeen && h.seen.contains(Int32(truncatingIfNeeded: j)))
                }, excludeIds: unknown, cap: &cap)
            }
            // the sparse kind: the items the history reaches (ReachedServing.swift), nil when the
            // general path below must decide
            if let sc = scratch, let list = try recommendReached(h, opt, scratch: sc) { return list }
        }
        let eligible = eligibility(h, opt)
        var cap = CategoryCap(limit: opt.maxPerCategory, categories: categories)
        if !hasUsableEntries(h) {
            let unknown = opt.excludeSeen ? Set(h.unknownItems) : []
            return popular(k: opt.k, eligible: eligible, excludeIds: unknown, cap: &cap)
        }
        let interrupt = opt.interrupt
        // the sparse kind: the items the history's rows reach (SparseServing.swift), nil otherwise
        var reached: [Int32]? = nil
        var s: [Float] = []
        // with the scratch: its score array (moved in and out, not copied), zeroed as a fresh one
        if let sc = scratch { swap(&s, &sc.scores) }
        defer { if let sc = scratch { swap(&s, &sc.scores) } }
        if scratch != nil && s.count == count {
            s.withUnsafeMutableBufferPointer { p in if let b = p.baseAddress { b.update(repeating: 0, count: p.count) } }
            try scores(h, into: &s, interrupt: interrupt)
        } else if let fast = try sparseScoresReached(h, interrupt: interrupt) { s = fast.s; reached = fast.reached } else { s = try scores(h, interrupt: interrupt) }
        try interrupt()
        if !hasSignal(s, eligible: eligible) {
            // no relevance signal at all (every score zero, e.g. subnormal weights): the
            // cold-start popularity order fills the list, as for a user without history
            // (items this history cannot reach at all, NaN, stay out as they would otherwise)
            let unknown = opt.excludeSeen ? Set(h.unknownItems) : []
            var reachableEligible = eligible
            for j in 0..<min(s.count, eligible.count) where s[j].isNaN { reachableEligible[j] = false }
            return popular(k: opt.k, eligible: reachableEligible, excludeIds: unknown, cap: &cap)
        }
        let f = floatScale(h)
        let bound = floatErrorBound(h)
        let poolSize = opt.diversity > 0 ? max(opt.k, max(opt.poolMinimum, opt.poolFactor * opt.k)) : opt.k
        var pool: [Int32]
        if let r = reached, let p = topPositive(s, among: r, count: poolSize, eligible: eligible) { pool = p } else {
            pool = topIndices(s, count: poolSize, eligible: eligible)
            reached = nil
        }
        try interrupt()
        // Items whose Float score is within rounding error of the pool's last one may be exactly
        // better: take them in too, order everything by the exact sums, then cut to size.
        if let last = pool.last, pool.count == poolSize {
            let threshold = Double(s[Int(last)]) - 2 * bound
            let inPool = Set(pool)
            // The sparse kind: an item no history row stores scores exactly 0 in Float and in the
            // exact sum (no rounding happened), so it cannot overtake the pool through rounding;
            // pulling every such item in when the pool's last score is near 0 made a call score
            // the whole catalog exactly (12 ms a call at 100,000 items, bench/scale.sh).
            let skipZeros = sparse != nil
            // (the cheap tests first: the set lookup hashes, and runs only for the few near the cut;
            // with a pool of positive scores from the reached items, the others score 0 and are skipped)
            func consider(_ i: Int) {
                if eligible[i] && s[i].isFinite && Double(s[i]) >= threshold
                    && !(skipZeros && s[i] == 0) && !inPool.contains(Int32(i)) { pool.append(Int32(i)) }
            }
            if let r = reached { for i in r where Int(i) < count { consider(Int(i)) } } else { for i in 0..<count { consider(i) } }
        }
        // Report (and order the pool by) the exact double-precision sum of the contributions, the
        // same sum explain() shows, so that a list's scores and its explanations agree exactly.
        var exact: [Int32: Double] = [:]
        func settle() throws {
            // one exact sum per pool item, each over the whole history
            for (t, i) in pool.enumerated() where exact[i] == nil {
                exact[i] = exactScore(h, Int(i))
                if t % 256 == 255 { try interrupt() }
            }
            // a non-finite sum (only from a damaged model image) is left out like an unreachable item
            pool.removeAll { !(exact[$0] ?? 0).isFinite }
            pool.sort { a, b in
                let x = exact[a] ?? 0, y = exact[b] ?? 0
                return x != y ? x > y : a < b
            }
            for i in pool { s[Int(i)] = Float((exact[i] ?? 0) * f) }
        }
        try settle()
        try interrupt()
        if pool.count > poolSize { pool.removeLast(pool.count - poolSize) }
        var picked: [(Int, Bool)]
        if opt.diversity > 0 && pool.count > 1 {
            switch opt.reranker {
            case .coverage: picked = try coverage(pool: pool, k: opt.k, diversity: opt.diversity, cap: &cap, interrupt: interrupt)
            case .mmr: picked = try mmr(pool: pool, scores: s, k: opt.k, diversity: opt.diversity, cap: &cap, interrupt: interrupt)
            case .dpp: picked = try dpp(pool: pool, scores: s, k: opt.k, diversity: opt.diversity, cap: &cap, interrupt: interrupt)
            }
        } else {
            picked = []
            for p in pool.indices where picked.count < opt.k && cap.allows(Int(pool[p])) {
                picked.append((p, false)); cap.add(Int(pool[p]))
            }
        }
        if picked.count < opt.k && opt.maxPerCategory != nil {
            // The cap left the list short: continue down the whole relevance order.
            var taken = Set(picked.map { pool[$0.0] })
            let before = pool.count
            let inPool = Set(pool)
            var more = topIndices(s, count: count, eligible: eligible).filter { !taken.contains($0) && !inPool.contains($0) }
            try interrupt()
            for (t, i) in more.enumerated() {
                exact[i] = exactScore(h, Int(i))
                if t % 256 == 255 { try interrupt() }
            }
            more.removeAll { !(exact[$0] ?? 0).isFinite }
            more.sort { a, b in
                let x = exact[a] ?? 0, y = exact[b] ?? 0
                return x != y ? x > y : a < b
            }
            pool.append(contentsOf: more)
            try interrupt()
            for p in before..<pool.count where picked.count < opt.k {
                let i = Int(pool[p])
                if cap.allows(i) {
                    exact[pool[p]] = exactScore(h, i)
                    picked.append((p, false)); cap.add(i); taken.insert(pool[p])
                }
            }
        }
        return picked.map { (p, variety) in
            let i = Int(pool[p])
            return Recommendation(itemId: itemIds[i], score: exact[pool[p]] ?? Double(s[i]), relevanceRank: p + 1, forVariety: variety,
                                  source: i >= cfCount ? "content" : "model")
        }
    }

    /// Cold start: the most popular items (time-decayed when the data has timestamps).
    public func popular(k: Int, exclude: Set<Int32>, excludeIds: Set<Int64> = []) -> [Recommendation] {
        var eligible = [Bool](repeating: true, count: count)
        for i in exclude where Int(i) < count && i >= 0 { eligible[Int(i)] = false }
        var cap = CategoryCap(limit: nil, categories: nil)
        return popular(k: k, eligible: eligible, excludeIds: excludeIds, cap: &cap)
    }

    func popular(k: Int, eligible: [Bool], excludeIds: Set<Int64>, cap: inout CategoryCap) -> [Recommendation] {
        popular(k: k, isEligible: { eligible[$0] }, excludeIds: excludeIds, cap: &cap)
    }

    /// The popularity order with eligibility tested per item (the scratch paths: no mask).
    func popular(k: Int, isEligible: (Int) -> Bool, excludeIds: Set<Int64>, cap: inout CategoryCap) -> [Recommendation] {
        var out: [Recommendation] = []
        out.reserveCapacity(min(k, count))
        var rank = 0
        for i in popularOrder {
            let ii = Int(i)
            if !isEligible(ii) || excludeIds.contains(itemIds[ii]) { continue }
            rank += 1
            if !cap.allows(ii) { continue }
            cap.add(ii)
            out.append(Recommendation(itemId: itemIds[ii], score: popularity[ii], relevanceRank: rank, forVariety: false, source: "popular"))
            if out.count >= k { break }
        }
        return out
    }

    /// The default re-ranker, chosen on MovieLens' validation split against MMR, mean-similarity
    /// MMR, calibration (Steck 2018) and the greedy DPP (Chen et al. 2018). The first slot is the
    /// most relevant item; each next slot takes the pool item j maximising
    ///   (1 - t) / log2(rank_j + 1) + t * (gain_j / 2 + (1 - mean similarity of j to the list) / 2)
    /// with t = 0.6 * diversity, rank_j j's position in the pool by relevance, and gain_j the
    /// share of j's categories not yet shown: sum over j's categories g of w_jg * prod over listed
    /// items s of (1 - w_sg), w_jg = 1 / |categories of j| (a category-coverage bonus in the style
    /// of xQuAD, Santos et al. 2010, with a uniform prior). Relevance by rank keeps the trade-off
    /// independent of the score scale; at diversity 1 relevance still weighs 0.4, so lists stay
    /// personal. Without categories the similarity term is model-derived and the gain term is 0.
    func coverage(pool: [Int32], k: Int, diversity d: Double, cap: inout CategoryCap,
                  interrupt: InterruptCheck = neverInterrupted) throws -> [(Int, Bool)] {
        let t = 0.6 * max(0, min(1, d))
        let m = pool.count
        var taken = [Bool](repeating: false, count: m)
        var simSum = [Double](repeating: 0, count: m)
        var shown: [Int32: Double] = [:]    // category -> prod over listed items of (1 - w_sg)
        var out: [(Int, Bool)] = []
        let target = min(k, m)
        let relevance = (0..<m).map { 1 / log2(Double($0) + 2) }
        while out.count < target {
            try interrupt()      // each slot scans the pool: O(pool) similarities
            var best = -1, firstFree = -1
            var bestValue = -Double.infinity
            let listed = Double(out.count)
            for p in 0..<m where !taken[p] && cap.allows(Int(pool[p])) {
                if firstFree < 0 { firstFree = p }
                if out.isEmpty { best = p; break }          // slot 1: the most relevant item
                let i = Int(pool[p])
                var gain = 0.0
                if let list = categories?.list(at: i), !list.isEmpty {
                    let w = 1 / Double(list.count)
                    for g in list { gain += w * (shown[g] ?? 1) }
                }
                let v = (1 - t) * relevance[p] + t * (gain / 2 + (1 - simSum[p] / listed) / 2)
                if v > bestValue + 1e-12 { bestValue = v; best = p }
            }
            guard best >= 0 else { break }
            taken[best] = true
            let bi = Int(pool[best])
            cap.add(bi)
            out.append((best, best != firstFree))
            if let list = categories?.list(at: bi), !list.isEmpty {
                let w = 1 / Double(list.count)
                for g in list { shown[g] = (shown[g] ?? 1) * (1 - w) }
            }
            for p in 0..<m where !taken[p] { simSum[p] += similarity(Int(pool[p]), bi) }
        }
        return out
    }

    /// MMR (Carbonell and Goldstein, SIGIR 1998): greedily pick the candidate maximising
    /// (1 - d) * relevance - d * (max similarity to the items already picked), relevance scaled to
    /// [0, 1] over the pool. The first pick is always the most relevant item; ties go to relevance.
    /// Returns (pool position, placed for variety).
    func mmr(pool: [Int32], scores s: [Float], k: Int, diversity d: Double) throws -> [(Int, Bool)] {
        var cap = CategoryCap(limit: nil, categories: nil)
        return try mmr(pool: pool, scores: s, k: k, diversity: d, cap: &cap)
    }

    func mmr(pool: [Int32], scores s: [Float], k: Int, diversity d: Double, cap: inout CategoryCap,
             interrupt: InterruptCheck = neverInterrupted) throws -> [(Int, Bool)] {
        let rel = normalisedRelevance(pool: pool, scores: s)
        var maxSim = [Double](repeating: 0, count: pool.count)
        var taken = [Bool](repeating: false, count: pool.count)
        var out: [(Int, Bool)] = []
        let target = min(k, pool.count)
        while out.count < target {
            try interrupt()      // each slot scans the pool: O(pool) similarities
            var best = -1
            var bestValue = -Double.infinity
            var firstFree = -1
            for p in 0..<pool.count where !taken[p] && cap.allows(Int(pool[p])) {
                if firstFree < 0 { firstFree = p }
                let v = (1 - d) * rel[p] - d * maxSim[p]
                if v > bestValue + 1e-12 { bestValue = v; best = p }
            }
            guard best >= 0 else { break }
            taken[best] = true
            cap.add(Int(pool[best]))
            out.append((best, best != firstFree))
            let bi = Int(pool[best])
            for p in 0..<pool.count where !taken[p] {
                let sim = similarity(Int(pool[p]), bi)
                if sim > maxSim[p] { maxSim[p] = sim }
            }
        }
        return out
    }

    /// Greedy MAP inference for a DPP (Chen, Zhang and Zhou, "Fast Greedy MAP Inference for
    /// Determinantal Point Process to Improve Recommendation Diversity", NeurIPS 2018), with the
    /// kernel L_ij = q_i S_ij q_j and quality q_i = exp(alpha * relevance_i), alpha = theta / (2 (1 -
    /// theta)), theta = 1 - diversity (their relevance/diversity trade-off). Incremental Cholesky,
    /// O(k^2 M). Once the kernel is exhausted the rest follows relevance.
    func dpp(pool: [Int32], scores s: [Float], k: Int, diversity d: Double) throws -> [(Int, Bool)] {
        var cap = CategoryCap(limit: nil, categories: nil)
        return try dpp(pool: pool, scores: s, k: k, diversity: d, cap: &cap)
    }

    func dpp(pool: [Int32], scores s: [Float], k: Int, diversity d: Double, cap: inout CategoryCap,
             interrupt: InterruptCheck = neverInterrupted) throws -> [(Int, Bool)] {
        let rel = normalisedRelevance(pool: pool, scores: s)
        let m = pool.count
        let theta = 1 - d
        let alpha = min(50.0, theta / (2 * max(1e-9, 1 - theta)))
        let q = rel.map { exp(alpha * ($0 - 1)) }   // shifted: the best item has quality 1
        var di2 = q.map { $0 * $0 }
        var c = [[Double]](repeating: [], count: m)
        var taken = [Bool](repeating: false, count: m)
        var out: [(Int, Bool)] = []
        let target = min(k, m)
        var exhausted = false
        while out.count < target {
            try interrupt()
            var best = -1
            var firstFree = -1
            var bestValue = -Double.infinity
            for p in 0..<m where !taken[p] && cap.allows(Int(pool[p])) {
                if firstFree < 0 { firstFree = p }
                let v = exhausted ? -Double(p) : di2[p]
                if v > bestValue + (exhausted ? 0 : 1e-15) { bestValue = v; best = p }
            }
            guard best >= 0 else { break }
            if !exhausted && di2[best] <= 1e-12 { exhausted = true; continue }
            taken[best] = true
            cap.add(Int(pool[best]))
            out.append((best, best != firstFree))
            if exhausted { continue }
            let dj = di2[best].squareRoot()
            let cj = c[best]
            let bi = Int(pool[best])
            // O(pool x slots so far) per slot: poll within the slot as the lists grow
            var work = 0
            for p in 0..<m where !taken[p] {
                work += cj.count + 16
                if work > 200_000 { work = 0; try interrupt() }
                let lji = q[best] * similarity(bi, Int(pool[p])) * q[p]
                var dot = 0.0
                let cp = c[p]
                for t in 0..<min(cj.count, cp.count) { dot += cj[t] * cp[t] }
                let e = (lji - dot) / dj
                c[p].append(e)
                di2[p] -= e * e
            }
        }
        return out
    }

    func normalisedRelevance(pool: [Int32], scores s: [Float]) -> [Double] {
        guard let first = pool.first else { return [] }
        var lo = Double(s[Int(first)]), hi = lo
        for i in pool { let v = Double(s[Int(i)]); lo = min(lo, v); hi = max(hi, v) }
        let span = hi - lo
        return pool.map { span > 0 ? (Double(s[Int($0)]) - lo) / span : 1 }
    }
}

/// Indices of the `count` highest scores, best first (ties broken by lower index), skipping
/// `exclude`. A bounded min-heap: O(n log count).
public func topIndices(_ s: [Float], count: Int, exclude: Set<Int32>) -> [Int32] {
    var eligible = [Bool](repeating: true, count: s.count)
    for i in exclude where i >= 0 && Int(i) < s.count { eligible[Int(i)] = false }
    return topIndices(s, count: count, eligible: eligible)
}

/// Indices of the `count` highest scores among the eligible items, best first.
public func topIndices(_ s: [Float], count: Int, eligible: [Bool]) -> [Int32] {
    guard count > 0 else { return [] }
    var heap: [(Float, Int32)] = []   // min-heap by (score, -index)
    heap.reserveCapacity(min(count, s.count) + 1)
    @inline(__always) func less(_ a: (Float, Int32), _ b: (Float, Int32)) -> Bool {
        a.0 != b.0 ? a.0 < b.0 : a.1 > b.1
    }
    func siftUp(_ i0: Int) {
        var i = i0
        while i > 0 { let p = (i - 1) / 2; if less(heap[i], heap[p]) { heap.swapAt(i, p); i = p } else { break } }
    }
    func siftDown(_ i0: Int) {
        var i = i0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && less(heap[l], heap[m]) { m = l }
            if r < heap.count && less(heap[r], heap[m]) { m = r }
            if m == i { return }
            heap.swapAt(i, m); i = m
        }
    }
    for (i, v) in s.enumerated() {
        let idx = Int32(truncatingIfNeeded: i)
        if v.isNaN || (i < eligible.count && !eligible[i]) { continue }
        let e = (v, idx)
        if heap.count < count { heap.append(e); siftUp(heap.count - 1) }
        else if less(heap[0], e) { heap[0] = e; siftDown(0) }
    }
    return heap.sorted { less($1, $0) }.map { $0.1 }
}
