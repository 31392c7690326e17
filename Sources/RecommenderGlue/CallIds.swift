// One call's view of the ids (recommend(), explain(), similar_items()): how the user id is passed
// to the history query, how item ids are read from it and from the filters and titles queries,
// and how they are written back (bigint, or text for the text and uuid overloads).
import CPostgresShim
import RecommenderCore

final class CallIds {
    let itemType: IdType
    let keys: ItemKeys?
    /// The result's item_id column is text (the text and uuid overloads).
    let textOut: Bool
    private var unknownKey: [Int64: String] = [:]
    private var unknownId: [String: Int64] = [:]

    init(itemType: IdType, keys: ItemKeys?, textOut: Bool) {
        self.itemType = itemType
        self.keys = keys
        self.textOut = textOut
    }

    /// The surrogate of a key: the model's, or a negative one of this call for a key the model
    /// does not know (so that it never meets a model item).
    func id(forKey k: String) -> Int64 {
        if let id = keys?.id(of: k) { return id }
        if let id = unknownId[k] { return id }
        let id = -Int64(unknownId.count) - 1
        unknownId[k] = id
        unknownKey[id] = k
        return id
    }

    /// An item id column of a query result (int8, or a key).
    func readItem(_ c: Cursor, _ r: Int64, _ col: Int) throws -> Int64? {
        guard itemType.keyed else { return try c.int8(r, col) }
        guard let k = try c.text(r, col) else { return nil }
        return id(forKey: k)
    }

    /// An item id column of a query result when it names a model item (filters: no surrogates are
    /// made for the rest of the catalog).
    func readModelItem(_ c: Cursor, _ r: Int64, _ col: Int) throws -> Int64? {
        guard itemType.keyed else { return try c.int8(r, col) }
        guard let k = try c.text(r, col) else { return nil }
        return keys?.id(of: k)
    }

    /// The item's id as the caller wrote it.
    func key(_ id: Int64) -> String {
        guard itemType.keyed else { return String(id) }
        return keys?.key(of: id) ?? unknownKey[id] ?? "?"
    }

    /// The item in a message.
    func label(_ id: Int64) -> String { itemType.keyed ? quoteKey(key(id)) : String(id) }

    /// The item_id column value.
    func out(_ id: Int64) -> SQLValue { textOut ? .text(key(id)) : .int8(id) }
}

enum CallKeys {
    /// How a model's user and item ids are read. A database whose extension is still at 0.2.0
    /// (before ALTER EXTENSION UPDATE) has no recommender._id_types: its ids are integers.
    static func idTypes(_ model: String) throws -> (IdType, IdType) {
        let e = try Cursor("SELECT pg_catalog.to_regprocedure('recommender._id_types(text)') IS NOT NULL")
        var exists = false
        try e.forEachRow { r in exists = try e.bool(r, 0) ?? false }
        try e.close()
        guard exists else { return (.int8, .int8) }
        let c = try Cursor("SELECT user_type, item_type FROM recommender._id_types($1)", [.text(model)])
        defer { try? c.close() }
        var out = (IdType.int8, IdType.int8)
        try c.forEachRow { r in
            out = (IdType(rawValue: try c.text(r, 0) ?? "int8") ?? .int8, IdType(rawValue: try c.text(r, 1) ?? "int8") ?? .int8)
        }
        return out
    }

    /// The user's history, read live, with the user id as a parameter of the registered
    /// column's type (a key, or an int8) and the items read through `ids`.
    static func history(_ sql: ModelSQL, model m: ModelRow, user: SQLValue, userLabel: String, ids: CallIds) throws -> History {
        var q = sql
        for _ in 0..<3 {
            let h = try readHistory(q, model: m, user: user, userLabel: userLabel, ids: ids)
            if rec_catalog_generation() == q.generation { return h }
            q = try Catalog.sql(m)
        }
        return try readHistory(q, model: m, user: user, userLabel: userLabel, ids: ids)
    }

    private static func readHistory(_ sql: ModelSQL, model m: ModelRow, user: SQLValue, userLabel: String, ids: CallIds) throws -> History {
        Catalog.setHint(for: m)
        var h = History()
        h.recencyHalfLife = sql.recencyHalfLife
        h.recencyFloor = sql.recencyFloor
        let c = try Cursor(sql.history, [user])
        defer { try? c.close() }
        try c.forEachRow { r in
            guard let item = try ids.readItem(c, r, 0) else {
                throw RecError.nullValue("the history of user \(userLabel) has an interaction with a NULL item id (model \"\(m.name)\")",
                                         hint: "Remove or fix the rows with NULL ids, or register a view that filters them.")
            }
            let w = try c.float8(r, 1) ?? 0
            try validateWeight(w, "the interaction of user \(userLabel) with item \(ids.label(item))")
            h.add(item: item, weight: w, time: try c.float8(r, 2))
        }
        return h
    }

    /// The titles of items, by id.
    static func titles(_ sql: ModelSQL, model m: ModelRow, items: [Int64], ids: CallIds) throws -> [Int64: String] {
        guard ids.itemType.keyed else { return try Catalog.titles(sql, model: m, items: items) }
        guard let q = sql.title, !items.isEmpty else { return [:] }
        Catalog.setHint(for: m)
        var keys = Set<String>()
        for id in items { keys.insert(ids.key(id)) }
        // a uuid items table compares in uuid: keys that are not uuids cannot be titled
        if ids.itemType == .uuid { keys = keys.filter(Keys.isCanonicalUUID) }
        if keys.isEmpty { return [:] }
        let c = try Cursor(q, [.text(keyArrayLiteral(keys.sorted()))])
        defer { try? c.close() }
        var out: [Int64: String] = [:]
        try c.forEachRow { r in
            if let k = try c.text(r, 0), let t = try c.text(r, 1) { out[ids.id(forKey: k)] = t }
        }
        return out
    }

    /// A key given as text for a uuid column, in canonical form; 22P02 when it is not a uuid.
    static func canonicalUUID(_ s: String, what: String) throws -> String {
        guard let u = Keys.canonicalUUID(s) else {
            throw RecError("22P02", "invalid \(what) id \(quoteKey(s)): the model's \(what) ids are uuids",
                           hint: "Pass a uuid such as 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'.")
        }
        return u
    }
}
