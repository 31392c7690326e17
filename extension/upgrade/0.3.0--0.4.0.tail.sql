
-- Grants and revokes of the functions new in 0.4.0.

-- Training from partial results (issue 10): the aggregate over the functions created above.
CREATE AGGREGATE recommender.partial_gram(user_id bigint, item_id bigint, weight float8, event_time anyelement,
                                          weighting integer, weight_power float8, row_norm float8, half_life_seconds float8,
                                          sequence_half_life float8) (
  SFUNC = recommender._partial_gram_step,
  STYPE = internal,
  FINALFUNC = recommender._partial_gram_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE recommender.partial_gram(bigint, bigint, float8, anyelement, integer, float8, float8, float8, float8) IS
  'training from partial results: the users'' part (weighting: 0 binary, 1 sum, 2 log, 3 power) of X^T X, of the counts and popularity sums and, with sequence_half_life > 0 (positions; 0 or NULL: none), of the sequential component''s S^T S and S^T T over the aggregated rows, as a versioned binary partial result; train() runs it on each partition of a partitioned interactions table (pushed down to the shard by postgres_fdw with the server option extensions ''recommender'')';
