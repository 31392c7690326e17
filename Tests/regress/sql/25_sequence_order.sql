-- sequence_half_life (0.4.0): the sequential component's position decay, in positions (each
-- side of a step spans 4 half-lives: 2 -> 8 positions, 4 -> 16); bad values, training with it,
-- explain() saying how far order reached, and tune() searching it. A small shop of its own.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
SELECT recommender.create_sample_shop('ordshop', 300, 120, 11);
SELECT recommender.register('ord', 'ordshop.events', 'customer_id', 'product_id',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'ordshop.products', item_id_column => 'product_id',
         category_column => 'category', title_column => 'title');
-- default, bad values (22023), a good value
SELECT sequence_half_life FROM recommender.model WHERE name = 'ord';
\set VERBOSITY default
SELECT 1 FROM recommender.configure('ord', sequence_half_life => 0.4);
SELECT 1 FROM recommender.configure('ord', sequence_half_life => 9);
SELECT 1 FROM recommender.configure('ord', sequence_half_life => -1);
SELECT 1 FROM recommender.configure('ord', sequence_half_life => 'NaN');
SELECT 1 FROM recommender.configure('ord', sequence_half_life => 'infinity');
\set VERBOSITY terse
SELECT sequence_weight, sequence_half_life FROM recommender.configure('ord', sequence_weight => 0.4, recency_half_life => 3);
-- trained with the default (2: window 8) and with 4 (window 16): the weights differ
SELECT users > 250 AS users_ok FROM recommender.train('ord');
SELECT (params->>'sequence_half_life')::float8 AS trained_half_life
  FROM recommender.model_version v JOIN recommender.model m ON m.name = v.model AND m.version = v.version WHERE m.name = 'ord';
CREATE TEMP TABLE c AS SELECT customer_id FROM ordshop.events GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 20;
CREATE TEMP TABLE at2 AS SELECT c.customer_id, r.item_id, r.score FROM c, LATERAL recommend(c.customer_id, 10, 0, 'ord') r;
SELECT sequence_half_life FROM recommender.configure('ord', sequence_half_life => 4);
SELECT users > 250 AS users_ok FROM recommender.train('ord');
SELECT (params->>'sequence_half_life')::float8 AS trained_half_life
  FROM recommender.model_version v JOIN recommender.model m ON m.name = v.model AND m.version = v.version WHERE m.name = 'ord';
SELECT count(*) FILTER (WHERE a.score IS DISTINCT FROM n.score) > 0 AS half_life_changes_scores
  FROM (SELECT c.customer_id, r.item_id, r.score FROM c, LATERAL recommend(c.customer_id, 10, 0, 'ord') r) n
  LEFT JOIN at2 a USING (customer_id, item_id);
-- explanations still add up to the score, and the verdict says how far order reached
SELECT count(*) AS items, count(*) FILTER (WHERE abs(x.total - r.score) > 1e-9 * greatest(abs(r.score), 1e-12)) AS not_adding_up
  FROM c, LATERAL recommend(c.customer_id, 10, 0, 'ord') r,
       LATERAL (SELECT sum(contribution) AS total FROM explain(c.customer_id, r.item_id, 'ord')
                 WHERE role = 'because') x;
SELECT detail LIKE '%sequence_weight 0.4%: what followed an item within 16 steps, a step d positions further counting 0.5^(d / 4))%' AS says_order
  FROM (SELECT customer_id FROM c ORDER BY customer_id LIMIT 1) c,
       LATERAL recommend(c.customer_id, 1, 0, 'ord') r, LATERAL explain(c.customer_id, r.item_id, 'ord') e
 WHERE e.role = 'score';
-- tune()'s candidates for it: halved and doubled within 0.5-8, only with the sequential component on
SELECT c->>'sequence_half_life' AS candidate
  FROM recommender._tune_candidates('sequence_order', '{"lambda": 100, "sequence_weight": 0.4, "sequence_half_life": 2}', true) c;
SELECT c->>'sequence_half_life' AS candidate
  FROM recommender._tune_candidates('sequence_order', '{"lambda": 100, "sequence_weight": 0.4, "sequence_half_life": 8}', true) c;
SELECT count(*) AS candidates_without_sequence
  FROM recommender._tune_candidates('sequence_order', '{"lambda": 100, "sequence_weight": 0, "sequence_half_life": 2}', true) c;
-- tune() reports it per trial and configures the chosen one
CREATE TEMP TABLE tuned AS SELECT * FROM recommender.tune('ord', max_trials => 2);
SELECT count(*) AS trials, bool_and(sequence_half_life = 4) AS reported
  FROM tuned;
SELECT t.sequence_half_life = m.sequence_half_life AND t.sequence_weight = m.sequence_weight AS chosen_is_configured
  FROM tuned t, recommender.model m WHERE t.chosen AND m.name = 'ord';
SELECT recommender.drop('ord');
DROP SCHEMA ordshop CASCADE;
RESET client_min_messages;
