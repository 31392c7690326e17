// The memory limits as the glue sees them: the GUCs (guc.c) and MemAvailable, and the checks
// that run before every allocation that grows with the catalog (see MemoryBudget).
import CPostgresShim
import RecommenderCore

enum Memory {
    static var trainingLimit: Int { Int(rec_max_training_memory()) }
    static var cacheLimit: Int { Int(rec_max_cache_memory()) }
    /// MemAvailable in bytes, nil when unknown.
    static var available: Int? { let a = rec_memory_available(); return a >= 0 ? Int(a) : nil }

    /// Before a training or update() allocates: its peak against recommender.max_training_memory
    /// and against what the machine has available.
    static func checkTraining(_ shape: TrainingShape, model: String, what: String = "training", announce: Bool = false) throws {
        let need = MemoryBudget.training(shape)
        if announce {
            try PG.notice("recommender: \(what) needs about \(need) of memory (recommender.max_training_memory is \(formatBytes(trainingLimit)))")
        }
        try MemoryBudget.check(need,
                               what: "\(what) of model \"\(model)\" (\(shape.items) items)",
                               limit: trainingLimit, setting: "recommender.max_training_memory",
                               available: available,
                               hint: "lower the model's max_items (recommender.configure), or register a view that keeps the items that matter.")
    }

    /// Whether a dense training of this shape, and serving its model, would pass the checks
    /// above (kind 'auto' trains the sparse kind instead when they would not).
    static func denseFits(_ shape: TrainingShape, serving: Bytes) -> Bool {
        guard let need = MemoryBudget.training(shape).value, let s = serving.value else { return false }
        if need > trainingLimit || s > cacheLimit { return false }
        if let a = available, need > a { return false }
        return true
    }

    /// A model must fit the per-backend cache to be served: checked at training (so a model
    /// that trains also serves under the trainer's setting) and before every load.
    static func checkServing(_ bytes: Bytes, model: String, items: Int, checkAvailable: Bool) throws {
        try MemoryBudget.check(bytes, what: "serving model \"\(model)\" (\(items) items)",
                               limit: cacheLimit, setting: "recommender.max_cache_memory",
                               available: checkAvailable ? available : nil,
                               hint: "lower the model's max_items (recommender.configure) and train again.")
    }
}
