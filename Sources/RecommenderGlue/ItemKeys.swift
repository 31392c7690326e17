// The shop's own ids (issue 7, part 3): user and item ids that are text, varchar or uuid columns.
//
// The core keeps Int64 item ids. A model whose item ids are keys gets surrogate ids instead:
// training numbers the keys 0, 1, 2, ... in the order it first meets them (so a text-id model of
// the same data has the same item order, and the same scores, as its integer twin), stores each
// item's surrogate in recommender.model_item.item_id and its key in item_key, and a served version
// keeps the key <-> surrogate map here, beside the model (ItemKeys, cached per version in KeyCache).
// A history item whose key is not in the model gets a negative surrogate for that one call, so it
// can never meet a model item (surrogates are >= 0) and is skipped or listed as unknown as today.
// Users are never stored: their keys are only compared with the registered column, and training
// numbers them for the user-item matrix.
import CPostgresShim
import RecommenderCore

/// How a model's user or item ids are read (recommender._id_types).
enum IdType: String {
    case int8, text, uuid
    var keyed: Bool { self != .int8 }
}

/// The keys of one trained version whose item ids are keys.
final class ItemKeys {
    let version: Int64
    /// text or uuid: how the keys compare with the registered columns
    var type = IdType.text
    private(set) var keyOf: [Int64: String] = [:]
    private(set) var idOf: [String: Int64] = [:]
    private(set) var bytes = 0

    init(version: Int64) { self.version = version }

    fileprivate func add(id: Int64, key: String) {
        keyOf[id] = key
        idOf[key] = id
        bytes += key.utf8.count + 64
    }

    /// Reads the keys of a version (nil when its item ids are integers).
    static func load(model: String, version: Int64) throws -> ItemKeys? {
        let p = try Cursor("""
            SELECT params OPERATOR(pg_catalog.->>) 'item_keys' FROM recommender.model_version
             WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
            """, [.text(model), .int8(version)])
        var kind: String? = nil
        try p.forEachRow { r in kind = try p.text(r, 0) }
        try p.close()
        guard let k = kind else { return nil }
        // sized before it is read: the keys count against recommender.max_cache_memory
        let sz = try Cursor("""
            SELECT pg_catalog.count(*)::pg_catalog.int8, COALESCE(pg_catalog.sum(pg_catalog.octet_length(item_key)), 0)::pg_catalog.int8
              FROM recommender.model_item WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
            """, [.text(model), .int8(version)])
        var need: Int64 = 0
        try sz.forEachRow { r in need = (try sz.int8(r, 1) ?? 0) &+ 64 &* (try sz.int8(r, 0) ?? 0) }
        try sz.close()
        let held = ModelCache.totalBytes
        guard need <= Int64(Memory.cacheLimit) - Int64(held) || need <= 0 else {
            throw RecError.programLimit("the item keys of model \"\(model)\" need \(need) bytes, and recommender.max_cache_memory (\(Memory.cacheLimit) bytes) has \(max(0, Memory.cacheLimit - held)) left beside the cached models",
                                        hint: "Raise recommender.max_cache_memory, or register shorter ids.")
        }
        let out = ItemKeys(version: version)
        out.type = IdType(rawValue: k) == .uuid ? .uuid : .text
        // item_key is a 0.3.0 column: only a version trained with keys (by a 0.3.0 catalog) reads it
        let c = try Cursor("""
            SELECT item_id, item_key FROM recommender.model_item
             WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
            """, [.text(model), .int8(version)])
        defer { try? c.close() }
        try c.forEachRow(batch: 5000) { r in
            guard let id = try c.int8(r, 0), let key = try c.text(r, 1) else {
                throw RecError.internalError("model \"\(model)\" version \(version): an item has no key")
            }
            out.add(id: id, key: key)
        }
        return out
    }
}

/// The keys of the models this backend serves, per version; entries of models no longer cached
/// leave with them.
enum KeyCache {
    static var entries: [String: ItemKeys?] = [:]
    static var versions: [String: Int64] = [:]

    static func keys(_ m: ModelRow, version: Int64) throws -> ItemKeys? {
        for name in Array(versions.keys) where name != m.name && ModelCache.entries[name]?.model.version != versions[name] {
            entries[name] = nil; versions[name] = nil
        }
        if versions[m.name] == version, let k = entries[m.name] { return k }
        let k = try ItemKeys.load(model: m.name, version: version)
        entries[m.name] = .some(k)
        versions[m.name] = version
        return k
    }

    static func reset() { entries = [:]; versions = [:] }
}

/// The ids of one training or update(): integers as read, or keys numbered by KeyInterner.
final class TrainingIds {
    let model: String
    let userType: IdType
    let itemType: IdType
    var users = KeyInterner()
    var items = KeyInterner()

    init(model: String, sql: ModelSQL) {
        self.model = model
        userType = sql.userType
        itemType = sql.itemType
    }

    var keyed: Bool { userType.keyed || itemType.keyed }

    func user(_ c: Cursor, _ r: Int64, _ col: Int) throws -> Int64? {
        guard userType.keyed else { return try c.int8(r, col) }
        guard let k = try c.text(r, col) else { return nil }
        return try users.id(k, what: "user", model: model)
    }

    func item(_ c: Cursor, _ r: Int64, _ col: Int) throws -> Int64? {
        guard itemType.keyed else { return try c.int8(r, col) }
        guard let k = try c.text(r, col) else { return nil }
        return try items.id(k, what: "item", model: model)
    }

    func userName(_ u: Int64) -> String { userType.keyed ? quoteKey(users.keyOf[u] ?? "?") : String(u) }
    func itemName(_ i: Int64) -> String { itemType.keyed ? quoteKey(items.keyOf[i] ?? "?") : String(i) }

    /// The item_key value of an item to store (NULL for integer ids).
    func storedKey(_ i: Int64) -> SQLValue { itemType.keyed ? .optionalText(items.keyOf[i]) : .null(Int32(REC_TEXT)) }

    /// For the version's parameters: "item_keys": the key type, when the items are keys.
    var paramsEntry: [String] { itemType.keyed ? ["\"item_keys\": \(jsonString(itemType.rawValue))"] : [] }

    /// ModelValidation.checkTime with the keys in the message.
    func checkTime(_ t: Double?, user u: Int64, item i: Int64) throws {
        do {
            try ModelValidation.checkTime(t, user: u, item: i, model: model, column: { timeColumnName(model) })
        } catch let e as RecError where keyed {
            throw RecError(e.sqlstate, "the interaction of user \(userName(u)) with item \(itemName(i)) (model \"\(model)\") has a non-finite time (\(t.map { "\($0)" } ?? "NULL")) in column \(timeColumnName(model))",
                           hint: e.hint)
        }
    }
}

/// A key in a message: quoted, and cut when long (Keys.quote).
func quoteKey(_ key: String) -> String { Keys.quote(key) }

/// A PostgreSQL array literal of keys (Keys.arrayLiteral).
func keyArrayLiteral<S: Sequence>(_ keys: S) -> String where S.Element == String { Keys.arrayLiteral(keys) }

/// The statement that stores a version's items; item_key (a 0.3.0 column) only for keyed items,
/// so that training still works in a database whose extension is at 0.2.0.
func itemInsertPlan(keyed: Bool) throws -> Plan {
    try Plan("""
        INSERT INTO recommender.model_item (model, version, idx, item_id, users, popularity, trend, categories, similarity, content, weights\(keyed ? ", item_key" : ""))
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::pg_catalog.int4[], $9, $10, $11\(keyed ? ", $12" : ""))
        """, kinds: [Int32(REC_TEXT), Int32(REC_INT8), Int32(REC_INT4), Int32(REC_INT8), Int32(REC_INT4),
                     Int32(REC_FLOAT8), Int32(REC_FLOAT8), Int32(REC_TEXT), Int32(REC_BYTEA), Int32(REC_BYTEA), Int32(REC_BYTEA)]
            + (keyed ? [Int32(REC_TEXT)] : []))
}
