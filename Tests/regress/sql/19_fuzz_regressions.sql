-- Bugs found by the random-call test (Tests/fuzz/fuzz.py, scenario Tests/scenarios/fuzz.sh), one
-- case each: bad input gets a proper SQLSTATE (never XX000), and the backend survives.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS recommender;   -- when run alone
RESET client_min_messages;
SELECT pg_backend_pid() AS pid0 \gset
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; m text; h text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
  RETURN s || ': ' || m || COALESCE(' | HINT: ' || NULLIF(h, ''), '');
END $$;
CREATE SCHEMA fzr;

-- 1. A lambda too small for a singular Gram matrix (4 distinct histories over 12 items): the
--    factorisation fails. It was XX000 "Cholesky factorisation failed"; it is bad input (22023
--    with a hint), and the version trained before stays in use.
CREATE TABLE fzr.sing (u bigint, i bigint);
INSERT INTO fzr.sing SELECT u, 1 + (u * 3 + j) % 12 FROM generate_series(1, 15) u, generate_series(1, 5) j;
SELECT recommender.register('fzr_sing', 'fzr.sing', 'u', 'i');
SET client_min_messages = warning;
SELECT model, users, items FROM recommender.train('fzr_sing');
SELECT count(*) AS before FROM recommend(1, 3, 0, 'fzr_sing');
SELECT count(*) FROM recommender.configure('fzr_sing', lambda => 1e-300, weighting => 'binary');
SELECT pg_temp.err($$SELECT * FROM recommender.train('fzr_sing')$$);
SELECT * FROM recommender.train('fzr_sing');
SELECT pg_temp.err($$SELECT * FROM recommender.tune('fzr_sing', 'fzr.sing', 'u', 'i', lambdas => '{1e-300}')$$);
RESET client_min_messages;
SELECT count(*) AS after FROM recommend(1, 3, 0, 'fzr_sing');
SELECT recommender.drop('fzr_sing');

-- 2. create_sample_shop with an empty schema name was a syntax error (42601, "zero-length
--    delimited identifier"): it is an invalid argument (22023).
SELECT pg_temp.err($$SELECT recommender.create_sample_shop('', 1, 10)$$);

-- 3. update() of a model with an items table but no categories (diversity from model-derived
--    similarity vectors) and items without interactions (content-only): the new version stored
--    no similarity vector for those items, and every later call failed with XX000 "similarity
--    vector of item ... is damaged". Now update() stores zero vectors as training does.
CREATE TABLE fzr.ev (u bigint, i bigint, t timestamptz);
INSERT INTO fzr.ev SELECT u, 1 + (u * 7 + j * 5) % 30, timestamptz '2026-01-01 00:00+00' + (u * 97 + j * 13) * interval '1 minute'
  FROM generate_series(1, 40) u, generate_series(1, 8) j;
CREATE TABLE fzr.items (id bigint, title text);
INSERT INTO fzr.items SELECT i, 'Item ' || i FROM generate_series(1, 40) i;   -- 31..40: no interactions
SELECT recommender.register('fzr_upd', 'fzr.ev', 'u', 'i', time_column => 't', items => 'fzr.items',
                            item_id_column => 'id', title_column => 'title');
SELECT count(*) FROM recommender.configure('fzr_upd', keep_gram => true);
SET client_min_messages = warning;
SELECT model, users, items FROM recommender.train('fzr_upd');
INSERT INTO fzr.ev VALUES (1, 2, '2026-02-01 00:00+00'), (41, 3, '2026-02-01 00:00+00');
SELECT model, users, new_interactions FROM recommender.update('fzr_upd');
RESET client_min_messages;
SELECT (params->>'similarity_dims')::int AS dims, (params->>'catalog_items')::int AS catalog
  FROM recommender.model_version v JOIN recommender.model m ON m.name = v.model AND m.version = v.version
 WHERE m.name = 'fzr_upd';
SELECT count(*) AS items_without_vector FROM recommender.model_item mi JOIN recommender.model m ON m.name = mi.model AND m.version = mi.version
 WHERE m.name = 'fzr_upd' AND (mi.similarity IS NULL OR length(mi.similarity) <> 4 * 30);
SELECT count(*) AS n FROM recommend(1, 5, 0, 'fzr_upd');
SELECT count(*) AS n FROM recommend(1, 5, 0.8, 'fzr_upd');
SELECT count(*) AS n FROM similar_items(2, 5, 0.5, 'fzr_upd');
SELECT recommender.drop('fzr_upd');

-- 4. A filter predicate with an array constructor (cats @> ARRAY['a']) was XX000 "unrecognized
--    node type: 231": the filter check asked for the type of the constructor's element list.
--    It is a valid predicate over a text[] column.
CREATE TABLE fzr.arr_items (id bigint, cats text[]);
INSERT INTO fzr.arr_items VALUES (1, '{a}'), (2, '{b}'), (3, '{a,b}');
CREATE TABLE fzr.ev2 (u bigint, i bigint);
INSERT INTO fzr.ev2 VALUES (1, 1), (1, 2), (2, 2), (2, 3), (3, 1), (3, 3);
SELECT recommender.register('fzr_arr', 'fzr.ev2', 'u', 'i', items => 'fzr.arr_items', item_id_column => 'id');
SELECT recommender.add_filter('fzr_arr', 'has_a', 'cats @> ARRAY[''a'']');
SELECT pg_temp.err($$SELECT recommender.add_filter('fzr_arr', 'has_x', 'cats @> ARRAY[''x'', NULL] OR cats && ARRAY[lower(''B'')]')$$);
SELECT recommender.drop('fzr_arr');

-- 5. update() after the model was registered again (here with another time column) used the
--    trained version's watermark and Gram matrix with the new registration: a float time column
--    of 1e300 and then a timestamptz one failed with 22008 "timestamp out of range" (found with
--    seed 1939956661). It refuses clearly (55000) until the model is trained again.
CREATE TABLE fzr.rr (u bigint, i bigint, tf float8, tt timestamptz);
INSERT INTO fzr.rr SELECT u, 1 + (u * 7 + j) % 9, 1e300, '2026-01-01 00:00+00'
  FROM generate_series(1, 20) u, generate_series(1, 4) j;
SELECT recommender.register('fzr_rr', 'fzr.rr', 'u', 'i', time_column => 'tf');
SELECT count(*) FROM recommender.configure('fzr_rr', keep_gram => true);
SET client_min_messages = warning;
SELECT model, users FROM recommender.train('fzr_rr');
SELECT recommender.register('fzr_rr', 'fzr.rr', 'u', 'i', time_column => 'tt');
SELECT regexp_replace(pg_temp.err($$SELECT * FROM recommender.update('fzr_rr')$$), 'version \d+', 'version N') AS err;
SELECT model, users FROM recommender.train('fzr_rr');
SELECT model, new_interactions FROM recommender.update('fzr_rr');
RESET client_min_messages;
SELECT recommender.drop('fzr_rr');

-- 6. create_sample_shop dropped the caller's own pg_temp._shop_* tables (as evaluate() and tune()
--    did with theirs, issue 8 item 9); it leaves them alone and says so (42P07). Its sizes are
--    bounded (22023) instead of running for hours on a typo.
CREATE TEMP TABLE _shop_cat (mine text);
INSERT INTO _shop_cat VALUES ('mine');
SELECT pg_temp.err($$SELECT recommender.create_sample_shop('fzr_shop', 5, 10)$$);
SELECT mine FROM pg_temp._shop_cat;
DROP TABLE pg_temp._shop_cat;
SELECT pg_temp.err($$SELECT recommender.create_sample_shop('fzr_shop', 2000000000, 10)$$);
SELECT pg_temp.err($$SELECT recommender.create_sample_shop('fzr_shop', 5, 2000000000)$$);
SELECT recommender.create_sample_shop('fzr_shop', 5, 10);
SELECT recommender.create_sample_shop('fzr_shop2', 5, 10);   -- again in the session: it dropped its own
SET client_min_messages = warning;
DROP SCHEMA fzr_shop CASCADE;
DROP SCHEMA fzr_shop2 CASCADE;
RESET client_min_messages;

SELECT pg_backend_pid() = :pid0 AS same_backend;
DROP SCHEMA fzr CASCADE;
