-- Catalog sizes and the memory settings (0.4.0): a catalog above 10,000 items trains without
-- configure(); kind 'auto' trains the sparse kind when the dense one would not fit the memory
-- settings; tune() skips a trial the settings do not allow (the sequential component's matrices)
-- instead of failing, and keeps searching.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE SCHEMA sizes;
-- 12,000 items, 24,000 users with 3 each, one a day
CREATE TABLE sizes.wide AS
  SELECT u AS customer_id, ((u * k * 7919) % 12000) + 1 AS product_id,
         timestamptz '2026-01-01' + (k || ' days')::interval AS occurred_at
    FROM generate_series(1, 24000) u, generate_series(1, 3) k;
SELECT recommender.register('wide', 'sizes.wide', 'customer_id', 'product_id', time_column => 'occurred_at') IS NOT NULL AS registered;
-- the default max_items is the sparse kind's scale; switching to the dense kind lowers it to the
-- dense limit, an explicit value above it is refused (22023)
SELECT max_items, kind FROM recommender.model WHERE name = 'wide';
SELECT max_items, kind FROM recommender.configure('wide', kind => 'dense');
\set VERBOSITY sqlstate
SELECT 1 FROM recommender.configure('wide', kind => 'dense', max_items => 30001);
\set VERBOSITY default
SELECT max_items, kind FROM recommender.configure('wide', kind => 'auto', max_items => 1000000);
-- 12,000 items, above the former default of 10,000: 'auto' trains, and under a tight
-- max_training_memory (the dense kind would need about 1.8 GB) it trains the sparse kind
SET recommender.max_training_memory = '300MB';
SELECT model, items FROM recommender.train('wide');
SELECT params->>'kind' AS kind_under_300MB FROM recommender.model_version v JOIN recommender.model m ON m.name = v.model AND m.version = v.version
 WHERE m.name = 'wide';
SELECT count(*) AS n FROM recommend(1, 5, 0, 'wide');
-- the dense kind asked for by name still gets the clear error, before it allocates anything
SELECT 1 FROM recommender.configure('wide', kind => 'dense');
\set VERBOSITY sqlstate
SELECT model FROM recommender.train('wide');
\set VERBOSITY default
RESET recommender.max_training_memory;
SELECT recommender.drop('wide');

-- tune(): a trial the memory settings do not allow is reported (metric_value NULL) and skipped,
-- the model keeps the last good trial's configuration and version, and the search goes on
CREATE TABLE sizes.narrow AS
  SELECT u AS customer_id, ((u * k * 7919) % 2000) + 1 AS product_id,
         timestamptz '2026-01-01' + (k || ' hours')::interval AS occurred_at
    FROM generate_series(1, 6000) u, generate_series(1, 6) k;
SELECT recommender.register('narrow', 'sizes.narrow', 'customer_id', 'product_id', time_column => 'occurred_at') IS NOT NULL AS registered;
SELECT 1 FROM recommender.configure('narrow', kind => 'dense');
-- dense: about 12 bytes x 2000² + 64 MB; the sequential component adds 16 bytes x 2000² more
SET recommender.max_training_memory = '140MB';
CREATE TEMP TABLE trials AS SELECT * FROM recommender.tune('narrow', max_trials => 30);
SELECT count(*) FILTER (WHERE metric_value IS NULL) > 0 AS some_trials_failed,
       bool_and(sequence_weight > 0) FILTER (WHERE metric_value IS NULL) AS failed_ones_are_sequential,
       count(*) FILTER (WHERE metric_value IS NOT NULL AND sequence_weight = 0) > 0 AS others_ran,
       count(*) FILTER (WHERE weighting <> 'log' OR dropout > 0) > 0 AS search_went_on,
       count(*) FILTER (WHERE chosen) AS chosen,
       bool_and(NOT chosen OR metric_value IS NOT NULL) AS chosen_ran
  FROM trials;
SELECT m.sequence_weight = 0 AS configured_without_sequence, m.version IS NOT NULL AS trained,
       t.lambda = m.lambda AND t.recency_half_life = m.recency_half_life AND t.recency_floor = m.recency_floor AS chosen_is_configured
  FROM recommender.model m, trials t WHERE m.name = 'narrow' AND t.chosen;
-- the first trial (the configuration as it is) must run: when it cannot, tune() fails with its error
SET recommender.max_training_memory = '70MB';
\set VERBOSITY sqlstate
SELECT count(*) FROM recommender.tune('narrow', max_trials => 3);
\set VERBOSITY default
RESET recommender.max_training_memory;
-- tune()'s final training is on all the data, which can have more items than its validation
-- split's training part: when the chosen sequential component no longer fits the memory
-- settings there, the model is trained without it (sequence_weight 0) instead of failing. Here
-- each user's last item is one only that user has (800 items only in the held-out part), so every
-- trial scores 0 and the configuration as it is (sequence_weight 0.5) stays chosen.
CREATE TABLE sizes.late AS
  SELECT u AS customer_id,
         CASE WHEN k < 5 THEN ((u * k * 7919) % 2000) + 1 ELSE 2000 + u END AS product_id,
         timestamptz '2026-01-01' + (k || ' hours')::interval AS occurred_at
    FROM generate_series(1, 800) u, generate_series(1, 5) k;
SELECT recommender.register('late', 'sizes.late', 'customer_id', 'product_id', time_column => 'occurred_at') IS NOT NULL AS registered;
-- all the data (2334 items) needs about 199 MB with the sequential component, 136 MB without;
-- the split's training part (about 1530 items) fits 180 MB with it
SET recommender.max_training_memory = '180MB';
SELECT 1 FROM recommender.configure('late', kind => 'dense', sequence_weight => 0.5);
SELECT trial, sequence_weight, metric_value, chosen FROM recommender.tune('late', max_trials => 2);
SELECT m.sequence_weight AS configured_sequence_weight, (v.params->>'sequence_weight')::float8 AS trained_sequence_weight,
       (v.params->>'cf_items')::int AS items
  FROM recommender.model m JOIN recommender.model_version v ON v.model = m.name AND v.version = m.version WHERE m.name = 'late';
-- kind 'auto' takes the same way
SELECT 1 FROM recommender.configure('late', kind => 'auto', sequence_weight => 0.5);
SELECT count(*) FILTER (WHERE chosen AND sequence_weight = 0.5) AS chosen_sequential FROM recommender.tune('late', max_trials => 1);
SELECT sequence_weight, version IS NOT NULL AS trained FROM recommender.model WHERE name = 'late';
-- with room for it, the chosen sequential component is trained on all the data
SET recommender.max_training_memory = '400MB';
SELECT 1 FROM recommender.configure('late', sequence_weight => 0.5);
SELECT count(*) FROM recommender.tune('late', max_trials => 1);
SELECT m.sequence_weight, (v.params->>'sequence_weight')::float8 AS trained_sequence_weight
  FROM recommender.model m JOIN recommender.model_version v ON v.model = m.name AND v.version = m.version WHERE m.name = 'late';
RESET recommender.max_training_memory;
SELECT recommender.drop('late');
SELECT count(*) AS leftover_models FROM recommender.model WHERE name LIKE '\_tune\_%';
SELECT recommender.drop('narrow');
DROP SCHEMA sizes CASCADE;
RESET client_min_messages;
