// Per-call time of ItemModel.recommend() in one process, with the backend's reused ScoringScratch
// (what the extension does now) against the same call without it (each call allocating its own
// catalog-sized arrays: the code path before the scratch, kept for callers without a cache), on
// synthetic models built directly in the core (no training):
//
//   sparse: n items in categories of 500; `rows` of them (the most popular) have a row of 256
//           weights, half within the item's category, half Zipf-popular over the whole catalog;
//           a history is 20 items drawn Zipf-like among those rows;
//   dense:  n x n random weights (small n only);
//   content: the sparse model with 1.6% of the catalog content-only items (TF-IDF-like vectors,
//           one non-zero entry of 256), scored from the dense vectors against the posting lists.
//
//   swift run -c release ServeBench [sizes, default 20000,100000,1000000] [calls per size, default 3000] [scratch]
//
// Prints per size the median and 95th percentile of a call (microseconds) for both paths and
// their ratio, and checks that both give the same lists.
#if canImport(Glibc)
import Glibc
#endif
import RecommenderCore

struct Rng {
    var s: UInt64
    mutating func next() -> UInt64 {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        var z = s
        z = (z ^ (z >> 33)) &* 0xff51afd7ed558ccd
        return z ^ (z >> 33)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// 0..<n, density about 1 / (index + 1) (Zipf, exponent 1).
    mutating func zipf(_ n: Int) -> Int { min(n - 1, Int(exp(unit() * log(Double(n) + 1))) - 1) }
}

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) * 1e6 + Double(t.tv_nsec) / 1e3
}

func sparseModel(items n: Int, rows: Int, perRow: Int, seed: UInt64) throws -> ItemModel {
    var rng = Rng(s: seed)
    var rowStart = [Int](repeating: 0, count: n + 1)
    var cols: [Int32] = [], vals: [Float] = []
    cols.reserveCapacity(rows * perRow); vals.reserveCapacity(rows * perRow)
    var row: [Int32] = []
    for h in 0..<n {
        if h < rows {
            row.removeAll(keepingCapacity: true)
            let cat = h / 500, catStart = cat * 500, catSize = min(500, n - catStart)
            for t in 0..<(perRow + perRow / 8) {
                let j = t % 2 == 0 ? catStart + Int(rng.next() % UInt64(catSize)) : rng.zipf(n)
                if j != h { row.append(Int32(j)) }
            }
            row.sort()
            var last: Int32 = -1, kept = 0
            for j in row where j != last && kept < perRow {
                cols.append(j); vals.append(Float(rng.unit() - 0.25) * 0.05); last = j; kept += 1
            }
        }
        rowStart[h + 1] = cols.count
    }
    let sw = try SparseItemWeights.compressedRows(n: n, rowStart: rowStart, cols: cols, vals: vals)
    return try ItemModel(version: 1, itemIds: (0..<n).map { Int64($0 + 1) }, weights: [],
                         popularity: (0..<n).map { 1 / Double($0 + 1) }, categories: (0..<n).map { [Int32($0 / 500)] },
                         similarityDims: 0, similarityVectors: [], weighting: .log, sparse: sw)
}

func denseModel(items n: Int, seed: UInt64) throws -> ItemModel {
    var rng = Rng(s: seed)
    var w = [Float](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n where j != i { w[i * n + j] = Float(rng.unit() - 0.5) * 0.01 } }
    return try ItemModel(version: 1, itemIds: (0..<n).map { Int64($0 + 1) }, weights: w,
                         popularity: (0..<n).map { 1 / Double($0 + 1) }, categories: (0..<n).map { [Int32($0 / 500)] },
                         similarityDims: 0, similarityVectors: [], weighting: .log)
}

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : s[min(s.count - 1, Int(Double(s.count - 1) * p + 0.5))]
}

func fmt(_ x: Double) -> String {
    guard x.isFinite else { return "\(x)" }
    let r = (x * 10).rounded() / 10
    return "\(r)"
}

func run(_ label: String, _ m: ItemModel, historyItems: Int, calls: Int, diversity: Double, seed: UInt64) throws {
    var rng = Rng(s: seed)
    let histories: [History] = (0..<500).map { _ in
        var h = History()
        for _ in 0..<20 { h.add(item: Int64(rng.zipf(historyItems) + 1), weight: 1) }
        return h
    }
    let scratch = m.makeScratch()
    var base = RecommendOptions(k: 10, diversity: diversity)
    base.poolMinimum = 100
    var with = base
    with.scratch = scratch
    // warm up both paths (first-touch page faults of the scratch belong to the first call only)
    for h in histories.prefix(20) { _ = try m.recommend(h, base); _ = try m.recommend(h, with) }
    var tBase: [Double] = [], tNew: [Double] = []
    var mismatches = 0
    for c in 0..<calls {
        let h = histories[c % histories.count]
        // alternate which path goes first, so that neither always runs on a warmer cache
        var a: [Recommendation] = [], b: [Recommendation] = []
        if scratchOnly {
            let t = now(); b = try m.recommend(h, with); tNew.append(now() - t); a = b
        } else if c % 2 == 0 {
            var t = now(); a = try m.recommend(h, base); tBase.append(now() - t)
            t = now(); b = try m.recommend(h, with); tNew.append(now() - t)
        } else {
            var t = now(); b = try m.recommend(h, with); tNew.append(now() - t)
            t = now(); a = try m.recommend(h, base); tBase.append(now() - t)
        }
        if a != b { mismatches += 1 }
    }
    let mb = percentile(tBase, 0.5), mn = percentile(tNew, 0.5)
    let p95b = percentile(tBase, 0.95), p95n = percentile(tNew, 0.95)
    var line = "\(label) diversity \(diversity): fresh arrays p50 \(fmt(mb)) us p95 \(fmt(p95b)) us"
    line += " | reused scratch p50 \(fmt(mn)) us p95 \(fmt(p95n)) us"
    line += " | ratio of medians \(fmt(mb / mn))x | scratch \(scratch.bytes / 1024) kB"
    line += " | lists differing: \(mismatches) of \(calls)"
    print(line)
}

/// The content-only items' scoring (ContentSlots, issue 7): the same sparse model with `extra`
/// catalog items the collaborative model has not seen, scored by content vectors that are
/// TF-IDF-like (one category token each: one non-zero entry of 256, as a shop that registers
/// only a category column has), once from the dense vectors (one gemv per call over every
/// content-only item: what serving did before the posting lists) and once from the lists.
func contentModels(items n: Int, extra: Int, rows: Int, perRow: Int, seed: UInt64) throws -> (gemv: ItemModel, slots: ItemModel) {
    let cf = n - extra
    let base = try sparseModel(items: cf, rows: min(rows, cf), perRow: perRow, seed: seed)
    let dims = 256
    var vec = [Float](repeating: 0, count: n * dims)
    for i in 0..<n {
        let cat = UInt64(i / 500) &* 0x9E37_79B9_7F4A_7C15
        vec[i * dims + Int((cat >> 20) % UInt64(dims))] = (cat >> 63) == 0 ? 1 : -1
    }
    let vectors = Column(vec), present = Column([Bool](repeating: true, count: n))
    let users = Column((0..<n).map { $0 < cf ? max(1, 1000 / ($0 + 1)) : 0 })
    vec = []
    let slots = ContentSlots(vectors: vectors, present: present, dims: dims, first: cf, count: n)
    func model(_ s: ContentSlots?) throws -> ItemModel {
        try ItemModel(version: 1, itemIds: (0..<n).map { Int64($0 + 1) }, weights: [],
                      popularity: (0..<n).map { 1 / Double($0 + 1) }, categories: (0..<n).map { [Int32($0 / 500)] },
                      similarityDims: 0, similarityVectors: [], weighting: .log, cfCount: cf,
                      content: ContentVectors(dims: dims, vectors: vectors, present: present, beta: 0.02, prior: 0, users: users, slots: s),
                      sparse: base.sparse)
    }
    return (try model(nil), try model(slots))
}

func runContent(_ label: String, _ a: ItemModel, _ b: ItemModel, historyItems: Int, calls: Int, seed: UInt64) throws {
    var rng = Rng(s: seed)
    let histories: [History] = (0..<500).map { _ in
        var h = History()
        for _ in 0..<20 { h.add(item: Int64(rng.zipf(historyItems) + 1), weight: 1) }
        return h
    }
    var oa = RecommendOptions(k: 10, diversity: 0), ob = oa
    oa.scratch = a.makeScratch(); ob.scratch = b.makeScratch()
    for h in histories.prefix(20) { _ = try a.recommend(h, oa); _ = try b.recommend(h, ob) }
    var ta: [Double] = [], tb: [Double] = []
    var mismatches = 0
    for c in 0..<calls {
        let h = histories[c % histories.count]
        var ra: [Recommendation] = [], rb: [Recommendation] = []
        if c % 2 == 0 {
            var t = now(); ra = try a.recommend(h, oa); ta.append(now() - t)
            t = now(); rb = try b.recommend(h, ob); tb.append(now() - t)
        } else {
            var t = now(); rb = try b.recommend(h, ob); tb.append(now() - t)
            t = now(); ra = try a.recommend(h, oa); ta.append(now() - t)
        }
        if ra != rb { mismatches += 1 }
    }
    let ma = percentile(ta, 0.5), mb = percentile(tb, 0.5)
    print("\(label): dense gemv p50 \(fmt(ma)) us p95 \(fmt(percentile(ta, 0.95))) us | posting lists p50 \(fmt(mb)) us p95 \(fmt(percentile(tb, 0.95))) us"
          + " | ratio of medians \(fmt(ma / mb))x | lists differing: \(mismatches) of \(calls)")
}

let args = CommandLine.arguments
let sizes = args.count > 1 ? args[1].split(separator: ",").compactMap { Int($0) } : [20_000, 100_000, 1_000_000]
let calls = args.count > 2 ? Int(args[2]) ?? 3000 : 3000
/// "scratch" as the third argument: the reused-scratch path only (for a profiler)
let scratchOnly = args.count > 3 && args[3] == "scratch"
for n in sizes {
    let rows = min(n, 200_000)
    let t0 = now()
    let m = try sparseModel(items: n, rows: rows, perRow: 256, seed: UInt64(n))
    print("sparse model: \(n) items, \(rows) rows of 256 weights (\(m.sparse?.nonZeros ?? 0) pairs), built in \(fmt((now() - t0) / 1e6)) s")
    for d in [0.0, 0.3] {
        try run("sparse \(n)", m, historyItems: rows, calls: calls, diversity: d, seed: 7)
    }
}
for n in sizes {
    // a catalog with 1.6% of its items new (content only), as in bench/scale.sh's 1,000,000-item catalog
    let extra = max(1, n * 16 / 1000), rows = min(n - extra, 200_000)
    let t0 = now()
    let (g, sl) = try contentModels(items: n, extra: extra, rows: rows, perRow: 256, seed: UInt64(n) &+ 1)
    print("sparse model with content: \(n) items, \(extra) of them content only, built in \(fmt((now() - t0) / 1e6)) s")
    try runContent("content \(n)", g, sl, historyItems: rows, calls: calls, seed: 9)
}
if sizes.contains(where: { $0 <= 100_000 }) {
    let n = 5000
    let m = try denseModel(items: n, seed: 3)
    try run("dense \(n)", m, historyItems: n, calls: min(calls, 1000), diversity: 0, seed: 7)
}
