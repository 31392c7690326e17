// The sequential component at training (see RecommenderCore/Sequence.swift): built from each
// user's time-ordered history and solved jointly with the EASE/EDLAE weights, so that the stored
// model stays one item-item matrix.
#if canImport(Glibc)
import Glibc
#endif
import CPostgresShim
import RecommenderCore

/// Solves EASE/EDLAE and the sequential component jointly (SequenceModel.fitJoint, after SLIST)
/// when the model asks for it (sequence_weight > 0) and the data has times; consumes `g`. Returns
/// nil (and leaves `g` alone) when there is nothing sequential to solve: the caller then fits
/// plain EASE/EDLAE.
func fitWithSequence(gram g: inout [Double], params p: TrainParams, input: TrainingInput, n: Int) throws -> (weights: [Float], scale: Double)? {
    guard p.sequenceWeight > 0 else { return nil }
    guard input.hasSequences else {
        try PG.notice("recommender: sequence_weight is set but the interactions have no times: the sequential component is skipped")
        return nil
    }
    guard SequenceModel.halfLifeRange.contains(p.sequenceHalfLife) else {
        throw RecError.invalidParameter("sequence_half_life must be between 0.5 and 8 (got \(p.sequenceHalfLife))")
    }
    let window = SequenceModel.window(forHalfLife: p.sequenceHalfLife)
    try PG.notice("recommender: solving \(p.dropout > 0 ? "EDLAE" : "EASE") and the sequential component jointly (lambda \(p.lambda)\(p.dropout > 0 ? ", dropout \(p.dropout)" : ""), sequence_weight \(p.sequenceWeight), sequence_half_life \(p.sequenceHalfLife): \(window) positions on each side of a step)")
    var (ss, st) = try input.sequenceGrams(params: p, window: window, n: n)
    return try SequenceModel.fitJoint(gram: &g, ss: &ss, st: &st, n: n, weight: p.sequenceWeight, lambda: p.lambda,
                                      dropout: p.dropout, threads: Int(rec_training_threads()), interrupt: PG.interrupt)
}

/// update() folds new rows into the kept Gram matrix only; the sequential component would need
/// its own kept matrices (SᵀS, SᵀT), which are not kept yet. So for a model trained with one,
/// update() trains it again in full (a NOTICE says so) rather than dropping the component or
/// failing: tune() may choose a sequential component for a shop whose pg_cron job calls update().
func hasSequentialComponent(model: String, version: Int64) throws -> Bool {
    let c = try Cursor("""
        SELECT COALESCE((params OPERATOR(pg_catalog.->>) 'sequence_weight')::pg_catalog.float8, 0)
          FROM recommender.model_version WHERE model OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2
        """, [.text(model), .int8(version)])
    var w = 0.0
    try c.forEachRow { r in w = try c.float8(r, 0) ?? 0 }
    try c.close()
    return w > 0
}
