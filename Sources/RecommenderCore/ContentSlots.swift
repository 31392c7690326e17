/// The content vectors of the content-only items (indices `first..<count`, the catalog items the
/// collaborative model has not seen) as posting lists by dimension, so that scoring them touches
/// only the items that share a non-zero dimension with the history's content profile. A TF-IDF
/// vector of a title and categories has a handful of non-zero entries among its 256 dimensions;
/// scoring the 16,000 content-only items of a 1,000,000-item catalog densely read 16 MB per call,
/// and even a few pairs per item read every item.
///
/// A vector with at most `width` non-zero entries (`width(dims:)`) is listed under each of its
/// non-zero dimensions with that entry's value; a vector with more (an embedding) is listed once,
/// in the extra list `dims`, and is read from the dense vectors. An item without a vector is in no
/// list. Within a list the items increase, so an item's terms are added in increasing dimension,
/// as a walk over its own non-zero entries adds them.
///
/// Storage: `starts` (dims + 2 values: list d is [starts[d], starts[d + 1])), `items` and `values`
/// of a fixed capacity, `(count - first) x width` (every item fits: at most `width` entries, or
/// one in the dense list), the tail unused. A damaged item index (outside first..<count) is
/// skipped where it is read, so it can change a score, never read out of bounds.
public struct ContentSlots: Sendable {
    public let first: Int
    public let dims: Int
    public let starts: Column<Int64>
    public let items: Column<Int32>
    public let values: Column<Float>

    public init(first: Int, dims: Int, starts: Column<Int64>, items: Column<Int32>, values: Column<Float>) {
        self.first = first; self.dims = dims; self.starts = starts; self.items = items; self.values = values
    }

    /// Entries per item the lists have room for, for vectors of `dims` dimensions: an eighth of
    /// them (an entry is 8 bytes, a dense one 4, so the lists add at most a quarter to the
    /// content-only items' vectors), between 1 and 32.
    public static func width(dims: Int) -> Int { max(1, min(32, dims / 8)) }

    /// The capacity of the item and value arrays.
    public static func capacity(items: Int, dims: Int) -> Int? { mul(max(0, items), width(dims: dims)) }

    /// One vector's entries: its non-zero (dimension, value) pairs, or nil when there are more
    /// than `width` of them (listed as dense).
    public static func entries(of v: ArraySlice<Float>, width: Int) -> [(Int32, Float)]? {
        var out: [(Int32, Float)] = []
        for (t, value) in zip(0..., v) where value != 0 {
            if out.count == width { return nil }
            out.append((Int32(truncatingIfNeeded: t), value))
        }
        return out
    }

    /// Collects the content-only items' vectors (in index order) and lays out the lists.
    public struct Builder {
        public let first: Int
        public let dims: Int
        let width: Int
        var dimOf: [Int32] = [], itemOf: [Int32] = [], valueOf: [Float] = []

        public init(first: Int, dims: Int) {
            self.first = first; self.dims = dims; width = ContentSlots.width(dims: dims)
        }

        /// Item j's vector (nil or empty: none). Items come in increasing j.
        public mutating func add(item j: Int, vector v: ArraySlice<Float>?) {
            guard let v = v, !v.isEmpty else { return }
            if let e = ContentSlots.entries(of: v, width: width) {
                for (d, x) in e { dimOf.append(d); itemOf.append(Int32(truncatingIfNeeded: j)); valueOf.append(x) }
            } else {
                dimOf.append(Int32(truncatingIfNeeded: dims)); itemOf.append(Int32(truncatingIfNeeded: j)); valueOf.append(0)
            }
        }

        /// starts (dims + 2), items and values padded to `capacity` (items -1, values 0): a
        /// stable counting sort by dimension, so each list keeps the items' order.
        public func finish(capacity: Int) -> (starts: [Int64], items: [Int32], values: [Float])? {
            guard dimOf.count <= capacity else { return nil }
            var starts = [Int64](repeating: 0, count: dims + 2)
            for d in dimOf { starts[Int(d) + 1] += 1 }
            for d in 0..<(dims + 1) { starts[d + 1] += starts[d] }
            var next = starts
            var items = [Int32](repeating: -1, count: capacity), values = [Float](repeating: 0, count: capacity)
            for k in dimOf.indices {
                let d = Int(dimOf[k]), at = Int(next[d])
                items[at] = itemOf[k]; values[at] = valueOf[k]
                next[d] += 1
            }
            return (starts, items, values)
        }
    }

    /// Built in memory from dense vectors (count x dims, row-major) for the items first..<count.
    public init?(vectors: Column<Float>, present: Column<Bool>, dims: Int, first: Int, count: Int) {
        guard dims > 0, first >= 0, first <= count, vectors.count >= count * dims, present.count >= count,
              let cap = ContentSlots.capacity(items: count - first, dims: dims) else { return nil }
        var b = Builder(first: first, dims: dims)
        for j in first..<count where present[j] {
            b.add(item: j, vector: ArraySlice(vectors.view(from: j * dims, length: dims)))
        }
        guard let l = b.finish(capacity: cap) else { return nil }
        self.init(first: first, dims: dims, starts: Column(l.starts), items: Column(l.items), values: Column(l.values))
    }

    /// Whether the lists fit the items first..<count of `dims` dimensions (the starts monotone,
    /// within the arrays).
    func covers(first f: Int, count: Int, dims d: Int) -> Bool {
        guard f == first, d == dims, starts.count == dims + 2, items.count == values.count,
              let cap = ContentSlots.capacity(items: count - first, dims: dims), items.count == cap, starts[0] == 0 else { return false }
        for k in 0..<(dims + 1) where starts[k] > starts[k + 1] { return false }
        return starts[dims + 1] <= Int64(cap)
    }
}
