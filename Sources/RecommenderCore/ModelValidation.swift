/// Checks a trained model before its version is stored: a training that succeeds must produce a
/// model that loads and serves (finite weights and derived values, sizes within `ModelLimits`),
/// so that a bad training fails with a clear error and the version in use stays in use.
public enum ModelValidation {
    static let keepHint = "The version in use is unchanged."

    /// The Gram matrix's diagonal holds the largest entries (|G_ij| <= sqrt(G_ii G_jj), Cauchy-
    /// Schwarz): when it is finite, every entry is. O(n).
    public static func checkGram(_ g: [Double], n: Int, model: String, weighting: Weighting) throws {
        guard n >= 0, g.count == n &* n else { throw RecError.internalError("Gram matrix has the wrong size") }
        var i = 0
        while i < n {
            let v = g[i &* n &+ i]
            guard v.isFinite else {
                throw RecError.outOfRange("the interaction values of model \"\(model)\" are too large: X^T X overflows double precision (weighting '\(weighting.rawValue)')",
                                          hint: "Use weighting 'log' or 'power' (recommender.configure), or scale the weights down. " + keepHint)
            }
            i += 1
        }
    }

    /// Every weight of the solved model is a finite Float.
    public static func checkWeights(_ b: [Float], model: String, weighting: Weighting) throws {
        for w in b where !w.isFinite {
            throw RecError.outOfRange("training model \"\(model)\" produced item weights that are not finite numbers (weighting '\(weighting.rawValue)')",
                                      hint: "Use weighting 'log' or 'power', or a larger lambda (recommender.configure), or scale the weights down. " + keepHint)
        }
    }

    /// The content vector dimension a model may have (the same limit loading applies).
    public static func checkContentDims(_ dims: Int, model: String) throws {
        guard dims <= ModelLimits.maxContentDims else {
            throw RecError.programLimit("the embeddings of model \"\(model)\" have \(dims) dimensions; at most \(ModelLimits.maxContentDims) are supported",
                                        hint: "Reduce the embeddings' dimension (for example with PCA), or set content => 'off'. " + keepHint)
        }
    }

    /// A derived value written into the version's parameters (JSON): must be finite.
    public static func number(_ x: Double, _ name: String, model: String) throws -> String {
        guard x.isFinite else {
            throw RecError.outOfRange("training model \"\(model)\" derived a non-finite \(name) (\(x))",
                                      hint: "Check the weights and times of the interactions table. " + keepHint)
        }
        return "\(x)"
    }

    /// A time read from the registered time column: infinite or NaN times are rejected (they
    /// would make the watermark of update() infinite, and an interaction without a real time
    /// cannot be placed before or after it).
    public static func checkTime(_ t: Double?, user: Int64, item: Int64, model: String, column: () -> String) throws {
        guard let t = t, !t.isFinite else { return }
        throw RecError.outOfRange("the interaction of user \(user) with item \(item) (model \"\(model)\") has a non-finite time (\(t)) in column \(column())",
                                  hint: "Times must be finite: fix or delete the rows with 'infinity' (or NaN) times, or register a view that filters them. " + keepHint)
    }
}
