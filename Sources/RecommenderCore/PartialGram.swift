#if canImport(Glibc)
import Glibc
#endif

/// Training from partial results (issue 10): what one shard sends about its own users, and how the
/// coordinator adds the shards' parts up.
///
/// Everything training needs from the rows is a sum over users, so with the interactions
/// partitioned by the user column each shard computes its users' part over its own rows:
/// XᵀX as the co-occurring pairs (i, j, value) (a sparse lower triangle, so the sparse kind is
/// served too), per item the number of users and the decayed popularity sums, and the counts.
/// Two things are not sums: the power weighting's scale (the largest summed weight of a pair) and
/// the popularity's reference time (the newest event). A shard computes with its own (its largest
/// sum s_k, its newest event m_k) and reports them; the coordinator takes S = max s_k and
/// M = max m_k and rescales each shard's part: the Gram values by (s_k / S)^(2 power) (every value
/// of the shard is (w / s_k)^power = (w / S)^power (S / s_k)^power), the decayed sums by
/// 2^(-(M - m_k) / half-life). The result equals a single-server training on the same rows up to
/// the order of floating-point additions.
///
/// With the sequential component (sequence_weight > 0; Sequence.swift) the shard also sends its
/// users' part of SᵀS and SᵀT (SequencePairs.swift): each user's history ordered by first event
/// time (ties by item id, as SequenceCollector), the same window, position decay, values and row
/// scale as the row path. Their values are products of two of the shard's values, so they are
/// rescaled as the Gram values, by (s_k / S)^(2 power).
///
/// The binary format (version 2, little-endian, `encode` / `decode`; version 1, without the
/// sequence fields, was never released and is rejected with 22P03):
///
///     offset  size  field
///     0       8     magic "RECPGRAM"
///     8       4     format version (UInt32, 1)
///     12      4     weighting (UInt32: 0 binary, 1 sum, 2 log, 3 power)
///     16      8     weight power (Float64)          the parameters the shard used, checked by the
///     24      8     row_norm (Float64)              coordinator against the ones it asked for
///     32      8     popularity half-life, s (Float64)
///     40      8     scale s_k (Float64; 1 unless power)
///     48      8     newest event time m_k, epoch s (Float64; -inf without times)
///     56      8     events (Int64: every row, zero weights included)
///     64      8     users (Int64: users with a positive weight)
///     72      8     non-zeros of X (Int64)
///     80      8     items n (Int64)
///     88      8     pairs P (Int64)
///     96      8     sequence half-life in positions (Float64; 0: the sequential part was not asked for)
///     104     8     sequence entries E (Int64: (user, item) pairs with a positive weight and a time)
///     112     8     SᵀS pairs Q (Int64)
///     120     8     SᵀT pairs R (Int64)
///     128     40 n  items, ids strictly increasing: id (Int64), users (Int64), timed events (Int64),
///                   recent (Float64), baseline (Float64): Σ min(w, 1e12) 2^(-(m_k - t) / h) with
///                   h = half-life and 8 half-lives
///     128+40n 16 P  pairs, by (column, row) increasing, row >= column: column (UInt32), row
///                   (UInt32) as positions in this partial's item list, value (Float64)
///     ...     16 Q  SᵀS's upper triangle by (row, column) increasing, column >= row: row (UInt32),
///                   column (UInt32), value (Float64)
///     ...     16 R  SᵀT by (row = input item, column = target item) increasing: as SᵀS
///     end-8   8     FNV-1a 64 of every byte before it
///
/// Positions refer to the partial's own item list (its ids), never to a model's positions.
public struct PartialGram: Equatable, Sendable {
    public static let magic: [UInt8] = Array("RECPGRAM".utf8)
    public static let formatVersion: UInt32 = 2
    public static let headerBytes = 128
    public static let bytesPerItem = 40
    public static let bytesPerPair = 16

    public var weighting: Weighting
    public var power: Double
    public var rowNorm: Double
    public var halfLife: Double
    public var scale: Double
    public var maxTime: Double
    public var events: Int64
    public var users: Int64
    public var nonZeros: Int64
    public var itemIds: [Int64]
    public var userCounts: [Int64]
    public var timedEvents: [Int64]
    public var recent: [Double]
    public var baseline: [Double]
    public var pairCol: [UInt32]
    public var pairRow: [UInt32]
    public var pairValue: [Double]
    /// The sequential part (0 and empty when not asked for).
    public var sequenceHalfLife: Double = 0
    public var sequenceEntries: Int64 = 0
    public var sequence = SequencePairs()

    public var itemCount: Int { itemIds.count }
    public var pairCount: Int { pairValue.count }

    public static func code(_ w: Weighting) -> UInt32 {
        switch w { case .binary: return 0; case .sum: return 1; case .log: return 2; case .power: return 3 }
    }
    public static func weighting(_ c: UInt32) -> Weighting? {
        switch c { case 0: return .binary; case 1: return .sum; case 2: return .log; case 3: return .power; default: return nil }
    }

    /// The encoded size of a partial with n items and p pairs (Gram and sequence pairs together;
    /// nil on overflow).
    public static func encodedSize(items n: Int, pairs p: Int) -> Int? {
        let (a, o1) = n.multipliedReportingOverflow(by: bytesPerItem)
        let (b, o2) = p.multipliedReportingOverflow(by: bytesPerPair)
        let (c, o3) = a.addingReportingOverflow(b)
        let (d, o4) = c.addingReportingOverflow(headerBytes + 8)
        return (o1 || o2 || o3 || o4 || n < 0 || p < 0) ? nil : d
    }

    /// A shard's part: the rows it holds (already in `builder`, which validated them), with the
    /// given weighting, row_norm and popularity half-life. With `sequenceHalfLife` > 0 (positions)
    /// also the sequential component's SᵀS and SᵀT over the histories of `sequence` (the same rows'
    /// first times). `maxBytes` bounds the encoded result (checked before the pairs are allocated).
    public static func compute(builder b: InteractionMatrixBuilder, weighting: Weighting, power: Double, rowNorm: Double,
                               halfLife: Double, sequenceHalfLife: Double = 0, sequence: SequenceCollector? = nil,
                               maxBytes: Int, interrupt: InterruptCheck = neverInterrupted) throws -> PartialGram {
        guard sequenceHalfLife == 0 || SequenceModel.halfLifeRange.contains(sequenceHalfLife) else {
            throw RecError.invalidParameter("sequence_half_life must be 0 (no sequential component) or between \(SequenceModel.halfLifeRange.lowerBound) and \(SequenceModel.halfLifeRange.upperBound) (got \(sequenceHalfLife))")
        }
        let scale = weighting == .power ? max(try b.maxTotal(interrupt: interrupt), 1e-300) : 1
        let transform = ValueTransform(weighting, power: power, scale: scale)
        let x = try b.build(transform: transform, rowNorm: rowNorm, interrupt: interrupt)
        let n = b.itemCount
        guard let base = encodedSize(items: n, pairs: 0), base <= maxBytes else {
            throw RecError.programLimit("the partial result of \(n) items exceeds recommender.max_partial_size (\(maxBytes) bytes)",
                                        hint: "Raise recommender.max_partial_size on this server, or SET recommender.partial_training = off on the coordinator.")
        }
        let maxPairs = (maxBytes - base) / bytesPerPair
        let pairs = try SparseGram.count(x, interrupt: interrupt)
        guard pairs <= maxPairs else {
            throw RecError.programLimit("the partial result has \(pairs) item pairs (\(encodedSize(items: n, pairs: pairs) ?? Int.max) bytes), more than recommender.max_partial_size (\(maxBytes) bytes) allows",
                                        hint: "Raise recommender.max_partial_size on this server, or SET recommender.partial_training = off on the coordinator.")
        }
        let g = try SparseGram.build(x, maxNonZeros: maxPairs, interrupt: interrupt)
        let counts = try b.itemUserCounts(interrupt: interrupt)
        // the items by id: position in the builder -> position in the partial
        let order = (0..<n).sorted { b.itemIds[$0] < b.itemIds[$1] }
        var pos = [UInt32](repeating: 0, count: n)
        for (k, i) in order.enumerated() { pos[i] = UInt32(k) }
        var p = PartialGram(weighting: weighting, power: power, rowNorm: rowNorm, halfLife: halfLife, scale: scale, maxTime: b.maxTime,
                            events: Int64(b.events), users: Int64(b.userCount), nonZeros: Int64(x.nonZeros),
                            itemIds: order.map { b.itemIds[$0] }, userCounts: order.map { Int64(counts[$0]) },
                            timedEvents: order.map { Int64(b.itemEventTimes[$0].count) },
                            recent: [Double](repeating: 0, count: n), baseline: [Double](repeating: 0, count: n),
                            pairCol: [], pairRow: [], pairValue: [])
        if b.maxTime.isFinite && halfLife > 0 {
            for (k, i) in order.enumerated() {
                var r = 0.0, s = 0.0
                // as InteractionMatrixBuilder.decayedPopularity, against this shard's newest event
                for (t, w) in b.itemEventTimes[i] {
                    r += min(w, 1e12) * exp(-0.6931471805599453 * (b.maxTime - t) / halfLife)
                    s += min(w, 1e12) * exp(-0.6931471805599453 * (b.maxTime - t) / (halfLife * 8))
                }
                p.recent[k] = r; p.baseline[k] = s
                if k & 1023 == 1023 { try interrupt() }
            }
        }
        // the pairs in the partial's positions, sorted by (column, row) with row >= column: two
        // stable counting sorts (by row, then by column), O(pairs + items); a comparison sort of
        // the triples was 40% of a shard's aggregate at 20,000 items (bench/unit_costs.sh)
        let m = g.nonZeros
        var col0 = [UInt32](repeating: 0, count: m), row0 = [UInt32](repeating: 0, count: m)
        var val0 = [Double](repeating: 0, count: m)
        var t0 = 0
        for j in 0..<g.n {
            for t in g.colStart[j]..<g.colStart[j + 1] where t0 < m {
                let a = pos[j], c = pos[Int(g.rowIndex[t])]
                col0[t0] = min(a, c); row0[t0] = max(a, c); val0[t0] = g.values[t]; t0 += 1
            }
            if j & 1023 == 1023 { try interrupt() }
        }
        // by row into (col1, row1, val1), then by column into the partial's arrays
        func countingOrder(_ key: [UInt32], _ count: Int) -> [Int] {
            var start = [Int](repeating: 0, count: n + 1)
            for k in 0..<count { start[Int(key[k]) + 1] += 1 }
            for i in 0..<n { start[i + 1] += start[i] }
            var dest = [Int](repeating: 0, count: count)
            for k in 0..<count { let key = Int(key[k]); dest[k] = start[key]; start[key] += 1 }
            return dest
        }
        let byRow = countingOrder(row0, t0)
        var col1 = [UInt32](repeating: 0, count: t0), row1 = [UInt32](repeating: 0, count: t0)
        var val1 = [Double](repeating: 0, count: t0)
        for k in 0..<t0 { let d = byRow[k]; col1[d] = col0[k]; row1[d] = row0[k]; val1[d] = val0[k] }
        col0 = []; row0 = []; val0 = []
        try interrupt()
        let byCol = countingOrder(col1, t0)
        p.pairCol = [UInt32](repeating: 0, count: t0); p.pairRow = [UInt32](repeating: 0, count: t0)
        p.pairValue = [Double](repeating: 0, count: t0)
        for k in 0..<t0 { let d = byCol[k]; p.pairCol[d] = col1[k]; p.pairRow[d] = row1[k]; p.pairValue[d] = val1[k] }
        if sequenceHalfLife > 0 {
            // the row path's sequences and row scale (TrainSequence.swift), in this partial's numbering
            let collector = sequence ?? SequenceCollector()
            p.sequenceHalfLife = sequenceHalfLife
            p.sequenceEntries = Int64(collector.pairs)
            p.sequence = try SequenceModel.sparseGrams(sequences: collector.sequences(b, transform: transform),
                                                       rowScale: b.sequenceRowScale(rowNorm: rowNorm), n: n,
                                                       position: pos, window: SequenceModel.window(forHalfLife: sequenceHalfLife),
                                                       halfLife: sequenceHalfLife, maxPairs: maxPairs - g.nonZeros, interrupt: interrupt)
        }
        return p
    }

    /// An empty partial (a shard without rows) with the given parameters.
    public static func empty(weighting: Weighting, power: Double, rowNorm: Double, halfLife: Double,
                             sequenceHalfLife: Double = 0) -> PartialGram {
        PartialGram(weighting: weighting, power: power, rowNorm: rowNorm, halfLife: halfLife, scale: 1, maxTime: -.infinity,
                    events: 0, users: 0, nonZeros: 0, itemIds: [], userCounts: [], timedEvents: [], recent: [], baseline: [],
                    pairCol: [], pairRow: [], pairValue: [], sequenceHalfLife: sequenceHalfLife)
    }

    /// Gram and sequence pairs together (what the size is made of).
    public var allPairs: Int { pairCount + sequence.ssCount + sequence.stCount }

    // MARK: encoding

    public func encode() throws -> [UInt8] {
        guard let size = PartialGram.encodedSize(items: itemCount, pairs: allPairs) else {
            throw RecError.programLimit("the partial result is too large to encode")
        }
        // written in place into a buffer of the final size (appending byte slices through
        // closures was 20% of a shard's aggregate at 20,000 items)
        var out = [UInt8](repeating: 0, count: size)
        let body = size - 8
        var o = 0
        out.withUnsafeMutableBytes { buf in
            func u32(_ v: UInt32) { if o + 4 <= body { buf.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt32.self) }; o += 4 }
            func u64(_ v: UInt64) { if o + 8 <= body { buf.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt64.self) }; o += 8 }
            func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
            func f64(_ v: Double) { u64(v.bitPattern) }
            for b in PartialGram.magic where o < body { buf[o] = b; o += 1 }
            u32(PartialGram.formatVersion); u32(PartialGram.code(weighting))
            f64(power); f64(rowNorm); f64(halfLife); f64(scale); f64(maxTime)
            i64(events); i64(users); i64(nonZeros); i64(Int64(itemCount)); i64(Int64(pairCount))
            f64(sequenceHalfLife); i64(sequenceEntries); i64(Int64(sequence.ssCount)); i64(Int64(sequence.stCount))
            for k in 0..<itemCount {
                i64(itemIds[k]); i64(userCounts[k]); i64(timedEvents[k]); f64(recent[k]); f64(baseline[k])
            }
            for k in 0..<pairCount { u32(pairCol[k]); u32(pairRow[k]); f64(pairValue[k]) }
            for k in 0..<sequence.ssCount { u32(sequence.ssRow[k]); u32(sequence.ssCol[k]); f64(sequence.ssValue[k]) }
            for k in 0..<sequence.stCount { u32(sequence.stRow[k]); u32(sequence.stCol[k]); f64(sequence.stValue[k]) }
        }
        guard o == body else { throw RecError.internalError("partial result: encoded \(o) bytes, expected \(body)") }
        let h = PartialGram.fnv1a(out[0..<body])
        out.withUnsafeMutableBytes { $0.storeBytes(of: h.littleEndian, toByteOffset: body, as: UInt64.self) }
        return out
    }

    static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        bytes.withUnsafeBytes { for b in $0 { h = (h ^ UInt64(b)) &* 0x100000001b3 } }
        return h
    }

    public static func corrupt(_ what: String) -> RecError {
        RecError("22P03", "invalid partial training result: \(what)",
                 hint: "A partial result is made by recommender.partial_gram() of the same extension version on the shard; check that every shard runs recommender 0.4.0, or SET recommender.partial_training = off to read the rows instead.")
    }

    /// Decodes and checks a partial (22P03 for anything that is not a whole, consistent version-2
    /// partial: version 1 was never released and is rejected). `maxItems` bounds the items before anything of their size is allocated.
    public static func decode(_ bytes: [UInt8], maxItems: Int = Int.max) throws -> PartialGram {
        guard bytes.count >= headerBytes + 8 else { throw corrupt("\(bytes.count) bytes, shorter than a header") }
        guard Array(bytes[0..<8]) == magic else { throw corrupt("not a partial result (bad magic)") }
        var at = 8
        func u32() -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 { v |= UInt32(bytes[at + k]) << (8 * k) }
            at += 4; return v
        }
        func u64() -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[at + k]) << (8 * k) }
            at += 8; return v
        }
        func i64() -> Int64 { Int64(bitPattern: u64()) }
        func f64() -> Double { Double(bitPattern: u64()) }
        let version = u32()
        guard version == formatVersion else {
            throw corrupt("format version \(version), this library reads version \(formatVersion)")
        }
        guard let w = weighting(u32()) else { throw corrupt("unknown weighting code") }
        let power = f64(), rowNorm = f64(), halfLife = f64(), scale = f64(), maxTime = f64()
        let events = i64(), users = i64(), nonZeros = i64(), n64 = i64(), p64 = i64()
        let seqHalfLife = f64(), seqEntries = i64(), q64 = i64(), r64 = i64()
        guard n64 >= 0, p64 >= 0, q64 >= 0, r64 >= 0, n64 <= Int64(Int32.max), events >= 0, users >= 0, nonZeros >= 0, seqEntries >= 0 else {
            throw corrupt("negative or too large counts")
        }
        let n = Int(n64)
        guard n <= maxItems else {
            throw RecError.programLimit("a partial result has \(n) items, more than max_items (\(maxItems))",
                                        hint: "Raise the model's max_items parameter, or register a view that keeps the items that matter.")
        }
        let limit = Int64(Int.max / bytesPerPair / 4)
        guard p64 <= limit, q64 <= limit, r64 <= limit, let size = encodedSize(items: n, pairs: Int(p64 + q64 + r64)), size == bytes.count else {
            throw corrupt("\(bytes.count) bytes do not match \(n64) items, \(p64) pairs, \(q64) + \(r64) sequence pairs")
        }
        let pc = Int(p64), qc = Int(q64), rc = Int(r64)
        var sum = UInt64(0)
        sum = fnv1a(bytes[0..<(bytes.count - 8)])
        var check = UInt64(0)
        for k in 0..<8 { check |= UInt64(bytes[bytes.count - 8 + k]) << (8 * k) }
        guard check == sum else { throw corrupt("checksum mismatch") }
        guard power.isFinite, rowNorm.isFinite, halfLife.isFinite || halfLife == .infinity, scale.isFinite, scale > 0,
              !maxTime.isNaN, maxTime != .infinity,
              seqHalfLife == 0 || SequenceModel.halfLifeRange.contains(seqHalfLife),
              seqHalfLife > 0 || (seqEntries == 0 && qc == 0 && rc == 0) else { throw corrupt("parameters out of range") }
        var p = PartialGram(weighting: w, power: power, rowNorm: rowNorm, halfLife: halfLife, scale: scale, maxTime: maxTime,
                            events: events, users: users, nonZeros: nonZeros,
                            itemIds: [], userCounts: [], timedEvents: [], recent: [], baseline: [], pairCol: [], pairRow: [], pairValue: [])
        p.itemIds.reserveCapacity(n); p.userCounts.reserveCapacity(n); p.timedEvents.reserveCapacity(n)
        p.recent.reserveCapacity(n); p.baseline.reserveCapacity(n)
        var last = Int64.min
        for k in 0..<n {
            let id = i64(), uc = i64(), te = i64(), r = f64(), b = f64()
            guard k == 0 || id > last else { throw corrupt("item ids not strictly increasing") }
            guard uc >= 0, te >= 0, r.isFinite, r >= 0, b.isFinite, b >= 0 else { throw corrupt("item \(id) has out-of-range figures") }
            last = id
            p.itemIds.append(id); p.userCounts.append(uc); p.timedEvents.append(te); p.recent.append(r); p.baseline.append(b)
        }
        p.pairCol.reserveCapacity(pc); p.pairRow.reserveCapacity(pc); p.pairValue.reserveCapacity(pc)
        var lc = UInt32(0), lr = UInt32(0)
        for k in 0..<pc {
            let c = u32(), r = u32(), v = f64()
            guard Int(r) < n, c <= r else { throw corrupt("pair (\(c), \(r)) out of range") }
            guard k == 0 || c > lc || (c == lc && r > lr) else { throw corrupt("pairs not in order") }
            guard v.isFinite else { throw corrupt("a non-finite pair value") }
            lc = c; lr = r
            p.pairCol.append(c); p.pairRow.append(r); p.pairValue.append(v)
        }
        p.sequenceHalfLife = seqHalfLife
        p.sequenceEntries = seqEntries
        // the sequence pairs: (row, column) strictly increasing, in range, finite and >= 0 (the
        // values are sums of products of positive values and decays); SᵀS's column >= row
        func pairs(_ count: Int, upper: Bool, _ what: String) throws -> ([UInt32], [UInt32], [Double]) {
            var rs: [UInt32] = [], cs: [UInt32] = [], vs: [Double] = []
            rs.reserveCapacity(count); cs.reserveCapacity(count); vs.reserveCapacity(count)
            var lr = UInt32(0), lc = UInt32(0)
            for k in 0..<count {
                let r = u32(), c = u32(), v = f64()
                guard Int(r) < n, Int(c) < n, !upper || c >= r else { throw corrupt("\(what) pair (\(r), \(c)) out of range") }
                guard k == 0 || r > lr || (r == lr && c > lc) else { throw corrupt("\(what) pairs not in order") }
                guard v.isFinite, v >= 0 else { throw corrupt("a non-finite or negative \(what) value") }
                lr = r; lc = c
                rs.append(r); cs.append(c); vs.append(v)
            }
            return (rs, cs, vs)
        }
        (p.sequence.ssRow, p.sequence.ssCol, p.sequence.ssValue) = try pairs(qc, upper: true, "SᵀS")
        (p.sequence.stRow, p.sequence.stCol, p.sequence.stValue) = try pairs(rc, upper: false, "SᵀT")
        return p
    }
}

/// The shards' partials added up: what training needs from the rows, in place of the rows.
public struct MergedPartials: Sendable {
    public let transform: ValueTransform
    public let itemIds: [Int64]
    public let events: Int
    public let userCount: Int
    public let nonZeros: Int
    public let maxTime: Double
    /// The sequential component's (user, item) entries over all parts (0: nothing sequential).
    public let sequenceEntries: Int
    let parts: [PartialGram]
    /// per part: its item positions in `itemIds`
    let positions: [[Int32]]
    let pairFactor: [Double]
    let timeFactor: [(Double, Double)]
    let userCounts: [Int]

    public var itemCount: Int { itemIds.count }
    /// The Gram pairs of every part (the sparse kind's work before the duplicates are summed).
    public var totalPairs: Int { parts.reduce(0) { $0 + $1.pairCount } }
    /// The sequential component's pairs (SᵀS's upper triangle and SᵀT) of every part.
    public var sequencePairs: Int { parts.reduce(0) { $0 + $1.sequence.ssCount + $1.sequence.stCount } }

    /// Checks that every part was made with the parameters asked for (22P03 otherwise) and merges
    /// the item lists (by id, increasing). `maxItems` bounds the union.
    public init(_ parts: [PartialGram], weighting: Weighting, power: Double, rowNorm: Double, halfLife: Double,
                sequenceHalfLife: Double = 0, maxItems: Int, interrupt: InterruptCheck = neverInterrupted) throws {
        for p in parts {
            guard p.weighting == weighting, p.power == power || weighting != .power, p.rowNorm == rowNorm, p.halfLife == halfLife,
                  p.sequenceHalfLife == sequenceHalfLife else {
                throw PartialGram.corrupt("made with other parameters (weighting \(p.weighting.rawValue), power \(p.power), row_norm \(p.rowNorm), half-life \(p.halfLife), sequence half-life \(p.sequenceHalfLife)) than asked for")
            }
        }
        let scale = weighting == .power ? parts.map(\.scale).max() ?? 1 : 1
        let maxTime = parts.map(\.maxTime).max() ?? -.infinity
        // the union of the (sorted) id lists
        var ids: [Int64] = []
        var heads = [Int](repeating: 0, count: parts.count)
        var positions = parts.map { [Int32](repeating: 0, count: $0.itemCount) }
        while true {
            var next: Int64? = nil
            for (k, p) in parts.enumerated() where heads[k] < p.itemCount {
                let id = p.itemIds[heads[k]]
                if next == nil || id < next! { next = id }
            }
            guard let id = next else { break }
            guard ids.count < maxItems else {
                throw RecError.programLimit("the catalog has more than \(maxItems) items with interactions; the model is limited to \(maxItems) items",
                                            hint: "Raise the model's max_items parameter (memory grows with its square), or register a view that keeps the items that matter.")
            }
            for (k, p) in parts.enumerated() where heads[k] < p.itemCount && p.itemIds[heads[k]] == id {
                positions[k][heads[k]] = Int32(ids.count); heads[k] += 1
            }
            ids.append(id)
            if ids.count & 1023 == 1023 { try interrupt() }
        }
        var counts = [Int](repeating: 0, count: ids.count)
        for (k, p) in parts.enumerated() {
            for (a, c) in p.userCounts.enumerated() { counts[Int(positions[k][a])] += Int(c) }
        }
        self.parts = parts
        self.positions = positions
        self.itemIds = ids
        self.userCounts = counts
        self.transform = ValueTransform(weighting, power: power, scale: scale)
        self.events = parts.reduce(0) { $0 + Int($1.events) }
        self.userCount = parts.reduce(0) { $0 + Int($1.users) }
        self.nonZeros = parts.reduce(0) { $0 + Int($1.nonZeros) }
        self.maxTime = maxTime
        self.sequenceEntries = parts.reduce(0) { $0 + Int($1.sequenceEntries) }
        // (w / s_k)^power = (w / S)^power (S / s_k)^power: a Gram value (two of them) times (s_k / S)^(2 power)
        self.pairFactor = parts.map { weighting == .power ? pow($0.scale / scale, 2 * power) : 1 }
        // a decay counted from m_k, carried to M
        self.timeFactor = parts.map { p in
            guard p.maxTime.isFinite, maxTime.isFinite, halfLife > 0 else { return (0, 0) }
            return (exp(-0.6931471805599453 * (maxTime - p.maxTime) / halfLife), exp(-0.6931471805599453 * (maxTime - p.maxTime) / (halfLife * 8)))
        }
    }

    /// The dense n x n Gram matrix XᵀX (as EASE.gram).
    public func gram(interrupt: InterruptCheck = neverInterrupted) throws -> [Double] {
        let n = itemCount
        let (count, overflow) = n.multipliedReportingOverflow(by: n)
        guard !overflow else { throw RecError.programLimit("item count \(n) is too large for a dense Gram matrix") }
        var g = [Double](repeating: 0, count: count)
        for (k, p) in parts.enumerated() {
            let pos = positions[k], f = pairFactor[k]
            for t in 0..<p.pairCount {
                let a = Int(pos[Int(p.pairCol[t])]), b = Int(pos[Int(p.pairRow[t])])
                g[min(a, b) &* n &+ max(a, b)] += p.pairValue[t] * f
                if t & 65535 == 65535 { try interrupt() }
            }
        }
        var i0 = 0
        while i0 < n {
            for i in i0..<min(n, i0 + 64) {
                for j in (i + 1)..<max(i + 1, n) { g[j &* n &+ i] = g[i &* n &+ j] }
            }
            i0 += 64
            try interrupt()
        }
        return g
    }

    /// The sequential component's dense SᵀS and SᵀT (n x n, row-major, in the merged numbering),
    /// as SequenceModel.grams over all the parts' users: each part's pairs times its pairFactor
    /// (a sequence value is the product of two of the shard's values, as a Gram value).
    public func sequenceGrams(interrupt: InterruptCheck = neverInterrupted) throws -> (ss: [Double], st: [Double]) {
        let n = itemCount
        let (count, overflow) = n.multipliedReportingOverflow(by: n)
        guard !overflow, n > 0 else { throw RecError.programLimit("item count \(n) is too large for the sequential component") }
        var ss = [Double](repeating: 0, count: count), st = [Double](repeating: 0, count: count)
        for (k, p) in parts.enumerated() {
            let pos = positions[k], f = pairFactor[k], q = p.sequence
            for t in 0..<q.ssCount {
                let a = Int(pos[Int(q.ssRow[t])]), b = Int(pos[Int(q.ssCol[t])]), v = q.ssValue[t] * f
                ss[a &* n &+ b] += v
                if a != b { ss[b &* n &+ a] += v }
                if t & 65535 == 65535 { try interrupt() }
            }
            for t in 0..<q.stCount {
                let a = Int(pos[Int(q.stRow[t])]), b = Int(pos[Int(q.stCol[t])])
                st[a &* n &+ b] += q.stValue[t] * f
                if t & 65535 == 65535 { try interrupt() }
            }
        }
        return (ss, st)
    }

    /// The sparse lower triangle (as SparseGram.build), duplicates summed. `maxNonZeros` bounds the
    /// pairs of all parts together before they are gathered.
    public func sparseGram(maxNonZeros: Int = Int.max, interrupt: InterruptCheck = neverInterrupted) throws -> SparseSymmetric {
        let total = totalPairs
        guard total <= maxNonZeros else {
            throw RecError.programLimit("the partial results hold \(total) item pairs, more than the \(maxNonZeros) the memory limit allows")
        }
        let n = itemCount
        // counting sort by column, then each column's rows sorted and summed
        var start = [Int](repeating: 0, count: n + 1)
        for (k, p) in parts.enumerated() {
            let pos = positions[k]
            for t in 0..<p.pairCount {
                let a = Int(pos[Int(p.pairCol[t])]), b = Int(pos[Int(p.pairRow[t])])
                start[min(a, b) + 1] += 1
            }
        }
        for j in 0..<n { start[j + 1] += start[j] }
        var fill = Array(start[0..<n])
        var rows = [Int32](repeating: 0, count: total)
        var vals = [Double](repeating: 0, count: total)
        for (k, p) in parts.enumerated() {
            let pos = positions[k], f = pairFactor[k]
            for t in 0..<p.pairCount {
                let a = Int(pos[Int(p.pairCol[t])]), b = Int(pos[Int(p.pairRow[t])])
                let c = min(a, b)
                rows[fill[c]] = Int32(max(a, b)); vals[fill[c]] = p.pairValue[t] * f; fill[c] += 1
                if t & 65535 == 65535 { try interrupt() }
            }
        }
        var colStart = [Int](repeating: 0, count: n + 1)
        var outRows: [Int32] = [], outVals: [Double] = []
        outRows.reserveCapacity(total); outVals.reserveCapacity(total)
        for j in 0..<n {
            let s = start[j], e = start[j + 1]
            let order = (s..<e).sorted { rows[$0] < rows[$1] }
            for t in order {
                if let last = outRows.last, outRows.count > colStart[j], last == rows[t] {
                    outVals[outVals.count - 1] += vals[t]
                } else {
                    outRows.append(rows[t]); outVals.append(vals[t])
                }
            }
            colStart[j + 1] = outRows.count
            if j & 1023 == 1023 { try interrupt() }
        }
        return SparseSymmetric(n: n, colStart: colStart, rowIndex: outRows, values: outVals)
    }

    /// Number of distinct users per item.
    public func itemUserCounts() -> [Int] { userCounts }

    /// The cold-start ranking, as InteractionMatrixBuilder.coldStartRanking over the same rows.
    public func coldStartRanking(halfLife: Double, trendWeight: Double) -> (score: [Double], trend: [Double]) {
        let n = itemCount
        let counts = userCounts
        guard maxTime.isFinite, halfLife > 0, n > 0 else {
            return (counts.map(Double.init), [Double](repeating: 1, count: n))
        }
        var recent = [Double](repeating: 0, count: n), baseline = [Double](repeating: 0, count: n)
        var timed = [Int64](repeating: 0, count: n)
        for (k, p) in parts.enumerated() {
            let (fr, fb) = timeFactor[k]
            for a in 0..<p.itemCount {
                let i = Int(positions[k][a])
                recent[i] += p.recent[a] * fr; baseline[i] += p.baseline[a] * fb; timed[i] += p.timedEvents[a]
            }
        }
        for i in 0..<n where timed[i] == 0 { recent[i] = Double(counts[i]) * 1e-6; baseline[i] = recent[i] }
        return InteractionMatrixBuilder.coldStartScore(recent: recent, baseline: baseline, trendWeight: trendWeight)
    }
}
