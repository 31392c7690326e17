-- A synthetic shop catalog for the scale benchmarks (issue 7): psql -v items=N -v seed=S -f bench/gen_catalog.sql
-- Creates schema "cat" with cat.items (item_id, category) and cat.events (user_id, item_id, occurred_at):
--   * N items in C = max(20, N/500) categories (item i is in category i mod C);
--   * users = min(2N, 1,000,000), each with an exponentially distributed number of events,
--     mean about 20 (1 to 200);
--   * Zipf popularity (exponent 1): 80% of a user's events fall in one of two favourite categories
--     (rank within the category log-uniform, i.e. P(rank r) ~ 1/r), the rest anywhere in the
--     catalog with the same law;
--   * times increase along each user's events over 180 days, so the last events can be held out.
-- Deterministic: every draw is hashint8extended(key, seed) mapped to [0, 1).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS cat CASCADE;
CREATE SCHEMA cat;
CREATE FUNCTION cat.u01(k bigint, salt bigint) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT ((pg_catalog.hashint8extended(k, salt) >> 11) & 9007199254740991)::float8 / 9007199254740992.0 $$;
CREATE TABLE cat.params AS
  SELECT :items::bigint AS n, greatest(20, :items / 500)::bigint AS c,
         least(2 * :items::bigint, 1000000) AS users, :seed::bigint AS seed;
CREATE TABLE cat.items AS
  SELECT i AS item_id, 'c' || ((i - 1) % p.c) AS category
    FROM cat.params p, generate_series(1, p.n) i;
ALTER TABLE cat.items ADD PRIMARY KEY (item_id);
CREATE UNLOGGED TABLE cat.events AS
  WITH u AS (
    SELECT uid,
           least(200, 1 + floor(-ln(1 - cat.u01(uid, p.seed)) * 19))::int AS cnt,
           floor(cat.u01(uid, p.seed + 1) * p.c)::bigint AS fav1,
           floor(cat.u01(uid, p.seed + 2) * p.c)::bigint AS fav2,
           cat.u01(uid, p.seed + 3) * 90 AS start_day
      FROM cat.params p, generate_series(1, p.users) uid)
  SELECT u.uid AS user_id,
         CASE WHEN cat.u01(k, p.seed + 4) < 0.8 THEN
                -- within a favourite category: rank r in 0..m-1, P ~ 1/(r+1); item = cat + r*C + 1
                (CASE WHEN cat.u01(k, p.seed + 5) < 0.6 THEN u.fav1 ELSE u.fav2 END)
                + p.c * least(floor(exp(cat.u01(k, p.seed + 6) * ln((p.n - 1) / p.c + 1)))::bigint - 1,
                              (p.n - 1 - (CASE WHEN cat.u01(k, p.seed + 5) < 0.6 THEN u.fav1 ELSE u.fav2 END)) / p.c)
                + 1
              ELSE least(p.n, floor(exp(cat.u01(k, p.seed + 7) * ln(p.n + 1)))::bigint)
         END AS item_id,
         timestamptz '2026-05-01 00:00:00+00'
           + make_interval(secs => (u.start_day + e * (90.0 / u.cnt)) * 86400) AS occurred_at
    FROM cat.params p, u, generate_series(1, u.cnt) e,
         LATERAL (SELECT u.uid * 1000 + e AS k) kk;
CREATE INDEX ON cat.events (user_id);
ANALYZE cat.items; ANALYZE cat.events;
SELECT (SELECT n FROM cat.params) AS items, (SELECT users FROM cat.params) AS users,
       count(*) AS events, count(DISTINCT item_id) AS items_seen FROM cat.events;
