-- Scheduled refreshes: a materialized view of every customer's list, built with recommend()
-- through LATERAL, refreshed concurrently; retraining and refreshing scheduled with pg_cron.
CREATE MATERIALIZED VIEW shop.recommendations AS
  SELECT c.customer_id, r.rank, r.item_id, r.score, r.for_variety, r.source
    FROM shop.customers c
   CROSS JOIN LATERAL recommend(c.customer_id, 10, 0.3) r;
CREATE UNIQUE INDEX ON shop.recommendations (customer_id, rank);
SELECT count(*) = 10 * (SELECT count(*) FROM shop.customers) AS ten_per_customer,
       count(*) FILTER (WHERE source = 'popular') = 10 * (SELECT count(*) FROM shop.customers c
                   WHERE NOT EXISTS (SELECT 1 FROM shop.events e WHERE e.customer_id = c.customer_id)) AS cold_get_popular
  FROM shop.recommendations;
-- a new purchase shows in the view after the next concurrent refresh
SELECT customer_id AS cold FROM shop.customers c
 WHERE NOT EXISTS (SELECT 1 FROM shop.events e WHERE e.customer_id = c.customer_id) ORDER BY 1 LIMIT 1 \gset
INSERT INTO shop.events (customer_id, product_id, event_type, occurred_at) VALUES (:cold, 1, 'purchase', now());
SELECT bool_and(source = 'popular') AS before_refresh FROM shop.recommendations WHERE customer_id = :cold;
REFRESH MATERIALIZED VIEW CONCURRENTLY shop.recommendations;
SELECT bool_and(source = 'model') AS after_refresh FROM shop.recommendations WHERE customer_id = :cold;
DELETE FROM shop.events WHERE customer_id = :cold;
-- the nightly pattern with pg_cron: retrain, then refresh
CREATE EXTENSION pg_cron;
SELECT cron.schedule('recommender-train', '0 3 * * *', $$SELECT recommender.train('default')$$) > 0 AS train_scheduled;
SELECT cron.schedule('recommender-refresh', '30 3 * * *', $$REFRESH MATERIALIZED VIEW CONCURRENTLY shop.recommendations$$) > 0 AS refresh_scheduled;
SELECT jobname, schedule, command FROM cron.job ORDER BY jobname;
SELECT cron.unschedule('recommender-train') AND cron.unschedule('recommender-refresh') AS unscheduled;
