import Foundation
import XCTest
@testable import RecommenderCore

// Tests for content vectors: ContentBuilder (tokens, TF-IDF with signed feature hashing,
// embedding parsing, fitBeta) and their use in ItemModel (content-only items, the content blend
// of collaborative items, exact scores, explanations and recommend()).

// MARK: - independent helpers

/// FNV-1a 64 over the UTF-8 bytes, written here without the code under test.
/// The token hash the core uses: FNV-1a 64 followed by MurmurHash3's 64-bit finalizer (fmix64).
func ctTokenHash(_ s: String) -> UInt64 {
    var h = ctFNV1a64(s)
    h ^= h >> 33; h = h &* 0xff51afd7ed558ccd
    h ^= h >> 33; h = h &* 0xc4ceb9fe1a85ec53
    h ^= h >> 33
    return h
}

func ctFNV1a64(_ s: String) -> UInt64 {
    var h: UInt64 = 14_695_981_039_346_656_037          // 0xcbf29ce484222325
    let prime: UInt64 = 1_099_511_628_211               // 0x100000001b3
    for byte in Array(s.utf8) {
        h ^= UInt64(byte)
        h = h &* prime
    }
    return h
}

func ctDot(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
    precondition(a.count == b.count)
    var s = 0.0
    a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in
        for t in 0..<x.count where x[t] != 0 { s += Double(x[t]) * Double(y[t]) }
    } }
    return s
}

func ctRow(_ v: [Float], _ i: Int, _ dims: Int) -> ArraySlice<Float> { v[(i * dims)..<((i + 1) * dims)] }

func ctCosine(_ v: [Float], _ a: Int, _ b: Int, dims: Int) -> Double {
    let x = ctRow(v, a, dims), y = ctRow(v, b, dims)
    let nx = ctDot(x, x).squareRoot(), ny = ctDot(y, y).squareRoot()
    return nx > 0 && ny > 0 ? ctDot(x, y) / (nx * ny) : 0
}

func ctNormalised(_ raw: [Double]) -> [Float] {
    let n = raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return raw.map { Float($0 / n) }
}

/// The fixture: items 10, 20, 30 are collaborative (3 x 3 weights), 40 and 50 content-only.
/// Vectors: 40 close to 10, 50 close to 20. Weighting .sum so history values are the weights.
enum CT {
    static let ids: [Int64] = [10, 20, 30, 40, 50]
    static let cf = 3
    static let dims = 4
    static let raw: [[Double]] = [
        [1.0, 0.2, 0.0, 0.1],     // 10
        [0.3, 1.0, 0.1, 0.0],     // 20
        [0.0, 0.2, 1.0, 0.3],     // 30
        [0.9, 0.1, 0.2, 0.0],     // 40
        [0.1, 0.8, 0.3, 0.2],     // 50
    ]
    static let rows: [[Float]] = [
        [0.00, 0.20, 0.05],
        [0.10, 0.00, 0.15],
        [0.02, 0.10, 0.00],
    ]
    static let beta = 0.4

    /// `present[i] == false` zeroes item i's vector.
    static func vectors(present: [Bool]) -> [Float] {
        var v: [Float] = []
        for (i, r) in raw.enumerated() {
            v += present[i] ? ctNormalised(r) : [Float](repeating: 0, count: dims)
        }
        return v
    }

    static func model(present: [Bool] = [true, true, true, true, true], beta: Double = CT.beta, prior: Double = 0,
                      users: [Int] = [5, 3, 1, 0, 0], popularity: [Double] = [5, 4, 3, 2, 1]) throws -> ItemModel {
        let c = ContentVectors(dims: dims, vectors: vectors(present: present), present: present, beta: beta,
                               prior: prior, users: users)
        return try ItemModel(version: 1, itemIds: ids, weights: rows.flatMap { $0 }, popularity: popularity,
                             categories: nil, similarityDims: 0, similarityVectors: [], weighting: .sum,
                             cfCount: cf, content: c)
    }

    /// Independent score of item j for (item index, value) entries: collaborative part
    /// sum x_i B_ij over collaborative history items, content part sum x_i beta cos(v_i, v_j) over
    /// history items with content.
    static func parts(_ entries: [(Int, Double)], _ j: Int, present: [Bool], beta: Double = CT.beta) -> (cf: Double, content: Double) {
        let v = vectors(present: present)
        var c = 0.0, t = 0.0
        for (i, x) in entries {
            if i < cf && j < cf { c += x * Double(rows[i][j]) }
            if present[i] && present[j] { t += x * beta * ctCosine(v, i, j, dims: dims) }
        }
        return (c, t)
    }
}

final class ContentTests: XCTestCase {
    static let allPresent = [true, true, true, true, true]

    // MARK: 1. tokens

    func testTokensLowercaseSplitAndDropShort() {
        XCTAssertEqual(ContentBuilder.tokens("Hello, WORLD!"), ["hello", "world"])
        XCTAssertEqual(ContentBuilder.tokens("a b c de f-gh i_jk"), ["de", "gh", "jk"])
        XCTAssertEqual(ContentBuilder.tokens("USB-C cable (2m) x 3"), ["usb", "cable", "2m"])
        XCTAssertEqual(ContentBuilder.tokens("  red\tblue\nGREEN  "), ["red", "blue", "green"])
        XCTAssertEqual(ContentBuilder.tokens("iPhone15Pro 128GB"), ["iphone15pro", "128gb"])
        XCTAssertEqual(ContentBuilder.tokens(""), [])
        XCTAssertEqual(ContentBuilder.tokens("a . , ; x"), [])
        XCTAssertEqual(ContentBuilder.tokens("ab"), ["ab"])              // last token at end of text
    }

    func testTokensKeepUnicodeLetters() {
        XCTAssertEqual(ContentBuilder.tokens("Café Müller-Straße ÉTÉ"), ["café", "müller", "straße", "été"])
        XCTAssertEqual(ContentBuilder.tokens("東京 タワー"), ["東京", "タワー"])
        XCTAssertEqual(ContentBuilder.tokens("Ωmega é"), ["ωmega"])      // single letter dropped, even non-ASCII
    }

    // MARK: 2. tfidf

    func testTfidfRowsUnitOrZero() {
        let docs: [[String]] = [["red", "shoe", "shoe"], [], ["blue", "shirt"], ["red"], []]
        let dims = 64
        let (v, present) = ContentBuilder.tfidf(docs, dims: dims)
        XCTAssertEqual(v.count, docs.count * dims)
        XCTAssertEqual(present, [true, false, true, true, false])
        for i in docs.indices {
            let r = ctRow(v, i, dims)
            let norm = ctDot(r, r).squareRoot()
            if present[i] { XCTAssertEqual(norm, 1, accuracy: 1e-5, "row \(i)") } else {
                XCTAssertTrue(r.allSatisfy { $0 == 0 }, "empty doc \(i) must be a zero row")
            }
            XCTAssertTrue(r.allSatisfy { $0.isFinite })
        }
        XCTAssertTrue(ContentBuilder.tfidf([], dims: 8).vectors.isEmpty)
    }

    func testTfidfIdenticalDocsCosineOne() {
        let docs: [[String]] = [["wool", "scarf", "winter"], ["cotton", "shirt"], ["wool", "scarf", "winter"],
                                ["winter", "wool", "scarf"]]
        let dims = 128
        let (v, _) = ContentBuilder.tfidf(docs, dims: dims)
        XCTAssertEqual(ctDot(ctRow(v, 0, dims), ctRow(v, 2, dims)), 1, accuracy: 1e-6)
        XCTAssertEqual(ctDot(ctRow(v, 0, dims), ctRow(v, 3, dims)), 1, accuracy: 1e-6)   // order does not matter
    }

    func testTfidfDisjointDocsNearlyOrthogonal() {
        // 12 documents of 5 random lower-case words each (6 to 9 letters), no word shared.
        var rng = LCG(11)
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        var seen = Set<String>()
        var docs: [[String]] = []
        while docs.count < 12 {
            var d: [String] = []
            while d.count < 5 {
                let w = String((0..<(6 + Int(rng.next() % 4))).map { _ in letters[Int(rng.next() % 26)] })
                if seen.insert(w).inserted { d.append(w) }
            }
            docs.append(d)
        }
        let dims = 4096
        let (v, present) = ContentBuilder.tfidf(docs, dims: dims)
        XCTAssertTrue(present.allSatisfy { $0 })
        var sum = 0.0, pairs = 0.0
        for a in docs.indices {
            for b in docs.indices where b > a {
                let c = ctDot(ctRow(v, a, dims), ctRow(v, b, dims))
                XCTAssertLessThan(abs(c), 0.2 + 1e-6, "docs \(a), \(b)")   // at most one chance collision
                sum += abs(c); pairs += 1
            }
        }
        XCTAssertLessThan(sum / pairs, 0.02, "mean |cos| of disjoint documents")
    }

    /// BUG PROBE (hash quality): bucket = FNV-1a % dims uses the low bits of a hash whose last
    /// byte is mixed by a single multiply, so tokens that differ only in their last character
    /// ("w11x0", "w11x1", ...: sizes, versions, SKUs) land at a fixed stride (0x1b3 mod dims)
    /// with nearly always the same sign (the top bit barely moves). Two such families whose
    /// prefixes are a few strides apart overlap word for word: documents with no word in common
    /// reach cosine 0.8 at 4096 dims. With independent hashing, two disjoint 5-word documents need
    /// two same-sign collisions to reach 0.4 (about 2e-5 per pair; 276 pairs here).
    func testRegressionTfidfStructuredTokensCollideTogether() {
        var docs: [[String]] = []
        for d in 0..<24 { docs.append((0..<5).map { "w\(d)x\($0)" }) }
        let dims = 4096
        let (v, _) = ContentBuilder.tfidf(docs, dims: dims)
        var worst = (0.0, 0, 0)
        for a in docs.indices {
            for b in docs.indices where b > a {
                let c = abs(ctDot(ctRow(v, a, dims), ctRow(v, b, dims)))
                if c > worst.0 { worst = (c, a, b) }
            }
        }
        XCTAssertLessThan(worst.0, 0.4 - 1e-6, "disjoint docs \(docs[worst.1]) and \(docs[worst.2]) have cosine \(worst.0)")
    }

    func testTfidfRareSharedWordBeatsCommonSharedWord() {
        // "common" is in 4 of 6 documents, "rare" in 2; every other word is unique.
        let docs: [[String]] = [["common", "u0"], ["common", "u1"], ["rare", "u2"], ["rare", "u3"],
                                ["common", "u4"], ["common", "u5"]]
        let dims = 4096
        let (v, _) = ContentBuilder.tfidf(docs, dims: dims)
        let viaCommon = ctDot(ctRow(v, 0, dims), ctRow(v, 1, dims))
        let viaRare = ctDot(ctRow(v, 2, dims), ctRow(v, 3, dims))
        XCTAssertGreaterThan(viaCommon, 0)
        XCTAssertGreaterThan(viaRare, viaCommon + 0.05)
        // The exact values (no collisions among these 8 words): cos = idf_s^2 / (idf_s^2 + idf_u^2).
        let words = ["common", "rare"] + (0..<6).map { "u\($0)" }
        XCTAssertEqual(Set(words.map { ctTokenHash($0) % UInt64(dims) }).count, words.count, "test assumes no collisions")
        let idfU = log(7.0 / 2) + 1, idfC = log(7.0 / 5) + 1, idfR = log(7.0 / 3) + 1
        XCTAssertEqual(viaCommon, idfC * idfC / (idfC * idfC + idfU * idfU), accuracy: 1e-5)
        XCTAssertEqual(viaRare, idfR * idfR / (idfR * idfR + idfU * idfU), accuracy: 1e-5)
    }

    func testTfidfDeterministic() {
        var rng = LCG(7)
        let docs: [[String]] = (0..<30).map { _ in (0..<Int(rng.next() % 8)).map { _ in "t\(rng.next() % 40)" } }
        let a = ContentBuilder.tfidf(docs, dims: 32)
        let b = ContentBuilder.tfidf(docs, dims: 32)
        XCTAssertEqual(a.vectors, b.vectors)
        XCTAssertEqual(a.present, b.present)
    }

    func testTfidfMatchesHandComputation() {
        let docs: [[String]] = [["apple", "banana", "apple", "apple"], ["banana", "cherry"], ["durian"], ["apple", "éclair"]]
        let dims = 1 << 16
        let words = ["apple", "banana", "cherry", "durian", "éclair"]
        let buckets = words.map { Int(ctTokenHash($0) % UInt64(dims)) }
        XCTAssertEqual(Set(buckets).count, words.count, "test assumes no collisions")
        let (v, present) = ContentBuilder.tfidf(docs, dims: dims)
        XCTAssertEqual(present, [true, true, true, true])
        let n = Double(docs.count)
        var df: [String: Double] = [:]
        for d in docs { for w in Set(d) { df[w, default: 0] += 1 } }
        for (r, d) in docs.enumerated() {
            var expected = [Double](repeating: 0, count: dims)
            var tf: [String: Double] = [:]
            for w in d { tf[w, default: 0] += 1 }
            for (w, c) in tf {
                let idf = log((n + 1) / (df[w]! + 1)) + 1
                let weight = (1 + log(c)) * idf
                let h = ctTokenHash(w)
                let sign: Double = (h & (1 << 63)) == 0 ? 1 : -1
                expected[Int(h % UInt64(dims))] += sign * weight
            }
            let norm = expected.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for (t, w) in tf.keys.map({ ($0, Int(ctTokenHash($0) % UInt64(dims))) }) {
                XCTAssertEqual(Double(v[r * dims + w]), expected[w] / norm, accuracy: 1e-6, "doc \(r) word \(t)")
            }
            // nothing outside the words' buckets
            let nonZero = (0..<dims).filter { v[r * dims + $0] != 0 }
            XCTAssertEqual(Set(nonZero), Set(tf.keys.map { Int(ctTokenHash($0) % UInt64(dims)) }), "doc \(r)")
        }
        // Closed form for doc 0: apple (tf 3) and banana (tf 1) share idf (df 2 of 4), so the
        // idf cancels in the normalisation: |apple| = (1 + ln 3) / sqrt((1 + ln 3)^2 + 1).
        let wa = 1 + log(3.0)
        XCTAssertEqual(abs(Double(v[buckets[0]])), wa / (wa * wa + 1).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(abs(Double(v[buckets[1]])), 1 / (wa * wa + 1).squareRoot(), accuracy: 1e-6)
        // doc 2 holds one word: +-1 in its bucket, the sign from the top bit of its hash
        XCTAssertEqual(Double(v[2 * dims + buckets[3]]), (ctTokenHash("durian") >> 63) == 0 ? 1 : -1, accuracy: 1e-6)
    }

    func testFNVReferenceValues() {
        // Published FNV-1a 64 test vectors, so the independent hash above is itself right.
        XCTAssertEqual(ctFNV1a64(""), 0xcbf29ce484222325)
        XCTAssertEqual(ctFNV1a64("a"), 0xaf63dc4c8601ec8c)
        XCTAssertEqual(ctFNV1a64("foobar"), 0x85944171f73967e8)
    }

    // MARK: 3. embedding

    func testEmbeddingParsesAndNormalises() throws {
        let e = try ContentBuilder.embedding("1,2,2", itemId: 1)
        XCTAssertEqual(e.count, 3)
        for (x, y) in zip(e, [1.0 / 3, 2.0 / 3, 2.0 / 3]) { XCTAssertEqual(Double(x), y, accuracy: 1e-6) }
        let s = try ContentBuilder.embedding(" 1 , 2,\t2 ", itemId: 1)
        XCTAssertEqual(s.count, 3)
        for (x, y) in zip(s, [1.0 / 3, 2.0 / 3, 2.0 / 3]) { XCTAssertEqual(Double(x), y, accuracy: 1e-6) }
        let neg = try ContentBuilder.embedding("-3,4", itemId: 1)
        XCTAssertEqual(Double(neg[0]), -0.6, accuracy: 1e-6)
        XCTAssertEqual(Double(neg[1]), 0.8, accuracy: 1e-6)
        let sci = try ContentBuilder.embedding("1e-3,0", itemId: 1)
        XCTAssertEqual(sci.count, 2)
        XCTAssertEqual(Double(sci[0]), 1, accuracy: 1e-6)
        XCTAssertEqual(sci[1], 0)
    }

    func testEmbeddingRejectsNonFiniteAndGarbage() {
        assertRecError("22003", try ContentBuilder.embedding("1,NaN", itemId: 5))
        assertRecError("22003", try ContentBuilder.embedding("1,x", itemId: 5))
        assertRecError("22003", try ContentBuilder.embedding("inf,1", itemId: 5))
        assertRecError("22003", try ContentBuilder.embedding("1,-inf", itemId: 5))
        assertRecError("22003", try ContentBuilder.embedding("1,1e400", itemId: 5))
        assertRecError("22003", try ContentBuilder.embedding("1;2", itemId: 5))
    }

    func testEmbeddingEmptyNullAndBeyondReal() throws {
        // an empty array ('{}' -> "") is no embedding, like NULL; it used to say "not a finite number ()"
        XCTAssertEqual(try ContentBuilder.embedding("", itemId: 5), [])
        XCTAssertEqual(try ContentBuilder.embedding("  ", itemId: 5), [])
        assertRecError("22004", try ContentBuilder.embedding("1,NULL", itemId: 5))
        do {
            _ = try ContentBuilder.embedding("1,1e39", itemId: 5)
            XCTFail("1e39 is beyond real")
        } catch let e as RecError {
            XCTAssertEqual(e.sqlstate, "22003")
            XCTAssertTrue(e.message.contains("beyond the range of real"), e.message)
        }
    }

    func testEmbeddingAllZeroIsEmpty() throws {
        XCTAssertEqual(try ContentBuilder.embedding("0,0,0", itemId: 1), [])
        XCTAssertEqual(try ContentBuilder.embedding("0", itemId: 1), [])
        XCTAssertEqual(try ContentBuilder.embedding("-0,0.0", itemId: 1), [])
    }

    /// BUG PROBE: the norm is summed in Float, so finite values whose squares overflow Float
    /// (|x| > ~1.8e19) or underflow it (|x| < ~1e-23) are mishandled: "1e20,1e20" becomes a zero
    /// vector of length 2 (1e40 overflows, 1 / inf = 0) instead of (0.707, 0.707); "1e39,1" (a
    /// finite Double beyond Float's range) becomes NaN; "1e-30,1e-30" becomes [] (treated as
    /// all-zero). A valid embedding must come out as a finite unit vector, or be rejected with
    /// 22003 when it cannot be represented.
    func testRegressionEmbeddingNormOverflowsFloat() {
        for text in ["1e20,1e20", "3e-30,4e-30", "1e39,1"] {
            do {
                let e = try ContentBuilder.embedding(text, itemId: 9)
                XCTAssertEqual(e.count, 2, "\(text): \(e)")
                XCTAssertTrue(e.allSatisfy { $0.isFinite }, "\(text) gave non-finite values \(e)")
                let norm = e.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                XCTAssertEqual(norm, 1, accuracy: 1e-5, "\(text) gave \(e), not a unit vector")
            } catch let err as RecError {
                XCTAssertEqual(err.sqlstate, "22003", text)
            } catch {
                XCTFail("\(text): \(error)")
            }
        }
    }

    // MARK: 4. fitBeta

    /// Random unit vectors (dims 6) for `n` items and weights B_ij = beta * cos(v_i, v_j), i != j.
    func betaCase(n: Int, beta: Double, seed: UInt64) -> (weights: [Float], vectors: [Float]) {
        var rng = LCG(seed)
        let dims = 6
        var v: [Float] = []
        // A common component keeps cosines away from 0 so the fit is well conditioned.
        for _ in 0..<n { v += ctNormalised((0..<dims).map { t in rng.signed() + (t == 0 ? 1.5 : 0) }) }
        var w = [Float](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n { w[i * n + j] = i == j ? 7 : Float(beta * ctDot(ctRow(v, i, dims), ctRow(v, j, dims))) }
        }
        return (w, v)
    }

    func testFitBetaRecoversExactScale() {
        let n = 8
        let (w, v) = betaCase(n: n, beta: 0.5, seed: 3)
        let present = [Bool](repeating: true, count: n)
        XCTAssertEqual(ContentBuilder.fitBeta(weights: w, cf: n, vectors: v, present: present, dims: 6), 0.5, accuracy: 1e-5)
        // Negative and sampled: still exact.
        let (w2, v2) = betaCase(n: n, beta: -1.25, seed: 4)
        XCTAssertEqual(ContentBuilder.fitBeta(weights: w2, cf: n, vectors: v2, present: present, dims: 6, sample: 3), -1.25, accuracy: 1e-5)
    }

    func testFitBetaNeedsTwoPresentItems() {
        let n = 4
        let (w, v) = betaCase(n: n, beta: 0.5, seed: 5)
        XCTAssertEqual(ContentBuilder.fitBeta(weights: w, cf: n, vectors: v, present: [true, false, false, false], dims: 6), 0)
        XCTAssertEqual(ContentBuilder.fitBeta(weights: w, cf: n, vectors: v, present: [false, false, false, false], dims: 6), 0)
        XCTAssertEqual(ContentBuilder.fitBeta(weights: [7], cf: 1, vectors: Array(v[0..<6]), present: [true], dims: 6), 0)
        // two present items are enough
        XCTAssertEqual(ContentBuilder.fitBeta(weights: w, cf: n, vectors: v, present: [false, true, false, true], dims: 6), 0.5, accuracy: 1e-5)
    }

    func testFitBetaHonoursPresent() {
        let n = 6
        var (w, v) = betaCase(n: n, beta: 0.5, seed: 6)
        // Item 5 is marked absent: its weights say something else entirely (beta 10) and must
        // not count.
        for j in 0..<n where j != 5 {
            w[5 * n + j] = Float(10 * ctDot(ctRow(v, 5, 6), ctRow(v, j, 6)))
            w[j * n + 5] = w[5 * n + j]
        }
        var present = [Bool](repeating: true, count: n)
        present[5] = false
        XCTAssertEqual(ContentBuilder.fitBeta(weights: w, cf: n, vectors: v, present: present, dims: 6), 0.5, accuracy: 1e-5)
        // With it present the fit moves away from 0.5 (so the test can tell the difference).
        let all = [Bool](repeating: true, count: n)
        XCTAssertGreaterThan(ContentBuilder.fitBeta(weights: w, cf: n, vectors: v, present: all, dims: 6), 1)
        // Vectors of items beyond cf are ignored as well (content-only items have no weights).
        v += ctNormalised([1, 0, 0, 0, 0, 0])
        XCTAssertEqual(ContentBuilder.fitBeta(weights: w, cf: n, vectors: v, present: present + [true], dims: 6), 0.5, accuracy: 1e-5)
    }

    // MARK: 5. ItemModel with content

    func testContentOnlyScoresMatchIndependentSum() throws {
        let m = try CT.model()
        let hist = history([(10, 2.0), (20, 0.5), (30, 1.5)])
        let h = m.prepare(hist)
        let s = m.scores(h)
        let entries = [(0, 2.0), (1, 0.5), (2, 1.5)]
        for j in 3..<5 {
            let expected = CT.parts(entries, j, present: Self.allPresent).content
            XCTAssertNotEqual(expected, 0)
            XCTAssertEqual(Double(s[j]), expected, accuracy: 1e-5, "item \(CT.ids[j])")
            XCTAssertEqual(m.exactScore(h, j), expected, accuracy: 1e-6, "item \(CT.ids[j])")
        }
        // with a content-only item in the history too: it contributes through its vector
        let h2 = m.prepare(history([(10, 1.0), (40, 3.0)]))
        let s2 = m.scores(h2)
        let expected50 = CT.parts([(0, 1.0), (3, 3.0)], 4, present: Self.allPresent).content
        XCTAssertEqual(Double(s2[4]), expected50, accuracy: 1e-5)
        XCTAssertEqual(m.exactScore(h2, 4), expected50, accuracy: 1e-6)
        // collaborative items are unchanged by the content-only history item (prior 0)
        for j in 0..<3 { XCTAssertEqual(m.exactScore(h2, j), Double(CT.rows[0][j]), accuracy: 1e-7) }
    }

    func testExplainOfContentOnlyItemAddsUp() throws {
        let m = try CT.model()
        for hist in [history([(10, 2.0), (20, 0.5)]), history([(30, 1.0), (40, 2.0), (20, 1.0)]), history([(50, 1.0)])] {
            let h = m.prepare(hist)
            for id: Int64 in [40, 50] where !hist.items.contains(id) {
                let j = Int(m.index[id]!)
                let e = m.explain(hist, item: id)
                XCTAssertEqual(e.status, .recommendable)
                XCTAssertEqual(e.contentBlend, 1)
                let sum = e.parts.reduce(0.0) { $0 + $1.contribution }
                XCTAssertEqual(m.exactScore(h, j), sum, accuracy: 1e-12)
                XCTAssertEqual(e.score!, sum, accuracy: 1e-12)
                XCTAssertEqual(e.parts.count, hist.order.count)
                for p in e.parts {
                    XCTAssertEqual(p.contentContribution, p.contribution, "part \(p.itemId) of item \(id)")
                    let i = Int(m.index[p.itemId]!)
                    let expected = p.value * CT.beta * ctCosine(CT.vectors(present: Self.allPresent), i, j, dims: CT.dims)
                    XCTAssertEqual(p.contribution, expected, accuracy: 1e-7)
                }
            }
        }
    }

    func testRecommendReturnsContentOnlyItemsWithSourceContent() throws {
        let m = try CT.model()
        // 40 is close to 10: beta * cos(10, 40) ~ 0.39 beats every collaborative weight of row 10.
        let recs = try m.recommend(history([10]), RecommendOptions(k: 4, diversity: 0))
        XCTAssertEqual(recs.map(\.itemId).first, 40)
        XCTAssertEqual(Set(recs.map(\.itemId)), [20, 30, 40, 50])
        let h = m.prepare(history([10]))
        for r in recs {
            let j = Int(m.index[r.itemId]!)
            XCTAssertEqual(r.source, j >= CT.cf ? "content" : "model", "item \(r.itemId)")
            XCTAssertEqual(r.score, m.exactScore(h, j), "item \(r.itemId)")
            XCTAssertEqual(m.explain(history([10]), item: r.itemId).rank, r.relevanceRank, "item \(r.itemId)")
        }
        // sorted by the independent scores
        let exp = (1..<5).map { j -> (Int64, Double) in
            let p = CT.parts([(0, 1.0)], j, present: Self.allPresent)
            return (CT.ids[j], j < CT.cf ? p.cf : p.content)
        }.sorted { $0.1 > $1.1 }
        XCTAssertEqual(recs.map(\.itemId), exp.map(\.0))
        // In the history: excluded (by default), kept with excludeSeen = false.
        let recs2 = try m.recommend(history([10, 40]), RecommendOptions(k: 5, diversity: 0))
        XCTAssertFalse(recs2.contains { $0.itemId == 40 })
        XCTAssertFalse(recs2.contains { $0.itemId == 10 })
        XCTAssertTrue(recs2.contains { $0.itemId == 50 && $0.source == "content" })
        var opt = RecommendOptions(k: 5, diversity: 0)
        opt.excludeSeen = false
        XCTAssertTrue(try m.recommend(history([10, 40]), opt).contains { $0.itemId == 40 && $0.source == "content" })
        // and with diversity, content-only items keep their source
        let div = try m.recommend(history([10]), RecommendOptions(k: 4, diversity: 0.5))
        for r in div { XCTAssertEqual(r.source, m.index[r.itemId]! >= 3 ? "content" : "model") }
    }

    func testContentOnlyItemWithoutVectorIsNeverRecommended() throws {
        let present = [true, true, true, true, false]
        let m = try CT.model(present: present)
        let hists = [history([10]), history([20, 30]), history([40]), history([(10, 1.0), (40, 2.0)])]
        for hist in hists {
            for div in [0.0, 0.5] {
                let recs = try m.recommend(hist, RecommendOptions(k: 5, diversity: div))
                XCTAssertFalse(recs.contains { $0.itemId == 50 }, "\(hist.order) diversity \(div)")
            }
            var opt = RecommendOptions(k: 5, diversity: 0)
            opt.maxPerCategory = 1        // no categories: no effect, but exercises the long path
            XCTAssertFalse(try m.recommend(hist, opt).contains { $0.itemId == 50 })
            let e = m.explain(hist, item: 50)
            XCTAssertEqual(e.status, .notInModel)
            XCTAssertNil(e.score)
            XCTAssertNil(e.rank)
            // 40 still has content and is explained as content
            if !hist.items.contains(40) { XCTAssertEqual(m.explain(hist, item: 40).contentBlend, 1) }
        }
        // its own explanation in a history that holds it
        XCTAssertEqual(m.explain(history([10, 50]), item: 50).status, .inHistory)
    }

    func testPriorBlendsCollaborativeItemsWithFewUsers() throws {
        let users = [5, 3, 1, 0, 0]
        let prior = 2.0
        let m = try CT.model(prior: prior, users: users)
        let hist = history([(10, 2.0), (40, 1.0)])
        let h = m.prepare(hist)
        let entries = [(0, 2.0), (3, 1.0)]
        let s = m.scores(h)
        for j in 1..<3 {
            let a = prior / (prior + Double(users[j]))
            let p = CT.parts(entries, j, present: Self.allPresent)
            let expected = (1 - a) * p.cf + a * p.content
            XCTAssertNotEqual(expected, p.cf)
            XCTAssertEqual(m.exactScore(h, j), expected, accuracy: 1e-7, "item \(CT.ids[j])")
            XCTAssertEqual(Double(s[j]), expected, accuracy: 1e-5, "item \(CT.ids[j])")
            let e = m.explain(hist, item: CT.ids[j])
            XCTAssertEqual(e.contentBlend, a, accuracy: 1e-15)
            XCTAssertEqual(e.score!, m.exactScore(h, j), accuracy: 1e-12)
            XCTAssertEqual(e.parts.reduce(0.0) { $0 + $1.contentContribution }, a * p.content, accuracy: 1e-7)
        }
        // recommend reports the blended exact scores; collaborative items keep source "model"
        let recs = try m.recommend(hist, RecommendOptions(k: 3, diversity: 0))
        for r in recs {
            let j = Int(m.index[r.itemId]!)
            XCTAssertEqual(r.score, m.exactScore(h, j))
            XCTAssertEqual(r.source, j >= CT.cf ? "content" : "model")
        }
        // An item with many users leans almost entirely on its collaborative score.
        let heavy = try CT.model(prior: prior, users: [5, 1_000_000, 1, 0, 0])
        let hh = heavy.prepare(hist)
        XCTAssertEqual(heavy.exactScore(hh, 1), 2.0 * Double(CT.rows[0][1]), accuracy: 1e-5)
    }

    func testPriorZeroLeavesCollaborativeScoresUnchanged() throws {
        let withContent = try CT.model(prior: 0)
        let plain = try makeModel(ids: Array(CT.ids[0..<3]), rows: CT.rows, popularity: [5, 4, 3], weighting: .sum)
        for hist in [history([(10, 2.0), (20, 0.5)]), history([(30, 1.5), (40, 1.0), (10, 1.0)]), history([(20, 3.0), (50, 2.0)])] {
            let hc = withContent.prepare(hist), hp = plain.prepare(hist)
            let sc = withContent.scores(hc), sp = plain.scores(hp)
            for j in 0..<3 {
                XCTAssertEqual(sc[j], sp[j], "item \(CT.ids[j])")
                XCTAssertEqual(withContent.exactScore(hc, j), plain.exactScore(hp, j), "item \(CT.ids[j])")
                let ec = withContent.explain(hist, item: CT.ids[j]), ep = plain.explain(hist, item: CT.ids[j])
                XCTAssertEqual(ec.score, ep.score)
                XCTAssertEqual(ec.contentBlend, 0)
                XCTAssertTrue(ec.parts.allSatisfy { $0.contentContribution == 0 })
            }
            // The collaborative items come in the same relative order.
            var opt = RecommendOptions(k: 5, diversity: 0)
            opt.excludeSeen = false
            let rc = try withContent.recommend(hist, opt).filter { withContent.index[$0.itemId]! < 3 }
            let rp = try plain.recommend(hist, RecommendOptions(k: 3, diversity: 0).with { $0.excludeSeen = false })
            XCTAssertEqual(rc.map(\.itemId), rp.map(\.itemId))
            XCTAssertEqual(rc.map(\.score), rp.map(\.score))
        }
    }

    func testHistoryOfContentOnlyItemsGivesContentRecommendations() throws {
        let users = [5, 3, 1, 0, 0]
        for prior in [0.0, 3.0] {
            let m = try CT.model(prior: prior, users: users)
            let hist = history([50])
            let recs = try m.recommend(hist, RecommendOptions(k: 4, diversity: 0))
            XCTAssertEqual(recs.count, 4)
            XCTAssertFalse(recs.contains { $0.source == "popular" }, "prior \(prior): \(recs)")
            // Independent scores: content-only 40 by content, collaborative items by a * content.
            var expected: [(Int64, Double)] = []
            for j in 0..<4 {
                let c = CT.parts([(4, 1.0)], j, present: Self.allPresent).content
                let a = j >= CT.cf ? 1 : prior / (prior + Double(users[j]))
                expected.append((CT.ids[j], a * c))
            }
            expected.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            XCTAssertEqual(recs.map(\.itemId), expected.map(\.0), "prior \(prior)")
            for (r, e) in zip(recs, expected) { XCTAssertEqual(r.score, e.1, accuracy: 1e-7, "item \(r.itemId)") }
            let r40 = recs.first { $0.itemId == 40 }
            XCTAssertEqual(r40?.source, "content")
            XCTAssertGreaterThan(r40?.score ?? 0, 0)
            if prior == 0 { XCTAssertEqual(recs.first?.itemId, 40) }   // the only item content can reach
            XCTAssertEqual(m.explain(hist, item: 40).status, .recommendable)
            XCTAssertEqual(m.explain(hist, item: 40).rank, r40?.relevanceRank)
        }
    }

    /// BUG PROBE: a history made only of content-only items that have no content vector gives the
    /// model nothing to score with (every collaborative score is 0, every content-only score NaN),
    /// yet recommend() does not fall back to popularity: it returns collaborative items with score
    /// 0 in index order (source "model"), and explain() calls them recommendable with score 0
    /// instead of cold_user.
    func testRegressionUnusableHistoryFallsBackToPopularity() throws {
        let m = try CT.model(present: [true, true, true, true, false], popularity: [1, 2, 3, 4, 5])
        let hist = history([50])
        let recs = try m.recommend(hist, RecommendOptions(k: 3, diversity: 0))
        // Popularity order without 50: 40, 30, 20.
        XCTAssertEqual(recs.map(\.itemId), [40, 30, 20])
        XCTAssertTrue(recs.allSatisfy { $0.source == "popular" }, "\(recs)")
        XCTAssertEqual(m.explain(hist, item: 30).status, .coldUser)
    }

    /// BUG PROBE: when no history item has content, content-only items score NaN in scores() and
    /// recommend() never lists them, but explain() still calls them recommendable with score 0 and
    /// a rank, a position recommend() never gives them. explain()'s rank must agree with
    /// recommend()'s list (nil when the item cannot be listed).
    func testRegressionExplainRanksUnreachableContentOnlyItem() throws {
        // 10 has no content; 40 has content but nothing in the history can reach it.
        let m = try CT.model(present: [false, true, true, true, true])
        let hist = history([10])
        let recs = try m.recommend(hist, RecommendOptions(k: 4, diversity: 0))
        let pos = Dictionary(uniqueKeysWithValues: recs.map { ($0.itemId, $0.relevanceRank) })
        for id: Int64 in [20, 30, 40, 50] {
            let e = m.explain(hist, item: id)
            XCTAssertEqual(e.rank, pos[id], "item \(id): explain rank \(String(describing: e.rank)), recommend position \(String(describing: pos[id]))")
        }
    }

    // MARK: 6. init validation

    func testInitRejectsInconsistentContent() throws {
        let ids = CT.ids
        let w = CT.rows.flatMap { $0 }
        let pop = [Double](repeating: 1, count: 5)
        let good = ContentVectors(dims: CT.dims, vectors: CT.vectors(present: Self.allPresent), present: Self.allPresent,
                                  beta: 0.4, prior: 1, users: [1, 1, 1, 0, 0])
        func make(_ c: ContentVectors?, cf: Int? = 3, weights: [Float]? = nil) throws -> ItemModel {
            try ItemModel(version: 1, itemIds: ids, weights: weights ?? w, popularity: pop, categories: nil,
                          similarityDims: 0, similarityVectors: [], weighting: .binary, cfCount: cf, content: c)
        }
        XCTAssertNoThrow(try make(good))
        XCTAssertEqual(try make(good).cfCount, 3)
        var c = good; c.vectors = Column(Array(good.vectors.dropLast()))
        assertRecError("XX000", try make(c), "vectors one short")
        c = good; c.vectors = Column(Array(good.vectors) + [0, 0, 0, 0])
        assertRecError("XX000", try make(c), "vectors one row long")
        c = good; c.present = Column(Array(good.present.dropLast()))
        assertRecError("XX000", try make(c), "present short")
        c = good; c.users = Column(Array(good.users) + [0])
        assertRecError("XX000", try make(c), "users long")
        c = good; c.dims = 0; c.vectors = []
        assertRecError("XX000", try make(c), "dims 0")
        c = good; c.dims = 2
        assertRecError("XX000", try make(c), "dims disagree with vectors")
        c = good; var v = Array(good.vectors); v[7] = .nan; c.vectors = Column(v)
        assertRecError("XX000", try make(c), "NaN in vectors")
        c = good; v = Array(good.vectors); v[19] = -.infinity; c.vectors = Column(v)
        assertRecError("XX000", try make(c), "-inf in vectors")
        c = good; c.beta = .infinity
        assertRecError("XX000", try make(c), "infinite beta")
        c = good; c.beta = .nan
        assertRecError("XX000", try make(c), "NaN beta")
        c = good; c.prior = -1
        assertRecError("XX000", try make(c), "negative prior")
        c = good; c.prior = .nan
        assertRecError("XX000", try make(c), "NaN prior")
        // cfCount
        assertRecError("XX000", try make(good, cf: 6, weights: [Float](repeating: 0, count: 36)), "cfCount > count")
        assertRecError("XX000", try make(good, cf: -1, weights: []), "negative cfCount")
        assertRecError("XX000", try make(nil, cf: 3), "cfCount < count without content")
        assertRecError("XX000", try make(good, cf: 3, weights: [Float](repeating: 0, count: 25)), "weights sized for all items")
        // cfCount == count with content is fine, cfCount 0 too (a content-only catalog)
        XCTAssertNoThrow(try make(good, cf: 5, weights: [Float](repeating: 0, count: 25)))
        XCTAssertNoThrow(try make(good, cf: 0, weights: []))
    }
}

extension RecommendOptions {
    func with(_ f: (inout RecommendOptions) -> Void) -> RecommendOptions { var o = self; f(&o); return o }
}
