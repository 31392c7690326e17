// The text and uuid overloads of recommend(), explain() and similar_items() (the shop's own ids,
// see ItemKeys.swift). They serve every model: one whose ids are keys, and one with integer ids
// given as text ('42'). The bigint overloads refuse a model whose ids are keys (42804).
import CPostgresShim
import RecommenderCore

/// The bigint overloads need integer ids.
func requireIntegerIds(_ m: ModelRow, _ sql: ModelSQL, user: Bool, item: Bool, function: String) throws {
    try requireIntegerIds(m, userType: user ? sql.userType : .int8, itemType: item ? sql.itemType : .int8, function: function)
}

func requireIntegerIds(_ m: ModelRow, userType: IdType, itemType: IdType, function: String) throws {
    let keyed = userType.keyed ? ("user", userType) : itemType.keyed ? ("item", itemType) : nil
    guard let (what, type) = keyed else { return }
    let call: String
    switch function {
    case "recommend": call = "recommend(user_id text, ...)"
    case "explain": call = "explain(user_id text, item_id text, ...)"
    default: call = "similar_items(item_id text, ...)"
    }
    throw RecError("42804", "model \"\(m.name)\" has \(type.rawValue) \(what) ids, so \(function)() with bigint ids cannot serve it",
                   hint: "Call \(call) (or its uuid overload): e.g. SELECT * FROM \(function)('\(type == .uuid ? "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" : "SKU-1")'::\(type == .uuid ? "uuid" : "text")\(function == "explain" ? ", 'SKU-1'" : "")); item ids then come back as text.")
}

/// The call's ids: the served version's keys, checked against the registration (a model registered
/// again with other id types serves only once it is trained again).
func callIds(_ m: ModelRow, _ sql: ModelSQL, _ im: ItemModel, textOut: Bool) throws -> CallIds {
    let keys = ItemKeys(im)
    if (keys != nil) != sql.itemType.keyed {
        throw RecError.objectState("model \"\(m.name)\" was trained with \(keys != nil ? "text or uuid" : "integer") item ids, and its registration now has \(sql.itemType.keyed ? "text or uuid" : "integer") ones",
                                   hint: "Train it again: SELECT * FROM recommender.train('\(m.name)');")
    }
    return CallIds(itemType: sql.itemType, keys: keys, textOut: textOut)
}

/// The call's ids from the served version alone (similar_items() reads no registered table).
func versionIds(_ m: ModelRow, _ im: ItemModel, textOut: Bool) throws -> CallIds {
    let keys = ItemKeys(im)
    return CallIds(itemType: keys?.type ?? .int8, keys: keys, textOut: textOut)
}

/// A user id given to a text or uuid overload, as the history query's parameter.
func userArgument(_ raw: String, isUUID: Bool, _ m: ModelRow, _ sql: ModelSQL) throws -> (param: SQLValue, label: String) {
    switch sql.userType {
    case .int8:
        return (.int8(try integerId(raw, isUUID: isUUID, what: "user", m)), raw)
    case .text:
        return (.text(raw), quoteKey(raw))
    case .uuid:
        let u = isUUID ? raw : try CallKeys.canonicalUUID(raw, what: "user")
        return (.text(u), quoteKey(u))
    }
}

/// An item id given to a text or uuid overload: its id in the model, or a surrogate of the call.
func itemArgument(_ raw: String, isUUID: Bool, _ m: ModelRow, _ type: IdType, ids: CallIds) throws -> Int64 {
    switch type {
    case .int8: return try integerId(raw, isUUID: isUUID, what: "item", m)
    case .text: return ids.id(forKey: raw)
    case .uuid: return ids.id(forKey: isUUID ? raw : try CallKeys.canonicalUUID(raw, what: "item"))
    }
}

func integerId(_ raw: String, isUUID: Bool, what: String, _ m: ModelRow) throws -> Int64 {
    if isUUID {
        throw RecError("42804", "model \"\(m.name)\" has integer \(what) ids; a uuid cannot be one",
                       hint: "Pass the \(what) id as bigint or as text ('42').")
    }
    guard let v = Keys.integerId(raw) else {
        throw RecError("22P02", "invalid \(what) id \(quoteKey(raw)): model \"\(m.name)\" has integer \(what) ids",
                       hint: "Pass an integer between -9223372036854775808 and 9223372036854775807, e.g. '42'.")
    }
    return v
}

@_cdecl("rec_swift_recommend_key")
public func rec_swift_recommend_key(_ userId: UnsafePointer<CChar>?, _ userIsUUID: Bool, _ k: Int32, _ diversity: Double,
                                    _ model: UnsafePointer<CChar>?, _ rules: UnsafePointer<RecRules>?,
                                    _ sink: OpaquePointer?) -> Int32 {
    guarded {
        guard let raw = modelName(userId) else { throw RecError.nullValue("user_id must not be NULL") }
        try validate(k: Int(k), diversity: diversity)
        let m = try Catalog.resolve(modelName(model))
        _ = try Catalog.requireTrained(m)
        let sql = try Catalog.sql(m)
        let user = try userArgument(raw, isUUID: userIsUUID, m, sql)
        let im = try Catalog.model(m)
        let ids = try callIds(m, sql, im, textOut: true)
        let history = try CallKeys.history(sql, model: m, user: user.param, userLabel: user.label, ids: ids)
        try serveRecommend(m, sql, im, history, ids: ids, k: k, diversity: diversity, rules: rules, sink: sink)
    }
}

@_cdecl("rec_swift_explain_key")
public func rec_swift_explain_key(_ userId: UnsafePointer<CChar>?, _ userIsUUID: Bool, _ itemId: UnsafePointer<CChar>?,
                                  _ itemIsUUID: Bool, _ model: UnsafePointer<CChar>?, _ sink: OpaquePointer?) -> Int32 {
    guarded {
        guard let rawUser = modelName(userId) else { throw RecError.nullValue("user_id must not be NULL") }
        guard let rawItem = modelName(itemId) else { throw RecError.nullValue("item_id must not be NULL") }
        let m = try Catalog.resolve(modelName(model))
        _ = try Catalog.requireTrained(m)
        let sql = try Catalog.sql(m)
        let user = try userArgument(rawUser, isUUID: userIsUUID, m, sql)
        let im = try Catalog.model(m)
        let ids = try callIds(m, sql, im, textOut: true)
        let item = try itemArgument(rawItem, isUUID: itemIsUUID, m, ids.itemType, ids: ids)
        let history = try CallKeys.history(sql, model: m, user: user.param, userLabel: user.label, ids: ids)
        try serveExplain(m, sql, im, history, userLabel: user.label, itemId: item, ids: ids, sink: sink)
    }
}

@_cdecl("rec_swift_similar_key")
public func rec_swift_similar_key(_ itemId: UnsafePointer<CChar>?, _ itemIsUUID: Bool, _ k: Int32, _ diversity: Double,
                                  _ model: UnsafePointer<CChar>?, _ sink: OpaquePointer?) -> Int32 {
    guarded {
        guard let raw = modelName(itemId) else { throw RecError.nullValue("item_id must not be NULL") }
        try validate(k: Int(k), diversity: diversity)
        let m = try Catalog.resolve(modelName(model))
        let im = try Catalog.model(m)
        let ids = try versionIds(m, im, textOut: true)
        let item = try itemArgument(raw, isUUID: itemIsUUID, m, ids.itemType, ids: ids)
        try serveSimilar(m, im, itemId: item, ids: ids, k: k, diversity: diversity, sink: sink)
    }
}
