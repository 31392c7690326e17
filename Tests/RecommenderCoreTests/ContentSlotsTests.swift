import XCTest
@testable import RecommenderCore

/// The content-only items' posting lists (ContentSlots.swift, image sections 19-21): the entries
/// of a vector, the lists' layout, the scores they give against the dense gemv, serving from an
/// image with the lists like the model in memory without them, and damaged lists that are
/// rejected or never trap.
extension ModelImageTests {
    func testEntriesOfAVectorAndTheListsLayout() throws {
        XCTAssertEqual(ContentSlots.entries(of: [0, 0.6, 0, 0, 0.8, 0][...], width: 3)?.map(\.0), [1, 4])
        XCTAssertEqual(ContentSlots.entries(of: [0, 0.6, 0, 0, 0.8, 0][...], width: 3)?.map(\.1), [0.6, 0.8])
        XCTAssertNil(ContentSlots.entries(of: [0.5, 0.5, 0.5, 0.5][...], width: 3), "more entries than the width: dense")
        XCTAssertEqual(ContentSlots.entries(of: [0.5, 0.5, 0.5][...], width: 3)?.count, 3)
        XCTAssertEqual(ContentSlots.width(dims: 256), 32)
        XCTAssertEqual(ContentSlots.width(dims: 64), 8)
        XCTAssertEqual(ContentSlots.width(dims: 5), 1)
        XCTAssertEqual(ContentSlots.width(dims: 4096), 32)
        // items 10..<14 of 4 dimensions (width 1): 10 -> dim 2, 11 -> dense, 12 none, 13 -> dim 2
        var b = ContentSlots.Builder(first: 10, dims: 4)
        b.add(item: 10, vector: [0, 0, 1, 0][...])
        b.add(item: 11, vector: [0.5, 0.5, 0.5, 0.5][...])
        b.add(item: 12, vector: nil)
        b.add(item: 13, vector: [0, 0, -1, 0][...])
        let l = try XCTUnwrap(b.finish(capacity: 4))
        XCTAssertEqual(l.starts, [0, 0, 0, 2, 2, 3])
        XCTAssertEqual(l.items, [10, 13, 11, -1])
        XCTAssertEqual(l.values, [1, -1, 0, 0])
        XCTAssertNil(b.finish(capacity: 2), "more entries than the capacity")
    }

    /// A sparse model with 40 collaborative and 30 content-only items whose content vectors are
    /// TF-IDF-like (2 non-zero entries of 64), some with 12 (more than the width of 8: dense),
    /// some without a vector; no content prior (the reached-items path serves it).
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

    /// The terms of each item summed in order, as the reached-items path sums them.
    func contentOnlySums(_ m: ItemModel, _ h: ScoredHistory, _ f: Double) -> (sums: [Int: Float], hasContent: Bool) {
        var sums: [Int: Float] = [:]
        let any = m.forEachContentOnlyTerm(h, scale: f) { j, term in sums[Int(j), default: 0] += term }
        return (sums, any)
    }

    func testContentPostingScoresAreTheGemvScoresOfTheItemsTheHistoryReaches() throws {
        let m = try slottedModel()
        let back = try reopen(try image(m), like: m)
        let lists = try XCTUnwrap(back.content?.slots)
        XCTAssertEqual(lists.starts.count, 66)
        XCTAssertNil(m.content?.slots)
        var rng = Rng(s: 4)
        var reachedSome = 0, skippedSome = 0, noContent = 0
        for trial in 0..<80 {
            var events: [(Int64, Double)] = []
            for _ in 0..<(1 + trial % 6) { events.append((m.itemIds[Int(rng.next() % UInt64(m.count))], Double(rng.next() % 3 + 1))) }
            let h = back.prepare(history(events))
            let f = back.floatScale(h)
            let gemv = m.contentOnlyScores(h, scale: f)
            let (got, any) = contentOnlySums(back, h, f)
            let (inMemory, anyInMemory) = contentOnlySums(m, h, f)
            XCTAssertEqual(any, anyInMemory)
            if !any { noContent += 1 }
            for j in m.cfCount..<m.count {
                let want = gemv[j - m.cfCount]
                XCTAssertEqual(m.contentOnlyUnreachable(j, historyHasContent: any), want.isNaN, "trial \(trial) item \(j)")
                if want.isNaN {
                    XCTAssertNil(got[j], "trial \(trial): item \(j) cannot be scored")
                    XCTAssertNil(inMemory[j])
                } else if let v = got[j] {
                    reachedSome += 1
                    XCTAssertEqual(v, want, accuracy: 1e-5 * max(1, abs(want)), "trial \(trial) item \(j)")
                } else {
                    skippedSome += 1
                    XCTAssertEqual(want, 0, "trial \(trial): item \(j) was left out with a score")
                }
                if !want.isNaN { XCTAssertEqual(inMemory[j], want, "the model in memory passes every scorable item") }
            }
        }
        XCTAssertGreaterThan(reachedSome, 100)
        XCTAssertGreaterThan(skippedSome, 100)
        XCTAssertGreaterThan(noContent, 0)
        try assertSameServing(m, back)
    }

    func testDamagedContentPostingsAreRejectedOrNeverTrap() throws {
        let m = try slottedModel()
        let good = try image(m).bytes
        let table = sectionTable(good)
        // the starts are checked at every map: not monotone, or past the capacity
        let st = try XCTUnwrap(table[.contentPostingStarts])
        for (k, v) in [(3, UInt64(1 << 40)), (st.count - 1, UInt64(1 << 20)), (0, 1)] {
            var bytes = good
            put64(v, &bytes, at: st.offset + 8 * k)
            reseal(&bytes, .contentPostingStarts)
            XCTAssertThrowsError(try reopen(ModelMemory.copy(of: bytes), like: m, full: false), "start \(k) = \(v)")
        }
        // the item indices are bulk: checksummed only by a full check, bounds-checked at use
        let it = try XCTUnwrap(table[.contentPostingItems])
        for bad in [Int32(1_000_000), -7, Int32.max, Int32.min, 0, 39] {
            var bytes = good
            for k in stride(from: 0, to: it.count, by: 3) {
                let o = it.offset + 4 * k
                for b in 0..<4 { bytes[o + b] = UInt8(truncatingIfNeeded: UInt32(bitPattern: bad) >> (8 * UInt32(b))) }
            }
            XCTAssertThrowsError(try reopen(ModelMemory.copy(of: bytes), like: m, full: true))
            let back = try reopen(ModelMemory.copy(of: bytes), like: m, full: false)
            for id in m.itemIds.prefix(20) {
                _ = try back.recommend(history([(id, 1), (m.itemIds[45], 2)]), RecommendOptions(k: 10, diversity: 0))
            }
        }
    }
}
