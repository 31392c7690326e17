-- Cheaper updates than a full retrain: keep the Gram matrix, fold in the interactions that
-- arrived since the last training, solve again. The result equals a full training on the same data.
\set SHOW_CONTEXT never
CREATE TABLE shop.ev_inc AS SELECT * FROM shop.events WHERE occurred_at < '2026-10-15';
CREATE INDEX ON shop.ev_inc (customer_id);
SELECT recommender.register('inc', 'shop.ev_inc', 'customer_id', 'product_id', time_column => 'occurred_at',
         event_column => 'event_type', event_weights => '{"view": 1, "cart": 3, "purchase": 5}');
SELECT keep_gram FROM recommender.configure('inc', keep_gram => true);
SET client_min_messages = warning;
SELECT model, items FROM recommender.train('inc');
-- nothing new yet: an update changes nothing
SELECT array_agg(item_id ORDER BY rank) AS before FROM recommend(42, 10, 0, 'inc') \gset
SELECT users, new_interactions FROM recommender.update('inc');
SELECT array_agg(item_id ORDER BY rank) = :'before' AS unchanged FROM recommend(42, 10, 0, 'inc');
-- two weeks of interactions arrive (on products the model knows)
INSERT INTO shop.ev_inc SELECT * FROM shop.events
 WHERE occurred_at >= '2026-10-15' AND product_id IN (SELECT product_id FROM shop.ev_inc);
SELECT users > 1000 AS many_users, new_interactions > 10000 AS many_events FROM recommender.update('inc');
SELECT (params->>'updated_from') IS NOT NULL AS updated, interactions = (SELECT count(*) FROM shop.ev_inc) AS counts_all
  FROM recommender.model_version WHERE model = 'inc';
-- a full training on the same data gives the same scores to every customer with a history
SELECT recommender.register('inc_full', 'shop.ev_inc', 'customer_id', 'product_id', time_column => 'occurred_at',
         event_column => 'event_type', event_weights => '{"view": 1, "cart": 3, "purchase": 5}');
SELECT model FROM recommender.train('inc_full');
SELECT count(*) AS compared,
       max(abs(a.score - b.score) / greatest(abs(b.score), 1e-12)) < 1e-6 AS same_scores,
       bool_and(a.item_id = b.item_id) AS same_items
  FROM (SELECT DISTINCT customer_id FROM shop.ev_inc WHERE customer_id % 10 = 0) u,
       LATERAL recommend(u.customer_id, 10, 0, 'inc') a
       JOIN LATERAL recommend(u.customer_id, 10, 0, 'inc_full') b ON b.rank = a.rank;
RESET client_min_messages;
-- what update() needs
SELECT * FROM recommender.update('inc_full');
SELECT recommender.register('inc_notime', 'shop.ev_inc', 'customer_id', 'product_id');
SELECT keep_gram FROM recommender.configure('inc_notime', keep_gram => true);
SET client_min_messages = warning;
SELECT model FROM recommender.train('inc_notime');
RESET client_min_messages;
SELECT * FROM recommender.update('inc_notime');
SELECT * FROM recommender.update('nosuchmodel');
SELECT * FROM recommender.update(NULL);
SELECT recommender.drop('inc'), recommender.drop('inc_full'), recommender.drop('inc_notime');
DROP TABLE shop.ev_inc;
