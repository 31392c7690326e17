// The shop's own ids (issue 7, part 3): user and item ids that are text, varchar or uuid columns.
//
// The core keeps Int64 item ids. A model whose item ids are keys gets surrogate ids instead:
// training numbers the keys 0, 1, 2, ... in the order it first meets them (so a text-id model of
// the same data has the same item order, and the same scores, as its integer twin), stores each
// item's surrogate in recommender.model_item.item_id and its key in item_key, and a served version
// serves the keys from the model image's key sections (ItemKeys over RecommenderCore's ImageKeys).
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

/// The keys of the served version whose item ids are keys: views of the model image's key
/// sections (ImageKeys), mapped and shared like the rest of the image, so a serving backend
/// keeps no key map of its own.
struct ItemKeys {
    let keys: ImageKeys
    let model: ItemModel

    init?(_ model: ItemModel) {
        guard let k = model.keys else { return nil }
        keys = k
        self.model = model
    }

    /// text or uuid: how the keys compare with the registered columns
    var type: IdType { keys.isUUID ? .uuid : .text }

    /// The surrogate id of a key, nil when the model does not have it.
    func id(of key: String) -> Int64? {
        guard let i = keys.index(of: key), i < model.itemIds.count else { return nil }
        return model.itemIds[i]
    }

    /// The key of a surrogate id, nil when it is not a model item.
    func key(of id: Int64) -> String? {
        guard let i = model.index[id] else { return nil }
        return keys.key(at: Int(i))
    }

    /// The stored keys of a version (update() numbers new keys after them): nil when its item
    /// ids are integers. This is training work (update() holds the version's rows anyway), not
    /// a serving path.
    static func stored(model: String, version: Int64) throws -> [Int64: String]? {
        let p = try Cursor("""
            SELECT params OPERATOR(pg_catalog.->>) 'item_keys' FROM recommender.model_version
             WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
            """, [.text(model), .int8(version)])
        var kind: String? = nil
        try p.forEachRow { r in kind = try p.text(r, 0) }
        try p.close()
        guard kind != nil else { return nil }
        var out: [Int64: String] = [:]
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
            out[id] = key
        }
        return out
    }
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
