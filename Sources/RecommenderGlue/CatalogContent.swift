// The catalog beyond the collaborative items, shared by train() and update(): categories and
// content (title, description, embedding) of every item of the items table, and the content
// vectors with their scale beta. Items without collaborative weights get indices n..<total.
import CPostgresShim
import RecommenderCore

struct CatalogData {
    /// Items of the items table without collaborative weights, sorted (indices n..<total).
    var newIds: [Int64] = []
    var hasCategories = false
    var categoryNames: [String] = []
    /// Sorted category ids per catalog index (the collaborative items first, then newIds).
    var itemCats: [[Int32]] = []
    var contentText: [Int64: String] = [:]
    var contentEmbedding: [Int64: String] = [:]
}

struct ContentData {
    var kind = "none"
    var dims = 0
    var vectors: [Float] = []
    var present: [Bool] = []
    var beta = 0.0
}

/// Reads the items table's categories and content for the collaborative items `cfIds` (indices
/// 0..<n, in that order) and every other item the table lists.
func readCatalog(model m: ModelRow, sql: ModelSQL, cfIds: [Int64], maxItems: Int, ids: TrainingIds? = nil) throws -> CatalogData {
    // item ids: int8, or keys numbered like the interactions' (ItemKeys.swift)
    func readId(_ c: Cursor, _ r: Int64) throws -> Int64? {
        if let ids = ids { return try ids.item(c, r, 0) }
        return try c.int8(r, 0)
    }
    var out = CatalogData()
    let n = cfIds.count
    var cfIndex: [Int64: Int] = [:]
    for (i, id) in cfIds.enumerated() { cfIndex[id] = i }
    if let q = sql.content {
        let cc = try Cursor(q)
        try cc.forEachRow(batch: 5000) { r in
            guard let id = try readId(cc, r) else { return }
            if let t = try cc.text(r, 1) { out.contentText[id] = t }
            if let e = try cc.text(r, 2) { out.contentEmbedding[id] = e }
        }
        try cc.close()
        out.newIds = Set(out.contentText.keys).union(out.contentEmbedding.keys).filter { cfIndex[$0] == nil }.sorted()
        guard n + out.newIds.count <= 2 * maxItems + 100_000 else {
            throw RecError.programLimit("the items table has \(n + out.newIds.count) items; content vectors are limited to \(2 * maxItems + 100_000)")
        }
    }
    let total = n + out.newIds.count
    var catalogIndex = cfIndex
    for (k, id) in out.newIds.enumerated() { catalogIndex[id] = n + k }

    // categories (for diversity and the shop's rules)
    var categoryIds: [String: Int32] = [:]
    out.itemCats = [[Int32]](repeating: [], count: total)
    out.hasCategories = sql.category != nil
    if let q = sql.category {
        let cc = try Cursor(q)
        try cc.forEachRow(batch: 10000) { r in
            guard let id = try readId(cc, r), let cat = try cc.text(r, 1), let i = catalogIndex[id] else { return }
            let cid: Int32
            if let f = categoryIds[cat] { cid = f } else {
                guard out.categoryNames.count < 1_000_000 else {
                    throw RecError.programLimit("the items table has more than 1,000,000 distinct categories")
                }
                cid = Int32(out.categoryNames.count); categoryIds[cat] = cid; out.categoryNames.append(cat)
            }
            if !out.itemCats[i].contains(cid) { out.itemCats[i].append(cid) }
        }
        try cc.close()
        for i in 0..<total { out.itemCats[i].sort() }
    }
    return out
}

/// Content vectors for the catalog `allIds` (cfIds + newIds) and beta, fitted against the
/// collaborative weights (n x n). Kind "none" when the model has no content or content does not
/// predict the weights.
func buildContent(sql: ModelSQL, model m: ModelRow, catalog cat: CatalogData, allIds: [Int64], weights: [Float], n: Int,
                  sparse: SparseItemWeights? = nil) throws -> ContentData {
    var out = ContentData()
    guard sql.content != nil else { return out }
    let total = allIds.count
    if m.hasEmbedding {
        out.kind = "embedding"
        var rows = [[Float]](repeating: [], count: total)
        for (i, id) in allIds.enumerated() {
            if i % 256 == 255 { try PG.interrupt() }
            guard let e = cat.contentEmbedding[id] else { continue }
            let v = try ContentBuilder.embedding(e, itemId: id, interrupt: PG.interrupt)
            if v.isEmpty { continue }
            if out.dims == 0 {
                // the dimension is known now: check it (loading applies the same limit) and the
                // memory the vectors need, before they are built
                try ModelValidation.checkContentDims(v.count, model: m.name)
                out.dims = v.count
                try checkContentMemory(model: m.name, n: n, total: total, dims: out.dims, categories: cat.hasCategories, sparse: sparse)
            }
            guard v.count == out.dims else {
                throw RecError.invalidParameter("the embedding of item \(id) has \(v.count) dimensions, others have \(out.dims)",
                                                hint: "Every embedding of the items table must have the same length.")
            }
            rows[i] = v
        }
        if out.dims > 0 {
            out.vectors = [Float](repeating: 0, count: total * out.dims)
            out.present = [Bool](repeating: false, count: total)
            for i in 0..<total where !rows[i].isEmpty {
                for t in 0..<out.dims { out.vectors[i * out.dims + t] = rows[i][t] }
                out.present[i] = true
                if i % 1024 == 1023 { try PG.interrupt() }
            }
        }
    } else {
        out.kind = "tfidf"
        var docs = [[String]](repeating: [], count: total)
        for (i, id) in allIds.enumerated() {
            if i % 256 == 255 { try PG.interrupt() }
            var d = try ContentBuilder.tokens(cat.contentText[id] ?? "", interrupt: PG.interrupt)
            if i < cat.itemCats.count {
                for c in cat.itemCats[i] where Int(c) < cat.categoryNames.count {
                    d.append("\u{1F}category:" + cat.categoryNames[Int(c)].lowercased())
                }
            }
            docs[i] = d
        }
        out.dims = 256
        try checkContentMemory(model: m.name, n: n, total: total, dims: out.dims, categories: cat.hasCategories, sparse: sparse)
        (out.vectors, out.present) = try ContentBuilder.tfidf(docs, dims: out.dims, interrupt: PG.interrupt)
    }
    try PG.interrupt()
    if out.dims > 0 {
        if let sw = sparse {
            out.beta = ContentBuilder.fitBeta(weight: { sw.weight($0, $1) }, cf: n, vectors: out.vectors, present: out.present, dims: out.dims)
        } else {
            out.beta = ContentBuilder.fitBeta(weights: weights, cf: n, vectors: out.vectors, present: out.present, dims: out.dims)
        }
    }
    if out.beta > 0 {
        try PG.notice("recommender: content vectors (\(out.kind), \(out.dims) dimensions) for \(out.present.filter { $0 }.count) items, \(total - n) of them without interactions; beta \(out.beta)")
    } else {
        try PG.notice("recommender: content similarity does not predict the model's weights here (beta \(out.beta)); items without interactions are left out")
        out = ContentData()
    }
    return out
}

/// Before content vectors are built: the training's peak with them (similarity vectors counted
/// when there are no categories) against recommender.max_training_memory, and the served model
/// against recommender.max_cache_memory.
func checkContentMemory(model: String, n: Int, total: Int, dims: Int, categories: Bool, sparse: SparseItemWeights? = nil) throws {
    let simDims = categories ? 0 : min(48, n)
    if let sw = sparse {
        // the sparse kind: no items² term (TrainSparse.swift)
        try MemoryBudget.check(MemoryBudget.sparseTraining(TrainingShape(items: n, catalogItems: total, similarityDims: simDims, contentDims: dims), gramNonZeros: 0),
                               what: "training of model \"\(model)\" (\(n) items, sparse)", limit: Memory.trainingLimit,
                               setting: "recommender.max_training_memory", available: Memory.available,
                               hint: "lower the model's max_items or density, or set content => 'off'.")
        try Memory.checkServing(MemoryBudget.sparseModel(items: n, nonZeros: sw.nonZeros, catalogItems: total, similarityDims: simDims,
                                                         contentDims: dims, categories: categories), model: model, items: n, checkAvailable: false)
        return
    }
    try Memory.checkTraining(TrainingShape(items: n, catalogItems: total, similarityDims: simDims, contentDims: dims), model: model)
    try Memory.checkServing(MemoryBudget.model(items: n, catalogItems: total, similarityDims: simDims, contentDims: dims,
                                               categories: categories), model: model, items: n, checkAvailable: false)
}
