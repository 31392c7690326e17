extension ItemModel {
    /// Whether a history's scores carry any relevance signal: some eligible item has a non-zero
    /// score. When none does (all zero, e.g. subnormal weights whose products underflow), ranking
    /// by score would list items in index order; recommend() falls back to the cold-start
    /// popularity order instead (README, "What applications call").
    func hasSignal(_ s: [Float], eligible: [Bool]) -> Bool {
        for (j, v) in s.enumerated() where j < eligible.count && eligible[j] && !v.isNaN && v != 0 { return true }
        return false
    }
}
