import XCTest
@testable import RecommenderCore

/// Training from partial results: shards' partials, encoded, decoded and merged, equal what one
/// builder over all the rows gives (Gram, sparse Gram, counts, cold-start ranking), and bad bytes
/// are 22P03, never a trap.
final class PartialGramTests: XCTestCase {
    struct Row { let u: Int64; let i: Int64; let w: Double; let t: Double? }

    /// Deterministic rows: 60 users, 40 items (ids scattered), repeated events, some zero weights,
    /// times over 90 days (some missing).
    func rows(seed: UInt64 = 7) -> [Row] {
        var s = seed
        func next() -> UInt64 { s = s &* 6364136223846793005 &+ 1442695040888963407; return s >> 33 }
        var out: [Row] = []
        for u in 0..<60 {
            for _ in 0..<(3 + Int(next() % 9)) {
                let item = Int64(1000 + (next() % 40) * 37)
                let w = next() % 11 == 0 ? 0 : Double(1 + next() % 5)
                let t: Double? = next() % 7 == 0 ? nil : 1.7e9 + Double(next() % (90 * 86400))
                out.append(Row(u: Int64(u * 13 + 5), i: item, w: w, t: t))
            }
        }
        return out
    }

    func builder(_ rs: [Row]) throws -> InteractionMatrixBuilder {
        var b = InteractionMatrixBuilder()
        for r in rs { try b.add(user: r.u, item: r.i, weight: r.w, time: r.t) }
        return b
    }

    func relClose(_ a: Double, _ b: Double, _ tol: Double = 1e-12, _ msg: String = "") {
        XCTAssertLessThanOrEqual(abs(a - b), tol * max(abs(a), abs(b), 1e-300), "\(a) vs \(b) \(msg)")
    }

    /// The rows split by user over `shards` shards, each shard's partial through encode/decode.
    func merged(_ rs: [Row], shards: Int, weighting: Weighting, power: Double, rowNorm: Double, halfLife: Double) throws -> MergedPartials {
        var parts: [PartialGram] = []
        for k in 0..<shards {
            let mine = rs.filter { Int($0.u % Int64(shards)) == k }
            let p = mine.isEmpty ? PartialGram.empty(weighting: weighting, power: power, rowNorm: rowNorm, halfLife: halfLife)
                : try PartialGram.compute(builder: builder(mine), weighting: weighting, power: power, rowNorm: rowNorm,
                                          halfLife: halfLife, maxBytes: 1 << 30)
            let bytes = try p.encode()
            XCTAssertEqual(bytes.count, PartialGram.encodedSize(items: p.itemCount, pairs: p.pairCount))
            let back = try PartialGram.decode(bytes)
            XCTAssertEqual(back, p)
            parts.append(back)
        }
        return try MergedPartials(parts, weighting: weighting, power: power, rowNorm: rowNorm, halfLife: halfLife, maxItems: 1000)
    }

    func testMergedEqualsOneBuilder() throws {
        let rs = rows()
        let halfLife = 14.0 * 86400
        for (weighting, power, rowNorm) in [(Weighting.log, 1.0, 0.0), (.binary, 1, 0.5), (.sum, 1, 0), (.power, 2, 0.25), (.power, 0.5, 0)] {
            let b = try builder(rs)
            let scale = weighting == .power ? max(b.maxTotal(), 1e-300) : 1
            let x = b.build(transform: ValueTransform(weighting, power: power, scale: scale), rowNorm: rowNorm)
            let g0 = try EASE.gram(x)
            let sg0 = try SparseGram.build(x)
            let counts0 = b.itemUserCounts()
            let (pop0, trend0) = b.coldStartRanking(halfLife: halfLife, trendWeight: 0.5)
            for shards in [1, 2, 3] {
                let m = try merged(rs, shards: shards, weighting: weighting, power: power, rowNorm: rowNorm, halfLife: halfLife)
                let what = "\(weighting) shards \(shards)"
                XCTAssertEqual(m.itemCount, b.itemCount, what)
                XCTAssertEqual(m.events, b.events, what)
                XCTAssertEqual(m.userCount, b.userCount, what)
                XCTAssertEqual(m.nonZeros, x.nonZeros, what)
                XCTAssertEqual(m.maxTime, b.maxTime, what)
                relClose(m.transform.scale, scale, 1e-15, what)
                // positions differ (merged: by id; builder: first met): compare through the ids
                let pos0 = Dictionary(uniqueKeysWithValues: b.itemIds.enumerated().map { ($1, $0) })
                let n = b.itemCount
                let g = try m.gram()
                let counts = m.itemUserCounts()
                let (pop, trend) = m.coldStartRanking(halfLife: halfLife, trendWeight: 0.5)
                for a in 0..<n {
                    let a0 = pos0[m.itemIds[a]]!
                    XCTAssertEqual(counts[a], counts0[a0], what)
                    relClose(pop[a], pop0[a0], 1e-12, "pop \(what)")
                    relClose(trend[a], trend0[a0], 1e-12, "trend \(what)")
                    for c in 0..<n { relClose(g[a * n + c], g0[a0 * n + pos0[m.itemIds[c]]!], 1e-12, "gram \(what)") }
                }
                let sg = try m.sparseGram()
                XCTAssertEqual(sg.nonZeros, sg0.nonZeros, what)
                for j in 0..<n {
                    XCTAssertTrue(sg.colStart[j] <= sg.colStart[j + 1])
                    var last: Int32 = -1
                    for t in sg.colStart[j]..<sg.colStart[j + 1] {
                        let r = Int(sg.rowIndex[t])
                        XCTAssertGreaterThanOrEqual(r, j); XCTAssertGreaterThan(Int32(r), last); last = Int32(r)
                        relClose(sg.values[t], g0[pos0[m.itemIds[j]]! * n + pos0[m.itemIds[r]]!], 1e-12, "sparse \(what)")
                    }
                }
            }
        }
    }

    func testNoTimesAndEmptyShards() throws {
        let rs = rows().map { Row(u: $0.u, i: $0.i, w: $0.w, t: nil) }
        let b = try builder(rs)
        let m = try merged(rs, shards: 200, weighting: .log, power: 1, rowNorm: 0, halfLife: 86400)
        XCTAssertEqual(m.maxTime, -.infinity)
        let (pop0, _) = b.coldStartRanking(halfLife: 86400, trendWeight: 0.5)
        let (pop, trend) = m.coldStartRanking(halfLife: 86400, trendWeight: 0.5)
        let pos0 = Dictionary(uniqueKeysWithValues: b.itemIds.enumerated().map { ($1, $0) })
        for a in 0..<m.itemCount { XCTAssertEqual(pop[a], pop0[pos0[m.itemIds[a]]!]); XCTAssertEqual(trend[a], 1) }
        let none = try MergedPartials([], weighting: .log, power: 1, rowNorm: 0, halfLife: 1, maxItems: 10)
        XCTAssertEqual(none.itemCount, 0)
        XCTAssertEqual(try none.gram(), [])
    }

    func testBoundsAndBadBytes() throws {
        let p = try PartialGram.compute(builder: builder(rows()), weighting: .log, power: 1, rowNorm: 0, halfLife: 86400, maxBytes: 1 << 30)
        // the size bound is checked before the pairs are built
        assertRecError("54000", try PartialGram.compute(builder: builder(rows()), weighting: .log, power: 1, rowNorm: 0, halfLife: 86400,
                                                       maxBytes: PartialGram.encodedSize(items: p.itemCount, pairs: p.pairCount)! - 1))
        assertRecError("54000", try PartialGram.compute(builder: builder(rows()), weighting: .log, power: 1, rowNorm: 0, halfLife: 86400, maxBytes: 100))
        let good = try p.encode()
        assertRecError("54000", try PartialGram.decode(good, maxItems: p.itemCount - 1))
        assertRecError("54000", try MergedPartials([p, p], weighting: .log, power: 1, rowNorm: 0, halfLife: 86400, maxItems: p.itemCount - 1))
        // other parameters than asked for
        assertRecError("22P03", try MergedPartials([p], weighting: .sum, power: 1, rowNorm: 0, halfLife: 86400, maxItems: 1000))
        assertRecError("22P03", try MergedPartials([p], weighting: .log, power: 1, rowNorm: 0.5, halfLife: 86400, maxItems: 1000))
        // truncations, every single flipped byte (a sample), a foreign version, foreign bytes
        assertRecError("22P03", try PartialGram.decode([]))
        assertRecError("22P03", try PartialGram.decode(Array("hello, world".utf8)))
        for cut in [1, 8, 17, good.count / 2, good.count - 104] { assertRecError("22P03", try PartialGram.decode(Array(good.prefix(good.count - cut)))) }
        for at in stride(from: 0, to: good.count, by: 7) {
            var bad = good; bad[at] ^= 0x5a
            assertRecError("22P03", try PartialGram.decode(bad), "byte \(at)")
        }
        // a well-formed partial of another format version (checksum recomputed) and with broken
        // contents behind a valid checksum
        func resum(_ b: [UInt8]) -> [UInt8] {
            var b = b
            let h = PartialGram.fnv1a(b[0..<(b.count - 8)])
            for k in 0..<8 { b[b.count - 8 + k] = UInt8(truncatingIfNeeded: h >> (8 * k)) }
            return b
        }
        // version 1 (an unreleased build's, without the sequence fields) and a future version 3
        for v: UInt8 in [1, 3] {
            var other = good; other[8] = v
            assertRecError("22P03", try PartialGram.decode(resum(other)), "version \(v)")
        }
        var items = good; items[80] = 0xff      // item count
        assertRecError("22P03", try PartialGram.decode(resum(items)))
        var pairs = good; pairs[95] = 0x7f      // pair count, huge
        assertRecError("22P03", try PartialGram.decode(resum(pairs)))
        var neg = good; neg[87] = 0x80           // item count negative
        assertRecError("22P03", try PartialGram.decode(resum(neg)))
        // a pair row beyond the items
        var row = good
        let firstPair = PartialGram.headerBytes + PartialGram.bytesPerItem * p.itemCount
        row[firstPair + 4] = 0xff; row[firstPair + 5] = 0xff
        assertRecError("22P03", try PartialGram.decode(resum(row)))
        // unordered ids
        if p.itemCount > 1 {
            var ids = good
            for k in 0..<8 { ids.swapAt(PartialGram.headerBytes + k, PartialGram.headerBytes + 40 + k) }
            assertRecError("22P03", try PartialGram.decode(resum(ids)))
        }
        XCTAssertEqual(try PartialGram.decode(resum(good)), p)
    }
}
