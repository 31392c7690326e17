/// The content vectors of the content-only items (indices `first..<count`, the catalog items the
/// collaborative model has not seen) as a fixed number of (dimension, value) slots per item, so
/// that scoring them reads a few pairs instead of a whole dense vector. A TF-IDF vector of a
/// title and categories has a handful of non-zero entries among its 256 dimensions; scoring the
/// 16,000 content-only items of a 1,000,000-item catalog densely read 16 MB per call.
///
/// Item j's slots are `[(j - first) * width, (j - first + 1) * width)`:
///   - pairs (d, v) with d >= 0: the vector's non-zero entries, in increasing dimension, followed
///     by end markers (-2) when there are fewer than `width`;
///   - a first slot of -1: the vector has more non-zero entries than `width` (an embedding): it
///     is read from the dense vectors.
/// A damaged dimension (>= dims, or another negative) ends the item's list where it is met, so it
/// can change a score, never read out of bounds. The values are the dense vector's own Floats.
public struct ContentSlots: Sendable {
    public static let dense: Int32 = -1
    public static let end: Int32 = -2
    public let first: Int
    public let width: Int
    public let dims: Column<Int32>
    public let values: Column<Float>

    public init(first: Int, width: Int, dims: Column<Int32>, values: Column<Float>) {
        self.first = first; self.width = width; self.dims = dims; self.values = values
    }

    /// Slots per item for vectors of `dims` dimensions: an eighth of them (a slot is 8 bytes, a
    /// dense entry 4, so the slots add at most a quarter to the content-only items' vectors),
    /// between 1 and 32.
    public static func width(dims: Int) -> Int { max(1, min(32, dims / 8)) }

    /// One item's slots (see the type's comment) for its dense vector `v` (empty: no vector).
    public static func slots(of v: ArraySlice<Float>, width: Int) -> (dims: [Int32], values: [Float]) {
        var d = [Int32](repeating: end, count: width), x = [Float](repeating: 0, count: width)
        guard width > 0 else { return (d, x) }
        var k = 0
        for (t, value) in zip(0..., v) where value != 0 {
            guard k < width else {
                d = [Int32](repeating: end, count: width); x = [Float](repeating: 0, count: width)
                d[0] = dense
                return (d, x)
            }
            d[k] = Int32(truncatingIfNeeded: t); x[k] = value; k += 1
        }
        return (d, x)
    }

    /// Built in memory from dense vectors (count x dims, row-major), for the items first..<count.
    public init(vectors: Column<Float>, dims: Int, first: Int, count: Int) {
        let w = ContentSlots.width(dims: dims)
        var ds: [Int32] = [], vs: [Float] = []
        let m = max(0, count - first)
        ds.reserveCapacity(m * w); vs.reserveCapacity(m * w)
        for j in first..<max(first, count) {
            let row: ArraySlice<Float> = vectors.count >= (j + 1) * dims ? ArraySlice(vectors.view(from: j * dims, length: dims)) : []
            let (d, x) = ContentSlots.slots(of: row, width: w)
            ds += d; vs += x
        }
        self.init(first: first, width: w, dims: Column(ds), values: Column(vs))
    }

    /// Whether the slots describe exactly the items first..<count.
    func covers(first f: Int, count: Int) -> Bool {
        f == first && width > 0 && dims.count == (count - first) * width && values.count == dims.count
    }
}
