// Training inside the database: read the registered interactions through a cursor, fit EASE,
// and store the new version in the extension's tables in the caller's transaction, so that it
// replaces the old version atomically when that transaction commits.
#if canImport(Glibc)
import Glibc
#endif
import CPostgresShim
import RecommenderCore

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}

struct TrainParams {
    var keepGram = false
    var lambda = 200.0
    var weighting = Weighting.log
    var weightPower = 2.0
    var dropout = 0.0
    var rowNorm = 0.0
    var trendWeight = 0.5
    var maxItems = 1_000_000
    var halfLife = 14.0 * 86400
    var sequenceWeight = 0.0
    /// The sequential component's position decay in positions (0.4.0; TrainSequence.swift).
    var sequenceHalfLife = SequenceModel.halfLife
    /// 'auto', 'dense' or 'sparse' (TrainSparse.swift), and the sparse kind's density.
    var kind = "auto"
    var density = 0.0001
}

func floatBytes(_ a: ArraySlice<Float>) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: a.count * 4)
    a.withUnsafeBytes { src in out.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
    return out
}

@_cdecl("rec_swift_train")
public func rec_swift_train(_ model: UnsafePointer<CChar>?, _ sink: OpaquePointer?) -> Int32 {
    guarded {
        guard let name = modelName(model) else { throw RecError.nullValue("model must not be NULL") }
        let r = try trainModel(name)
        try Sink(handle: sink).row([.text(r.model), .int8(r.version), .int4(Int32(clamping: r.users)), .int4(Int32(clamping: r.items)),
                                    .int8(Int64(r.interactions)), .float8(r.seconds)])
    }
}

/// What one training made.
struct TrainResult {
    var model: String
    var version: Int64
    var users: Int
    var items: Int
    var interactions: Int
    var seconds: Double
}

/// Trains the model and stores the new version in the caller's transaction (train(), and update()
/// for models it cannot fold new interactions into).
func trainModel(_ name: String) throws -> TrainResult {
    do {
        let t0 = now()
        // Lock the registration: concurrent trainings of one model queue up instead of racing.
        _ = try Catalog.resolve(name)   // a clear error for unknown models
        _ = try PG.exec("SELECT 1 FROM recommender.model WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE", [.text(name)])
        let m = try Catalog.resolve(name)
        var p = TrainParams()
        let pc = try Cursor("""
            SELECT lambda, weighting, max_items, pg_catalog.date_part('epoch', popularity_half_life)::pg_catalog.float8,
                   weight_power, dropout, row_norm, trend_weight, keep_gram,
                   COALESCE((pg_catalog.to_jsonb(m) OPERATOR(pg_catalog.->>) 'sequence_weight')::pg_catalog.float8, 0),
                   COALESCE(pg_catalog.to_jsonb(m) OPERATOR(pg_catalog.->>) 'kind', 'dense'),
                   COALESCE((pg_catalog.to_jsonb(m) OPERATOR(pg_catalog.->>) 'density')::pg_catalog.float8, 0.0001),
                   COALESCE((pg_catalog.to_jsonb(m) OPERATOR(pg_catalog.->>) 'sequence_half_life')::pg_catalog.float8, 2)
              FROM recommender.model m WHERE name OPERATOR(pg_catalog.=) $1
            """, [.text(m.name)])
        try pc.forEachRow { r in
            p.lambda = try pc.float8(r, 0) ?? p.lambda
            p.weighting = Weighting(rawValue: try pc.text(r, 1) ?? "log") ?? .log
            p.maxItems = Int(try pc.int4(r, 2) ?? 1_000_000)
            p.halfLife = try pc.float8(r, 3) ?? p.halfLife
            p.weightPower = try pc.float8(r, 4) ?? p.weightPower
            p.dropout = try pc.float8(r, 5) ?? p.dropout
            p.rowNorm = try pc.float8(r, 6) ?? p.rowNorm
            p.trendWeight = try pc.float8(r, 7) ?? p.trendWeight
            p.keepGram = try pc.bool(r, 8) ?? false
            p.sequenceWeight = try pc.float8(r, 9) ?? 0
            p.kind = try pc.text(r, 10) ?? "dense"
            p.density = try pc.float8(r, 11) ?? p.density
            p.sequenceHalfLife = try pc.float8(r, 12) ?? p.sequenceHalfLife
        }
        try pc.close()
        Backend.sql[m.name] = nil          // validate the registration afresh
        let sql = try Catalog.sql(m)
        Catalog.setHint(for: m)
        let registration = try Registration.fingerprint(model: m.name) ?? ""

        // 1. interactions: every row, or the partitions' partial results (TrainingInput.swift)
        let ids = TrainingIds(model: m.name, sql: sql)   // integers, or the shop's own keys (ItemKeys.swift)
        let b = try TrainingInput.read(model: m, params: p, sql: sql, ids: ids)
        let transform = b.transform
        let n = b.itemCount
        try PG.notice("recommender: \(b.events) interactions, \(b.userCount) users, \(n) items, \(b.nonZeros) user-item pairs")
        var kind = try ModelKind.effective(p.kind, items: n)
        if kind == .dense && p.kind == "auto" && p.sequenceWeight == 0 {
            // 'auto' picks the kind that trains and serves within the memory settings: the dense
            // kind up to 20,000 items when it fits (estimated with the catalog's own items and
            // the largest similarity and content vectors), the sparse kind otherwise
            let guessDims = min(48, n), guessContent = sql.content == nil ? 0 : (m.hasEmbedding ? 0 : 256)
            let shape = TrainingShape(items: n, catalogItems: n, nonZeros: b.nonZeros, users: b.userCount, events: b.events,
                                      similarityDims: guessDims, contentDims: guessContent, sequence: false)
            let serving = MemoryBudget.model(items: n, catalogItems: n, similarityDims: guessDims, contentDims: guessContent,
                                             categories: false)
            if !Memory.denseFits(shape, serving: serving) {
                try PG.notice("recommender: kind auto: the dense model of \(n) items would not fit recommender.max_training_memory or recommender.max_cache_memory; training the sparse kind")
                kind = .sparse
            }
        }
        if kind == .sparse {
            return try trainSparse(model: m, params: p, input: b, transform: transform, registration: registration, sql: sql, t0: t0)
        }

        // 2. the catalog beyond the trained items: categories and content of the items table
        let cat = try readCatalog(model: m, sql: sql, cfIds: b.itemIds, maxItems: p.maxItems, ids: ids)
        let total = n + cat.newIds.count
        let hasCategories = cat.hasCategories, categoryNames = cat.categoryNames, itemCats = cat.itemCats
        let newIds = cat.newIds
        let dims = hasCategories ? 0 : min(48, n)

        // the memory this needs, checked before anything of size items² is allocated (content
        // vectors of an embedding column are checked again once their dimension is known)
        let contentGuess = sql.content == nil ? 0 : (m.hasEmbedding ? 0 : 256)
        let shape = TrainingShape(items: n, catalogItems: total, nonZeros: b.nonZeros, users: b.userCount, events: b.events,
                                  similarityDims: dims, contentDims: contentGuess, sequence: p.sequenceWeight > 0)
        try Memory.checkTraining(shape, model: m.name, announce: true)
        try Memory.checkServing(MemoryBudget.model(items: n, catalogItems: total, similarityDims: dims, contentDims: contentGuess,
                                                   categories: hasCategories), model: m.name, items: n, checkAvailable: false)

        // 3. EASE
        try PG.notice("recommender: computing the \(n) x \(n) item Gram matrix")
        var g = try b.gram()
        try ModelValidation.checkGram(g, n: n, model: m.name, weighting: p.weighting)
        // The version number now; with keep_gram the Gram matrix is stored before the solve
        // consumes it (under a provisional version row completed below), so it is never copied.
        let vc = try Cursor("SELECT pg_catalog.nextval('recommender.version_seq')")
        var version: Int64 = 0
        try vc.forEachRow { r in version = try vc.int8(r, 0) ?? 0 }
        try vc.close()
        if p.keepGram {
            _ = try PG.exec("""
                INSERT INTO recommender.model_version (model, version, train_seconds, users, items, interactions, nonzeros, params)
                VALUES ($1, $2, 0, 0, 0, 0, 0, '{}')
                """, [.text(m.name), .int8(version)])
            try storeGram(model: m.name, version: version, gram: g, n: n)
        }
        let sim = hasCategories ? [] : try EASE.similarityVectors(gram: g, n: n, dims: dims, interrupt: PG.interrupt)
        try PG.interrupt()
        var weights: [Float]
        var sequenceScale: Double? = nil
        if let joint = try fitWithSequence(gram: &g, params: p, input: b, n: n) {
            weights = joint.weights
            sequenceScale = joint.scale
        } else {
            try PG.notice("recommender: solving \(p.dropout > 0 ? "EDLAE" : "EASE") (lambda \(p.lambda)\(p.dropout > 0 ? ", dropout \(p.dropout)" : ""))")
            weights = try EASE.fit(gram: &g, n: n, lambda: p.lambda, dropout: p.dropout, threads: Int(rec_training_threads()), interrupt: PG.interrupt)
        }
        g = []
        try ModelValidation.checkWeights(weights, model: m.name, weighting: p.weighting)
        let users = try b.itemUserCounts(interrupt: PG.interrupt)
        let (pop, trend) = try b.coldStartRanking(halfLife: p.halfLife, trendWeight: p.trendWeight, interrupt: PG.interrupt)

        // 4. content vectors, and beta: how content similarity maps into the model's weights
        let allIds = b.itemIds + newIds
        let content = try buildContent(sql: sql, model: m, catalog: cat, allIds: allIds, weights: weights, n: n)
        let contentDims = content.dims, contentVectors = content.vectors, contentPresent = content.present
        let contentBeta = content.beta, contentKind = content.kind
        let catalogTotal = contentDims > 0 ? total : n

        // 5. store the new version
        try PG.notice("recommender: storing version")
        let seconds = now() - t0
        func num(_ x: Double, _ what: String) throws -> String { try ModelValidation.number(x, what, model: m.name) }
        let params = "{" + ([
            "\"cf_items\": \(n)",
            "\"kind\": \"dense\"",
            "\"registration\": \(jsonString(registration))",
            "\"watermark\": \(b.maxTime.isFinite ? String(b.maxTime) : "null")",
            "\"keep_gram\": \(p.keepGram)",
            "\"catalog_items\": \(catalogTotal)",
            "\"content\": \(jsonString(contentKind))",
            "\"content_dims\": \(contentDims)",
            "\"content_beta\": \(try num(contentBeta, "content_beta"))",
            "\"lambda\": \(p.lambda)",
            "\"weighting\": \(jsonString(p.weighting.rawValue))",
            "\"weight_power\": \(try num(transform.power, "weight_power"))",
            "\"weight_scale\": \(try num(transform.scale, "weight_scale"))",
            "\"dropout\": \(p.dropout)",
            "\"row_norm\": \(p.rowNorm)",
            "\"trend_weight\": \(p.trendWeight)",
            "\"max_items\": \(p.maxItems)",
            "\"sequence_weight\": \(sequenceScale == nil ? 0 : p.sequenceWeight)",
            "\"sequence_scale\": \(sequenceScale ?? 0)",
            "\"sequence_half_life\": \(sequenceScale == nil ? 0 : p.sequenceHalfLife)",
            "\"popularity_half_life_seconds\": \(p.halfLife)",
            "\"has_categories\": \(hasCategories)",
            "\"similarity_dims\": \(dims)",
            "\"categories\": [" + categoryNames.map(jsonString).joined(separator: ", ") + "]",
            "\"algorithm\": \(p.dropout > 0 ? "\"EDLAE (Steck 2020)\"" : "\"EASE (Steck 2019)\"")",
        ] + ids.paramsEntry).joined(separator: ", ") + "}"
        _ = try PG.exec("""
            INSERT INTO recommender.model_version (model, version, train_seconds, users, items, interactions, nonzeros, params)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::pg_catalog.jsonb)
            ON CONFLICT (model, version) DO UPDATE SET train_seconds = EXCLUDED.train_seconds, users = EXCLUDED.users,
                   items = EXCLUDED.items, interactions = EXCLUDED.interactions, nonzeros = EXCLUDED.nonzeros, params = EXCLUDED.params
            """, [.text(m.name), .int8(version), .float8(seconds), .int4(Int32(b.userCount)), .int4(Int32(n)),
                  .int8(Int64(b.events)), .int8(Int64(b.nonZeros)), .text(params)])
        let ins = try itemInsertPlan(keyed: ids.itemType.keyed)
        let zeroSim = [Float](repeating: 0, count: dims)
        for i in 0..<catalogTotal {
            let cf = i < n
            let cats: SQLValue = hasCategories ? .text("{" + itemCats[i].map(String.init).joined(separator: ",") + "}") : .null(Int32(REC_TEXT))
            let simv: SQLValue = dims > 0 ? .bytes(cf ? floatBytes(sim[(i * dims)..<((i + 1) * dims)]) : floatBytes(zeroSim[...])) : .null(Int32(REC_BYTEA))
            let cv: SQLValue = (contentDims > 0 && contentPresent[i]) ? .bytes(floatBytes(contentVectors[(i * contentDims)..<((i + 1) * contentDims)])) : .null(Int32(REC_BYTEA))
            try ins.exec([.text(m.name), .int8(version), .int4(Int32(i)), .int8(allIds[i]), .int4(cf ? Int32(clamping: users[i]) : 0),
                          .float8(cf ? pop[i] : 0), .float8(cf ? trend[i] : 1), cats, simv, cv,
                          .bytes(cf ? floatBytes(weights[(i * n)..<((i + 1) * n)]) : [])] + (ids.itemType.keyed ? [ids.storedKey(allIds[i])] : []))
            if i % 16 == 15 { try PG.interrupt() }
        }
        try ins.free()
        if sequenceScale != nil, let f = try b.followers(window: SequenceModel.window(forHalfLife: p.sequenceHalfLife), top: SequenceFollowers.stored) {
            try storeFollowers(f, model: m.name, version: version, ids: b.itemIds)
        }
        _ = try PG.exec("UPDATE recommender.model SET version = $2 WHERE name OPERATOR(pg_catalog.=) $1", [.text(m.name), .int8(version)])
        _ = try PG.exec("DELETE FROM recommender.model_version WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.<>) $2",
                        [.text(m.name), .int8(version)])
        let elapsed = now() - t0
        _ = try PG.exec("UPDATE recommender.model_version SET train_seconds = $3 WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
                        [.text(m.name), .int8(version), .float8(elapsed)])
        try PG.notice("recommender: model \"\(m.name)\" version \(version) trained in \(formatNumber(elapsed)) s")
        return TrainResult(model: m.name, version: version, users: b.userCount, items: n, interactions: b.events, seconds: elapsed)
    }
}

func doubleBytes(_ a: ArraySlice<Double>) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: a.count * 8)
    a.withUnsafeBytes { src in out.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
    return out
}

/// The Gram matrix X^T X (before regularisation), one float8 row per collaborative item, kept
/// for recommender.update().
func storeGram(model: String, version: Int64, gram: [Double], n: Int) throws {
    guard gram.count == n * n else { throw RecError.internalError("Gram matrix has the wrong size") }
    let ins = try Plan("INSERT INTO recommender.model_gram (model, version, idx, gram) VALUES ($1, $2, $3, $4)",
                       kinds: [Int32(REC_TEXT), Int32(REC_INT8), Int32(REC_INT4), Int32(REC_BYTEA)])
    for i in 0..<n {
        try ins.exec([.text(model), .int8(version), .int4(Int32(i)), .bytes(doubleBytes(gram[(i * n)..<((i + 1) * n)]))])
        if i % 16 == 15 { try PG.interrupt() }
    }
    try ins.free()
}

/// The followers explain() cites (model_follower), in one statement: the rows go as arrays.
/// Skipped in a database whose extension predates the table (this library also trains there,
/// between installing it and ALTER EXTENSION UPDATE).
func storeFollowers(_ f: SequenceFollowers, model: String, version: Int64, ids: [Int64]) throws {
    guard f.count > 0, try followerTableExists() else { return }
    var items: [String] = [], followers: [String] = []
    items.reserveCapacity(f.count); followers.reserveCapacity(f.count)
    for k in 0..<f.count {
        let i = Int(f.item[k]), j = Int(f.follower[k])
        guard i >= 0, i < ids.count, j >= 0, j < ids.count else { throw RecError.internalError("a follower outside the model's items") }
        items.append(String(ids[i])); followers.append(String(ids[j]))
    }
    func literal(_ a: [String]) -> String { "{" + a.joined(separator: ",") + "}" }
    _ = try PG.exec("""
        INSERT INTO recommender.model_follower (model, version, item_id, follower_id, rank, users)
        SELECT $1, $2, x.i, x.f, x.r, x.u
          FROM ROWS FROM (pg_catalog.unnest($3::pg_catalog.int8[]), pg_catalog.unnest($4::pg_catalog.int8[]),
                         pg_catalog.unnest($5::pg_catalog.int4[]), pg_catalog.unnest($6::pg_catalog.int4[])) AS x(i, f, r, u)
        """, [.text(model), .int8(version), .text(literal(items)), .text(literal(followers)),
              .text(literal(f.rank.map { String($0) })), .text(literal(f.users.map { String($0) }))])
}

/// The registered time column's name, for messages (read only when an error is reported).
func timeColumnName(_ model: String) -> String {
    guard let c = try? Cursor("SELECT pg_catalog.quote_ident(time_column) FROM recommender.model WHERE name OPERATOR(pg_catalog.=) $1",
                              [.text(model)]) else { return "(the time column)" }
    defer { try? c.close() }
    var out = "(the time column)"
    try? c.forEachRow { r in if let t = try c.text(r, 0) { out = t } }
    return out
}
