-- Sequence-aware scoring: recency weighting at scoring, the sequential component, and tune()
-- choosing the whole configuration on a split it makes itself. A small shop of its own.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
SELECT recommender.create_sample_shop('seqshop', 300, 120, 7);
SELECT recommender.register('seq', 'seqshop.events', 'customer_id', 'product_id',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'seqshop.products', item_id_column => 'product_id',
         category_column => 'category', title_column => 'title');
-- new parameters: defaults, bad values (22023), good values
SELECT recency_half_life, sequence_weight FROM recommender.model WHERE name = 'seq';
SELECT 1 FROM recommender.configure('seq', recency_half_life => -1);
SELECT 1 FROM recommender.configure('seq', recency_half_life => 0.05);
SELECT 1 FROM recommender.configure('seq', recency_half_life => 'NaN');
SELECT 1 FROM recommender.configure('seq', recency_half_life => 'infinity');
SELECT 1 FROM recommender.configure('seq', sequence_weight => 1.5);
SELECT 1 FROM recommender.configure('seq', sequence_weight => -0.1);
SELECT 1 FROM recommender.configure('seq', sequence_weight => 'NaN');
SELECT recency_floor FROM recommender.model WHERE name = 'seq';
SELECT 1 FROM recommender.configure('seq', recency_floor => -0.1);
SELECT 1 FROM recommender.configure('seq', recency_floor => 1.5);
SELECT 1 FROM recommender.configure('seq', recency_floor => 'NaN');
SELECT 1 FROM recommender.configure('seq', recency_floor => 'infinity');
SELECT recency_half_life, sequence_weight FROM recommender.configure('seq', recency_half_life => 3, sequence_weight => 0.3);
SELECT value FROM recommender.status('seq') WHERE key = 'sequence';
SELECT users > 250 AS users_ok FROM recommender.train('seq');
SELECT (params->>'sequence_weight')::float8 AS sequence_weight, (params->>'sequence_scale')::float8 > 0 AS scaled
  FROM recommender.model_version v JOIN recommender.model m ON m.name = v.model AND m.version = v.version WHERE m.name = 'seq';

-- explanations add up to the score with recency weighting, for every listed item of 40 customers
SELECT count(*) AS items, count(*) FILTER (WHERE abs(x.total - r.score) > 1e-9 * greatest(abs(r.score), 1e-12)) AS not_adding_up,
       bool_and(x.recency_detail) AS every_part_says_recency
  FROM (SELECT DISTINCT customer_id FROM seqshop.events ORDER BY customer_id LIMIT 40) c,
       LATERAL recommend(c.customer_id, 10, 0, 'seq') r,
       LATERAL (SELECT sum(contribution) AS total, bool_and(detail LIKE '%recency weight%') AS recency_detail
                  FROM explain(c.customer_id, r.item_id, 'seq') WHERE role = 'because' AND contribution <> 0) x;
-- the verdict says the weights include the sequential component
SELECT detail LIKE '%sequence_weight 0.3%' AS says_sequence
  FROM (SELECT customer_id FROM seqshop.events ORDER BY customer_id LIMIT 1) c,
       LATERAL recommend(c.customer_id, 1, 0, 'seq') r, LATERAL explain(c.customer_id, r.item_id, 'seq') e
 WHERE e.role = 'score';

-- what followed what (recommender.model_follower): counted from the data, as a direct SQL count
-- over each user's items by first time (ties by id): the users in whose history the follower
-- came 1 to 8 positions (the window of sequence_half_life 2) after the item; pairs of 2 or more
-- users, the 5 with the most users per item
CREATE TEMP TABLE seq_pairs AS
  WITH firsts AS (SELECT customer_id AS u, product_id AS i, min(occurred_at) AS t FROM seqshop.events GROUP BY 1, 2),
       pos AS (SELECT u, i, row_number() OVER (PARTITION BY u ORDER BY t, i) AS p FROM firsts)
  SELECT a.i AS item, b.i AS follower, count(*) AS users
    FROM pos a JOIN pos b ON a.u = b.u AND b.p > a.p AND b.p <= a.p + 8 GROUP BY 1, 2;
CREATE TEMP TABLE seq_followers AS
  SELECT f.* FROM recommender.model_follower f JOIN recommender.model m ON m.name = f.model AND m.version = f.version
   WHERE m.name = 'seq';
SELECT count(*) > 100 AS stored, count(*) FILTER (WHERE p.users IS DISTINCT FROM f.users) AS miscounted,
       bool_and(f.users >= 2) AS two_users_or_more, max(f.rank) AS max_rank
  FROM seq_followers f LEFT JOIN seq_pairs p ON p.item = f.item_id AND p.follower = f.follower_id;
SELECT count(*) AS better_pairs_left_out
  FROM seq_pairs p
  JOIN (SELECT item_id, count(*) AS n, min(users) AS least FROM seq_followers GROUP BY 1) s ON s.item_id = p.item
 WHERE NOT EXISTS (SELECT 1 FROM seq_followers f WHERE f.item_id = p.item AND f.follower_id = p.follower)
   AND p.users >= 2 AND (s.n < 5 OR p.users > s.least);
-- explain() cites them: a part says "often followed by the recommended item" exactly when the
-- recommended item is among that history item's stored followers, with its users and rank
SELECT count(*) FILTER (WHERE x.users IS NOT NULL) > 0 AS some_cited,
       count(*) FILTER (WHERE (x.users IS NOT NULL) <> (x.detail LIKE '%often followed by the recommended item%')) AS cited_wrongly,
       bool_and(x.users IS NULL OR x.detail LIKE format('%%in %s users'' histories it came within 8 steps after this one (this item''s %s)%%',
                x.users, CASE x.rank WHEN 1 THEN 'most frequent follower' WHEN 2 THEN '2nd most frequent follower'
                                     WHEN 3 THEN '3rd most frequent follower' ELSE x.rank || 'th most frequent follower' END)) AS says_counts
  FROM (SELECT DISTINCT customer_id FROM seqshop.events ORDER BY customer_id LIMIT 40) c,
       LATERAL recommend(c.customer_id, 3, 0, 'seq') r,
       LATERAL (SELECT e.detail, f.users, f.rank FROM explain(c.customer_id, r.item_id, 'seq') e
                  LEFT JOIN seq_followers f ON f.item_id = e.item_id AND f.follower_id = r.item_id
                 WHERE e.role = 'because') x;

-- recency counts at once: an event a minute ago (the newest) is the user's most recent item, weight 1, and
-- an old item's weight is below 1; switching recency off changes the scores
CREATE TEMP TABLE u AS SELECT customer_id AS c FROM seqshop.events GROUP BY customer_id HAVING count(DISTINCT product_id) >= 5 ORDER BY customer_id LIMIT 1;
CREATE TEMP TABLE first_pick AS SELECT r.item_id FROM u, LATERAL recommend(u.c, 1, 0, 'seq') r;
BEGIN;
INSERT INTO seqshop.events (customer_id, product_id, event_type, occurred_at)
  SELECT u.c, f.item_id, 'purchase', now() - interval '1 minute' FROM u, first_pick f;
SELECT e.detail LIKE '%the user''s most recent item; recency weight 1 %' AS newest_counts_fully,
       e.detail LIKE '%latest event 1 minute ago%' AS says_when
  FROM u, first_pick f, LATERAL recommend(u.c, 1, 0, 'seq') r, LATERAL explain(u.c, r.item_id, 'seq') e
 WHERE e.role = 'because' AND e.item_id = f.item_id;
ROLLBACK;
SELECT bool_or(e.detail ~ 'recency weight 0\.\d') AS older_items_weigh_less
  FROM u, LATERAL recommend(u.c, 1, 0, 'seq') r, LATERAL explain(u.c, r.item_id, 'seq') e WHERE e.role = 'because';
CREATE TEMP TABLE with_recency AS SELECT r.item_id, r.score FROM u, LATERAL recommend(u.c, 10, 0, 'seq') r;
SELECT 1 FROM recommender.configure('seq', recency_half_life => 0);
SELECT count(*) FILTER (WHERE w.score IS DISTINCT FROM r.score) > 0 AS recency_changes_scores
  FROM u, LATERAL recommend(u.c, 10, 0, 'seq') r LEFT JOIN with_recency w USING (item_id);
SELECT bool_and(e.detail NOT LIKE '%recency%') AS no_recency_detail_when_off
  FROM u, LATERAL recommend(u.c, 1, 0, 'seq') r, LATERAL explain(u.c, r.item_id, 'seq') e WHERE e.role = 'because';
-- a recency floor: an old item keeps floor + (1 - floor) x 0.5^(age rank / half-life) of its value
-- (the age rank is read back from the detail), explanations still add up to the score, and the
-- floor takes effect at once (no training)
SELECT 1 FROM recommender.configure('seq', recency_half_life => 1, recency_floor => 0.25);
SELECT value FROM recommender.status('seq') WHERE key = 'sequence';
SELECT count(*) > 0 AS parts,
       bool_and(abs(substring(e.detail FROM 'recency weight ([0-9.e-]+)')::float8
                    - (0.25 + 0.75 * 0.5 ^ COALESCE(substring(e.detail FROM '(\d+) items? of the user''s (?:is|are) more recent')::int, 0)))
                < 1e-3) AS weight_is_floor_plus_decay,
       bool_and(substring(e.detail FROM 'recency weight ([0-9.e-]+)')::float8 >= 0.25 - 1e-9) AS never_below_floor,
       bool_and(e.detail LIKE '%the user''s most recent item; recency weight 1 (%'
                OR e.detail ~ 'recency weight [0-9.]+ = 0\.25 \+ 0\.75 x 0\.5\^\(\d+ / 1\) \(included') AS formula_shown
  FROM u, LATERAL recommend(u.c, 3, 0, 'seq') r, LATERAL explain(u.c, r.item_id, 'seq') e WHERE e.role = 'because';
SELECT count(*) AS items, count(*) FILTER (WHERE abs(x.total - r.score) > 1e-9 * greatest(abs(r.score), 1e-12)) AS not_adding_up
  FROM (SELECT DISTINCT customer_id FROM seqshop.events ORDER BY customer_id LIMIT 40) c,
       LATERAL recommend(c.customer_id, 10, 0.3, 'seq') r,
       LATERAL (SELECT sum(contribution) AS total FROM explain(c.customer_id, r.item_id, 'seq') WHERE role = 'because') x;
CREATE TEMP TABLE with_floor AS SELECT r.item_id, r.score FROM u, LATERAL recommend(u.c, 10, 0, 'seq') r;
SELECT 1 FROM recommender.configure('seq', recency_floor => 0);
SELECT count(*) FILTER (WHERE w.score IS DISTINCT FROM r.score) > 0 AS floor_changes_scores
  FROM u, LATERAL recommend(u.c, 10, 0, 'seq') r LEFT JOIN with_floor w USING (item_id);
SELECT 1 FROM recommender.configure('seq', recency_half_life => 0);

-- update() cannot fold new rows into a sequential component: it trains the model in full
-- instead (a NOTICE says so; new_interactions is NULL), and the component is kept
SELECT 1 FROM recommender.configure('seq', keep_gram => true);
SELECT 1 FROM recommender.train('seq');
SELECT version AS v_before FROM recommender.model WHERE name = 'seq' \gset
SELECT model, version > :v_before AS newer, users > 0 AS has_users, new_interactions IS NULL AS full_training
  FROM recommender.update('seq');
SELECT (v.params->>'sequence_weight')::float8 > 0 AS sequence_kept
  FROM recommender.model m JOIN recommender.model_version v ON v.model = m.name AND v.version = m.version
 WHERE m.name = 'seq';
SELECT count(*) > 100 AS followers_of_the_new_version
  FROM recommender.model_follower f JOIN recommender.model m ON m.name = f.model AND m.version = f.version WHERE m.name = 'seq';
SELECT 1 FROM recommender.configure('seq', keep_gram => false, sequence_weight => 0);
-- a version without the sequential component has no followers, and explain() cites none
SELECT 1 FROM recommender.train('seq');
SELECT count(*) AS followers_without_sequence
  FROM recommender.model_follower f JOIN recommender.model m ON m.name = f.model AND m.version = f.version WHERE m.name = 'seq';
SELECT count(*) AS versions_left FROM recommender.model_follower WHERE model = 'seq';
SELECT count(*) FILTER (WHERE e.detail LIKE '%often followed%') AS cited
  FROM u, LATERAL recommend(u.c, 3, 0, 'seq') r, LATERAL explain(u.c, r.item_id, 'seq') e;

-- tune(): bad arguments
SELECT * FROM recommender.tune('seq', metric => NULL);
SELECT * FROM recommender.tune('seq', lambdas => ARRAY[NULL]::float8[]);
SELECT * FROM recommender.tune('seq', lambdas => ARRAY[10, -1]);
SELECT * FROM recommender.tune('seq', budget => NULL);
SELECT * FROM recommender.tune('seq', budget => '-1 second');
SELECT * FROM recommender.tune('seq', max_trials => 0);
SELECT * FROM recommender.tune('seq', k => 0);
SELECT * FROM recommender.tune('seq', user_column => 'customer_id');
SELECT * FROM recommender.tune('nosuchmodel');
SELECT * FROM recommender.tune(NULL);
SELECT * FROM recommender.tune('seq', split => 'last');
SELECT * FROM recommender.tune('seq', 'seqshop.events', split => 'random');
-- the same bad values, with their SQLSTATEs
\set VERBOSITY sqlstate
SELECT 1 FROM recommender.configure('seq', recency_half_life => -1);
SELECT 1 FROM recommender.configure('seq', sequence_weight => 'NaN');
SELECT 1 FROM recommender.configure('seq', recency_floor => 2);
SELECT * FROM recommender.tune('seq', metric => NULL);
SELECT * FROM recommender.tune('seq', metric => 'accuracy');
SELECT * FROM recommender.tune('seq', lambdas => ARRAY[NULL]::float8[]);
SELECT * FROM recommender.tune('seq', lambdas => ARRAY[10, -1]);
SELECT * FROM recommender.tune('seq', budget => NULL);
SELECT * FROM recommender.tune('seq', budget => '-1 second');
SELECT * FROM recommender.tune('seq', max_trials => 0);
SELECT * FROM recommender.tune('seq', user_column => 'customer_id');
SELECT * FROM recommender.tune('nosuchmodel');
SELECT * FROM recommender.tune('seq', split => 'last');
\set VERBOSITY default

-- tune() with no validation split: it holds out each customer's last items itself, in temporary
-- objects of its own; the caller's own temporary table of a name the old tune() used is left alone
CREATE TEMP TABLE rec_tune_results (note text);
INSERT INTO rec_tune_results VALUES ('mine');
SELECT count(*) AS trials, count(*) FILTER (WHERE chosen) AS chosen, bool_and(ndcg_k >= 0 AND ndcg_k <= 1) AS ndcg_ok,
       bool_and(seconds > 0) AS timed, min(trial) AS first_trial, max(trial) AS last_trial
  FROM recommender.tune('seq', max_trials => 8, budget => '2 minutes');
SELECT * FROM rec_tune_results;
-- the chosen configuration is configured and trained; nothing of the call is left behind
CREATE TEMP TABLE before AS SELECT version FROM recommender.model WHERE name = 'seq';
CREATE TEMP TABLE tuned AS SELECT * FROM recommender.tune('seq', max_trials => 3);
SELECT count(*) AS trials FROM tuned;
SELECT t.lambda = m.lambda AND t.weighting = m.weighting AND t.dropout = m.dropout AND t.row_norm = m.row_norm
       AND t.recency_half_life = m.recency_half_life AND t.recency_floor = m.recency_floor
       AND t.sequence_weight = m.sequence_weight AS chosen_is_configured,
       m.version > b.version AS trained_again
  FROM tuned t, recommender.model m, before b WHERE t.chosen AND m.name = 'seq';
SELECT count(*) AS leftover_models FROM recommender.model WHERE name LIKE '\_tune\_%';
SELECT count(*) AS leftover_tables FROM pg_class WHERE relname ~ '^rec_tune_[0-9]+_[0-9]+_' AND relpersistence = 't';
-- the budget stops the search (after at least one trial) and the best so far is kept
SELECT count(*) AS trials, count(*) FILTER (WHERE chosen) AS chosen
  FROM recommender.tune('seq', budget => '1 millisecond');
-- the old call (a held-out relation and lambdas) still tries exactly those lambdas
CREATE TEMP TABLE held AS SELECT * FROM seqshop.events WHERE event_id % 10 = 0;
SELECT lambda, weighting, chosen IS NOT NULL AS decided
  FROM recommender.tune('seq', 'held', 'customer_id', 'product_id', lambdas => ARRAY[20, 2000]) ORDER BY trial;
-- the whole search on its own split: recency half-lives are tried with and without a floor
CREATE TEMP TABLE full_search AS SELECT * FROM recommender.tune('seq', budget => '2 minutes');
SELECT count(*) FILTER (WHERE recency_half_life > 0 AND recency_floor = 0) > 0 AS decay_alone_tried,
       count(*) FILTER (WHERE recency_half_life > 0 AND recency_floor > 0) > 0 AS floor_tried,
       count(*) FILTER (WHERE chosen) AS chosen
  FROM full_search;
-- without a time column: a seeded random share is held out, and recency and the sequential
-- component (which need an order) are not tried
SELECT recommender.register('seq_notime', 'seqshop.events', 'customer_id', 'product_id');
SELECT count(*) AS trials, bool_and(recency_half_life = 0 AND recency_floor = 0 AND sequence_weight = 0) AS no_order_parameters,
       count(*) FILTER (WHERE chosen) AS chosen
  FROM recommender.tune('seq_notime', max_trials => 5);
SELECT * FROM recommender.tune('seq_notime', split => 'time');
SELECT recommender.drop('seq_notime');
-- split random with a time column: a seeded random share is held out instead of the last items
-- (for a task that is not "what next"); it runs, and it is deterministic
SELECT count(*) AS trials, count(*) FILTER (WHERE chosen) AS chosen
  FROM recommender.tune('seq', max_trials => 3, split => 'random');
CREATE TEMP TABLE r1 AS SELECT trial, metric_value FROM recommender.tune('seq', max_trials => 2, split => 'random');
CREATE TEMP TABLE r2 AS SELECT trial, metric_value FROM recommender.tune('seq', max_trials => 2, split => 'random');
CREATE TEMP TABLE t1 AS SELECT trial, metric_value FROM recommender.tune('seq', max_trials => 2);
SELECT (SELECT array_agg(metric_value ORDER BY trial) FROM r1) = (SELECT array_agg(metric_value ORDER BY trial) FROM r2) AS random_split_repeats,
       (SELECT array_agg(metric_value ORDER BY trial) FROM r1) IS DISTINCT FROM (SELECT array_agg(metric_value ORDER BY trial) FROM t1) AS differs_from_time_split;
SELECT recommender.drop('seq');
DROP SCHEMA seqshop CASCADE;
RESET client_min_messages;
