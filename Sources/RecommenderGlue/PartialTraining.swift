// Training from partial results (issue 10): the shard's side of recommender.partial_gram (the
// aggregate's final function, partial.c) and the coordinator's side, which asks every partition
// of a partitioned interactions table for its part and merges them (TrainingInput.swift).
#if canImport(Glibc)
import Glibc
#endif
import CPostgresShim
import RecommenderCore

/// The shard's side: the rows the aggregate collected, validated as train() validates rows, to
/// their partial result.
@_cdecl("rec_swift_partial_gram")
public func rec_swift_partial_gram(_ rows: UnsafePointer<RecPartialRow>?, _ count: Int64, _ weighting: Int32,
                                   _ power: Double, _ rowNorm: Double, _ halfLife: Double, _ sequenceHalfLife: Double,
                                   _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ outLen: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        guard let out = out, let outLen = outLen, count >= 0, count == 0 || rows != nil else {
            throw RecError.internalError("recommender.partial_gram: bad arguments")
        }
        guard weighting >= 0, let w = PartialGram.weighting(UInt32(weighting)) else {
            throw RecError.invalidParameter("recommender.partial_gram: unknown weighting code \(weighting)",
                                            hint: "0 binary, 1 sum, 2 log, 3 power.")
        }
        guard power.isFinite, rowNorm.isFinite, !halfLife.isNaN else {
            throw RecError.invalidParameter("recommender.partial_gram: weight_power, row_norm and half_life_seconds must be numbers")
        }
        guard sequenceHalfLife == 0 || SequenceModel.halfLifeRange.contains(sequenceHalfLife) else {
            throw RecError.invalidParameter("recommender.partial_gram: sequence_half_life must be 0 or NULL (no sequential component) or between \(SequenceModel.halfLifeRange.lowerBound) and \(SequenceModel.halfLifeRange.upperBound) positions (got \(sequenceHalfLife))")
        }
        var b = InteractionMatrixBuilder()
        var seq = SequenceCollector()
        for k in 0..<Int(count) {
            let r = rows![k]
            try validateWeight(r.weight, "the interaction of user \(r.user) with item \(r.item) (recommender.partial_gram on this server)")
            if r.has_time && !r.time.isFinite {
                throw RecError.outOfRange("the interaction of user \(r.user) with item \(r.item) (recommender.partial_gram on this server) has a non-finite time (\(r.time))",
                                          hint: "Times must be finite: fix or delete the rows with 'infinity' (or NaN) times, or register a view that filters them.")
            }
            try b.add(user: r.user, item: r.item, weight: r.weight, time: r.has_time ? r.time : nil)
            if sequenceHalfLife > 0 { seq.add(user: r.user, item: r.item, weight: r.weight, time: r.has_time ? r.time : nil) }
            if k & 65535 == 65535 { try PG.interrupt() }
        }
        let p = try PartialGram.compute(builder: b, weighting: w, power: power, rowNorm: rowNorm, halfLife: halfLife,
                                        sequenceHalfLife: sequenceHalfLife, sequence: seq, maxBytes: Int(rec_max_partial_size()), interrupt: PG.interrupt)
        let bytes = try p.encode()
        guard let buf = malloc(max(bytes.count, 1)) else {
            throw RecError.outOfMemory("recommender.partial_gram: out of memory for \(bytes.count) bytes")
        }
        bytes.withUnsafeBytes { buf.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        out.pointee = buf
        outLen.pointee = Int64(bytes.count)
    }
}

/// recommender.partial_gram_info(bytea): the checks train() makes, and what the partial holds.
@_cdecl("rec_swift_partial_gram_info")
public func rec_swift_partial_gram_info(_ bytes: UnsafeRawPointer?, _ len: Int64, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guarded {
        guard let out = out, len >= 0 else { throw RecError.internalError("recommender.partial_gram_info: bad arguments") }
        let data = len == 0 || bytes == nil ? [] : Array(UnsafeRawBufferPointer(start: bytes, count: Int(len)))
        let p = try PartialGram.decode(data)
        let json = "{\"format\": \(PartialGram.formatVersion), \"bytes\": \(len), \"weighting\": \(jsonString(p.weighting.rawValue)), "
            + "\"weight_power\": \(p.power), \"row_norm\": \(p.rowNorm), \"half_life_seconds\": \(p.halfLife), "
            + "\"scale\": \(p.scale), \"newest_event\": \(p.maxTime.isFinite ? String(p.maxTime) : "null"), "
            + "\"events\": \(p.events), \"users\": \(p.users), \"nonzeros\": \(p.nonZeros), \"items\": \(p.itemCount), \"pairs\": \(p.pairCount), "
            + "\"sequence_half_life\": \(p.sequenceHalfLife), \"sequence_entries\": \(p.sequenceEntries), "
            + "\"sequence_ss_pairs\": \(p.sequence.ssCount), \"sequence_st_pairs\": \(p.sequence.stCount)}"
        out.pointee = strdup(json)
        if out.pointee == nil { throw RecError.outOfMemory("recommender.partial_gram_info: out of memory") }
    }
}

enum PartialTraining {
    /// The partitions' parts merged, or nil for the row path (a NOTICE says why when the registered
    /// table is partitioned).
    static func read(model m: ModelRow, params p: TrainParams, ids: TrainingIds) throws -> MergedPartials? {
        // a database still at 0.3.0 has no recommender._partial_plan: rows, as before
        var planned = false, partitioned = false
        let e = try Cursor("""
            SELECT pg_catalog.to_regprocedure('recommender._partial_plan(text)') IS NOT NULL,
                   c.relkind OPERATOR(pg_catalog.=) 'p' FROM pg_catalog.pg_class c
             WHERE c.oid OPERATOR(pg_catalog.=) (SELECT interactions FROM recommender.model WHERE name OPERATOR(pg_catalog.=) $1)::pg_catalog.oid
            """, [.text(m.name)])
        try e.forEachRow { r in planned = try e.bool(r, 0) ?? false; partitioned = try e.bool(r, 1) ?? false }
        try e.close()
        guard partitioned else { return nil }
        func rows(_ why: String) throws -> MergedPartials? {
            try PG.notice("recommender: model \"\(m.name)\": the interactions are partitioned; training by reading their rows (\(why))")
            return nil
        }
        guard planned else { return try rows("partial training needs ALTER EXTENSION recommender UPDATE") }
        guard rec_partial_training() else { return try rows("recommender.partial_training is off") }
        guard !ids.keyed else { return try rows("partial training needs integer user and item ids") }
        // the sequential component's half-life, asked of every partition (0: none); one out of
        // range is the row path's error to report (TrainSequence.swift)
        let seqHalfLife = p.sequenceWeight > 0 ? p.sequenceHalfLife : 0
        guard seqHalfLife == 0 || SequenceModel.halfLifeRange.contains(seqHalfLife) else {
            return try rows("sequence_half_life \(seqHalfLife) is out of range")
        }

        struct Leaf { var name: String; var remote: Bool; var server: String; var args: String }
        var leaves: [Leaf] = []
        var reason: String? = nil
        let c = try Cursor("SELECT reason, leaf, remote, server, args FROM recommender._partial_plan($1)", [.text(m.name)])
        try c.forEachRow { r in
            if let why = try c.text(r, 0) { reason = why; return }
            leaves.append(Leaf(name: try c.text(r, 1) ?? "", remote: try c.bool(r, 2) ?? false, server: try c.text(r, 3) ?? "",
                               args: try c.text(r, 4) ?? ""))
        }
        try c.close()
        if let why = reason { return try rows(why) }

        let args: [SQLValue] = [.int4(Int32(PartialGram.code(p.weighting))), .float8(p.weightPower), .float8(p.rowNorm), .float8(p.halfLife),
                                .float8(seqHalfLife)]
        var parts: [PartialGram] = []
        var pushed: [String] = [], pulled: [String] = [], local = 0, total = 0
        for leaf in leaves {
            // as base64 text (recommender.partial_gram_base64): postgres_fdw fetches the result as
            // text, where a bytea would be hex, twice its size
            let q = "SELECT recommender.partial_gram_base64(recommender.partial_gram(\(leaf.args), $1::pg_catalog.int4, $2::pg_catalog.float8, $3::pg_catalog.float8, $4::pg_catalog.float8, $5::pg_catalog.float8)) FROM ONLY \(leaf.name)"
            if leaf.remote {
                // postgres_fdw ships the whole aggregate when it can (the server's extensions
                // option, shippable expressions); the plan's top node says whether it did
                var shipped = false
                let x = try Cursor("SELECT recommender._partial_pushed_down($1, $2, $3, $4, $5, $6)", [.text(q)] + args)
                try x.forEachRow { r in shipped = try x.bool(r, 0) ?? false }
                try x.close()
                if shipped { pushed.append(leaf.server) } else { pulled.append(leaf.name) }
            } else {
                local += 1
            }
            var bytes: [UInt8]? = nil
            let r = try Cursor(q, args)
            try r.forEachRow { row in
                guard let text = try r.textBytes(row, 0) else { return }
                guard let b = Base64.decode(text) else { throw PartialGram.corrupt("the partial result of \(leaf.name) is not base64 text") }
                bytes = b
            }
            try r.close()
            guard let b = bytes else {
                parts.append(PartialGram.empty(weighting: p.weighting, power: p.weightPower, rowNorm: p.rowNorm, halfLife: p.halfLife,
                                               sequenceHalfLife: seqHalfLife))
                continue
            }
            total += b.count
            guard total <= Memory.trainingLimit else {
                throw RecError.programLimit("the partial results of model \"\(m.name)\" (\(formatBytes(total)) so far) exceed recommender.max_training_memory (\(formatBytes(Memory.trainingLimit)))",
                                            hint: "Raise recommender.max_training_memory, or SET recommender.partial_training = off to read the rows instead.")
            }
            parts.append(try PartialGram.decode(b, maxItems: p.maxItems))
            try PG.interrupt()
        }
        let merged = try MergedPartials(parts, weighting: p.weighting, power: p.weightPower, rowNorm: p.rowNorm, halfLife: p.halfLife,
                                        sequenceHalfLife: seqHalfLife, maxItems: p.maxItems, interrupt: PG.interrupt)
        var how: [String] = []
        if !pushed.isEmpty { how.append("\(pushed.count) aggregated on their servers (\(pushed.joined(separator: ", ")))") }
        if !pulled.isEmpty { how.append("\(pulled.count) foreign aggregated here because postgres_fdw did not push the aggregate down (\(pulled.joined(separator: ", ")))") }
        if local > 0 { how.append("\(local) local aggregated here") }
        try PG.notice("recommender: model \"\(m.name)\": training from partial results of \(leaves.count) partitions: \(how.joined(separator: ", ")); \(total) bytes of partial results, \(merged.totalPairs) item pairs\(seqHalfLife > 0 ? ", \(merged.sequencePairs) sequence pairs" : "")")
        return merged
    }
}
