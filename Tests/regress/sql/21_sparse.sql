-- The sparse kind (SANSA-style, CHOLMOD): configure, train, recommend, explain, similar_items,
-- the auto switch, update(), and the bad inputs.
SELECT recommender.register(name, 'shop.events', 'customer_id', 'product_id',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'shop.products', item_id_column => 'product_id',
         category_column => 'category', title_column => 'title') IS NOT NULL AS registered
  FROM unnest(ARRAY['sp', 'sp_full', 'sp_dense']) AS name;
SELECT name, kind, density, max_items FROM recommender.model WHERE name IN ('sp', 'sp_full', 'sp_dense') ORDER BY name;
SELECT name, kind, density FROM recommender.configure('sp', kind => 'sparse');
SELECT name, kind, density FROM recommender.configure('sp_full', kind => 'sparse', density => 1);
SELECT name, kind, density FROM recommender.configure('sp_dense', kind => 'dense');

-- bad values: clear errors, nothing changed
\set VERBOSITY default
SELECT recommender.configure('sp', density => 0);
SELECT recommender.configure('sp', density => -0.5);
SELECT recommender.configure('sp', density => 1.5);
SELECT recommender.configure('sp', density => 'NaN');
SELECT recommender.configure('sp', kind => 'tiny');
SELECT recommender.configure('sp', max_items => 10000001);
SELECT recommender.configure('sp_dense', max_items => 40000);
SELECT recommender.configure('sp', kind => 'dense', max_items => 30001);
-- the table's own checks (23514) for a direct update
\set VERBOSITY terse
UPDATE recommender.model SET density = 2 WHERE name = 'sp';
UPDATE recommender.model SET kind = 'dense', max_items = 50000 WHERE name = 'sp';
-- the sparse kind goes far beyond the dense limit
SELECT name, kind, max_items FROM recommender.configure('sp', max_items => 10000000);
SELECT name, kind, max_items FROM recommender.configure('sp', max_items => 10000);
SELECT name, kind, density FROM recommender.model WHERE name = 'sp';

SET client_min_messages = warning;
SELECT model, version > 0 AS has_version, items >= 900 AS items_ok FROM recommender.train('sp');
SELECT model, version > 0 AS has_version FROM recommender.train('sp_full');
SELECT model, version > 0 AS has_version FROM recommender.train('sp_dense');
RESET client_min_messages;
-- the version says which kind it is, and the sparse one how many weights it keeps
SELECT v.model, v.params->>'kind' AS kind, v.params->>'algorithm' AS algorithm, (v.params->>'density')::float8 AS density,
       (v.params->>'sparse_nonzeros')::bigint BETWEEN 1 AND v.items * greatest(256, ceil((v.params->>'density')::float8 * v.items)) AS sparse_rows_bounded
  FROM recommender.model_version v WHERE v.model IN ('sp', 'sp_full', 'sp_dense') ORDER BY v.model;
-- stored rows: 8 bytes an (index, weight) pair; at most max(256, ceil(density x items)) pairs per item
SELECT bool_and(length(i.weights) % 8 = 0 AND length(i.weights) / 8 <= greatest(256, ceil(0.0001 * v.items))) AS rows_ok,
       count(*) FILTER (WHERE length(i.weights) > 0) > 900 AS most_items_have_weights,
       max(length(i.weights) / 8) AS most_weights_per_item
  FROM recommender.model_item i JOIN recommender.model_version v USING (model, version) WHERE i.model = 'sp' AND i.idx < v.items;

SELECT customer_id AS heavy FROM shop.events GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 \gset
SELECT customer_id AS light FROM shop.events GROUP BY 1 HAVING count(DISTINCT product_id) BETWEEN 5 AND 8 ORDER BY 1 LIMIT 1 \gset
-- recommend: k rows, best first, none already seen, from the model
SELECT count(*) AS n, count(DISTINCT item_id) AS distinct_items, bool_and(source = 'model') AS from_model,
       bool_and(rank = relevance_rank) AS relevance_order
  FROM recommend(:light, 10, 0, 'sp');
SELECT count(*) AS already_seen
  FROM recommend(:heavy, 100, 0, 'sp') r
 WHERE EXISTS (SELECT 1 FROM shop.events e WHERE e.customer_id = :heavy AND e.product_id = r.item_id);
-- diversity and the per-category rule work on the sparse kind too
SELECT count(*) AS n, count(DISTINCT p.category) >= 3 AS varied FROM recommend(:heavy, 10, 0.8, 'sp') r JOIN shop.products p ON p.product_id = r.item_id;
-- a customer the model does not know: the popularity fallback
SELECT count(*) AS n, bool_and(source = 'popular') AS popular FROM recommend(-42, 5, 0, 'sp');

-- explain() is exact: the contributions add up to recommend()'s score, for every listed item of
-- 40 customers
SELECT count(*) AS items, count(*) FILTER (WHERE x.total IS NULL OR abs(x.total - r.score) > 1e-9 * greatest(abs(r.score), 1e-12)) AS not_adding_up,
       count(*) FILTER (WHERE abs(x.score_row - r.score) > 1e-12 * greatest(abs(r.score), 1e-12)) AS score_row_differs
  FROM (SELECT DISTINCT customer_id FROM shop.events ORDER BY customer_id LIMIT 40) c,
       LATERAL recommend(c.customer_id, 10, 0, 'sp') r,
       LATERAL (SELECT sum(contribution) FILTER (WHERE role = 'because') AS total,
                       max(contribution) FILTER (WHERE role = 'score') AS score_row
                  FROM explain(c.customer_id, r.item_id, 'sp')) x;

-- similar_items: the item's own row, best first, never the item itself
SELECT product_id AS popular_item FROM shop.events GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 \gset
SELECT count(*) AS n, bool_and(item_id <> :popular_item) AS not_itself,
       bool_and(rank = relevance_rank) AS in_order
  FROM similar_items(:popular_item, 10, 0, 'sp');
SELECT bool_and(score >= next_score) AS best_first
  FROM (SELECT score, lead(score) OVER (ORDER BY rank) AS next_score FROM similar_items(:popular_item, 10, 0, 'sp')) s
 WHERE next_score IS NOT NULL;

-- at density 1 the sparse kind is dense EASE: the same lists and scores for 30 customers
SELECT count(*) AS compared,
       count(*) FILTER (WHERE s.item_id IS DISTINCT FROM d.item_id) AS different_items,
       count(*) FILTER (WHERE abs(s.score - d.score) > 1e-4 * greatest(abs(d.score), 1e-6)) AS different_scores
  FROM (SELECT DISTINCT customer_id FROM shop.events ORDER BY customer_id LIMIT 30) c,
       LATERAL (SELECT rank, item_id, score FROM recommend(c.customer_id, 10, 0, 'sp_full')) s
       JOIN LATERAL (SELECT rank, item_id, score FROM recommend(c.customer_id, 10, 0, 'sp_dense')) d USING (rank);
-- at the default density, the lists still overlap the dense ones mostly
SELECT count(*) FILTER (WHERE s.item_id IN (SELECT item_id FROM recommend(c.customer_id, 10, 0, 'sp_dense'))) > 0.5 * count(*) AS mostly_same
  FROM (SELECT DISTINCT customer_id FROM shop.events ORDER BY customer_id LIMIT 30) c,
       LATERAL recommend(c.customer_id, 10, 0, 'sp') s;

-- update(): the sparse kind is retrained in full (a new version)
SELECT version AS sp_version FROM recommender.model WHERE name = 'sp' \gset
SET client_min_messages = warning;
SELECT model, version > :sp_version AS new_version FROM recommender.update('sp');
RESET client_min_messages;
SELECT params->>'kind' AS kind FROM recommender.model_version WHERE model = 'sp';

-- the sparse kind has no sequential component: a clear error, the version in use unchanged
SELECT version AS sp_version FROM recommender.model WHERE name = 'sp' \gset
SELECT name, sequence_weight FROM recommender.configure('sp', sequence_weight => 0.3);
SET client_min_messages = warning;
SELECT recommender.train('sp');
RESET client_min_messages;
SELECT version = :sp_version AS unchanged FROM recommender.model WHERE name = 'sp';
SELECT name FROM recommender.configure('sp', sequence_weight => 0);
-- so tune() leaves the sequential component out for a model that trains the sparse kind (it
-- failed there before 0.4.0): the search goes on past the sequence stage without an error
SET client_min_messages = warning;
SELECT bool_or(weighting <> 'log') AS weighting_stage_reached, bool_and(sequence_weight = 0) AS no_sequential_trial,
       bool_or(recency_half_life > 0) AS recency_tried, count(*) FILTER (WHERE chosen) AS chosen
  FROM recommender.tune('sp', max_trials => 22);
RESET client_min_messages;
SELECT params->>'kind' AS tuned_kind FROM recommender.model m JOIN recommender.model_version v ON v.model = m.name AND v.version = m.version
 WHERE m.name = 'sp';

-- auto: dense for the sample shop (about 1,000 items), sparse above 20,000 items
SELECT recommender.register('sp_auto', 'shop.events', 'customer_id', 'product_id') IS NOT NULL AS registered;
SET client_min_messages = warning;
SELECT model FROM recommender.train('sp_auto');
RESET client_min_messages;
SELECT params->>'kind' AS auto_kind_at_1000_items FROM recommender.model_version WHERE model = 'sp_auto';
CREATE TABLE sparse_big AS
  SELECT u AS customer_id, ((u * k * 7919) % 24000) + 1 AS product_id
    FROM generate_series(1, 24000) u, generate_series(1, 3) k;
SELECT recommender.register('big_auto', 'sparse_big', 'customer_id', 'product_id') IS NOT NULL AS registered;
SELECT name, kind, max_items FROM recommender.configure('big_auto', max_items => 100000);
SET client_min_messages = warning;
SELECT model, items FROM recommender.train('big_auto');
RESET client_min_messages;
SELECT params->>'kind' AS auto_kind_at_24000_items, items FROM recommender.model_version WHERE model = 'big_auto';
SELECT count(*) AS n, bool_and(source = 'model') AS from_model FROM recommend(1, 5, 0, 'big_auto');
SELECT count(*) AS items, count(*) FILTER (WHERE abs(x.total - r.score) > 1e-9 * greatest(abs(r.score), 1e-12)) AS not_adding_up
  FROM generate_series(1, 20) c, LATERAL recommend(c, 5, 0, 'big_auto') r,
       LATERAL (SELECT sum(contribution) AS total FROM explain(c, r.item_id, 'big_auto') WHERE role = 'because') x;
-- recommender.training_threads: the threaded stages (inverse factor, rows of B) give the same
-- model on 3 threads as on 1; out of range is the GUC machinery's error
SET recommender.training_threads = 65;
SET recommender.training_threads = 3;
SET client_min_messages = warning;
SELECT model FROM recommender.train('big_auto');
RESET client_min_messages;
SELECT params->>'threads' AS threads FROM recommender.model_version WHERE model = 'big_auto';
CREATE TEMP TABLE big_auto_3 AS
  SELECT c, r.rank, r.item_id, r.score FROM generate_series(1, 40) c, LATERAL recommend(c, 10, 0, 'big_auto') r;
SET recommender.training_threads = 1;
SET client_min_messages = warning;
SELECT model FROM recommender.train('big_auto');
RESET client_min_messages;
RESET recommender.training_threads;
SELECT params->>'threads' AS threads FROM recommender.model_version WHERE model = 'big_auto';
SELECT count(*) AS items, count(*) FILTER (WHERE t.item_id IS DISTINCT FROM n.item_id OR t.score IS DISTINCT FROM n.score) AS differ
  FROM (SELECT c, r.rank, r.item_id, r.score FROM generate_series(1, 40) c, LATERAL recommend(c, 10, 0, 'big_auto') r) n
  FULL JOIN big_auto_3 t ON t.c = n.c AND t.rank = n.rank;
-- the dense kind refuses that many items with a clear error before allocating anything
SELECT name, kind FROM recommender.configure('big_auto', kind => 'dense', max_items => 30000);
SET client_min_messages = warning;
SELECT recommender.train('big_auto');
RESET client_min_messages;

SELECT recommender.drop(name) FROM unnest(ARRAY['sp', 'sp_full', 'sp_dense', 'sp_auto', 'big_auto']) AS name;
DROP TABLE sparse_big;
