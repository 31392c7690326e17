import XCTest
@testable import RecommenderCore

/// The content-only items' content slots (ContentSlots.swift, image sections 19-20): the pairs of
/// a vector, the scores they give against the dense gemv, serving from an image with slots like
/// the model in memory without them, and damaged slots that never trap.
extension ModelImageTests {
    func testSlotsOfAVectorAreItsNonZeroEntriesOrTheDenseMarker() {
        let (d, x) = ContentSlots.slots(of: [0, 0.6, 0, 0, 0.8, 0][...], width: 3)
        XCTAssertEqual(d, [1, 4, ContentSlots.end])
        XCTAssertEqual(x, [0.6, 0.8, 0])
        let full = ContentSlots.slots(of: [0.5, 0.5, 0.5, 0.5][...], width: 3)
        XCTAssertEqual(full.dims, [ContentSlots.dense, ContentSlots.end, ContentSlots.end])
        XCTAssertEqual(ContentSlots.slots(of: [0.5, 0.5, 0.5][...], width: 3).dims, [0, 1, 2])
        XCTAssertEqual(ContentSlots.slots(of: [][...], width: 2).dims, [ContentSlots.end, ContentSlots.end])
        XCTAssertEqual(ContentSlots.width(dims: 256), 32)
        XCTAssertEqual(ContentSlots.width(dims: 64), 8)
        XCTAssertEqual(ContentSlots.width(dims: 5), 1)
        XCTAssertEqual(ContentSlots.width(dims: 4096), 32)
    }

    /// A sparse model with 40 collaborative and 30 content-only items whose content vectors are
    /// TF-IDF-like (2 non-zero entries of 64), some with 12 (more than the 8 slots: dense), some
    /// without a vector; no content prior (the reached-items path serves it).
    func slottedModel() throws -> ItemModel {
        let base = try richSparseModel()
        var rng = Rng(s: 11)
        let cf = base.cfCount, extra = 30, total = cf + extra, dims = 64
        var ids = Array(base.itemIds.prefix(cf))
        for k in 0..<extra { ids.append(Int64(5000 + 3 * k)) }
        var pop = Array(base.popularity.prefix(cf))
        for _ in 0..<extra { pop.append(0) }
        var vec = [Float](repeating: 0, count: total * dims), present = [Bool](repeating: false, count: total)
        for i in 0..<total where i % 6 != 5 {
            present[i] = true
            let nz = i % 5 == 0 ? Array(0..<12).map { ($0 * 5 + i) % dims } : [i % 16, 16 + i % 7]
            var norm: Float = 0
            for t in nz { let v = Float(rng.next() % 50 + 1); vec[i * dims + t] = v; norm += v * v }
            for t in nz { vec[i * dims + t] /= norm.squareRoot() }
        }
        var users = Array(base.content!.users.prefix(cf))
        for _ in 0..<extra { users.append(0) }
        let sw = base.sparse!
        let rows = (0..<cf).map { h in sw.range(h).map { (sw.cols[$0], sw.vals[$0]) } }
        return try ItemModel(version: 7, itemIds: ids, weights: [], popularity: pop, categories: nil,
                             similarityDims: 0, similarityVectors: [], weighting: base.weighting, transform: base.transform,
                             cfCount: cf, content: ContentVectors(dims: dims, vectors: vec, present: present, beta: 0.3, prior: 0, users: users),
                             sparse: try SparseItemWeights(rows: rows, n: cf))
    }

    func testContentSlotScoresAreTheGemvScoresOfTheItemsTheHistoryReaches() throws {
        let m = try slottedModel()
        let back = try reopen(try image(m), like: m)
        let slots = try XCTUnwrap(back.content?.slots)
        XCTAssertEqual(slots.width, 8)
        XCTAssertNil(m.content?.slots)
        var rng = Rng(s: 4)
        var reachedSome = 0, skippedSome = 0
        for trial in 0..<60 {
            var events: [(Int64, Double)] = []
            for _ in 0..<(1 + trial % 6) { events.append((m.itemIds[Int(rng.next() % UInt64(m.count))], Double(rng.next() % 3 + 1))) }
            let h = back.prepare(history(events))
            let f = back.floatScale(h)
            let gemv = m.contentOnlyScores(h, scale: f)
            var got: [Int: Float] = [:]
            var last = -1
            back.forEachContentOnlyScore(h, scale: f) { j, v in XCTAssertGreaterThan(j, last); last = j; got[j] = v }
            for j in m.cfCount..<m.count {
                let want = gemv[j - m.cfCount]
                if let v = got[j] {
                    reachedSome += 1
                    if want.isNaN { XCTAssertTrue(v.isNaN, "trial \(trial) item \(j)") } else {
                        XCTAssertEqual(v, want, accuracy: 1e-5 * max(1, abs(want)), "trial \(trial) item \(j)")
                    }
                } else {
                    skippedSome += 1
                    XCTAssertEqual(want, 0, "trial \(trial): item \(j) was left out with a score")
                }
            }
            // the model in memory (no slots) passes every content-only item
            var all = 0
            m.forEachContentOnlyScore(h, scale: f) { _, _ in all += 1 }
            XCTAssertEqual(all, m.count - m.cfCount)
        }
        XCTAssertGreaterThan(reachedSome, 100)
        XCTAssertGreaterThan(skippedSome, 100)
        try assertSameServing(m, back)
    }

    func testDamagedContentSlotsChangeScoresButNeverTrap() throws {
        let m = try slottedModel()
        let good = try image(m).bytes
        let t = try XCTUnwrap(sectionTable(good)[.contentSlotDims])
        for bad in [Int32(1_000_000), -7, Int32.max, Int32.min, ContentSlots.dense] {
            var bytes = good
            for k in stride(from: 0, to: t.count, by: 3) {
                let o = t.offset + 4 * k
                for b in 0..<4 { bytes[o + b] = UInt8(truncatingIfNeeded: UInt32(bitPattern: bad) >> (8 * UInt32(b))) }
            }
            // the bulk sections are checksummed only by a full check
            XCTAssertThrowsError(try reopen(ModelMemory.copy(of: bytes), like: m, full: true))
            let back = try reopen(ModelMemory.copy(of: bytes), like: m, full: false)
            for id in m.itemIds.prefix(20) {
                _ = try back.recommend(history([(id, 1), (m.itemIds[45], 2)]), RecommendOptions(k: 10, diversity: 0))
            }
        }
    }
}
