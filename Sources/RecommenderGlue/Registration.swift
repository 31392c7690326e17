// A fingerprint of a model's registration (when it was registered, the columns it reads), stored with each
// trained version, so that update() can tell that the registration changed since the version it
// would fold new interactions into (re-registered with another table or another time column: the
// kept Gram matrix and the watermark belong to the old one).
import CPostgresShim
import RecommenderCore

enum Registration {
    /// md5 of when the model was last registered and the column names it names; nil when the
    /// model is gone. Every register() call sets registered_at (the relations' oids are not used:
    /// they change in a dump and restore, while registered_at is restored with the catalog).
    static func fingerprint(model: String) throws -> String? {
        let c = try Cursor("""
            SELECT pg_catalog.md5(pg_catalog.concat_ws(E'\\x1f',
                   pg_catalog.date_part('epoch', registered_at)::pg_catalog.text, user_column,
                   item_column, weight_column, time_column, event_column, event_weights::pg_catalog.text,
                   item_id_column, category_column, title_column, text_column, embedding_column))
              FROM recommender.model WHERE name OPERATOR(pg_catalog.=) $1::pg_catalog.text
            """, [.text(model)])
        var out: String? = nil
        try c.forEachRow { r in out = try c.text(r, 0) }
        try c.close()
        return out
    }

    /// Throws 55000 when the model was registered again (other relations or columns) since
    /// `version` was trained. Versions trained before fingerprints were kept are not checked.
    static func requireUnchanged(model: String, version: Int64) throws {
        let c = try Cursor("""
            SELECT params OPERATOR(pg_catalog.->>) 'registration'
              FROM recommender.model_version WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
            """, [.text(model), .int8(version)])
        var stored: String? = nil
        try c.forEachRow { r in stored = try c.text(r, 0) }
        try c.close()
        guard let was = stored else { return }
        guard let now = try fingerprint(model: model), now == was else {
            throw RecError.objectState("model \"\(model)\" was registered again since version \(version) was trained: update() cannot fold new interactions into a model of the old registration",
                                       hint: "Train it again with SELECT * FROM recommender.train('\(model)'); later updates fold new interactions in.")
        }
    }
}
