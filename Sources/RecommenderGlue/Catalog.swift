// The model catalog as the glue sees it: which model a call means, the validated SQL for its
// tables, and the per-backend cache of loaded models keyed by their immutable version.
import CPostgresShim
import RecommenderCore

struct ModelRow {
    var name: String
    var version: Int64?
    var configStamp: Int64
    var reranker: Reranker
    var candidatePool: Int
    var hasEmbedding: Bool
    var contentPrior: Double
}

struct ModelSQL {
    var stamp: Int64
    var train: String
    var history: String
    var category: String?
    var title: String?
    var content: String?
    var since: String?
    var users: String
}

/// Per-backend state. Only touched from the backend's main thread, between PostgreSQL calls.
enum Backend {
    static var models: [String: ItemModel] = [:]
    static var sql: [String: ModelSQL] = [:]

    static func reset() { models = [:]; sql = [:] }
}

enum Catalog {
    /// The model a call means: the named one, else "default", else the only one there is.
    static func resolve(_ requested: String?) throws -> ModelRow {
        let cursor = try Cursor("""
            SELECT name, version, config_stamp, reranker, candidate_pool, embedding_column IS NOT NULL, content_prior
              FROM recommender.model
             WHERE $1::pg_catalog.text IS NULL OR name OPERATOR(pg_catalog.=) $1::pg_catalog.text
             ORDER BY name OPERATOR(pg_catalog.=) 'default' DESC, name LIMIT 2
            """, [.optionalText(requested)])
        defer { try? cursor.close() }
        var rows: [ModelRow] = []
        try cursor.forEachRow { r in
            rows.append(ModelRow(name: try cursor.text(r, 0) ?? "",
                                 version: try cursor.int8(r, 1),
                                 configStamp: try cursor.int8(r, 2) ?? 0,
                                 reranker: Reranker(rawValue: try cursor.text(r, 3) ?? "coverage") ?? .coverage,
                                 candidatePool: Int(try cursor.int4(r, 4) ?? 100),
                                 hasEmbedding: try cursor.bool(r, 5) ?? false,
                                 contentPrior: try cursor.float8(r, 6) ?? 0))
        }
        if rows.isEmpty {
            // Hidden by row security? Then say "permission denied", as PostgreSQL would for the table.
            let h = try Cursor("SELECT recommender._hidden_model($1)", [.optionalText(requested)])
            var table: String? = nil
            try h.forEachRow { r in table = try h.text(r, 0) }
            try h.close()
            if let t = table {
                throw RecError("42501", "permission denied for model \"\(requested ?? "default")\": it reads table \(t)",
                               hint: "A role may use a model only if it may SELECT the model's interactions table: GRANT SELECT ON \(t) TO the role.")
            }
        }
        if let name = requested {
            guard let row = rows.first else {
                throw RecError("42704", "model \"\(name)\" does not exist",
                               hint: "recommender.list() shows the models you may use; recommender.register() adds one. A model is visible only to roles that may read its interactions table.")
            }
            return row
        }
        guard let first = rows.first else {
            throw RecError("42704", "no model is registered",
                           hint: "Register one with recommender.register('default', 'my_events', 'user_id', 'item_id'), then SELECT recommender.train('default').")
        }
        if first.name == "default" || rows.count == 1 { return first }
        throw RecError("42725", "several models are registered and none is called \"default\"",
                       hint: "Name the model: recommend(user_id, k, diversity, model => 'name').")
    }

    static func requireTrained(_ m: ModelRow) throws -> Int64 {
        guard let v = m.version else {
            throw RecError.objectState("model \"\(m.name)\" has not been trained yet",
                                       hint: "Run SELECT * FROM recommender.train('\(m.name)');")
        }
        return v
    }

    /// The validated queries for a model, cached until its registration changes.
    static func sql(_ m: ModelRow) throws -> ModelSQL {
        if let s = Backend.sql[m.name], s.stamp == m.configStamp { return s }
        let c = try Cursor("SELECT train_sql, history_sql, category_sql, title_sql, content_sql, since_sql, users_sql FROM recommender._model_sql($1)", [.text(m.name)])
        defer { try? c.close() }
        var out: ModelSQL? = nil
        try c.forEachRow { r in
            out = ModelSQL(stamp: m.configStamp, train: try c.text(r, 0) ?? "", history: try c.text(r, 1) ?? "",
                           category: try c.text(r, 2), title: try c.text(r, 3), content: try c.text(r, 4),
                           since: try c.text(r, 5), users: try c.text(r, 6) ?? "")
        }
        guard let s = out else { throw RecError.internalError("recommender._model_sql returned no row") }
        Backend.sql[m.name] = s
        return s
    }

    static func setHint(for m: ModelRow) {
        let hint = "The tables registered for model \"\(m.name)\" changed; check SELECT * FROM recommender.status('\(m.name)') and register the model again."
        hint.withCString { rec_set_pg_error_hint($0) }
    }

    /// The trained model, loaded once per backend and reused until a newer version is committed.
    static func model(_ m: ModelRow) throws -> ItemModel {
        let version = try requireTrained(m)
        if let cached = Backend.models[m.name], cached.version == version,
           (cached.content?.prior ?? m.contentPrior) == m.contentPrior { return cached }
        Backend.models[m.name] = nil   // free the old one before loading the new
        let loaded = try load(name: m.name, version: version, contentPrior: m.contentPrior)
        Backend.models[m.name] = loaded
        return loaded
    }

    static func load(name: String, version: Int64, contentPrior: Double = 0) throws -> ItemModel {
        var n = 0, dims = 0
        var weighting = Weighting.log
        var hasCategories = false
        var power = 1.0, scale = 1.0
        var total = 0, cdims = 0
        var beta = 0.0
        let meta = try Cursor("""
            SELECT items, params->>'weighting', (params->>'similarity_dims')::pg_catalog.int4,
                   (params->>'has_categories')::pg_catalog.bool,
                   COALESCE((params->>'weight_power')::pg_catalog.float8, 1),
                   COALESCE((params->>'weight_scale')::pg_catalog.float8, 1),
                   COALESCE((params->>'catalog_items')::pg_catalog.int4, items),
                   COALESCE((params->>'content_dims')::pg_catalog.int4, 0),
                   COALESCE((params->>'content_beta')::pg_catalog.float8, 0)
              FROM recommender.model_version WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
            """, [.text(name), .int8(version)])
        var found = false
        try meta.forEachRow { r in
            found = true
            n = Int(try meta.int4(r, 0) ?? 0)
            weighting = Weighting(rawValue: try meta.text(r, 1) ?? "log") ?? .log
            dims = Int(try meta.int4(r, 2) ?? 0)
            hasCategories = try meta.bool(r, 3) ?? false
            power = try meta.float8(r, 4) ?? 1
            scale = try meta.float8(r, 5) ?? 1
            total = Int(try meta.int4(r, 6) ?? 0)
            cdims = Int(try meta.int4(r, 7) ?? 0)
            beta = try meta.float8(r, 8) ?? 0
        }
        try meta.close()
        guard found else {
            throw RecError.objectState("model \"\(name)\" version \(version) is missing from recommender.model_version",
                                       hint: "Train the model again.")
        }
        guard n >= 0, n <= 30000, dims >= 0, dims <= 1024, cdims >= 0, cdims <= 8192, total >= n, total <= 2_000_000,
              (total == n || cdims > 0) else {
            throw RecError.internalError("model \"\(name)\" has invalid sizes")
        }
        var ids = [Int64](repeating: 0, count: total)
        var pop = [Double](repeating: 0, count: total)
        var users = [Int](repeating: 0, count: total)
        var weights = [Float](repeating: 0, count: n * n)
        var sim = [Float](repeating: 0, count: total * dims)
        var cvec = [Float](repeating: 0, count: total * cdims)
        var cpresent = [Bool](repeating: false, count: total)
        var cats: [[Int32]] = hasCategories ? [[Int32]](repeating: [], count: total) : []
        var expected: Int32 = 0
        let c = try Cursor("""
            SELECT idx, item_id, popularity, pg_catalog.array_to_string(categories, ','), similarity, weights, users, content
              FROM recommender.model_item WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
             ORDER BY idx
            """, [.text(name), .int8(version)])
        defer { try? c.close() }
        try c.forEachRow(batch: 64) { r in
            let idx = try c.int4(r, 0) ?? -1
            guard idx == expected, Int(idx) < total else {
                throw RecError.internalError("model \"\(name)\" version \(version): item rows are incomplete")
            }
            let i = Int(idx)
            ids[i] = try c.int8(r, 1) ?? 0
            pop[i] = try c.float8(r, 2) ?? 0
            if hasCategories, let s = try c.text(r, 3), !s.isEmpty {
                cats[i] = s.split(separator: ",").compactMap { Int32($0) }.sorted()
            }
            if dims > 0 {
                guard try c.floats(r, 4, into: &sim, at: i * dims, expected: dims) else {
                    throw RecError.internalError("model \"\(name)\": similarity vector of item \(ids[i]) is damaged")
                }
            }
            if i < n {
                guard try c.floats(r, 5, into: &weights, at: i * n, expected: n) else {
                    throw RecError.internalError("model \"\(name)\": weights of item \(ids[i]) are damaged")
                }
            }
            users[i] = Int(try c.int4(r, 6) ?? 0)
            if cdims > 0 {
                cpresent[i] = try c.floats(r, 7, into: &cvec, at: i * cdims, expected: cdims)
            }
            expected += 1
        }
        guard Int(expected) == total else {
            throw RecError.internalError("model \"\(name)\" version \(version) has \(expected) of \(total) item rows")
        }
        var names: [String] = []
        if hasCategories {
            let cn = try Cursor("""
                SELECT c.value FROM recommender.model_version v,
                       pg_catalog.jsonb_array_elements_text(v.params->'categories') WITH ORDINALITY AS c(value, n)
                 WHERE v.model OPERATOR(pg_catalog.=) $1 AND v.version OPERATOR(pg_catalog.=) $2 ORDER BY c.n
                """, [.text(name), .int8(version)])
            try cn.forEachRow { r in names.append(try cn.text(r, 0) ?? "") }
            try cn.close()
        }
        let model = try ItemModel(version: version, itemIds: ids, weights: weights, popularity: pop,
                             categories: hasCategories ? cats : nil, similarityDims: dims, similarityVectors: sim,
                             weighting: weighting,
                             transform: ValueTransform(weighting, power: power, scale: scale),
                             cfCount: n,
                             content: cdims > 0 ? ContentVectors(dims: cdims, vectors: cvec, present: cpresent, beta: beta,
                                                                 prior: contentPrior, users: users) : nil,
                             interrupt: PG.interrupt)
        model.categoryNames = names
        return model
    }

    /// The user's history, read live (so this transaction's own inserts count).
    static func history(_ sql: ModelSQL, model m: ModelRow, user: Int64) throws -> History {
        setHint(for: m)
        var h = History()
        let c = try Cursor(sql.history, [.int8(user)])
        defer { try? c.close() }
        try c.forEachRow { r in
            guard let item = try c.int8(r, 0) else {
                throw RecError.nullValue("the history of user \(user) has an interaction with a NULL item id (model \"\(m.name)\")",
                                         hint: "Remove or fix the rows with NULL ids, or register a view that filters them.")
            }
            let w = try c.float8(r, 1) ?? 0
            try validateWeight(w, "the interaction of user \(user) with item \(item)")
            h.add(item: item, weight: w)
        }
        return h
    }

    static func titles(_ sql: ModelSQL, model m: ModelRow, items: [Int64]) throws -> [Int64: String] {
        guard let q = sql.title, !items.isEmpty else { return [:] }
        setHint(for: m)
        let literal = "{" + items.map(String.init).joined(separator: ",") + "}"
        let c = try Cursor(q, [.text(literal)])
        defer { try? c.close() }
        var out: [Int64: String] = [:]
        try c.forEachRow { r in
            if let id = try c.int8(r, 0), let t = try c.text(r, 1) { out[id] = t }
        }
        return out
    }
}
