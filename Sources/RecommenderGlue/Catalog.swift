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
    /// The catalog generation (rec_catalog_generation) the queries were built in.
    var generation: UInt64 = 0
    var train: String
    var history: String
    var category: String?
    var title: String?
    var content: String?
    var since: String?
    var users: String
    /// recommender.model.recency_half_life (a serving-time parameter: configure() moves the
    /// stamp, so it is read with the queries). Read by name, so that this library also serves a
    /// database whose extension is still at 0.1.0, between installing it and ALTER EXTENSION UPDATE.
    var recencyHalfLife: Double = 0
    /// recommender.model.recency_floor (0.4.0), read the same way (0 when the column is missing).
    var recencyFloor: Double = 0
    /// How user and item ids are read: integers, or the shop's own keys (see ItemKeys.swift).
    var userType = IdType.int8
    var itemType = IdType.int8
}

/// Per-backend state. Only touched from the backend's main thread, between PostgreSQL calls.
enum Backend {
    static var sql: [String: ModelSQL] = [:]
    /// The catalog generation `sql` was checked at: when a registered relation (or a schema)
    /// changed, every cached query is built again (see inval.c).
    static var sqlGeneration: UInt64 = 0
    /// Whether the current role trusts a registration, per model (see Catalog.isTrusted).
    static var trust: [String: (stamp: Int64, generation: UInt64, user: UInt32, trusted: Bool)] = [:]

    static func reset() { ModelCache.reset(); sql = [:]; trust = [:] }
}

enum Catalog {
    /// The model a call means: the named one, else "default", else the only one there is.
    static func resolve(_ requested: String?) throws -> ModelRow {
        let cursor = try Cursor("""
            SELECT name, version, config_stamp, reranker, candidate_pool, embedding_column IS NOT NULL, content_prior,
                   -- a 0.2.0 column read by name, so that this library also serves a database whose
                   -- extension is still at 0.1.0 (between installing it and ALTER EXTENSION UPDATE)
                   interactions::pg_catalog.oid::pg_catalog.int8, items::pg_catalog.oid::pg_catalog.int8
              FROM recommender.model m
             WHERE $1::pg_catalog.text IS NULL OR name OPERATOR(pg_catalog.=) $1::pg_catalog.text
             ORDER BY name OPERATOR(pg_catalog.=) 'default' DESC, name LIMIT 2
            """, [.optionalText(requested)])
        defer { try? cursor.close() }
        var rows: [ModelRow] = []
        var relations: [[Int64]] = []
        try cursor.forEachRow { r in
            relations.append([try cursor.int8(r, 7) ?? 0, try cursor.int8(r, 8) ?? 0])
            rows.append(ModelRow(name: try cursor.text(r, 0) ?? "",
                                 version: try cursor.int8(r, 1),
                                 configStamp: try cursor.int8(r, 2) ?? 0,
                                 reranker: Reranker(rawValue: try cursor.text(r, 3) ?? "coverage") ?? .coverage,
                                 candidatePool: Int(try cursor.int4(r, 4) ?? 100),
                                 hasEmbedding: try cursor.bool(r, 5) ?? false,
                                 contentPrior: try cursor.float8(r, 6) ?? 0))
        }
        // A model hidden by row security is reported exactly like one that does not exist: the
        // error must not tell a role which model names exist or which tables they read.
        // A registration the calling role does not trust is refused on every call, before any of
        // its SQL (cached per backend, possibly by another role) runs: _check_trust says why.
        if let first = rows.first, requested != nil || first.name == "default" || rows.count == 1,
           !(try isTrusted(first, relations: relations.first ?? [])) {
            _ = try PG.exec("SELECT recommender._check_trust(m) FROM recommender.model m WHERE m.name OPERATOR(pg_catalog.=) $1",
                            [.text(first.name)])
            throw RecError("42501", "model \"\(first.name)\" is registered by a role the current role does not trust",
                           hint: "See recommender.status('\(first.name)').")
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

    /// Whether the current role trusts the model's registration (see recommender._check_trust):
    /// pg_has_role(a, c, 'USAGE') is true when a is c, a superuser, or a member of c. Computed
    /// once per registration (config_stamp), role and catalog generation: a change of the
    /// registration moves its stamp, and a change of a registered relation (a view's owner), of a
    /// role's membership or attributes moves the generation (inval.c). The relations are watched
    /// before the generation is read, so a change after it is seen at the next call.
    static func isTrusted(_ m: ModelRow, relations: [Int64]) throws -> Bool {
        for oid in relations where oid > 0 && oid <= Int64(UInt32.max) { rec_watch_relation(UInt32(oid)) }
        let generation = rec_catalog_generation(), user = rec_current_user()
        if let t = Backend.trust[m.name], t.stamp == m.configStamp, t.generation == generation, t.user == user {
            return t.trusted
        }
        let c = try Cursor("""
            SELECT COALESCE(pg_catalog.pg_has_role(pg_catalog.to_regrole(pg_catalog.quote_ident(registered_by)), CURRENT_USER, 'USAGE'), false)
                   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                                    WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY[interactions, items])
                                      AND c.relkind OPERATOR(pg_catalog.=) 'v'
                                      AND NOT pg_catalog.pg_has_role(c.relowner, CURRENT_USER, 'USAGE'))
              FROM recommender.model WHERE name OPERATOR(pg_catalog.=) $1::pg_catalog.text
            """, [.text(m.name)])
        var trusted = false
        try c.forEachRow { r in trusted = try c.bool(r, 0) ?? false }
        try c.close()
        Backend.trust[m.name] = (m.configStamp, generation, user, trusted)
        return trusted
    }

    static func requireTrained(_ m: ModelRow) throws -> Int64 {
        guard let v = m.version else {
            throw RecError.objectState("model \"\(m.name)\" has not been trained yet",
                                       hint: "Run SELECT * FROM recommender.train('\(m.name)');")
        }
        return v
    }

    /// The validated queries for a model, cached until its registration changes or one of its
    /// registered relations (or a schema) changes in the catalogs: the queries name the relations
    /// as they are called now and depend on their column types, so a rename, a new column type or
    /// a renamed schema makes them stale in every session that cached them (issue 8, item 8).
    static func sql(_ m: ModelRow) throws -> ModelSQL {
        let now = rec_catalog_generation()
        if now != Backend.sqlGeneration {
            Backend.sql = [:]
            Backend.sqlGeneration = now
        }
        if let s = Backend.sql[m.name], s.stamp == m.configStamp { return s }
        // Watch the registered relations first, then read the generation, then build: a change
        // that lands after the build moves the generation, and the next call builds again.
        let rels = try Cursor("""
            SELECT interactions::pg_catalog.oid::pg_catalog.int8, items::pg_catalog.oid::pg_catalog.int8
              FROM recommender.model WHERE name OPERATOR(pg_catalog.=) $1::pg_catalog.text
            """, [.text(m.name)])
        try rels.forEachRow { r in
            for col in 0..<2 {
                if let oid = try rels.int8(r, col), oid > 0, oid <= Int64(UInt32.max) { rec_watch_relation(UInt32(oid)) }
            }
        }
        try rels.close()
        let generation = rec_catalog_generation()
        let c = try Cursor("SELECT train_sql, history_sql, category_sql, title_sql, content_sql, since_sql, users_sql FROM recommender._model_sql($1)", [.text(m.name)])
        defer { try? c.close() }
        var out: ModelSQL? = nil
        try c.forEachRow { r in
            out = ModelSQL(stamp: m.configStamp, generation: generation, train: try c.text(r, 0) ?? "", history: try c.text(r, 1) ?? "",
                           category: try c.text(r, 2), title: try c.text(r, 3), content: try c.text(r, 4),
                           since: try c.text(r, 5), users: try c.text(r, 6) ?? "")
        }
        guard var s = out else { throw RecError.internalError("recommender._model_sql returned no row") }
        let rc = try Cursor("""
            SELECT COALESCE((pg_catalog.to_jsonb(m) OPERATOR(pg_catalog.->>) 'recency_half_life')::pg_catalog.float8, 0),
                   COALESCE((pg_catalog.to_jsonb(m) OPERATOR(pg_catalog.->>) 'recency_floor')::pg_catalog.float8, 0)
              FROM recommender.model m WHERE name OPERATOR(pg_catalog.=) $1::pg_catalog.text
            """, [.text(m.name)])
        try rc.forEachRow { r in
            s.recencyHalfLife = try rc.float8(r, 0) ?? 0
            s.recencyFloor = try rc.float8(r, 1) ?? 0
        }
        try rc.close()
        (s.userType, s.itemType) = try CallKeys.idTypes(m.name)
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
        // a lowered recommender.max_cache_memory applies at once; dropped and replaced models
        // are evicted (the check against the catalog runs at most once a second on cache hits)
        try ModelCache.sweep(except: m.name, force: false)
        if let cached = ModelCache.get(m.name, version: version, contentPrior: m.contentPrior) { return cached }
        try ModelCache.sweep(except: m.name, force: true)
        var bytes = 0
        let loaded = try load(name: m.name, version: version, contentPrior: m.contentPrior, bytes: &bytes)
        ModelCache.put(m.name, loaded, bytes: bytes, limit: Memory.cacheLimit)
        return loaded
    }

    /// Loads a version from the catalog; `bytes` receives its size in this backend's memory (about
    /// nothing for a model served from a shared image). A private copy's size is checked against
    /// recommender.max_cache_memory and MemAvailable, and room is made in the cache, before
    /// anything that grows with the catalog is allocated.
    static func load(name: String, version: Int64, contentPrior: Double, bytes: inout Int) throws -> ItemModel {
        var n = 0, dims = 0
        var weighting = Weighting.log
        var hasCategories = false
        var power = 1.0, scale = 1.0
        var total = 0, cdims = 0
        var beta = 0.0
        var sequenceWeight = 0.0
        var stamp: Int64 = 0
        var keys = ImageShape.KeyKind.none
        var sparse = false, sparseNonZeros = 0
        let meta = try Cursor("""
            SELECT items, params OPERATOR(pg_catalog.->>) 'weighting', (params OPERATOR(pg_catalog.->>) 'similarity_dims')::pg_catalog.int4,
                   (params OPERATOR(pg_catalog.->>) 'has_categories')::pg_catalog.bool,
                   COALESCE((params OPERATOR(pg_catalog.->>) 'weight_power')::pg_catalog.float8, 1),
                   COALESCE((params OPERATOR(pg_catalog.->>) 'weight_scale')::pg_catalog.float8, 1),
                   COALESCE((params OPERATOR(pg_catalog.->>) 'catalog_items')::pg_catalog.int4, items),
                   COALESCE((params OPERATOR(pg_catalog.->>) 'content_dims')::pg_catalog.int4, 0),
                   COALESCE((params OPERATOR(pg_catalog.->>) 'content_beta')::pg_catalog.float8, 0),
                   COALESCE((params OPERATOR(pg_catalog.->>) 'sequence_weight')::pg_catalog.float8, 0),
                   (pg_catalog.date_part('epoch', trained_at) OPERATOR(pg_catalog.*) 1000000::pg_catalog.float8)::pg_catalog.int8,
                   params OPERATOR(pg_catalog.->>) 'item_keys',
                   COALESCE(params OPERATOR(pg_catalog.->>) 'kind', 'dense'),
                   COALESCE((params OPERATOR(pg_catalog.->>) 'sparse_nonzeros')::pg_catalog.int8, 0)
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
            sequenceWeight = try meta.float8(r, 9) ?? 0
            stamp = try meta.int8(r, 10) ?? 0
            switch try meta.text(r, 11) {
            case nil: keys = .none
            case "uuid"?: keys = .uuid
            default: keys = .text
            }
            sparse = (try meta.text(r, 12) ?? "dense") == "sparse"
            sparseNonZeros = Int(try meta.int8(r, 13) ?? 0)
        }
        try meta.close()
        guard found else {
            throw RecError.objectState("model \"\(name)\" version \(version) is missing from recommender.model_version",
                                       hint: "Train the model again.")
        }
        guard n >= 0, n <= (sparse ? ModelLimits.maxSparseItems : ModelLimits.maxItems), sparseNonZeros >= 0, dims >= 0, dims <= ModelLimits.maxSimilarityDims,
              cdims >= 0, cdims <= ModelLimits.maxContentDims, total >= n, total <= ModelLimits.maxCatalogItems || (sparse && total <= 2 * n + 100_000),
              (total == n || cdims > 0) else {
            throw RecError.internalError("model \"\(name)\" has invalid sizes")
        }
        let need = sparse
            ? MemoryBudget.sparseModel(items: n, nonZeros: sparseNonZeros, catalogItems: total, similarityDims: dims, contentDims: cdims,
                                       categories: hasCategories)
            : MemoryBudget.model(items: n, catalogItems: total, similarityDims: dims, contentDims: cdims,
                                 categories: hasCategories)
        // the arrays come from the model's image, mapped and shared by every backend, or built in
        // this backend's memory when images are not shared (SharedModels.swift)
        let shape = ImageShape(modelVersion: version, stamp: stamp, nameHash: ModelImage.nameHash(name), cfCount: n, count: total,
                               similarityDims: dims, contentDims: cdims, hasCategories: hasCategories, keys: keys,
                               sparseNonZeros: sparse ? sparseNonZeros : nil)
        let parts = try SharedModels.parts(VersionMeta(name: name, version: version, shape: shape, need: need), privateBytes: &bytes)
        var names: [String] = []
        if hasCategories {
            let cn = try Cursor("""
                SELECT c.value FROM recommender.model_version v,
                       pg_catalog.jsonb_array_elements_text(v.params OPERATOR(pg_catalog.->) 'categories') WITH ORDINALITY AS c(value, n)
                 WHERE v.model OPERATOR(pg_catalog.=) $1 AND v.version OPERATOR(pg_catalog.=) $2 ORDER BY c.n
                """, [.text(name), .int8(version)])
            try cn.forEachRow { r in names.append(try cn.text(r, 0) ?? "") }
            try cn.close()
        }
        let model = try ItemModel(image: parts, weighting: weighting,
                                  transform: ValueTransform(weighting, power: power, scale: scale),
                                  contentBeta: beta, contentPrior: contentPrior)
        model.categoryNames = names
        model.sequenceWeight = sequenceWeight
        return model
    }

    /// The user's history, read live (so this transaction's own inserts count).
    static func history(_ sql: ModelSQL, model m: ModelRow, user: Int64) throws -> History {
        // The query names the relation; should a rename or type change commit between building
        // it and running it (opening the cursor takes the lock and reads the invalidations), the
        // generation has moved: build the query again and read again, so the registered relation
        // is the one read.
        var q = sql
        for _ in 0..<3 {
            let h = try readHistory(q, model: m, user: user)
            if rec_catalog_generation() == q.generation { return h }
            q = try Catalog.sql(m)
        }
        return try readHistory(q, model: m, user: user)
    }

    private static func readHistory(_ sql: ModelSQL, model m: ModelRow, user: Int64) throws -> History {
        setHint(for: m)
        var h = History()
        h.recencyHalfLife = sql.recencyHalfLife
        h.recencyFloor = sql.recencyFloor
        let c = try Cursor(sql.history, [.int8(user)])
        defer { try? c.close() }
        try c.forEachRow { r in
            guard let item = try c.int8(r, 0) else {
                throw RecError.nullValue("the history of user \(user) has an interaction with a NULL item id (model \"\(m.name)\")",
                                         hint: "Remove or fix the rows with NULL ids, or register a view that filters them.")
            }
            let w = try c.float8(r, 1) ?? 0
            try validateWeight(w, "the interaction of user \(user) with item \(item)")
            h.add(item: item, weight: w, time: try c.float8(r, 2))
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
