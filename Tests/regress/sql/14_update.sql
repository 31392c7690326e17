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
-- update() reads only what is new: the users with interactions after the watermark (a range
-- scan when the time column has an index) and those users' histories (through the user index)
SELECT since_sql, users_sql FROM recommender._model_sql('inc') \gset
PREPARE since_q(float8) AS :since_sql;
PREPARE users_q(text) AS :users_sql;
CREATE INDEX ev_inc_time ON shop.ev_inc (occurred_at);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) EXECUTE since_q(extract(epoch FROM timestamptz '2026-10-30'));
EXPLAIN (COSTS OFF) EXECUTE users_q('{42,43}');
RESET enable_seqscan;
CREATE FUNCTION pg_temp.count_since(m text, t timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) s', (SELECT since_sql FROM recommender._model_sql(m))) INTO n USING extract(epoch FROM t)::float8;
  RETURN n;
END $$;
SELECT pg_temp.count_since('inc', '2026-10-30') = (SELECT count(DISTINCT customer_id) FROM shop.ev_inc WHERE occurred_at > '2026-10-30') AS since_counts;
CREATE FUNCTION pg_temp.count_users(m text, ids text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM (%s) s', (SELECT users_sql FROM recommender._model_sql(m))) INTO n USING ids;
  RETURN n;
END $$;
SELECT pg_temp.count_users('inc', '{42,43}') = (SELECT count(*) FROM shop.ev_inc WHERE customer_id IN (42, 43)) AS users_rows;
SELECT recommender.drop('inc'), recommender.drop('inc_full'), recommender.drop('inc_notime');
DROP TABLE shop.ev_inc;
-- every kind of time column: timestamptz, timestamp, date and epoch numbers; the update equals
-- a full training in each case
CREATE TABLE shop.tt (u int, i int, tz timestamptz, ts timestamp, d date, e bigint);
CREATE FUNCTION pg_temp.add_days(first int, last int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO shop.tt
  SELECT u, (u * 7 + day * 13 + j * 31) % 60, t, t AT TIME ZONE 'UTC', (t AT TIME ZONE 'UTC')::date, extract(epoch FROM t)::bigint
    FROM generate_series(1, 200) u, generate_series(first, last) day, generate_series(1, 2) j,
         LATERAL (SELECT timestamptz '2026-01-01 00:00+00' + make_interval(days => day, hours => u % 24)) x(t)
   WHERE (u + day) % 3 = 0 $$;
SELECT pg_temp.add_days(1, 20);
SET client_min_messages = warning;
SELECT count(*) FROM (
  SELECT recommender.register('tt_' || c, 'shop.tt', 'u', 'i', time_column => c), recommender.configure('tt_' || c, keep_gram => true, lambda => 5)
    FROM unnest(ARRAY['tz', 'ts', 'd', 'e']) c) x;
SELECT count(*) FROM unnest(ARRAY['tz', 'ts', 'd', 'e']) c, LATERAL recommender.train('tt_' || c);
-- the new day starts two hours after the last trained event: a watermark converted in the wrong
-- time zone would miss the users whose only new events fall in those hours
SELECT pg_temp.add_days(21, 21);
SELECT c, users, new_interactions FROM unnest(ARRAY['tz', 'ts', 'd', 'e']) c, LATERAL recommender.update('tt_' || c) ORDER BY c;
SELECT count(*) FROM (SELECT recommender.register('tt_full', 'shop.tt', 'u', 'i'), recommender.configure('tt_full', lambda => 5)) x;
SELECT model FROM recommender.train('tt_full');
SELECT c, max(abs(a.score - b.score) / greatest(abs(b.score), 1e-12)) < 1e-6 AS same_scores, bool_and(a.item_id = b.item_id) AS same_items
  FROM unnest(ARRAY['tz', 'ts', 'd', 'e']) c, generate_series(1, 200, 7) u,
       LATERAL recommend(u, 10, 0, 'tt_' || c) a JOIN LATERAL recommend(u, 10, 0, 'tt_full') b ON b.rank = a.rank
 GROUP BY c ORDER BY c;
SELECT count(*) FROM (SELECT recommender.drop(name) FROM recommender.model WHERE name LIKE 'tt\_%') x;
RESET client_min_messages;
DROP TABLE shop.tt;
