// Training of the sparse kind (kind => 'sparse', or 'auto' above ModelLimits.autoSparseAbove
// items): the sparse Gram matrix, SANSA (Sources/RecommenderCore/SANSA.swift), and the rows of B
// stored as (index, weight) pairs in recommender.model_item.weights, with params->>'kind' =
// 'sparse' in the version so that the loader decodes them. It continues trainModel() once the
// interactions are read, with the same weighting, row_norm, λ and dropout.
import CPostgresShim
import RecommenderCore

func trainSparse(model m: ModelRow, params p: TrainParams, input b: TrainingInput,
                 transform: ValueTransform, registration: String, sql: ModelSQL, t0: Double) throws -> TrainResult {
    guard p.sequenceWeight == 0 else {
        throw RecError.invalidParameter("the sparse kind has no sequential component (model \"\(m.name)\" has sequence_weight \(p.sequenceWeight))",
                                        hint: "SELECT recommender.configure('\(m.name)', sequence_weight => 0), or kind => 'dense' for a catalog of at most \(ModelLimits.maxItems) items.")
    }
    guard p.density.isFinite, p.density > 0, p.density <= 1 else {
        throw RecError.invalidParameter("density must be in (0, 1] (got \(p.density))")
    }
    let n = b.itemCount
    guard n <= ModelLimits.maxSparseItems else {
        throw RecError.programLimit("the sparse kind is limited to \(ModelLimits.maxSparseItems) items; the data has \(n)")
    }
    // 2. the catalog beyond the trained items
    let cat = try readCatalog(model: m, sql: sql, cfIds: b.itemIds, maxItems: p.maxItems)
    let total = n + cat.newIds.count
    let hasCategories = cat.hasCategories
    let dims = hasCategories ? 0 : min(48, n)

    // sizes before the large allocations: the Gram matrix's non-zeros are counted first
    try PG.notice("recommender: counting the co-occurring item pairs")
    let gramNonZeros = try b.sparseGramCount()
    let contentGuess = sql.content == nil ? 0 : (m.hasEmbedding ? 0 : 256)
    let shape = TrainingShape(items: n, catalogItems: total, nonZeros: b.nonZeros, users: b.userCount, events: b.events,
                              similarityDims: dims, contentDims: contentGuess)
    let need = MemoryBudget.sparseTraining(shape, gramNonZeros: gramNonZeros)
    try PG.notice("recommender: training (sparse, \(gramNonZeros) Gram non-zeros) needs about \(need) of memory before the factorisation (recommender.max_training_memory is \(formatBytes(Memory.trainingLimit)))")
    try MemoryBudget.check(need, what: "training of model \"\(m.name)\" (\(n) items, sparse)", limit: Memory.trainingLimit,
                           setting: "recommender.max_training_memory", available: Memory.available,
                           hint: "lower the model's max_items, or register a view that keeps the items that matter.")
    let perRow = SANSA.perRow(n: n, density: p.density, minimum: ModelLimits.sparseMinWeightsPerItem)
    try Memory.checkServing(MemoryBudget.sparseModel(items: n, nonZeros: n * perRow, catalogItems: total, similarityDims: dims,
                                                     contentDims: contentGuess, categories: hasCategories),
                            model: m.name, items: n, checkAvailable: false)

    // 3. the sparse Gram matrix, the similarity vectors, SANSA
    try PG.notice("recommender: computing the sparse item Gram matrix")
    let g = try b.sparseGram()
    for v in g.diagonal where !v.isFinite {
        throw RecError.outOfRange("the interaction values of model \"\(m.name)\" are too large: X^T X overflows double precision (weighting '\(p.weighting.rawValue)')",
                                  hint: "Use weighting 'log' or 'power' (recommender.configure), or scale the weights down. The version in use is unchanged.")
    }
    let sim = hasCategories ? [] : try SparseGram.similarityVectors(g, dims: dims, interrupt: PG.interrupt)
    try PG.notice("recommender: solving the sparse model (SANSA, lambda \(p.lambda)\(p.dropout > 0 ? ", dropout \(p.dropout)" : ""), density \(p.density): \(perRow) weights per item)")
    var limit = Memory.trainingLimit - (need.value ?? Memory.trainingLimit)
    if let a = Memory.available { limit = min(limit, a) }
    // recommender.training_threads (counted in SANSA's memory check: each thread's work arrays)
    ParallelBlocks.threads = max(1, min(64, Int(rec_training_threads())))
    let fit = try SANSA.fit(gram: g, lambda: p.lambda, dropout: p.dropout, density: p.density,
                             minimumPerRow: ModelLimits.sparseMinWeightsPerItem, limit: max(0, limit), interrupt: PG.interrupt,
                             progress: { let t = now() - t0; try? PG.notice("recommender: \($0) (\(formatNumber(t)) s)") })
    if fit.incomplete {
        try PG.notice("recommender: the exact factor was too large (\(fit.flops) flops); an incomplete factorisation with a fill budget was used")
    }
    let weights = fit.weights
    let users = try b.itemUserCounts(interrupt: PG.interrupt)
    let (pop, trend) = try b.coldStartRanking(halfLife: p.halfLife, trendWeight: p.trendWeight, interrupt: PG.interrupt)

    // 4. content vectors, and beta against the sparse weights
    let allIds = b.itemIds + cat.newIds
    let content = try buildContent(sql: sql, model: m, catalog: cat, allIds: allIds, weights: [], n: n, sparse: weights)
    let contentDims = content.dims
    let catalogTotal = contentDims > 0 ? total : n

    // 5. store the new version
    try PG.notice("recommender: storing version (\(formatNumber(now() - t0)) s)")
    let vc = try Cursor("SELECT pg_catalog.nextval('recommender.version_seq')")
    var version: Int64 = 0
    try vc.forEachRow { r in version = try vc.int8(r, 0) ?? 0 }
    try vc.close()
    func num(_ v: Double, _ what: String) throws -> String { try ModelValidation.number(v, what, model: m.name) }
    let params = "{" + [
        "\"cf_items\": \(n)",
        "\"kind\": \"sparse\"",
        "\"density\": \(p.density)",
        "\"sparse_nonzeros\": \(weights.nonZeros)",
        "\"gram_nonzeros\": \(gramNonZeros)",
        "\"factor\": \(fit.incomplete ? "\"incomplete\"" : "\"exact\"")",
        "\"factor_nonzeros\": \(fit.factorNonZeros)",
        "\"threads\": \(ParallelBlocks.threads)",
        "\"registration\": \(jsonString(registration))",
        "\"watermark\": \(b.maxTime.isFinite ? String(b.maxTime) : "null")",
        "\"keep_gram\": false",
        "\"catalog_items\": \(catalogTotal)",
        "\"content\": \(jsonString(content.kind))",
        "\"content_dims\": \(contentDims)",
        "\"content_beta\": \(try num(content.beta, "content_beta"))",
        "\"lambda\": \(p.lambda)",
        "\"weighting\": \(jsonString(p.weighting.rawValue))",
        "\"weight_power\": \(try num(transform.power, "weight_power"))",
        "\"weight_scale\": \(try num(transform.scale, "weight_scale"))",
        "\"dropout\": \(p.dropout)",
        "\"row_norm\": \(p.rowNorm)",
        "\"trend_weight\": \(p.trendWeight)",
        "\"max_items\": \(p.maxItems)",
        "\"sequence_weight\": 0",
        "\"sequence_scale\": 0",
        "\"popularity_half_life_seconds\": \(p.halfLife)",
        "\"has_categories\": \(hasCategories)",
        "\"similarity_dims\": \(dims)",
        "\"categories\": [" + cat.categoryNames.map(jsonString).joined(separator: ", ") + "]",
        "\"algorithm\": \"SANSA (Spisak et al. 2023)\"",
    ].joined(separator: ", ") + "}"
    _ = try PG.exec("""
        INSERT INTO recommender.model_version (model, version, train_seconds, users, items, interactions, nonzeros, params)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::pg_catalog.jsonb)
        """, [.text(m.name), .int8(version), .float8(now() - t0), .int4(Int32(b.userCount)), .int4(Int32(n)),
              .int8(Int64(b.events)), .int8(Int64(b.nonZeros)), .text(params)])
    let ins = try Plan("""
        INSERT INTO recommender.model_item (model, version, idx, item_id, users, popularity, trend, categories, similarity, content, weights)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::pg_catalog.int4[], $9, $10, $11)
        """, kinds: [Int32(REC_TEXT), Int32(REC_INT8), Int32(REC_INT4), Int32(REC_INT8), Int32(REC_INT4),
                     Int32(REC_FLOAT8), Int32(REC_FLOAT8), Int32(REC_TEXT), Int32(REC_BYTEA), Int32(REC_BYTEA), Int32(REC_BYTEA)])
    let zeroSim = [Float](repeating: 0, count: dims)
    for i in 0..<catalogTotal {
        let cf = i < n
        let cats: SQLValue = hasCategories ? .text("{" + cat.itemCats[i].map(String.init).joined(separator: ",") + "}") : .null(Int32(REC_TEXT))
        let simv: SQLValue = dims > 0 ? .bytes(cf ? floatBytes(sim[(i * dims)..<((i + 1) * dims)]) : floatBytes(zeroSim[...])) : .null(Int32(REC_BYTEA))
        let cv: SQLValue = (contentDims > 0 && content.present[i])
            ? .bytes(floatBytes(content.vectors[(i * contentDims)..<((i + 1) * contentDims)])) : .null(Int32(REC_BYTEA))
        try ins.exec([.text(m.name), .int8(version), .int4(Int32(i)), .int8(allIds[i]), .int4(cf ? Int32(clamping: users[i]) : 0),
                      .float8(cf ? pop[i] : 0), .float8(cf ? trend[i] : 1), cats, simv, cv,
                      .bytes(cf ? weights.encodeRow(i) : [])])
        if i % 16 == 15 { try PG.interrupt() }
    }
    try ins.free()
    _ = try PG.exec("UPDATE recommender.model SET version = $2 WHERE name OPERATOR(pg_catalog.=) $1", [.text(m.name), .int8(version)])
    _ = try PG.exec("DELETE FROM recommender.model_version WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.<>) $2",
                    [.text(m.name), .int8(version)])
    let elapsed = now() - t0
    _ = try PG.exec("UPDATE recommender.model_version SET train_seconds = $3 WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
                    [.text(m.name), .int8(version), .float8(elapsed)])
    try PG.notice("recommender: model \"\(m.name)\" version \(version) (sparse, \(weights.nonZeros) weights) trained in \(formatNumber(elapsed)) s")
    return TrainResult(model: m.name, version: version, users: b.userCount, items: n, interactions: b.events, seconds: elapsed)
}

/// Whether a stored version is of the sparse kind (params->>'kind').
func isSparseVersion(model: String, version: Int64) throws -> Bool {
    let c = try Cursor("""
        SELECT COALESCE(params OPERATOR(pg_catalog.->>) 'kind', 'dense') FROM recommender.model_version
         WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
        """, [.text(model), .int8(version)])
    var sparse = false
    try c.forEachRow { r in sparse = (try c.text(r, 0) ?? "dense") == "sparse" }
    try c.close()
    return sparse
}
