#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS

/// Content vectors for the catalog: what lets the engine recommend items that had no
/// interactions when the model was trained (the cold-start and long-tail questions of the seed
/// papers). Either the shop's own embedding (any text or image model) or, without one, TF-IDF over
/// the words of the title and description plus the item's categories, folded into a fixed number
/// of dimensions with signed feature hashing (Weinberger et al., ICML 2009), so that vectors stay
/// dense, small and comparable by cosine.
public enum ContentBuilder {
    /// Lower-cased word tokens of at least two characters (letters and digits).
    public static func tokens(_ text: String) -> [String] { tokens(text, interrupt: {}) }

    /// As `tokens(_:)`, walking the text in pieces of `pieceCharacters` characters and polling
    /// `interrupt` after each piece (a 200 MB title took a minute in one go). Pieces end on
    /// character boundaries and Swift lower-cases scalar by scalar, so the tokens are those of
    /// the whole text lower-cased at once; a token that spans pieces continues in `cur`.
    public static func tokens(_ text: String, pieceCharacters: Int = 1 << 16, interrupt: InterruptCheck) rethrows -> [String] {
        var out: [String] = []
        var cur = ""
        var start = text.startIndex
        let step = max(1, pieceCharacters)
        while start < text.endIndex {
            let end = text.index(start, offsetBy: step, limitedBy: text.endIndex) ?? text.endIndex
            for ch in text[start..<end].lowercased() {
                if ch.isLetter || ch.isNumber { cur.append(ch) } else {
                    if cur.count >= 2 { out.append(cur) }
                    cur = ""
                }
            }
            start = end
            if start < text.endIndex { try interrupt() }
        }
        if cur.count >= 2 { out.append(cur) }
        return out
    }

    /// FNV-1a 64 of the token, mixed by MurmurHash3's 64-bit finalizer (fmix64) so that tokens
    /// differing only in their last characters (sizes, versions) spread over the buckets.
    @inline(__always) static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        h ^= h >> 33; h = h &* 0xff51afd7ed558ccd
        h ^= h >> 33; h = h &* 0xc4ceb9fe1a85ec53
        h ^= h >> 33
        return h
    }

    /// TF-IDF vectors (1 + log tf, idf = log((N + 1) / (df + 1)) + 1), hashed into `dims`
    /// dimensions with a hash-derived sign, L2-normalised. A document without tokens gets a zero
    /// vector and `present = false`.
    public static func tfidf(_ docs: [[String]], dims: Int = 256) -> (vectors: [Float], present: [Bool]) {
        tfidf(docs, dims: dims, interrupt: {})
    }

    /// As `tfidf(_:dims:)`, polling `interrupt` every 65,536 tokens (one document can hold
    /// millions of them).
    public static func tfidf(_ docs: [[String]], dims: Int = 256, interrupt: InterruptCheck) rethrows -> (vectors: [Float], present: [Bool]) {
        let n = docs.count
        guard dims > 0, n > 0 else { return ([], []) }
        var work = 0
        var df: [String: Int] = [:]
        for d in docs {
            var seen = Set<String>()
            for t in d {
                if seen.insert(t).inserted { df[t, default: 0] += 1 }
                work += 1
                if work >= 65_536 { work = 0; try interrupt() }
            }
            work += 1
        }
        var vectors = [Float](repeating: 0, count: n * dims)
        var present = [Bool](repeating: false, count: n)
        for (i, d) in docs.enumerated() where !d.isEmpty {
            var tf: [String: Int] = [:]
            for t in d {
                tf[t, default: 0] += 1
                work += 1
                if work >= 65_536 { work = 0; try interrupt() }
            }
            var v = [Double](repeating: 0, count: dims)
            for (t, c) in tf {
                work += 1
                if work >= 65_536 { work = 0; try interrupt() }
                let idf = log(Double(n + 1) / Double((df[t] ?? 0) + 1)) + 1
                let w = (1 + log(Double(c))) * idf
                let h = fnv1a(t)
                let bucket = Int(h % UInt64(dims))
                v[bucket] += (h >> 63) == 0 ? w : -w
            }
            var norm = 0.0
            for x in v { norm += x * x }
            guard norm > 0 else { continue }
            let s = 1 / norm.squareRoot()
            for t in 0..<dims { vectors[i * dims + t] = Float(v[t] * s) }
            present[i] = true
        }
        return (vectors, present)
    }

    /// Parses an embedding written as "x,y,z" (array_to_string with NULLs as "NULL"), checks it and
    /// L2-normalises it. An empty array gives no vector, like NULL or an all-zero embedding.
    /// Polls `interrupt` every 65,536 values (an array column can be huge).
    public static func embedding(_ text: String, itemId: Int64, interrupt: InterruptCheck = neverInterrupted) throws -> [Float] {
        var values: [Double] = []
        let hint = "Embeddings must be arrays of finite numbers within the range of real (about 3.4e38), without NULLs; NULL or an empty array means no embedding."
        if Substring(text).trimmingCharacters().isEmpty { return [] }
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            if values.count & 0xFFFF == 0xFFFF { try interrupt() }
            let p = part.trimmingCharacters()
            if p == "NULL" {
                throw RecError.nullValue("the embedding of item \(itemId) holds a NULL", hint: hint)
            }
            guard let x = Double(p), x.isFinite else {
                throw RecError.outOfRange("the embedding of item \(itemId) holds a value that is not a finite number (\(p))", hint: hint)
            }
            guard abs(x) <= Double(Float.greatestFiniteMagnitude) else {
                throw RecError.outOfRange("the embedding of item \(itemId) holds \(p), beyond the range of real", hint: hint)
            }
            values.append(x)
        }
        // normalise in Double: Float squares of large or tiny components over- or underflow
        let m = values.reduce(0) { max($0, abs($1)) }
        guard m > 0 else { return [] }
        var norm = 0.0
        for x in values { norm += (x / m) * (x / m) }
        let s = 1 / (norm.squareRoot() * m)
        return values.map { Float($0 * s) }
    }

    /// beta in B_ij ~ beta * cos(v_i, v_j), least squares over the pairs i != j of collaborative
    /// items that have content (a sample of at most `sample` items). It maps content similarity
    /// into the units of the item-item weights, so content and collaborative scores add up.
    public static func fitBeta(weights: [Float], cf: Int, vectors: [Float], present: [Bool], dims: Int, sample: Int = 1500) -> Double {
        guard cf > 1, weights.count == cf * cf else { return 0 }
        return fitBeta(weight: { weights[$0 * cf + $1] }, cf: cf, vectors: vectors, present: present, dims: dims, sample: sample)
    }

    /// As above, with B_ij read through `weight` (the sparse kind's rows: 0 where not stored).
    public static func fitBeta(weight: (Int, Int) -> Float, cf: Int, vectors: [Float], present: [Bool], dims: Int, sample: Int = 1500) -> Double {
        guard cf > 1, dims > 0, vectors.count >= cf * dims, present.count >= cf else { return 0 }
        var idx: [Int] = []
        for i in 0..<cf where present[i] { idx.append(i) }
        if idx.count > sample {
            let step = Double(idx.count) / Double(sample)
            idx = (0..<sample).map { idx[Int(Double($0) * step)] }
        }
        let m = idx.count
        guard m > 1 else { return 0 }
        var sub = [Float](repeating: 0, count: m * dims)
        for (r, i) in idx.enumerated() { for t in 0..<dims { sub[r * dims + t] = vectors[i * dims + t] } }
        var c = [Float](repeating: 0, count: m * m)
        sub.withUnsafeBufferPointer { a in c.withUnsafeMutableBufferPointer { o in
            guard let ab = a.baseAddress, let ob = o.baseAddress else { return }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(m), Int32(dims), 1, ab, Int32(dims), ab, Int32(dims), 0, ob, Int32(m))
        } }
        var num = 0.0, den = 0.0
        for (r, i) in idx.enumerated() {
            for (q, j) in idx.enumerated() where q != r {
                let cij = Double(c[r * m + q])
                num += Double(weight(i, j)) * cij
                den += cij * cij
            }
        }
        guard den > 0 else { return 0 }
        let beta = num / den
        return beta.isFinite ? beta : 0
    }
}

extension Substring {
    func trimmingCharacters() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s = s.dropLast() }
        return s
    }
}
