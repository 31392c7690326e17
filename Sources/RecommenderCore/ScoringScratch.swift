/// Per-backend working memory of recommend(), sized to one model's item count and reused by every
/// call that serves the model (the glue keeps it with the loaded model in its cache and drops it
/// when the model is replaced or evicted), so that a call allocates and clears nothing that grows
/// with the catalog:
///
/// - `scores`: one Float per item. The general path (dense kind, fallbacks) zeroes it as a fresh
///   array would be; the sparse kind's reached-items path (ReachedServing.swift) writes only its
///   pool's scores there (for the re-rankers);
/// - `table`: the sparse kind's reached items with their scores and flags ("reached", "in the
///   history"), a small hash table emptied entry by entry at the start of each call
///   (ReachedTable.swift);
/// - `candidates`: the eligible reached items with a non-zero score and their scores (its
///   capacity grows to the most items one call has reached, at most the item count).
///
/// Memory: 4 bytes an item up front, plus 9 bytes a table slot and 12 bytes a reached item (the
/// table has at least twice the slots of the items one call reaches).
/// Not thread-safe: one per backend (PostgreSQL backends are single-threaded).
public final class ScoringScratch {
    /// The item count the scratch was sized for (a model of another size gets a new scratch).
    public let items: Int
    var scores: [Float]
    var table = ReachedTable()
    /// The eligible reached items with a non-zero score, and their scores (ReachedServing.swift).
    var candidates: [(score: Float, item: Int32)] = []

    /// Bytes of the up-front arrays of a scratch for `items` items.
    public static func bytes(items: Int) -> Int { max(0, items) * MemoryLayout<Float>.stride }

    public init(items: Int) {
        self.items = max(0, items)
        scores = [Float](repeating: 0, count: self.items)
    }

    /// The bytes of its arrays now.
    public var bytes: Int { Self.bytes(items: items) + table.bytes + candidates.capacity * 8 }
}
