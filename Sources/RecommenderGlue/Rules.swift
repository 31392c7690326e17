// The shop's rules for one recommend() call: a filter (a named predicate or a boolean column of
// the items table) and a category to stay within, turned into an eligibility mask over the model.
import CPostgresShim
import RecommenderCore

enum Rules {
    static func allowed(model m: ModelRow, sql: ModelSQL, im: ItemModel, filter: String?, category: String?, ids: CallIds) throws -> [Bool]? {
        if filter == nil && category == nil { return nil }
        let n = im.count
        var mask = [Bool](repeating: true, count: n)
        if let c = category {
            guard let cats = im.categories else {
                throw RecError.invalidParameter("the category rule needs categories, and model \"\(m.name)\" has none",
                                                hint: "Register the items table with its category column and train again.")
            }
            guard let cid = im.categoryNames.firstIndex(of: c) else {
                throw RecError.invalidParameter("category \"\(c)\" is not known to model \"\(m.name)\"",
                                                hint: "The model knows the categories its items had at training: see recommender.model_version.params->'categories'.")
            }
            let id = Int32(cid)
            for i in 0..<n { mask[i] = cats[i].contains(id) }
        }
        if let f = filter {
            Catalog.setHint(for: m)
            let q = try Cursor("SELECT recommender._filter_sql($1, $2)", [.text(m.name), .text(f)])
            var query: String? = nil
            try q.forEachRow { r in query = try q.text(r, 0) }
            try q.close()
            guard let fq = query else { throw RecError.internalError("recommender._filter_sql returned nothing") }
            var pass = [Bool](repeating: false, count: n)
            let c = try Cursor(fq)
            defer { try? c.close() }
            try c.forEachRow { r in
                if let id = try ids.readModelItem(c, r, 0), let i = im.index[id] { pass[Int(i)] = true }
            }
            for i in 0..<n where !pass[i] { mask[i] = false }
        }
        return mask
    }
}
