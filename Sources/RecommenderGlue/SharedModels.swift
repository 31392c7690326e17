// One read-only copy of a model per server (issue 7, part 2). A model version is served from an
// image file (RecommenderCore/ModelImage.swift) under the data directory,
//     $PGDATA/pg_recommender/<database oid>/<hash of the model name>-<version>.img
// that every backend maps read-only and shared, so one more serving connection adds no private
// memory that grows with the catalog. The catalog tables stay the truth:
// - on first use a backend maps the image of (model, version); when it is missing, stale (other
//   version or training stamp), damaged or of another format, the backend builds it from the
//   tables under an exclusive flock of <hash>.lock (another builder of the same model waits, then
//   finds the image): into <file>.tmp.<pid>, fsync, rename() into place, fsync the directory.
//   A crash or a full disk mid-write leaves only a temporary file, never used (it has no final
//   name) and removed at the model's next build or by recommender.reset_cache();
// - a new version gets a new file; its builder then removes the model's older versions and
//   temporary files (readers keep their mapping until they let it go: unlink is safe under a
//   mapping). On a hot standby the data directory is the standby's own: the image is built there
//   from the replicated tables;
// - when shared images are off (recommender.shared_models), an image would be larger than
//   recommender.max_shared_model_size, or the directory cannot be written (permissions, disk
//   full), the same image is built in private memory of the backend (bounded by
//   recommender.max_cache_memory as before), with one NOTICE per backend and reason, never an
//   error for the caller.
#if canImport(Glibc)
import Glibc
#endif
import CPostgresShim
import RecommenderCore

/// What the catalog says about a trained version (model_version), before any item row is read.
struct VersionMeta {
    var name: String
    var version: Int64
    var shape: ImageShape
    var need: Bytes
}

/// The shared path could not be used; `reason` goes into the once-per-backend NOTICE.
struct SharedFallback: Error { let reason: String }

enum SharedModels {
    /// Reasons already announced in this backend (a NOTICE once each).
    static var noticed: Set<String> = []

    /// The data directory (absolute), nil when unknown.
    static var dataDirectory: String? {
        guard let d = rec_data_directory() else { return nil }
        let dd = String(cString: d)
        return dd.hasPrefix("/") ? dd : nil
    }
    static var subdirectory: [String] { ["pg_recommender", "\(rec_database_id())"] }

    /// The image directory of the current database.
    static var directory: String? {
        dataDirectory.map { $0 + "/" + subdirectory.joined(separator: "/") }
    }

    /// The image of a version, mapped (shared) or built in private memory; `privateBytes`
    /// receives what it takes in this backend (0 for a shared mapping's arrays).
    static func parts(_ m: VersionMeta, privateBytes: inout Int) throws -> ModelImage.Parts {
        if rec_shared_models() {
            do {
                let p = try sharedParts(m)
                privateBytes = 0
                return p
            } catch let f as SharedFallback {
                try announce(f.reason)
            } catch let e as FileError {
                try announce(e.description + (e.isDiskFull ? " (disk full)" : ""))
            }
        }
        return try privateParts(m, bytes: &privateBytes)
    }

    static func announce(_ reason: String) throws {
        guard !noticed.contains(reason) else { return }
        noticed.insert(reason)
        try PG.notice("recommender: model images are not shared in this session: \(reason); models are loaded into this backend's memory (see recommender.shared_models)")
    }

    static func map(_ path: String, _ shape: ImageShape) throws -> ModelImage.Parts? {
        guard ImageFiles.exists(path) else { return nil }
        let mem: ModelMemory
        do { mem = try ModelMemory.mapFile(path) } catch { return nil }
        do {
            return try ModelImage.read(mem, expect: shape, fullCheck: rec_verify_shared_models(), interrupt: PG.interrupt)
        } catch let r as ImageRejected {
            try "recommender: model image \(path) rejected (\(r.reason)); building it again".withCString { try check(rec_notice($0, true)) }
            return nil
        }
    }

    static func sharedParts(_ m: VersionMeta) throws -> ModelImage.Parts {
        guard let dir = directory else { throw SharedFallback(reason: "the data directory is not known") }
        let hash = ModelImage.nameHash(m.name)
        let file = dir + "/" + ModelImage.fileName(nameHash: hash, version: m.version)
        let limit = rec_max_shared_model_size()
        guard let size = m.shape.layout()?.size else { throw SharedFallback(reason: "the image size overflows") }
        if limit >= 0 && size > limit {
            throw SharedFallback(reason: "the image of model \"\(m.name)\" (\(formatBytes(size))) is larger than recommender.max_shared_model_size (\(formatBytes(Int(limit))))")
        }
        if let p = try map(file, m.shape) { return p }
        _ = try ImageFiles.makeDirectory(subdirectory, under: dataDirectory ?? "/")
        let lock = try lockModel(dir: dir, hash: hash)
        defer { ImageFiles.unlock(lock) }
        // another backend may have built it while this one waited for the lock
        if let p = try map(file, m.shape) { return p }
        let tmp = file + ".tmp.\(ImageFiles.processId)"
        ImageFiles.remove(tmp)
        var renamed = false
        defer { if !renamed { ImageFiles.remove(tmp) } }
        let sink = try FileSink(creating: tmp)
        try write(m, to: sink)
        try sink.finish()
        try ImageFiles.rename(tmp, file)
        renamed = true
        try ImageFiles.syncDirectory(dir)
        cleanup(dir: dir, hash: hash, keepingFrom: m.version)
        guard let p = try map(file, m.shape) else {
            throw SharedFallback(reason: "the image just written to \(file) was rejected")
        }
        return p
    }

    /// The model's flock, polled so that a cancel or statement_timeout still acts while another
    /// backend builds the image.
    static func lockModel(dir: String, hash: UInt64) throws -> Int32 {
        let path = dir + "/" + ModelImage.fileName(nameHash: hash, version: 0).replacingSuffix("-0.img", with: ".lock")
        while true {
            if let fd = try ImageFiles.lock(path, wait: false) { return fd }
            try PG.interrupt()
            usleep(10_000)
        }
    }

    /// Removes, for one model (its lock held), the images of versions older than `keepingFrom`
    /// and every temporary file (no other builder of this model can be writing one).
    static func cleanup(dir: String, hash: UInt64, keepingFrom version: Int64?) {
        let prefix = String(ModelImage.fileName(nameHash: hash, version: 0).dropLast("0.img".count))
        var versions: [(String, Int64)] = []
        for f in ImageFiles.list(dir) where f.hasPrefix(prefix) {
            let rest = f.dropFirst(prefix.count)
            if rest.contains(".img.tmp.") { ImageFiles.remove(dir + "/" + f); continue }
            if rest.hasSuffix(".img"), let v = Int64(rest.dropLast(4)) { versions.append((f, v)) }
        }
        let keep = version ?? versions.map(\.1).max() ?? 0
        for (f, v) in versions where v < keep { ImageFiles.remove(dir + "/" + f) }
    }

    /// recommender.reset_cache(): for every model whose lock is free, its temporary files and the
    /// images older than its newest one.
    static func cleanupAll() {
        guard let dir = directory else { return }
        var hashes = Set<UInt64>()
        for f in ImageFiles.list(dir) where f.count > 17 {
            if let h = UInt64(f.prefix(16), radix: 16) { hashes.insert(h) }
        }
        for h in hashes {
            let path = dir + "/" + ModelImage.fileName(nameHash: h, version: 0).replacingSuffix("-0.img", with: ".lock")
            guard let fd = try? ImageFiles.lock(path, wait: false) else { continue }
            cleanup(dir: dir, hash: h, keepingFrom: nil)
            ImageFiles.unlock(fd)
        }
    }

    /// The same image in this backend's memory: sized first and checked against
    /// recommender.max_cache_memory and MemAvailable (as the per-backend load always was).
    static func privateParts(_ m: VersionMeta, bytes: inout Int) throws -> ModelImage.Parts {
        // item keys: their bytes, offsets and order (and the writer's copy while it builds)
        let keyBytes = m.shape.keys != .none ? try keyByteCount(m) : 0
        let need = m.shape.keys != .none ? m.need + (Bytes(keyBytes) + Bytes.elements(m.shape.count, 12)) * 2 : m.need
        try Memory.checkServing(need, model: m.name, items: m.shape.cfCount, checkAvailable: false)
        ModelCache.makeRoom(for: m.name, bytes: need.value ?? Int.max, limit: Memory.cacheLimit)
        try Memory.checkServing(need, model: m.name, items: m.shape.cfCount, checkAvailable: true)
        let values = m.shape.hasCategories ? try categoryValueCount(m) : 0
        guard let size = m.shape.layout(categoryValues: values, keyBytes: keyBytes)?.size else {
            throw RecError.programLimit("model \"\(m.name)\" is too large to load")
        }
        let sink: MemorySink
        do { sink = try MemorySink(size: size) } catch {
            throw RecError.outOfMemory("loading model \"\(m.name)\" needs \(formatBytes(size)) of memory, which the system refused")
        }
        try write(m, to: sink)
        bytes = size
        do {
            return try ModelImage.read(sink.memory, expect: m.shape, fullCheck: false, interrupt: PG.interrupt)
        } catch let r as ImageRejected {
            throw RecError.internalError("model \"\(m.name)\": the image built in memory was rejected (\(r.reason))")
        }
    }

    static func categoryValueCount(_ m: VersionMeta) throws -> Int {
        let c = try Cursor("""
            SELECT COALESCE(pg_catalog.sum(pg_catalog.cardinality(categories)), 0)::pg_catalog.int8
              FROM recommender.model_item WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
            """, [.text(m.name), .int8(m.version)])
        defer { try? c.close() }
        var n: Int64 = 0
        try c.forEachRow { r in n = try c.int8(r, 0) ?? 0 }
        return Int(n)
    }

    static func keyByteCount(_ m: VersionMeta) throws -> Int {
        let c = try Cursor("""
            SELECT COALESCE(pg_catalog.sum(pg_catalog.octet_length(item_key)), 0)::pg_catalog.int8
              FROM recommender.model_item WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
            """, [.text(m.name), .int8(m.version)])
        defer { try? c.close() }
        var n: Int64 = 0
        try c.forEachRow { r in n = try c.int8(r, 0) ?? 0 }
        return Int(n)
    }

    /// Streams the version's item rows from recommender.model_item into an image.
    static func write(_ m: VersionMeta, to sink: ImageSink) throws {
        let s = m.shape, name = m.name, version = m.version
        let n = s.cfCount, total = s.count, dims = s.similarityDims, cdims = s.contentDims
        let writer = try ImageWriter(shape: s, sink: sink)
        var wrow = [Float](repeating: 0, count: s.sparseNonZeros == nil ? n : 0)
        var srow = [Float](repeating: 0, count: dims)
        var crow = [Float](repeating: 0, count: cdims)
        var expected: Int32 = 0
        // item_key is a 0.3.0 column: read only for a version trained with keys
        let keyed = s.keys != .none
        let c = try Cursor("""
            SELECT idx, item_id, popularity, pg_catalog.array_to_string(categories, ','), similarity, weights, users, content\(keyed ? ", item_key" : "")
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
            let id = try c.int8(r, 1) ?? 0
            var cats: [Int32] = []
            if s.hasCategories, let t = try c.text(r, 3), !t.isEmpty {
                cats = t.split(separator: ",").compactMap { Int32($0) }
            }
            if dims > 0 {
                guard try c.floats(r, 4, into: &srow, at: 0, expected: dims) else {
                    throw RecError.internalError("model \"\(name)\": similarity vector of item \(id) is damaged")
                }
            }
            var sparseRow: [(Int32, Float)]? = nil
            if i < n && s.sparseNonZeros != nil {
                // the sparse kind's row: (index, weight) pairs (SparseItemWeights.swift)
                guard let bytes = try c.byteArray(r, 5),
                      let row = bytes.withUnsafeBytes({ SparseItemWeights.decodeRow($0, row: i, n: n) }) else {
                    throw RecError.internalError("model \"\(name)\": weights of item \(id) are damaged")
                }
                sparseRow = row
            } else if i < n {
                guard try c.floats(r, 5, into: &wrow, at: 0, expected: n) else {
                    throw RecError.internalError("model \"\(name)\": weights of item \(id) are damaged")
                }
            }
            let users = Int(try c.int4(r, 6) ?? 0)
            let hasContent = cdims > 0 ? try c.floats(r, 7, into: &crow, at: 0, expected: cdims) : false
            try writer.add(id: id, popularity: try c.float8(r, 2) ?? 0, users: max(0, users), categories: cats,
                           weights: i < n && sparseRow == nil ? wrow[...] : [][...], sparseRow: sparseRow, similarity: srow[...],
                           content: hasContent ? crow[...] : nil, key: keyed ? try c.text(r, 8) : nil)
            expected += 1
        }
        guard Int(expected) == total else {
            throw RecError.internalError("model \"\(name)\" version \(version) has \(expected) of \(total) item rows")
        }
        try writer.finish(interrupt: PG.interrupt)
    }
}

extension String {
    func replacingSuffix(_ suffix: String, with other: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + other : self
    }
}
