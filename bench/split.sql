-- The held-out part of the scale benchmark: the last 2 events (by time) of 10% of the users with at
-- least 5 events go to cat.heldout; cat.train holds every other event (what every method trains on).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP TABLE IF EXISTS cat.train, cat.heldout;
CREATE UNLOGGED TABLE cat.ranked AS
  SELECT e.*, row_number() OVER (PARTITION BY user_id ORDER BY occurred_at DESC, item_id) AS rn,
         count(*) OVER (PARTITION BY user_id) AS cnt
    FROM cat.events e;
CREATE TABLE cat.heldout AS
  SELECT user_id, item_id FROM cat.ranked
   WHERE rn <= 2 AND cnt >= 5 AND cat.u01(user_id, 99) < 0.1;
CREATE UNLOGGED TABLE cat.train AS
  SELECT user_id, item_id, occurred_at FROM cat.ranked
   WHERE NOT (rn <= 2 AND cnt >= 5 AND cat.u01(user_id, 99) < 0.1);
DROP TABLE cat.ranked;
CREATE INDEX ON cat.train (user_id);
ANALYZE cat.train; ANALYZE cat.heldout;
SELECT (SELECT count(*) FROM cat.train) AS train_rows, (SELECT count(*) FROM cat.heldout) AS heldout_rows,
       (SELECT count(DISTINCT user_id) FROM cat.heldout) AS test_users;
