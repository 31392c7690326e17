// recommender.update(): folds the interactions that arrived since the last training into the
// stored Gram matrix and solves again, without reading the whole interactions table.
#if canImport(Glibc)
import Glibc
#endif
import CPostgresShim
import RecommenderCore

@_cdecl("rec_swift_update")
public func rec_swift_update(_ model: UnsafePointer<CChar>?, _ sink: OpaquePointer?) -> Int32 {
    guarded {
        guard let name = modelName(model) else { throw RecError.nullValue("model must not be NULL") }
        let t0 = now()
        _ = try Catalog.resolve(name)
        _ = try PG.exec("SELECT 1 FROM recommender.model WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE", [.text(name)])
        let m = try Catalog.resolve(name)
        let oldVersion = try Catalog.requireTrained(m)
        Backend.sql[m.name] = nil
        let sql = try Catalog.sql(m)
        Catalog.setHint(for: m)
        // integers, or the shop's own keys numbered as the last training numbered them (ItemKeys.swift)
        let ids = TrainingIds(model: m.name, sql: sql)

        // what the last training kept
        var n = 0
        var watermark: Double? = nil
        var keep = false
        var lambda = 200.0, dropout = 0.0, rowNorm = 0.0, power = 1.0, scale = 1.0
        var maxItems = 10000
        var weighting = Weighting.log
        let pc = try Cursor("""
            SELECT items, (params OPERATOR(pg_catalog.->>) 'watermark')::pg_catalog.float8, COALESCE((params OPERATOR(pg_catalog.->>) 'keep_gram')::pg_catalog.bool, false),
                   (params OPERATOR(pg_catalog.->>) 'lambda')::pg_catalog.float8, COALESCE((params OPERATOR(pg_catalog.->>) 'dropout')::pg_catalog.float8, 0),
                   COALESCE((params OPERATOR(pg_catalog.->>) 'row_norm')::pg_catalog.float8, 0), params OPERATOR(pg_catalog.->>) 'weighting',
                   COALESCE((params OPERATOR(pg_catalog.->>) 'weight_power')::pg_catalog.float8, 1), COALESCE((params OPERATOR(pg_catalog.->>) 'weight_scale')::pg_catalog.float8, 1),
                   COALESCE((params OPERATOR(pg_catalog.->>) 'max_items')::pg_catalog.int4, 10000)
              FROM recommender.model_version WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
            """, [.text(m.name), .int8(oldVersion)])
        try pc.forEachRow { r in
            n = Int(try pc.int4(r, 0) ?? 0)
            watermark = try pc.float8(r, 1)
            keep = try pc.bool(r, 2) ?? false
            lambda = try pc.float8(r, 3) ?? lambda
            dropout = try pc.float8(r, 4) ?? 0
            rowNorm = try pc.float8(r, 5) ?? 0
            weighting = Weighting(rawValue: try pc.text(r, 6) ?? "log") ?? .log
            power = try pc.float8(r, 7) ?? 1
            scale = try pc.float8(r, 8) ?? 1
            maxItems = Int(try pc.int4(r, 9) ?? 10000)
        }
        try pc.close()
        if try hasSequentialComponent(model: m.name, version: oldVersion) {
            try PG.notice("recommender: model \"\(m.name)\" has a sequential component, which update() cannot fold new interactions into: training it in full")
            let r = try trainModel(m.name)
            try Sink(handle: sink).row([.text(r.model), .int8(r.version), .int4(Int32(clamping: r.users)), .null(Int32(REC_INT8)),
                                        .float8(now() - t0)])
            return
        }
        if try isSparseVersion(model: m.name, version: oldVersion) {
            // the sparse kind keeps no Gram matrix: update() retrains it in full (README, "The sparse kind")
            try PG.notice("recommender: model \"\(m.name)\" is of the sparse kind, which update() retrains in full")
            let r = try trainModel(m.name)
            try Sink(handle: sink).row([.text(r.model), .int8(r.version), .int4(Int32(clamping: r.users)), .null(Int32(REC_INT8)),
                                        .float8(now() - t0)])
            return
        }
        guard keep else {
            throw RecError.objectState("model \"\(m.name)\" was trained without keeping its Gram matrix",
                                       hint: "SELECT recommender.configure('\(m.name)', keep_gram => true); then train once; later updates fold new interactions in.")
        }
        try Registration.requireUnchanged(model: m.name, version: oldVersion)
        guard let mark = watermark else {
            throw RecError.objectState("model \"\(m.name)\" has no time column, so new interactions cannot be told from old ones",
                                       hint: "Register the interactions table with time_column => ..., or retrain with recommender.train().")
        }
        guard n > 0, n <= ModelLimits.maxItems else { throw RecError.internalError("model \"\(m.name)\" has invalid sizes") }
        // the folded Gram matrix and the solve: checked before they are allocated (the content
        // vectors are checked again when the catalog has been read)
        try Memory.checkTraining(TrainingShape(items: n, similarityDims: 0), model: m.name, what: "update()", announce: true)

        // 1. users with interactions after the watermark
        try PG.notice("recommender: updating model \"\(m.name)\" with the interactions after its last training")
        //    (compares the raw time column, so an index on it turns this into a range scan)
        guard let since = sql.since else {
            throw RecError.objectState("model \"\(m.name)\" has no time column", hint: "Retrain with recommender.train().")
        }
        var users: [Int64] = []
        let uc = try Cursor(since, [.float8(mark)])
        try uc.forEachRow { r in if let u = try ids.user(uc, r, 0) { users.append(u) } }
        try uc.close()
        users.sort()

        // 2. their rows before and after, from their full histories. The collaborative items'
        //    ids come from the stored version (not from a loaded model: update() need not hold
        //    the served weights as well)
        if ids.itemType.keyed, let k = try ItemKeys.stored(model: m.name, version: oldVersion) { ids.items.seed(k) }
        var cfIds = [Int64](repeating: 0, count: n)
        var cfIndex: [Int64: Int32] = [:]
        var idRows = 0
        let ic = try Cursor("""
            SELECT idx, item_id FROM recommender.model_item
             WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2 AND idx OPERATOR(pg_catalog.<) $3 ORDER BY idx
            """, [.text(m.name), .int8(oldVersion), .int4(Int32(n))])
        try ic.forEachRow(batch: 5000) { r in
            guard let i = try ic.int4(r, 0), Int(i) == idRows, let id = try ic.int8(r, 1) else {
                throw RecError.internalError("model \"\(m.name)\" version \(oldVersion): item rows are incomplete")
            }
            cfIds[Int(i)] = id
            cfIndex[id] = i
            idRows += 1
        }
        try ic.close()
        guard idRows == n else { throw RecError.internalError("model \"\(m.name)\" version \(oldVersion) has \(idRows) of \(n) item rows") }
        let transform = ValueTransform(weighting, power: power, scale: scale)
        var oldRows: [Int64: [Int32: Double]] = [:]
        var newRows: [Int64: [Int32: Double]] = [:]
        var newEvents = 0
        var newMark = mark
        // the affected users' full histories, in batches, through the index on the user column
        // that recommend() needs anyway: the cost follows the new activity, not the table's size
        var start = 0
        while start < users.count {
            let batch = users[start..<min(users.count, start + 2000)]
            start += batch.count
            let literal = ids.userType.keyed ? keyArrayLiteral(batch.map { ids.users.keyOf[$0] ?? "" })
                                             : "{" + batch.map(String.init).joined(separator: ",") + "}"
            let hc = try Cursor(sql.users, [.text(literal)])
            try hc.forEachRow(batch: 10000) { r in
                guard let u = try ids.user(hc, r, 0), let item = try ids.item(hc, r, 1) else {
                    throw RecError.nullValue("the interactions of model \"\(m.name)\" have a NULL id",
                                             hint: "Remove or fix the rows with NULL ids, or register a view that filters them.")
                }
                let w = try hc.float8(r, 2) ?? 0
                try validateWeight(w, "the interaction of user \(ids.userName(u)) with item \(ids.itemName(item)) (model \"\(m.name)\")")
                let ts = try hc.float8(r, 3)
                try ids.checkTime(ts, user: u, item: item)
                guard w > 0, let idx = cfIndex[item] else { return }   // items new since training stay content-only
                newRows[u, default: [:]][idx, default: 0] += w
                if let t = ts, t > mark {
                    newEvents += 1
                    if t > newMark { newMark = t }
                } else {
                    oldRows[u, default: [:]][idx, default: 0] += w
                }
            }
            try hc.close()
            try PG.interrupt()
        }
        func row(_ r: [Int32: Double]?) -> [(Int32, Double)] {
            guard let r = r, !r.isEmpty else { return [] }
            let f = rowNorm != 0 ? pow(Double(r.count), -rowNorm) : 1
            return r.sorted { $0.key < $1.key }.compactMap { (i, w) in
                let v = transform.apply(w) * f
                return v > 0 && v.isFinite ? (i, v) : nil
            }
        }

        // 3. the stored Gram matrix, folded
        var g = [Double](repeating: 0, count: n * n)
        var rows = 0
        let gc = try Cursor("SELECT idx, gram FROM recommender.model_gram WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2 ORDER BY idx",
                            [.text(m.name), .int8(oldVersion)])
        try gc.forEachRow(batch: 64) { r in
            guard let i = try gc.int4(r, 0), Int(i) == rows, Int(i) < n,
                  try gc.doubles(r, 1, into: &g, at: Int(i) * n, expected: n) else {
                throw RecError.internalError("the stored Gram matrix of model \"\(m.name)\" is damaged")
            }
            rows += 1
        }
        try gc.close()
        guard rows == n else { throw RecError.internalError("the stored Gram matrix of model \"\(m.name)\" has \(rows) of \(n) rows") }
        for (t, u) in users.enumerated() {
            try EASE.foldIn(gram: &g, n: n, old: row(oldRows[u]), new: row(newRows[u]), interrupt: PG.interrupt)
            if t % 256 == 255 { try PG.interrupt() }
        }
        try ModelValidation.checkGram(g, n: n, model: m.name, weighting: weighting)
        // the new version's row and its Gram matrix now, before the solve consumes g (so it is
        // never copied); the content fields of the parameters are completed below
        let vc = try Cursor("SELECT pg_catalog.nextval('recommender.version_seq')")
        var version: Int64 = 0
        try vc.forEachRow { r in version = try vc.int8(r, 0) ?? 0 }
        try vc.close()
        let markPatch = "{" + [
            "\"watermark\": \(try ModelValidation.number(newMark, "watermark", model: m.name))",
            "\"updated_from\": \(oldVersion)",
        ].joined(separator: ", ") + "}"
        _ = try PG.exec("""
            INSERT INTO recommender.model_version (model, version, train_seconds, users, items, interactions, nonzeros, params)
            SELECT model, $3, 0, users, items, interactions OPERATOR(pg_catalog.+) $4, nonzeros, params OPERATOR(pg_catalog.||) $5::pg_catalog.jsonb
              FROM recommender.model_version WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
            """, [.text(m.name), .int8(oldVersion), .int8(version), .int8(Int64(newEvents)), .text(markPatch)])
        try storeGram(model: m.name, version: version, gram: g, n: n)
        try PG.notice("recommender: \(newEvents) new interactions of \(users.count) users folded in (\(formatNumber(now() - t0)) s); solving again")
        let weights = try EASE.fit(gram: &g, n: n, lambda: lambda, dropout: dropout, threads: Int(rec_training_threads()), interrupt: PG.interrupt)
        g = []
        try ModelValidation.checkWeights(weights, model: m.name, weighting: weighting)

        // 4. the catalog as it is now: products added since training join as content-only
        //    items, and every content vector and beta are computed again (as training would)
        let cat = try readCatalog(model: m, sql: sql, cfIds: cfIds, maxItems: maxItems, ids: ids)
        let allIds = cfIds + cat.newIds
        let content = try buildContent(sql: sql, model: m, catalog: cat, allIds: allIds, weights: weights, n: n)
        let catalogTotal = content.dims > 0 ? allIds.count : n

        // what the collaborative items keep from training: users, popularity, trend, similarity
        var itemUsers = [Int32](repeating: 0, count: n)
        var pop = [Double](repeating: 0, count: n)
        var trend = [Double](repeating: 1, count: n)
        var sims = [[UInt8]?](repeating: nil, count: n)
        let oc = try Cursor("""
            SELECT idx, users, popularity, trend, similarity FROM recommender.model_item
             WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2 AND idx OPERATOR(pg_catalog.<) $3 ORDER BY idx
            """, [.text(m.name), .int8(oldVersion), .int4(Int32(n))])
        try oc.forEachRow(batch: 1000) { r in
            guard let i = try oc.int4(r, 0), i >= 0, Int(i) < n else { return }
            itemUsers[Int(i)] = try oc.int4(r, 1) ?? 0
            pop[Int(i)] = try oc.float8(r, 2) ?? 0
            trend[Int(i)] = try oc.float8(r, 3) ?? 1
            sims[Int(i)] = try oc.byteArray(r, 4)
        }
        try oc.close()

        // 5. the new version
        let patch = "{" + [
            "\"catalog_items\": \(catalogTotal)",
            "\"content\": \(jsonString(content.kind))",
            "\"content_dims\": \(content.dims)",
            "\"content_beta\": \(try ModelValidation.number(content.beta, "content_beta", model: m.name))",
            "\"has_categories\": \(cat.hasCategories)",
            "\"categories\": [" + cat.categoryNames.map(jsonString).joined(separator: ", ") + "]",
        ].joined(separator: ", ") + "}"
        _ = try PG.exec("""
            UPDATE recommender.model_version SET params = params OPERATOR(pg_catalog.||) $3::pg_catalog.jsonb
             WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
            """, [.text(m.name), .int8(version), .text(patch)])
        let ins = try itemInsertPlan(keyed: ids.itemType.keyed)
        // content-only items get a zero similarity vector of the version's size, as training stores
        // (NULL made the new version unloadable: "similarity vector of item ... is damaged")
        // (the version's size: that of the collaborative items' stored vectors, none with categories)
        let simDims = (sims.first(where: { $0 != nil }) ?? nil).map { $0.count / 4 } ?? 0
        let zeroSim: SQLValue = simDims > 0
            ? .bytes(floatBytes([Float](repeating: 0, count: simDims)[...])) : .null(Int32(REC_BYTEA))
        for i in 0..<catalogTotal {
            let cf = i < n
            let cats: SQLValue = cat.hasCategories ? .text("{" + cat.itemCats[i].map(String.init).joined(separator: ",") + "}") : .null(Int32(REC_TEXT))
            let simv: SQLValue = cf ? (sims[i].map { SQLValue.bytes($0) } ?? .null(Int32(REC_BYTEA))) : zeroSim
            let cv: SQLValue = (content.dims > 0 && content.present[i])
                ? .bytes(floatBytes(content.vectors[(i * content.dims)..<((i + 1) * content.dims)])) : .null(Int32(REC_BYTEA))
            try ins.exec([.text(m.name), .int8(version), .int4(Int32(i)), .int8(allIds[i]), .int4(cf ? itemUsers[i] : 0),
                          .float8(cf ? pop[i] : 0), .float8(cf ? trend[i] : 1), cats, simv, cv,
                          .bytes(cf ? floatBytes(weights[(i * n)..<((i + 1) * n)]) : [])] + (ids.itemType.keyed ? [ids.storedKey(allIds[i])] : []))
            if i % 16 == 15 { try PG.interrupt() }
        }
        try ins.free()
        _ = try PG.exec("UPDATE recommender.model SET version = $2 WHERE name OPERATOR(pg_catalog.=) $1", [.text(m.name), .int8(version)])
        _ = try PG.exec("DELETE FROM recommender.model_version WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.<>) $2",
                        [.text(m.name), .int8(version)])
        let elapsed = now() - t0
        _ = try PG.exec("UPDATE recommender.model_version SET train_seconds = $3 WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2",
                        [.text(m.name), .int8(version), .float8(elapsed)])
        try PG.notice("recommender: model \"\(m.name)\" version \(version) updated in \(formatNumber(elapsed)) s")
        try Sink(handle: sink).row([.text(m.name), .int8(version), .int4(Int32(clamping: users.count)), .int8(Int64(newEvents)), .float8(elapsed)])
    }
}
