import XCTest
@testable import RecommenderCore

/// Training from partial results with the sequential component: the shards' SᵀS and SᵀT pairs,
/// encoded, decoded and added up, equal SequenceModel.grams over all the rows (the row path),
/// ties in time included; bad sequence sections are 22P03.
extension PartialGramTests {
    /// The row path's SᵀS and SᵀT (TrainingInput.sequenceGrams over the builder), in its numbering.
    func rowPathGrams(_ rs: [Row], weighting: Weighting, power: Double, rowNorm: Double, halfLife h: Double) throws
        -> (b: InteractionMatrixBuilder, ss: [Double], st: [Double]) {
        let b = try builder(rs)
        var seq = SequenceCollector()
        for r in rs { seq.add(user: r.u, item: r.i, weight: r.w, time: r.t) }
        let scale = weighting == .power ? max(b.maxTotal(), 1e-300) : 1
        let transform = ValueTransform(weighting, power: power, scale: scale)
        let (ss, st) = try SequenceModel.grams(sequences: seq.sequences(b, transform: transform), rowScale: b.sequenceRowScale(rowNorm: rowNorm),
                                               n: b.itemCount, window: SequenceModel.window(forHalfLife: h), halfLife: h)
        return (b, ss, st)
    }

    /// The rows split by user over `shards` shards, each shard's partial (with the sequential part)
    /// through encode/decode.
    func seqMerged(_ rs: [Row], shards: Int, weighting: Weighting, power: Double, rowNorm: Double, seqHalfLife: Double) throws -> MergedPartials {
        var parts: [PartialGram] = []
        for k in 0..<shards {
            let mine = rs.filter { Int($0.u % Int64(shards)) == k }
            var seq = SequenceCollector()
            for r in mine { seq.add(user: r.u, item: r.i, weight: r.w, time: r.t) }
            let p = mine.isEmpty ? PartialGram.empty(weighting: weighting, power: power, rowNorm: rowNorm, halfLife: 86400, sequenceHalfLife: seqHalfLife)
                : try PartialGram.compute(builder: builder(mine), weighting: weighting, power: power, rowNorm: rowNorm, halfLife: 86400,
                                          sequenceHalfLife: seqHalfLife, sequence: seq, maxBytes: 1 << 30)
            let bytes = try p.encode()
            XCTAssertEqual(bytes.count, PartialGram.encodedSize(items: p.itemCount, pairs: p.allPairs))
            let back = try PartialGram.decode(bytes)
            XCTAssertEqual(back, p)
            parts.append(back)
        }
        return try MergedPartials(parts, weighting: weighting, power: power, rowNorm: rowNorm, halfLife: 86400,
                                  sequenceHalfLife: seqHalfLife, maxItems: 1000)
    }

    /// Times in 9 buckets of 10 days: most users have several items at the same time.
    func tiedRows() -> [Row] {
        rows(seed: 11).map { r in Row(u: r.u, i: r.i, w: r.w, t: r.t.map { ($0 / 864000).rounded(.down) * 864000 }) }
    }

    func testSequencePartsEqualGrams() throws {
        for (name, rs) in [("distinct times", rows()), ("ties in time", tiedRows())] {
            for (weighting, power, rowNorm, h) in [(Weighting.log, 1.0, 0.0, 2.0), (.binary, 1, 0.5, 1.5), (.power, 2, 0.25, 4), (.sum, 1, 0, 0.5)] {
                let (b, ss0, st0) = try rowPathGrams(rs, weighting: weighting, power: power, rowNorm: rowNorm, halfLife: h)
                let pos0 = Dictionary(uniqueKeysWithValues: b.itemIds.enumerated().map { ($1, $0) })
                let n = b.itemCount
                for shards in [1, 2, 3] {
                    let m = try seqMerged(rs, shards: shards, weighting: weighting, power: power, rowNorm: rowNorm, seqHalfLife: h)
                    let what = "\(name), \(weighting), row_norm \(rowNorm), h \(h), \(shards) shards"
                    XCTAssertEqual(m.itemCount, n, what)
                    XCTAssertEqual(m.sequenceEntries, rs.reduce(into: Set<[Int64]>()) { s, r in if r.w > 0 && r.t != nil { s.insert([r.u, r.i]) } }.count, what)
                    let (ss, st) = try m.sequenceGrams()
                    var nonZero = 0
                    for a in 0..<n {
                        let a0 = pos0[m.itemIds[a]]!
                        for c in 0..<n {
                            let c0 = pos0[m.itemIds[c]]!
                            relClose(ss[a * n + c], ss0[a0 * n + c0], 1e-12, "SᵀS \(what)")
                            relClose(st[a * n + c], st0[a0 * n + c0], 1e-12, "SᵀT \(what)")
                            if st0[a0 * n + c0] != 0 { nonZero += 1 }
                            // one shard: SᵀT and SᵀS's upper triangle are the row path's sums, exactly
                            if shards == 1 {
                                XCTAssertEqual(st[a * n + c], st0[a0 * n + c0], what)
                                if c >= a { XCTAssertEqual(ss[a * n + c], ss0[a0 * n + c0], what) }
                            }
                        }
                    }
                    XCTAssertGreaterThan(nonZero, n, what)   // not a vacuous comparison
                }
            }
        }
    }

    /// Hand-computed: user 1 met items 30, 10 and 20 at the same time, then item 5: the order is
    /// 10, 20, 30, 5 (ties by id). Binary values, h = 2 (window 8): SᵀT(10 → 20) = 1 (split point
    /// 0, both next to it), SᵀT(20 → 10) = 0, SᵀT(10 → 30) = 2^-0.5 + 2^-0.5 ... computed below.
    func testTiesInTimeByItemId() throws {
        let t = 1.7e9
        let rs = [Row(u: 1, i: 30, w: 1, t: t), Row(u: 1, i: 10, w: 1, t: t), Row(u: 1, i: 20, w: 1, t: t), Row(u: 1, i: 5, w: 1, t: t + 60),
                  Row(u: 1, i: 20, w: 1, t: t + 120)]   // a later event does not move item 20: its first time counts
        let m = try seqMerged(rs, shards: 1, weighting: .binary, power: 1, rowNorm: 0, seqHalfLife: 2)
        XCTAssertEqual(m.itemIds, [5, 10, 20, 30])
        let (ss, st) = try m.sequenceGrams()
        let n = 4
        func at(_ from: Int64, _ to: Int64, _ x: [Double]) -> Double { x[m.itemIds.firstIndex(of: from)! * n + m.itemIds.firstIndex(of: to)!] }
        let d = { (k: Double) in pow(0.5, k / 2) }
        // sequence 10, 20, 30, 5; split points t = 0, 1, 2; input p <= t, target q > t
        XCTAssertEqual(at(10, 20, st), d(0) * d(0), accuracy: 1e-15)                          // t = 0
        XCTAssertEqual(at(10, 30, st), d(0) * d(1) + d(1) * d(0), accuracy: 1e-15)            // t = 0, 1
        XCTAssertEqual(at(10, 5, st), d(0) * d(2) + d(1) * d(1) + d(2) * d(0), accuracy: 1e-15)  // t = 0, 1, 2
        XCTAssertEqual(at(20, 10, st), 0)
        XCTAssertEqual(at(30, 20, st), 0)
        XCTAssertEqual(at(5, 10, st), 0)
        // SᵀS: 10 and 20 together in the inputs of t = 1 (distances 1, 0) and t = 2 (2, 1)
        XCTAssertEqual(at(10, 20, ss), d(1) * d(0) + d(2) * d(1), accuracy: 1e-15)
        XCTAssertEqual(at(20, 10, ss), at(10, 20, ss))
        XCTAssertEqual(at(5, 5, ss), 0)   // the last item is no split point's input
        // and the row path agrees
        let (b, ss0, st0) = try rowPathGrams(rs, weighting: .binary, power: 1, rowNorm: 0, halfLife: 2)
        let pos0 = Dictionary(uniqueKeysWithValues: b.itemIds.enumerated().map { ($1, $0) })
        for a in m.itemIds {
            for c in m.itemIds {
                XCTAssertEqual(at(a, c, st), st0[pos0[a]! * n + pos0[c]!], accuracy: 1e-15)
                XCTAssertEqual(at(a, c, ss), ss0[pos0[a]! * n + pos0[c]!], accuracy: 1e-15)
            }
        }
    }

    func testSequenceBoundsAndBadBytes() throws {
        let rs = tiedRows()
        var seq = SequenceCollector()
        for r in rs { seq.add(user: r.u, item: r.i, weight: r.w, time: r.t) }
        let p = try PartialGram.compute(builder: builder(rs), weighting: .log, power: 1, rowNorm: 0, halfLife: 86400,
                                        sequenceHalfLife: 2, sequence: seq, maxBytes: 1 << 30)
        XCTAssertGreaterThan(p.sequence.ssCount, 0); XCTAssertGreaterThan(p.sequence.stCount, 0)
        XCTAssertEqual(p.sequenceEntries, Int64(seq.pairs))
        // the bound counts the sequence pairs before they are allocated
        let size = PartialGram.encodedSize(items: p.itemCount, pairs: p.allPairs)!
        XCTAssertNoThrow(try PartialGram.compute(builder: builder(rs), weighting: .log, power: 1, rowNorm: 0, halfLife: 86400,
                                                 sequenceHalfLife: 2, sequence: seq, maxBytes: size))
        assertRecError("54000", try PartialGram.compute(builder: builder(rs), weighting: .log, power: 1, rowNorm: 0, halfLife: 86400,
                                                       sequenceHalfLife: 2, sequence: seq, maxBytes: size - 1))
        // a bad half-life on the shard
        for bad in [-1.0, 0.25, 9, .nan, .infinity] {
            assertRecError("22023", try PartialGram.compute(builder: builder(rs), weighting: .log, power: 1, rowNorm: 0, halfLife: 86400,
                                                           sequenceHalfLife: bad, sequence: seq, maxBytes: 1 << 30), "\(bad)")
        }
        // parts made with another sequence half-life (or none) than asked for
        assertRecError("22P03", try MergedPartials([p], weighting: .log, power: 1, rowNorm: 0, halfLife: 86400, sequenceHalfLife: 4, maxItems: 1000))
        assertRecError("22P03", try MergedPartials([p], weighting: .log, power: 1, rowNorm: 0, halfLife: 86400, maxItems: 1000))
        // without times: no entries, no pairs, and the coordinator sees nothing sequential
        let untimed = rs.map { Row(u: $0.u, i: $0.i, w: $0.w, t: nil) }
        var none = SequenceCollector()
        for r in untimed { none.add(user: r.u, item: r.i, weight: r.w, time: r.t) }
        let q = try PartialGram.compute(builder: builder(untimed), weighting: .log, power: 1, rowNorm: 0, halfLife: 86400,
                                        sequenceHalfLife: 2, sequence: none, maxBytes: 1 << 30)
        XCTAssertEqual(q.sequenceEntries, 0); XCTAssertEqual(q.sequence.ssCount + q.sequence.stCount, 0)
        XCTAssertEqual(try MergedPartials([q], weighting: .log, power: 1, rowNorm: 0, halfLife: 86400, sequenceHalfLife: 2, maxItems: 1000).sequenceEntries, 0)
        // every flipped byte of the sequence sections (a sample) and of the header's sequence fields
        let good = try p.encode()
        let seqStart = PartialGram.headerBytes + PartialGram.bytesPerItem * p.itemCount + PartialGram.bytesPerPair * p.pairCount
        for at in Array(stride(from: 96, to: 128, by: 3)) + Array(stride(from: seqStart, to: good.count, by: 41)) {
            var bad = good; bad[at] ^= 0x21
            assertRecError("22P03", try PartialGram.decode(bad), "byte \(at)")
        }
        func resum(_ b: [UInt8]) -> [UInt8] {
            var b = b
            let h = PartialGram.fnv1a(b[0..<(b.count - 8)])
            for k in 0..<8 { b[b.count - 8 + k] = UInt8(truncatingIfNeeded: h >> (8 * k)) }
            return b
        }
        // behind a valid checksum: a SᵀS pair below the diagonal, SᵀT pairs out of order, a
        // negative value, sequence pairs without a half-life
        var lower = good
        for k in 0..<4 { lower.swapAt(seqStart + k, seqStart + 4 + k) }
        if p.sequence.ssRow[0] != p.sequence.ssCol[0] { assertRecError("22P03", try PartialGram.decode(resum(lower))) }
        let stStart = seqStart + PartialGram.bytesPerPair * p.sequence.ssCount
        var order = good
        for k in 0..<16 { order.swapAt(stStart + k, stStart + 16 + k) }
        assertRecError("22P03", try PartialGram.decode(resum(order)))
        var neg = good; neg[stStart + 15] |= 0x80
        assertRecError("22P03", try PartialGram.decode(resum(neg)))
        var off = good
        for k in 96..<104 { off[k] = 0 }
        assertRecError("22P03", try PartialGram.decode(resum(off)))
        XCTAssertEqual(try PartialGram.decode(resum(good)), p)
    }
}

/// The base64 text a shard sends its part as (recommender.partial_gram_base64).
final class Base64Tests: XCTestCase {
    /// A plain encoder (RFC 4648), to compare with.
    func encode(_ b: [UInt8]) -> [UInt8] {
        let abc = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var k = 0
        while k < b.count {
            let n = min(3, b.count - k)
            var v = UInt32(b[k]) << 16
            if n > 1 { v |= UInt32(b[k + 1]) << 8 }
            if n > 2 { v |= UInt32(b[k + 2]) }
            for s in 0..<4 { out.append(s <= n ? abc[Int((v >> UInt32(18 - 6 * s)) & 63)] : UInt8(ascii: "=")) }
            k += 3
        }
        return out
    }

    func testVectorsAndRoundTrips() {
        // RFC 4648 section 10
        for (plain, enc) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            XCTAssertEqual(Base64.decode(Array(enc.utf8)), Array(plain.utf8), enc)
            XCTAssertEqual(encode(Array(plain.utf8)), Array(enc.utf8), plain)
        }
        XCTAssertEqual(Base64.decode(Array("Zm9v\nYmFy\r\n".utf8)), Array("foobar".utf8))   // line breaks (encode()'s) ignored
        XCTAssertEqual(Base64.decode(Array("xxZm9vYg==".utf8)[2...]), Array("foob".utf8))   // a slice
        var s: UInt64 = 3
        for len in [1, 2, 3, 4, 5, 100, 1001] {
            var b: [UInt8] = []
            for _ in 0..<len { s = s &* 6364136223846793005 &+ 1; b.append(UInt8(truncatingIfNeeded: s >> 40)) }
            XCTAssertEqual(Base64.decode(encode(b)), b, "\(len) bytes")
        }
        for bad in ["Zg=", "Z", "Zm9", "Zg==Zg==", "Zm9v!", "Zh==", "Zm9=", "====", "Z===", "Zm 9v"] {
            XCTAssertNil(Base64.decode(Array(bad.utf8)), bad)
        }
    }
}
