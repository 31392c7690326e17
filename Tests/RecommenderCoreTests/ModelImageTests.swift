import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import RecommenderCore

/// The model image (issue 7, part 2): written item by item, read back as views, the model it
/// serves scores exactly like the in-memory one; damaged images are rejected.
final class ModelImageTests: XCTestCase {
    struct Rng { var s: UInt64; mutating func next() -> UInt64 { s = s &* 6364136223846793005 &+ 1442695040888963407; return s >> 33 } }

    /// A model with every optional part: 40 collaborative items, 12 content-only ones,
    /// categories, similarity vectors and content vectors (some items without).
    func richModel(categories: Bool = true, seed: UInt64 = 7) throws -> ItemModel {
        var rng = Rng(s: seed)
        let cf = 40, total = 52, dims = 6, cdims = 5
        let ids = (0..<total).map { Int64(1000 - 17 * $0) }     // not sorted: the index must sort
        var w = [Float](repeating: 0, count: cf * cf)
        for i in 0..<cf { for j in 0..<cf where i != j { w[i * cf + j] = Float(Int(rng.next() % 2001) - 1000) / 997 } }
        var pop: [Double] = []
        for _ in 0..<total { pop.append(Double(rng.next() % 50) / 7) }    // ties: broken by id
        var lists: [[Int32]] = []
        for i in 0..<total { lists.append(i % 5 == 0 ? [] : [Int32(i % 3), Int32(3 + i % 4)]) }
        let cats: [[Int32]]? = categories ? lists : nil
        var sim = [Float](repeating: 0, count: total * dims)
        for k in sim.indices { sim[k] = Float(Int(rng.next() % 200) - 100) / 250 }
        var present = [Bool](repeating: false, count: total)
        var cvec = [Float](repeating: 0, count: total * cdims)
        for i in 0..<total where i % 4 != 1 {
            present[i] = true
            var norm: Float = 0
            for t in 0..<cdims { let v = Float(rng.next() % 100 + 1); cvec[i * cdims + t] = v; norm += v * v }
            for t in 0..<cdims { cvec[i * cdims + t] /= norm.squareRoot() }
        }
        var users: [Int] = []
        for i in 0..<total { users.append(i < cf ? Int(rng.next() % 30) : 0) }
        return try ItemModel(version: 42, itemIds: ids, weights: w, popularity: pop, categories: cats,
                             similarityDims: categories ? 0 : dims, similarityVectors: categories ? [] : sim,
                             weighting: .log, transform: ValueTransform(.log, power: 1.5, scale: 2),
                             cfCount: cf, content: ContentVectors(dims: cdims, vectors: cvec, present: present, beta: 0.8, prior: 3, users: users))
    }

    func shape(of m: ItemModel, stamp: Int64 = 99) -> ImageShape {
        ImageShape(modelVersion: m.version, stamp: stamp, nameHash: ModelImage.nameHash("m"), cfCount: m.cfCount, count: m.count,
                   similarityDims: m.similarityDims, contentDims: m.content?.dims ?? 0, hasCategories: m.categories != nil,
                   sparseNonZeros: m.sparse?.nonZeros)
    }

    /// Writes a model's arrays through the streaming writer (as the glue does from the rows).
    func write(_ m: ItemModel, to sink: ImageSink) throws -> Int {
        let w = try ImageWriter(shape: shape(of: m), sink: sink)
        let cf = m.cfCount, d = m.similarityDims
        for i in 0..<m.count {
            let c = m.content
            let cv: ArraySlice<Float>? = (c != nil && c!.present[i]) ? Array(c!.vectors[(i * c!.dims)..<((i + 1) * c!.dims)])[...] : nil
            try w.add(id: m.itemIds[i], popularity: m.popularity[i], users: c?.users[i] ?? 0,
                      categories: m.categories.map { Array($0[i]) } ?? [],
                      weights: i < cf && m.sparse == nil ? Array(m.weights[(i * cf)..<((i + 1) * cf)])[...] : [][...],
                      sparseRow: i < cf ? m.sparse.map { sw in sw.range(i).map { (sw.cols[$0], sw.vals[$0]) } } : nil,
                      similarity: d > 0 ? Array(m.similarityVectors[(i * d)..<((i + 1) * d)])[...] : [][...],
                      content: cv)
        }
        return try w.finish()
    }

    func image(_ m: ItemModel) throws -> ModelMemory {
        let size = try ImageWriter(shape: shape(of: m), sink: MemorySink(size: 0)).shape.layout(categoryValues: m.categories?.values.count ?? 0)!.size
        let sink = try MemorySink(size: size)
        XCTAssertEqual(try write(m, to: sink), size)
        return sink.memory
    }

    func reopen(_ mem: ModelMemory, like m: ItemModel, full: Bool = true) throws -> ItemModel {
        let parts = try ModelImage.read(mem, expect: shape(of: m), fullCheck: full)
        return try ItemModel(image: parts, weighting: m.weighting, transform: m.transform,
                             contentBeta: m.content?.beta ?? 0, contentPrior: m.content?.prior ?? 0)
    }

    func assertSameServing(_ a: ItemModel, _ b: ItemModel, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(Array(a.itemIds), Array(b.itemIds), file: file, line: line)
        XCTAssertEqual(Array(a.popularOrder), Array(b.popularOrder), file: file, line: line)
        XCTAssertEqual(a.maxAbsWeight, b.maxAbsWeight, file: file, line: line)
        for id in a.itemIds { XCTAssertEqual(a.index[id], b.index[id], file: file, line: line) }
        XCTAssertNil(b.index[123_456_789], file: file, line: line)
        var rng = Rng(s: 3)
        for trial in 0..<40 {
            var events: [(Int64, Double)] = []
            for _ in 0..<(trial % 7) { events.append((a.itemIds[Int(rng.next() % UInt64(a.count))], Double(rng.next() % 4 + 1))) }
            if trial % 9 == 0 { events.append((55_555, 1)) }    // an unknown item
            let h = history(events)
            let ha = a.prepare(h), hb = b.prepare(h)
            XCTAssertEqual(a.scores(ha).map(\.bitPattern), b.scores(hb).map(\.bitPattern), "trial \(trial)", file: file, line: line)
            for reranker in [Reranker.coverage, .mmr, .dpp] {
                var opt = RecommendOptions(k: 8, diversity: trial % 2 == 0 ? 0 : 0.5)
                opt.reranker = reranker
                opt.maxPerCategory = trial % 3 == 0 && a.categories != nil ? 2 : nil
                XCTAssertEqual(try a.recommend(h, opt), try b.recommend(h, opt), "trial \(trial) \(reranker)", file: file, line: line)
            }
            for j in [0, a.count / 2, a.count - 1] {
                XCTAssertEqual(a.explain(h, item: a.itemIds[j]), b.explain(h, item: a.itemIds[j]), file: file, line: line)
            }
        }
    }

    func testRoundTripServesLikeTheModelInMemory() throws {
        for cats in [true, false] {
            let m = try richModel(categories: cats)
            let back = try reopen(try image(m), like: m)
            try assertSameServing(m, back)
        }
    }

    func testRoundTripThroughAFileMappedShared() throws {
        let m = try richModel()
        let dir = try ImageFiles.makeDirectory(["recommender-image-test-\(getpid())"], under: "/tmp")
        defer { for f in ImageFiles.list(dir) { ImageFiles.remove(dir + "/" + f) }; rmdir(dir) }
        let path = dir + "/" + ModelImage.fileName(nameHash: ModelImage.nameHash("m"), version: 42)
        let sink = try FileSink(creating: path + ".tmp")
        _ = try write(m, to: sink)
        try sink.finish()
        try ImageFiles.rename(path + ".tmp", path)
        let mem = try ModelMemory.mapFile(path)
        XCTAssertTrue(mem.isShared)
        let back = try reopen(mem, like: m)
        XCTAssertTrue(back.isShared)
        XCTAssertTrue(back.itemIds.isShared)
        // unlink under the mapping: the model keeps serving
        ImageFiles.remove(path)
        try assertSameServing(m, back)
        // an existing file is never overwritten by a builder (O_EXCL)
        _ = try FileSink(creating: path)
        XCTAssertThrowsError(try FileSink(creating: path))
    }

    /// A full disk: the write fails with a FileError the glue recognises (it then removes the
    /// temporary file and loads the model privately), nothing traps.
    func testFullDiskIsAFileError() throws {
        let m = try richModel()
        let fd = open("/dev/full", O_WRONLY)
        guard fd >= 0 else { throw XCTSkip("no /dev/full") }
        let sink = FileSink(path: "/dev/full", descriptor: fd)
        do {
            _ = try write(m, to: sink)
            XCTFail("writing to /dev/full succeeded")
        } catch let e as FileError {
            XCTAssertTrue(e.isDiskFull, "\(e)")
        }
    }

    func testEmptyAndContentFreeModels() throws {
        let m = try makeModel(ids: [3, 1, 2], rows: [[0, 1, 2], [3, 0, 1], [2, 2, 0]], popularity: [1, 3, 2])
        let back = try reopen(try image(m), like: m)
        try assertSameServing(m, back)
        XCTAssertEqual(Array(back.popularOrder), [1, 2, 0])
        let empty = try makeModel(ids: [], rows: [])
        let e2 = try reopen(try image(empty), like: empty)
        XCTAssertEqual(e2.count, 0)
        XCTAssertEqual(try e2.recommend(history([1]), RecommendOptions(k: 3, diversity: 0)), [])
    }

    func rejected(_ bytes: [UInt8], _ m: ItemModel, full: Bool = true, expect: ImageShape? = nil) -> String? {
        do {
            _ = try ModelImage.read(ModelMemory.copy(of: bytes), expect: expect ?? shape(of: m), fullCheck: full)
            return nil
        } catch let r as ImageRejected {
            return r.reason
        } catch {
            return "other error \(error)"
        }
    }

    func testDamagedImagesAreRejected() throws {
        try assertDamagedRejected(try richModel())
    }

    func assertDamagedRejected(_ m: ItemModel) throws {
        let good = try image(m).bytes
        XCTAssertNil(rejected(good, m))
        // truncated anywhere, or extended
        for cut in [0, 8, 100, ModelImage.headerSize, good.count / 2, good.count - 1] {
            XCTAssertNotNil(rejected(Array(good.prefix(cut)), m), "truncated to \(cut)")
        }
        XCTAssertNotNil(rejected(good + [0], m))
        // wrong magic, another format version
        var bad = good; bad[0] ^= 1
        XCTAssertEqual(rejected(bad, m), "not a model image (bad magic)")
        bad = good; bad[8] = UInt8(ModelImage.formatVersion + 1)
        XCTAssertNotNil(rejected(bad, m))
        // every byte of the header and of the section table (not the header's zero padding)
        let nsec = Int(good[28])
        for k in 12..<(ModelImage.headerSize + nsec * 32) where k < 112 || k >= ModelImage.headerSize {
            bad = good; bad[k] ^= 0x10
            XCTAssertNotNil(rejected(bad, m), "header byte \(k)")
        }
        // a byte in every section (first, middle and last byte of each)
        var table: [(ImageSection, Int, Int)] = []
        for k in 0..<nsec {
            let e = ModelImage.headerSize + k * 32
            let kind = ImageSection(rawValue: UInt32(good[e]))!
            var off = 0, cnt = 0
            for b in 0..<8 { off |= Int(good[e + 8 + b]) << (8 * b); cnt |= Int(good[e + 16 + b]) << (8 * b) }
            table.append((kind, off, cnt * kind.elementSize))
        }
        XCTAssertEqual(Set(table.map(\.0)), Set(shape(of: m).sections))
        for (kind, off, bytes) in table where bytes > 0 {
            for at in [off, off + bytes / 2, off + bytes - 1] {
                bad = good; bad[at] ^= 0x01
                XCTAssertNotNil(rejected(bad, m, full: true), "\(kind) byte \(at - off)")
                // without the full check, only the bulk float payloads go unchecked
                XCTAssertEqual(rejected(bad, m, full: false) == nil, kind.isBulk, "\(kind) byte \(at - off), structure check")
            }
        }
        // stale: another version, stamp, or model
        var other = shape(of: m); other.modelVersion = 43
        XCTAssertNotNil(rejected(good, m, expect: other))
        other = shape(of: m); other.stamp = 1
        XCTAssertNotNil(rejected(good, m, expect: other))
        other = shape(of: m); other.nameHash = ModelImage.nameHash("n")
        XCTAssertNotNil(rejected(good, m, expect: other))
        // random garbage of the right size never traps
        var rng = Rng(s: 11)
        for _ in 0..<20 {
            bad = good
            for _ in 0..<8 { bad[Int(rng.next() % UInt64(bad.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            _ = rejected(bad, m, full: false)
        }
    }

    func testWriterRejectsBadRows() throws {
        let m = try makeModel(ids: [1, 2], rows: [[0, 1], [1, 0]])
        let s = shape(of: m)
        let w = try ImageWriter(shape: s, sink: MemorySink(size: s.layout()!.size))
        XCTAssertThrowsError(try w.add(id: 1, popularity: 1, users: 0, categories: [], weights: [0, .nan][...], similarity: [][...], content: nil))
        try w.add(id: 1, popularity: 1, users: 0, categories: [], weights: [0, 1][...], similarity: [][...], content: nil)
        XCTAssertThrowsError(try w.finish())      // one item missing
        try w.add(id: 1, popularity: 1, users: 0, categories: [], weights: [1, 0][...], similarity: [][...], content: nil)
        assertRecError("XX000", try w.finish())   // the same id twice
    }

    func testChecksumIsIncremental() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        var whole = Checksum(); whole.add(bytes[...])
        for split in [0, 1, 7, 8, 9, 500, 999] {
            var c = Checksum(); c.add(bytes[..<split]); c.add(bytes[split...])
            XCTAssertEqual(c.value, whole.value, "split at \(split)")
        }
        var shorter = Checksum(); shorter.add(bytes[..<999])
        XCTAssertNotEqual(shorter.value, whole.value)
    }

    func testItemIndexAndCategoryLists() {
        let idx = ItemIndex(ids: Column([50, -3, 7, Int64.max, Int64.min]))!
        XCTAssertEqual(idx[50], 0); XCTAssertEqual(idx[-3], 1); XCTAssertEqual(idx[Int64.max], 3); XCTAssertEqual(idx[Int64.min], 4)
        XCTAssertNil(idx[8]); XCTAssertNil(idx[0])
        XCTAssertNil(ItemIndex(ids: Column([1, 2, 1])))
        let c = CategoryLists([[1, 2], [], [3]])
        XCTAssertEqual(c.count, 3)
        XCTAssertEqual(Array(c[0]), [1, 2]); XCTAssertTrue(c[1].isEmpty); XCTAssertEqual(Array(c[2]), [3])
        XCTAssertEqual(jaccard(c[0], [2, 3]), 1.0 / 3)
    }
}
