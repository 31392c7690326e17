-- New users: popularity with time decay and a trending signal (recent rise against the longer
-- baseline), optionally within a category.
-- products on the rise: events per day in the last 14 days against the days before
CREATE TEMP TABLE rising AS
  SELECT product_id,
         count(*) FILTER (WHERE occurred_at > m.t - interval '14 days') / 14.0
           / greatest(count(*) FILTER (WHERE occurred_at <= m.t - interval '14 days') / 170.0, 0.05) AS rise
    FROM shop.events, (SELECT max(occurred_at) AS t FROM shop.events) m
   GROUP BY product_id
  HAVING count(*) FILTER (WHERE occurred_at > m.t - interval '14 days') >= 20
   ORDER BY rise DESC LIMIT 8;
-- the model's trend column names the same products
SELECT count(*) >= 6 AS trend_finds_risers
  FROM (SELECT item_id FROM recommender.model_item mi JOIN recommender.model m ON m.name = mi.model AND m.version = mi.version
         WHERE m.name = 'default' ORDER BY mi.trend DESC LIMIT 15) t
 WHERE item_id IN (SELECT product_id FROM rising);
-- a new user sees more of them with the trending signal than with decayed popularity alone
SELECT count(*) AS risers_with_trend FROM recommend(-1, 20, 0) r WHERE r.item_id IN (SELECT product_id FROM rising) \gset
SET client_min_messages = warning;
SELECT trend_weight FROM recommender.configure('default', trend_weight => 0);
SELECT 1 AS trained FROM recommender.train('default');
SELECT count(*) AS risers_without_trend FROM recommend(-1, 20, 0) r WHERE r.item_id IN (SELECT product_id FROM rising) \gset
SELECT trend_weight FROM recommender.configure('default', trend_weight => 0.5);
SELECT 1 AS trained FROM recommender.train('default');
RESET client_min_messages;
SELECT :risers_with_trend > :risers_without_trend AS trend_lifts_risers, :risers_with_trend >= 2 AS some_risers;
-- the fallback is explained as such
SELECT role, detail LIKE 'user -1 has no history the model knows: recommendations fall back to popularity, where this item ranks 1 of %' AS explained
  FROM explain(-1, (SELECT item_id FROM recommend(-1, 1, 0))) WHERE role = 'score';
-- bad parameter
\set SHOW_CONTEXT never
SELECT * FROM recommender.configure('default', trend_weight => -1);
DROP TABLE rising;
