// The per-backend cache of loaded models, bounded by recommender.max_cache_memory: least
// recently used models are evicted to make room, and models that were dropped or replaced by a
// newer version are evicted when a call notices (a sweep against recommender.model, at most once
// per call and at most once a second on cache hits).
#if canImport(Glibc)
import Glibc
#endif
import CPostgresShim
import RecommenderCore

struct CachedModel {
    var model: ItemModel
    var bytes: Int
    var lastUse: UInt64
    /// recommend()'s working memory for this model (ScoringScratch.swift), made at the first call
    /// that serves it and released with the entry (a new version is a new entry); its bytes are
    /// counted in `bytes`.
    var scratch: ScoringScratch? = nil
}

enum ModelCache {
    static var entries: [String: CachedModel] = [:]
    static var clock: UInt64 = 0
    static var lastSweep: Double = -1e300

    static var totalBytes: Int { entries.values.reduce(0) { $0 + $1.bytes } }

    static func reset() { entries = [:] }

    /// The cached model for `name` at `version` (with the given content prior), marked used.
    static func get(_ name: String, version: Int64, contentPrior: Double) -> ItemModel? {
        guard var e = entries[name], e.model.version == version,
              (e.model.content?.prior ?? contentPrior) == contentPrior else { return nil }
        clock &+= 1
        e.lastUse = clock
        entries[name] = e
        return e.model
    }

    /// Frees the cached versions of `name` and then least recently used models until `bytes`
    /// more fit under the limit. Returns false when they cannot fit even in an empty cache.
    @discardableResult
    static func makeRoom(for name: String, bytes: Int, limit: Int) -> Bool {
        entries[name] = nil
        guard bytes <= limit else { return false }
        while totalBytes + bytes > limit, let victim = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            entries[victim] = nil
        }
        return true
    }

    /// The scratch of the cached `model` (made on first use), or nil when the model is not the
    /// cached one or the scratch would not fit under recommender.max_cache_memory (the call then
    /// allocates its own arrays, as before).
    static func scratch(_ name: String, for model: ItemModel) -> ScoringScratch? {
        guard var e = entries[name], e.model === model else { return nil }
        if let s = e.scratch, s.items == model.count { return s }
        let need = model.scratchBytes
        guard totalBytes + need <= Memory.cacheLimit else { return nil }
        let s = model.makeScratch()
        e.scratch = s
        e.bytes += s.bytes
        entries[name] = e
        return s
    }

    static func put(_ name: String, _ model: ItemModel, bytes: Int, limit: Int) {
        guard makeRoom(for: name, bytes: bytes, limit: limit) else { return }
        clock &+= 1
        entries[name] = CachedModel(model: model, bytes: bytes, lastUse: clock)
    }

    /// Evicts cached models whose model was dropped or now has another version (as this
    /// transaction sees the catalog). Models the current role may not see are evicted too; they
    /// are loaded again when a role that may see them calls. Also applies a lowered
    /// recommender.max_cache_memory.
    static func sweep(except current: String?, force: Bool) throws {
        let limit = Memory.cacheLimit
        if totalBytes > limit {
            while totalBytes > limit, let victim = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
                entries[victim] = nil
            }
        }
        let others = entries.keys.filter { $0 != current }
        guard !others.isEmpty else { return }
        let t = now()
        guard force || t - lastSweep >= 1 else { return }
        lastSweep = t
        let literal = "{" + others.map(jsonString).joined(separator: ",") + "}"
        let c = try Cursor("""
            SELECT name, version FROM recommender.model
             WHERE name OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])
            """, [.text(literal)])
        var current: [String: Int64] = [:]
        try c.forEachRow { r in
            if let n = try c.text(r, 0), let v = try c.int8(r, 1) { current[n] = v }
        }
        try c.close()
        for name in others where current[name] != entries[name]?.model.version {
            entries[name] = nil
        }
    }
}

@_cdecl("rec_swift_cache_status")
public func rec_swift_cache_status(_ sink: OpaquePointer?) -> Int32 {
    guarded {
        let out = Sink(handle: sink)
        for (name, e) in ModelCache.entries.sorted(by: { $0.value.lastUse > $1.value.lastUse }) {
            try out.row([.text(name), .int8(e.model.version), .int4(Int32(clamping: e.model.cfCount)), .int8(Int64(e.bytes))])
        }
    }
}
