import XCTest
@testable import RecommenderCore

/// Every loop whose cost grows with the catalog, a history, k or a text polls the interrupt
/// check (issue 8, item 3): the check is called, an interrupt stops the work with the caller's
/// error, and polling changes no result.
final class InterruptTests: XCTestCase {
    /// Counts polls; throws 57014 at poll number `stopAt` (never when nil).
    final class Probe {
        var polls = 0
        let stopAt: Int?
        init(stopAt: Int? = nil) { self.stopAt = stopAt }
        var check: InterruptCheck {
            { [self] in
                polls += 1
                if let s = stopAt, polls >= s { throw RecError.interrupted }
            }
        }
    }

    /// A random model of n items: dense weights, 3 categories per item out of 40 (or, without
    /// categories, 8-dimension similarity vectors).
    func randomModel(_ n: Int, categories: Bool) throws -> ItemModel {
        var rng = LCG(42)
        let w = (0..<(n * n)).map { t in t / n == t % n ? Float(0) : Float(rng.signed()) }
        let cats: [[Int32]]? = categories ? (0..<n).map { _ in Array(Set((0..<3).map { _ in Int32(rng.next() % 40) })).sorted() } : nil
        let dims = categories ? 0 : 8
        var vec = [Float](repeating: 0, count: n * dims)
        if dims > 0 {
            for i in 0..<n {
                var norm: Float = 0
                for t in 0..<dims { vec[i * dims + t] = Float(rng.signed()); norm += vec[i * dims + t] * vec[i * dims + t] }
                for t in 0..<dims { vec[i * dims + t] /= norm.squareRoot() }
            }
        }
        return try ItemModel(version: 1, itemIds: (0..<n).map { Int64($0) }, weights: w,
                             popularity: (0..<n).map { Double($0 % 17) }, categories: cats, similarityDims: dims,
                             similarityVectors: vec, weighting: .sum)
    }

    func testRerankersPollEverySlotAndStop() throws {
        let n = 400
        for (reranker, withCategories) in [(Reranker.coverage, true), (.coverage, false), (.mmr, true), (.dpp, false)] {
            let m = try randomModel(n, categories: withCategories)
            let h = history([(1, 1.0), (2, 2.0), (3, 0.5)])
            var opt = RecommendOptions(k: 200, diversity: 0.8)
            opt.reranker = reranker
            let plain = try m.recommend(h, opt)
            let probe = Probe()
            opt.interrupt = probe.check
            XCTAssertEqual(try m.recommend(h, opt), plain, "\(reranker): polling changed the list")
            // at least one poll per slot of the list
            XCTAssertGreaterThanOrEqual(probe.polls, 200, "\(reranker)")
            for stop in [1, probe.polls / 2, probe.polls] {
                let p = Probe(stopAt: stop)
                opt.interrupt = p.check
                assertRecError("57014", try m.recommend(h, opt), "\(reranker) stopped at poll \(stop)")
                XCTAssertEqual(p.polls, stop)
            }
        }
    }

    func testScoringAndExplainPollOverLongHistories() throws {
        let n = 400
        let m = try randomModel(n, categories: true)
        // a history holding most of the catalog: scores() is one saxpy per item
        let h = history((0..<300).map { (Int64($0), 1.0 + Double($0 % 3)) })
        let probe = Probe()
        let s = try m.scores(m.prepare(h), interrupt: probe.check)
        XCTAssertEqual(s, m.scores(m.prepare(h)))
        XCTAssertGreaterThanOrEqual(probe.polls, 300 / 64)
        assertRecError("57014", try m.scores(m.prepare(h), interrupt: Probe(stopAt: 1).check))
        let e = m.explain(h, item: 350)
        let pe = Probe()
        XCTAssertEqual(try m.explain(h, item: 350, interrupt: pe.check), e)
        XCTAssertGreaterThan(pe.polls, 0)
        assertRecError("57014", try m.explain(h, item: 350, interrupt: Probe(stopAt: 1).check))
        // the cap's fallback down the whole relevance order polls too
        var opt = RecommendOptions(k: 90, diversity: 0)
        opt.maxPerCategory = 1
        let plain = try m.recommend(h, opt)
        let pr = Probe()
        opt.interrupt = pr.check
        XCTAssertEqual(try m.recommend(h, opt), plain)
        opt.interrupt = Probe(stopAt: pr.polls).check
        assertRecError("57014", try m.recommend(h, opt))
    }

    func testModelLoadingPollsOverTheWeights() throws {
        let n = 1100     // 1.2 M weights: more than one band of 2^20
        let w = [Float](repeating: 0.5, count: n * n)
        let probe = Probe()
        _ = try ItemModel(version: 1, itemIds: (0..<n).map { Int64($0) }, weights: w, popularity: [Double](repeating: 1, count: n),
                          categories: nil, similarityDims: 0, similarityVectors: [], weighting: .sum, interrupt: probe.check)
        XCTAssertGreaterThanOrEqual(probe.polls, 2)
        assertRecError("57014", try ItemModel(version: 1, itemIds: (0..<n).map { Int64($0) }, weights: w,
                                              popularity: [Double](repeating: 1, count: n), categories: nil, similarityDims: 0,
                                              similarityVectors: [], weighting: .sum, interrupt: Probe(stopAt: 1).check))
    }

    /// The tokeniser before pieces: the whole text lower-cased at once.
    func referenceTokens(_ text: String) -> [String] {
        var out: [String] = []
        var cur = ""
        for ch in text.lowercased() {
            if ch.isLetter || ch.isNumber { cur.append(ch) } else {
                if cur.count >= 2 { out.append(cur) }
                cur = ""
            }
        }
        if cur.count >= 2 { out.append(cur) }
        return out
    }

    func testTokensInPiecesEqualTokensOfTheWholeText() throws {
        // letters of several scripts, digits, combining marks, emoji, ZWJ sequences, CR LF,
        // case pairs whose lower case is longer (U+0130), final sigma, flags
        let alphabet: [String] = ["a", "B", "z", "É", "e\u{301}", "ß", "İ", "Σ", "ς", "ω", "東", "タ", "7", "٣", " ", " ", "-", ",",
                                  "\r\n", "\n", "\u{0301}", "👍🏽", "👨‍👩‍👧", "🇫🇷", "\u{200D}", "ǅ", "Ⅻ", "_", "ﬁ"]
        var rng = LCG(5)
        for trial in 0..<300 {
            let len = 1 + Int(rng.next() % 80)
            let text = (0..<len).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
            let ref = referenceTokens(text)
            XCTAssertEqual(ContentBuilder.tokens(text), ref, "trial \(trial): \(text.debugDescription)")
            for piece in [1, 2, 3, 7] {
                XCTAssertEqual(ContentBuilder.tokens(text, pieceCharacters: piece, interrupt: {}), ref,
                               "trial \(trial), pieces of \(piece): \(text.debugDescription)")
            }
        }
    }

    func testTokeniserAndTfidfPollOnHugeText() throws {
        let text = String(repeating: "Lorem ipsum dolor sit amet, ", count: 20_000)     // 560,000 characters
        let probe = Probe()
        let t = try ContentBuilder.tokens(text, interrupt: probe.check)
        XCTAssertEqual(t.count, 100_000)
        XCTAssertGreaterThanOrEqual(probe.polls, 560_000 / 65_536)
        assertRecError("57014", try ContentBuilder.tokens(text, interrupt: Probe(stopAt: 2).check))
        let docs = [t, ["lorem", "x1"], []]
        let plain = ContentBuilder.tfidf(docs, dims: 16)
        let pt = Probe()
        let polled = try ContentBuilder.tfidf(docs, dims: 16, interrupt: pt.check)
        XCTAssertEqual(polled.present, plain.present)
        for (a, b) in zip(polled.vectors, plain.vectors) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertGreaterThanOrEqual(pt.polls, 2 * 100_000 / 65_536)
        assertRecError("57014", try ContentBuilder.tfidf(docs, dims: 16, interrupt: Probe(stopAt: 1).check))
    }

    func testEmbeddingParserPolls() throws {
        let text = (0..<200_000).map { String($0 % 7) + ".5" }.joined(separator: ",")
        let probe = Probe()
        let v = try ContentBuilder.embedding(text, itemId: 1, interrupt: probe.check)
        XCTAssertEqual(v, try ContentBuilder.embedding(text, itemId: 1))
        XCTAssertGreaterThanOrEqual(probe.polls, 3)
        assertRecError("57014", try ContentBuilder.embedding(text, itemId: 1, interrupt: Probe(stopAt: 1).check))
    }

    func testGramAndSimilarityVectorsPoll() throws {
        var b = InteractionMatrixBuilder()
        var rng = LCG(3)
        for u in 0..<400 { for _ in 0..<30 { try b.add(user: Int64(u), item: Int64(rng.next() % 700), weight: 1, time: Double(u)) } }
        let x = b.build(weighting: .binary)
        let probe = Probe()
        XCTAssertEqual(try b.build(transform: ValueTransform(.binary), rowNorm: 0, interrupt: probe.check).values, x.values)
        let g = try EASE.gram(x)
        let pg = Probe()
        XCTAssertEqual(try EASE.gram(x, interrupt: pg.check), g)
        XCTAssertGreaterThanOrEqual(pg.polls, 700 / 64)    // at least the mirror's bands
        assertRecError("57014", try EASE.gram(x, interrupt: Probe(stopAt: 3).check))
        let n = x.cols
        let ps = Probe()
        let v = try EASE.similarityVectors(gram: g, n: n, dims: 48, interrupt: ps.check)
        XCTAssertEqual(v, try EASE.similarityVectors(gram: g, n: n, dims: 48))
        XCTAssertGreaterThanOrEqual(ps.polls, 2)
        assertRecError("57014", try EASE.similarityVectors(gram: g, n: n, dims: 48, interrupt: Probe(stopAt: 1).check))
        let pc = Probe()
        let cs = try b.coldStartRanking(halfLife: 10, trendWeight: 0.5, interrupt: pc.check)
        XCTAssertEqual(cs.score, b.coldStartRanking(halfLife: 10, trendWeight: 0.5).score)
        XCTAssertEqual(try b.itemUserCounts(interrupt: pc.check), b.itemUserCounts())
        var gf = g
        let old = [(Int32(1), 1.0), (Int32(2), 1.0)], new = [(Int32(1), 1.0), (Int32(5), 2.0)]
        var gp = g
        EASE.foldIn(gram: &gf, n: n, old: old, new: new)
        try EASE.foldIn(gram: &gp, n: n, old: old, new: new, interrupt: Probe().check)
        XCTAssertEqual(gf, gp)
    }

    func testSimilarityVectorBandsEqualOneProduct() throws {
        // n large enough for several bands of rows (2e8 / (2 * n * dims) rows per band)
        let n = 2100, dims = 48
        var rng = LCG(8)
        var g = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            g[i * n + i] = 5
            for _ in 0..<4 { let j = Int(rng.next() % UInt64(n)); if j != i { g[i * n + j] = 1; g[j * n + i] = 1 } }
        }
        let probe = Probe()
        let v = try EASE.similarityVectors(gram: g, n: n, dims: dims, interrupt: probe.check)
        XCTAssertGreaterThanOrEqual(probe.polls, 2)
        // the reference: rows normalised as the function does, each row's projection summed directly
        var r = SplitMix64(seed: 0x5EED)
        var omega = [Double](repeating: 0, count: n * dims)
        for t in 0..<omega.count { omega[t] = r.nextGaussian() }
        var worst: Float = 0
        for i in stride(from: 0, to: n, by: 97) {
            var y = [Double](repeating: 0, count: dims)
            for j in 0..<n where g[i * n + j] != 0 {
                let c = g[i * n + j] / (g[i * n + i].squareRoot() * g[j * n + j].squareRoot())
                for t in 0..<dims { y[t] += c * omega[j * dims + t] }
            }
            let norm = y.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for t in 0..<dims { worst = max(worst, abs(v[i * dims + t] - Float(y[t] / norm))) }
        }
        XCTAssertLessThan(worst, 1e-5)
    }
}
