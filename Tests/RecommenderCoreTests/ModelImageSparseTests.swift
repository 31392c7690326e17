import XCTest
@testable import RecommenderCore

/// The sparse kind's rows in a model image (sections sparseRowStarts, sparseIndices,
/// sparseWeights): the image serves like the in-memory sparse model, damaged row starts are
/// rejected, and a damaged index in the (unchecked) bulk sections never traps.
extension ModelImageTests {
    /// richModel's catalog with sparse rows: 40 collaborative items, 0 to 9 pairs a row.
    func richSparseModel(categories: Bool = true) throws -> ItemModel {
        let dense = try richModel(categories: categories)
        var rng = Rng(s: 5)
        let cf = dense.cfCount
        var rows: [[(Int32, Float)]] = []
        for h in 0..<cf {
            var targets = Set<Int32>()
            for _ in 0..<(h % 10) { targets.insert(Int32(rng.next() % UInt64(cf))) }
            targets.remove(Int32(h))
            rows.append(targets.sorted().map { ($0, Float(Int(rng.next() % 2001) - 1000) / 997) })
        }
        let sparse = try SparseItemWeights(rows: rows, n: cf)
        let c = dense.content!
        return try ItemModel(version: dense.version, itemIds: Array(dense.itemIds), weights: [], popularity: Array(dense.popularity),
                             categories: dense.categories.map { cl in (0..<cl.count).map { Array(cl[$0]) } },
                             similarityDims: dense.similarityDims, similarityVectors: Array(dense.similarityVectors),
                             weighting: dense.weighting, transform: dense.transform, cfCount: cf,
                             content: ContentVectors(dims: c.dims, vectors: Array(c.vectors), present: Array(c.present), beta: c.beta,
                                                     prior: c.prior, users: Array(c.users)),
                             sparse: sparse)
    }

    func sectionTable(_ bytes: [UInt8]) -> [ImageSection: (entry: Int, offset: Int, count: Int)] {
        var out: [ImageSection: (Int, Int, Int)] = [:]
        for k in 0..<Int(bytes[28]) {
            let e = ModelImage.headerSize + k * 32
            var off = 0, cnt = 0
            for b in 0..<8 { off |= Int(bytes[e + 8 + b]) << (8 * b); cnt |= Int(bytes[e + 16 + b]) << (8 * b) }
            out[ImageSection(rawValue: UInt32(bytes[e]))!] = (e, off, cnt)
        }
        return out
    }

    func put64(_ v: UInt64, _ bytes: inout [UInt8], at o: Int) { for b in 0..<8 { bytes[o + b] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(b))) } }

    /// Recomputes a section's checksum and the header checksum after editing the section, as a
    /// writer with a bug (or a forger) would: only the semantic checks can reject it then.
    func reseal(_ bytes: inout [UInt8], _ s: ImageSection) {
        let t = sectionTable(bytes)[s]!
        var sum = Checksum(); sum.add(bytes[t.offset..<(t.offset + t.count * s.elementSize)])
        put64(sum.value, &bytes, at: t.entry + 24)
        var hs = Checksum(); hs.add(bytes[0..<ModelImage.H.checksum])
        var ts = Checksum(); ts.add(bytes[ModelImage.headerSize..<(ModelImage.headerSize + Int(bytes[28]) * 32)])
        put64(hs.value ^ (ts.value &* 31), &bytes, at: ModelImage.H.checksum)
    }

    func testSparseRoundTripServesLikeTheModelInMemory() throws {
        for cats in [true, false] {
            let m = try richSparseModel(categories: cats)
            let mem = try image(m)
            let back = try reopen(mem, like: m)
            XCTAssertTrue(back.weights.isEmpty)
            let sw = try XCTUnwrap(back.sparse)
            XCTAssertEqual(sw.nonZeros, m.sparse!.nonZeros)
            XCTAssertEqual(Array(sw.cols), Array(m.sparse!.cols))
            XCTAssertEqual(Array(sw.vals), Array(m.sparse!.vals))
            // no dense weights section, the three sparse ones instead
            let table = sectionTable(mem.bytes)
            XCTAssertNil(table[.denseWeights])
            XCTAssertEqual(table[.sparseRowStarts]?.count, m.cfCount + 1)
            XCTAssertEqual(table[.sparseIndices]?.count, m.sparse!.nonZeros)
            try assertSameServing(m, back)
            // similar items: a one-item history
            for j in 0..<m.cfCount where j % 7 == 0 {
                let one = history([(m.itemIds[j], 1)])
                XCTAssertEqual(try m.recommend(one, RecommendOptions(k: 5, diversity: 0)), try back.recommend(one, RecommendOptions(k: 5, diversity: 0)))
            }
        }
    }

    func testSparseImageOfTheOtherKindIsRejected() throws {
        let m = try richSparseModel()
        let good = try image(m).bytes
        var dense = shape(of: m); dense.sparseNonZeros = nil
        XCTAssertEqual(rejected(good, m, expect: dense), "the image is of another model kind")
        var more = shape(of: m); more.sparseNonZeros = m.sparse!.nonZeros + 1
        XCTAssertNotNil(rejected(good, m, expect: more))
        let d = try richModel()
        var sparseShape = shape(of: d); sparseShape.sparseNonZeros = 0
        XCTAssertEqual(rejected(try image(d).bytes, d, expect: sparseShape), "the image is of another model kind")
    }

    func testDamagedSparseImagesAreRejected() throws {
        let m = try richSparseModel()
        try assertDamagedRejected(m)
        let good = try image(m).bytes
        let t = sectionTable(good)[.sparseRowStarts]!
        let nnz = UInt64(m.sparse!.nonZeros)
        // row starts with their checksums resealed: the semantic check rejects them
        for (row, value) in [(0, UInt64(1)), (5, nnz + 1), (m.cfCount, nnz - 1), (m.cfCount, nnz + 1), (12, UInt64.max)] {
            var bad = good
            put64(value, &bad, at: t.offset + row * 8)
            reseal(&bad, .sparseRowStarts)
            XCTAssertEqual(rejected(bad, m, full: false), "the sparse row starts are damaged", "row \(row) = \(value)")
        }
        // not monotone: swap two distinct neighbouring starts
        let starts = Array(m.sparse!.rowStart)
        let h = try XCTUnwrap((1..<m.cfCount).first { starts[$0] < starts[$0 + 1] })
        var bad = good
        put64(UInt64(starts[h + 1]), &bad, at: t.offset + h * 8)
        put64(UInt64(starts[h]), &bad, at: t.offset + (h + 1) * 8)
        reseal(&bad, .sparseRowStarts)
        XCTAssertEqual(rejected(bad, m, full: false), "the sparse row starts are damaged")
        // resealed but intact: accepted (the reseal itself is right)
        bad = good
        reseal(&bad, .sparseRowStarts)
        XCTAssertNil(rejected(bad, m, full: false))
    }

    /// Indices and weights are bulk (not checked without verify_shared_models): an index out of
    /// range, negative or out of order must only change scores, never trap or write out of bounds.
    func testDamagedSparseIndexDoesNotTrap() throws {
        let m = try richSparseModel()
        let good = try image(m).bytes
        let t = sectionTable(good)[.sparseIndices]!
        let w = sectionTable(good)[.sparseWeights]!
        XCTAssertGreaterThan(t.count, 10)
        for (k, value) in [(0, Int32.max), (1, Int32(-1)), (t.count / 2, Int32(m.cfCount)), (t.count - 1, Int32(m.count + 3)),
                           (3, Int32.min)] {
            var bad = good
            for b in 0..<4 { bad[t.offset + k * 4 + b] = UInt8(truncatingIfNeeded: UInt32(bitPattern: value) >> (8 * UInt32(b))) }
            // and a non-finite weight next to it
            for b in 0..<4 { bad[w.offset + ((k + 1) % w.count) * 4 + b] = UInt8(truncatingIfNeeded: Float.infinity.bitPattern >> (8 * UInt32(b))) }
            XCTAssertNotNil(rejected(bad, m, full: true))
            XCTAssertNil(rejected(bad, m, full: false))
            let back = try reopen(ModelMemory.copy(of: bad), like: m, full: false)
            var rng = Rng(s: UInt64(k) + 1)
            for trial in 0..<30 {
                var events: [(Int64, Double)] = []
                for _ in 0..<(1 + trial % 6) { events.append((m.itemIds[Int(rng.next() % UInt64(m.cfCount))], 1)) }
                let hist = history(events)
                let s = back.scores(back.prepare(hist))
                XCTAssertEqual(s.count, m.count)
                let recs = try back.recommend(hist, RecommendOptions(k: 8, diversity: trial % 2 == 0 ? 0 : 0.5))
                for r in recs { XCTAssertTrue(r.score.isFinite, "item \(r.itemId) score \(r.score)") }
                for j in [0, m.cfCount / 2, m.cfCount - 1] { _ = back.explain(hist, item: m.itemIds[j]) }
            }
            for j in 0..<m.cfCount { _ = try back.recommend(history([(m.itemIds[j], 1)]), RecommendOptions(k: 5, diversity: 0.5)) }
        }
    }
}
