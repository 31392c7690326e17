/// Per-backend working memory of recommend(), sized to one model's item count and reused by every
/// call that serves the model (the glue keeps it with the loaded model in its cache and drops it
/// when the model is replaced or evicted), so that a call allocates and clears nothing that grows
/// with the catalog:
///
/// - `scores`: one Float per item. The sparse kind's reached-items path (ReachedServing.swift)
///   writes only the items its history reaches and trusts an entry only when the item's mark
///   says it was reached in this call, so nothing is zeroed between calls; the general path
///   (dense kind, fallbacks) zeroes it as a fresh array would be;
/// - `marks`: one UInt16 per item, generation-stamped (the call's generation in the high bits,
///   flags "reached" and "in the history" in the low two): starting a call is incrementing the
///   generation, not clearing a mask; once every 16,383 calls the generation wraps and the marks
///   are cleared (2 bytes an item, once);
/// - `touched`: the items reached in the current call, in the order first reached, and
///   `candidates`: the eligible ones with a non-zero score and their scores (their capacities
///   grow to the most items one call has reached, at most the item count).
///
/// Memory: 4 bytes an item up front for the dense kind (the scores only), 6 for the sparse kind
/// (6 MB at 1,000,000 items), plus 12 bytes a reached item (the lists).
/// Not thread-safe: one per backend (PostgreSQL backends are single-threaded).
public final class ScoringScratch {
    /// The item count the scratch was sized for (a model of another size gets a new scratch).
    public let items: Int
    var scores: [Float]
    var marks: [UInt16]
    var touched: [Int32] = []
    /// The eligible reached items with a non-zero score, and their scores (ReachedServing.swift).
    var candidates: [(score: Float, item: Int32)] = []
    /// The current call's generation, in 1...maxGeneration (0 is "never marked").
    var generation: UInt16 = 0

    static let reachedFlag: UInt16 = 1
    static let seenFlag: UInt16 = 2
    static let maxGeneration: UInt16 = UInt16.max >> 2

    /// Bytes of the up-front arrays of a scratch for `items` items (with marks or not).
    public static func bytes(items: Int, marks: Bool) -> Int {
        max(0, items) * (MemoryLayout<Float>.stride + (marks ? MemoryLayout<UInt16>.stride : 0))
    }

    /// `marks`: whether the reached-items path will use it (the sparse kind); the general path
    /// needs the scores only.
    public init(items: Int, marks withMarks: Bool = true) {
        self.items = max(0, items)
        scores = [Float](repeating: 0, count: self.items)
        marks = withMarks ? [UInt16](repeating: 0, count: self.items) : []
    }

    /// The bytes of its up-front arrays.
    public var bytes: Int { Self.bytes(items: items, marks: !marks.isEmpty) }

    /// Starts a call: a new generation (no item is reached or seen in it yet), an empty touched list.
    func begin() {
        touched.removeAll(keepingCapacity: true)
        if generation >= Self.maxGeneration {
            // wrapped: clear the stamps of the old generations once
            for i in marks.indices { marks[i] = 0 }
            generation = 0
        }
        generation += 1
    }

    /// The stamp of item j in this generation with `flags` (callers check 0 <= j < items).
    @inline(__always) var stamp: UInt16 { generation << 2 }

    /// Whether item j's marks are of this call (and so its score entry is valid when reached).
    @inline(__always) func flags(_ j: Int) -> UInt16 {
        let m = marks[j]
        return m >> 2 == generation ? m & 3 : 0
    }

    @inline(__always) func setFlag(_ j: Int, _ f: UInt16) {
        let m = marks[j]
        marks[j] = m >> 2 == generation ? m | f : stamp | f
    }

    /// Item j's score in this call: its entry when reached, 0 otherwise (no history row stores it).
    @inline(__always) func score(_ j: Int) -> Float { flags(j) & Self.reachedFlag != 0 ? scores[j] : 0 }
}
