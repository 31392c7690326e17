-- Evaluation in SQL: metrics of recommend() lists against a held-out relation, and tuning.
\set SHOW_CONTEXT never
-- (Agreement with the shared scorer on MovieLens is checked in Tests/scenarios.sh.)
CREATE TABLE shop.heldout AS
  SELECT customer_id, product_id, event_type
    FROM (SELECT e.*, row_number() OVER (PARTITION BY customer_id ORDER BY occurred_at DESC, event_id DESC) AS rn
            FROM shop.events e) x
   WHERE rn <= 3 AND customer_id % 10 = 0;
CREATE VIEW shop.history AS
  SELECT e.* FROM shop.events e
   WHERE NOT EXISTS (SELECT 1 FROM shop.heldout h WHERE h.customer_id = e.customer_id AND h.product_id = e.product_id);
SELECT recommender.register('eval', 'shop.history', 'customer_id', 'product_id',
         event_column => 'event_type', event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'shop.products', item_id_column => 'product_id', category_column => 'category');
SET client_min_messages = warning;
SELECT model FROM recommender.train('eval');
RESET client_min_messages;
CREATE TEMP TABLE m AS
  SELECT metric, value FROM recommender.evaluate('eval', 'shop.heldout', 'customer_id', 'product_id', k => 10);
SELECT metric, value BETWEEN 0 AND 1 AS in_unit_range
  FROM m WHERE metric IN ('precision', 'recall', 'f1', 'ndcg', 'map', 'hit_rate', 'catalog_coverage', 'ild', 'popular_only_lists', 'popular_share')
 ORDER BY metric;
SELECT (SELECT value FROM m WHERE metric = 'accuracy_users') = (SELECT count(DISTINCT customer_id) FROM shop.heldout) AS every_user_counted,
       (SELECT value FROM m WHERE metric = 'lists') = (SELECT count(DISTINCT customer_id) FROM shop.heldout) AS every_user_listed,
       abs((SELECT value FROM m WHERE metric = 'f1')
           - 2 * (SELECT value FROM m WHERE metric = 'precision') * (SELECT value FROM m WHERE metric = 'recall')
               / ((SELECT value FROM m WHERE metric = 'precision') + (SELECT value FROM m WHERE metric = 'recall'))) < 1e-12 AS f1_consistent,
       (SELECT value FROM m WHERE metric = 'ndcg') > 0.05 AS learns_something;
-- hit rate computed independently from the same lists
WITH lists AS (SELECT h.customer_id, r.item_id FROM (SELECT DISTINCT customer_id FROM shop.heldout) h,
                 LATERAL recommend(h.customer_id, 10, 0, 'eval') r)
SELECT abs((SELECT value FROM m WHERE metric = 'hit_rate')
           - (SELECT avg((EXISTS (SELECT 1 FROM lists l JOIN shop.heldout x ON x.customer_id = l.customer_id AND x.product_id = l.item_id
                                   WHERE l.customer_id = u.customer_id))::int)
                FROM (SELECT DISTINCT customer_id FROM shop.heldout) u)) < 1e-12 AS hit_rate_agrees;
-- relevance threshold: only purchases count as relevant
SELECT value <= (SELECT value FROM m WHERE metric = 'accuracy_users') AS fewer_users
  FROM recommender.evaluate('eval', 'shop.heldout', 'customer_id', 'product_id', 'product_id', 500, 10)
 WHERE metric = 'accuracy_users';
-- more diversity, more intra-list diversity
SELECT (SELECT value FROM recommender.evaluate('eval', 'shop.heldout', 'customer_id', 'product_id', k => 10, diversity => 0.7) WHERE metric = 'ild')
     > (SELECT value FROM m WHERE metric = 'ild') AS more_diverse;
-- errors
SELECT * FROM recommender.evaluate('eval', 'shop.heldout', 'customer_id', 'nope');
SELECT * FROM recommender.evaluate('eval', 'shop.heldout', 'customer_id', 'product_id', k => 0);
SELECT * FROM recommender.evaluate('nosuchmodel', 'shop.heldout', 'customer_id', 'product_id');
-- tuning: one row per candidate, the best is kept configured and trained
SET client_min_messages = warning;
SELECT lambda, metric_value > 0 AS scored, chosen IS NOT NULL AS decided
  FROM recommender.tune('eval', 'shop.heldout', 'customer_id', 'product_id', lambdas => ARRAY[20, 2000]);
RESET client_min_messages;
SELECT (SELECT lambda FROM recommender.model WHERE name = 'eval') IN (20, 2000) AS best_kept,
       (SELECT trained FROM recommender.list() WHERE model = 'eval') AS trained;
SELECT * FROM recommender.tune('eval', 'shop.heldout', 'customer_id', 'product_id', lambdas => ARRAY[]::float8[]);
SELECT * FROM recommender.tune('eval', 'shop.heldout', 'customer_id', 'product_id', metric => 'accuracy');
SELECT recommender.drop('eval');
DROP VIEW shop.history;
DROP TABLE shop.heldout;
