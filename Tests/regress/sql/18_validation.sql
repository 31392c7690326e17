-- Validation (issue 8, items 7 and 9): bad registrations rejected at register() with the right
-- message, evaluate() with odd arguments or no data, evaluate() leaving the caller's objects alone.
SELECT pg_backend_pid() AS pid0 \gset
CREATE OR REPLACE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE TABLE shop.v_events (u int, i int, flag boolean, w float8, t timestamptz);
INSERT INTO shop.v_events
  SELECT customer_id, product_id, customer_id % 2 = 0, 1, occurred_at FROM shop.events WHERE customer_id <= 300;

-- a boolean weight used to register and then fail in train (42846): refused at registration
SELECT pg_temp.err($q$SELECT recommender.register('v', 'shop.v_events', 'u', 'i', weight_column => 'flag')$q$);
-- regclass 0 ('-') and the number of a relation that does not exist: a clear message, not
-- 'table "-" no longer exists'
SELECT pg_temp.err($q$SELECT recommender.register('v', 0, 'u', 'i')$q$);
SELECT pg_temp.err($q$SELECT recommender.register('v', 4000000000::oid::regclass, 'u', 'i')$q$);
SELECT pg_temp.err($q$SELECT recommender.register('v', 'shop.v_events', 'u', 'i', items => 0, item_id_column => 'product_id')$q$);
SELECT count(*) AS no_model_left FROM recommender.model WHERE name = 'v';

-- text and category columns: only types whose cast to text is PostgreSQL's own; a user-defined
-- cast would run its owner's function as whoever trains or calls the model
CREATE TYPE shop.label AS (name text);
CREATE FUNCTION shop.label_text(shop.label) RETURNS text LANGUAGE sql AS $$ SELECT ($1).name $$;
CREATE CAST (shop.label AS text) WITH FUNCTION shop.label_text(shop.label);
CREATE TABLE shop.v_items (id int, lbl shop.label, lbls shop.label[], mood text[], emb float8[]);
INSERT INTO shop.v_items SELECT product_id, ROW(category)::shop.label, ARRAY[ROW(category)::shop.label], ARRAY[category], NULL FROM shop.products;
SELECT pg_temp.err($q$SELECT recommender.register('v', 'shop.v_events', 'u', 'i', items => 'shop.v_items', item_id_column => 'id', title_column => 'lbl')$q$);
SELECT pg_temp.err($q$SELECT recommender.register('v', 'shop.v_events', 'u', 'i', items => 'shop.v_items', item_id_column => 'id', category_column => 'lbls')$q$);
SELECT pg_temp.err($q$SELECT recommender.register('v', 'shop.v_events', 'u', 'i', items => 'shop.v_items', item_id_column => 'id', category_column => 'mood')$q$);

-- embeddings: an empty array is no embedding (like NULL); a value beyond real is named as such
SELECT recommender.register('v', 'shop.v_events', 'u', 'i', weight_column => 'w', time_column => 't',
         items => 'shop.v_items', item_id_column => 'id', embedding_column => 'emb') IS NOT NULL AS registered;
UPDATE shop.v_items SET emb = ARRAY[1, 2, (id % 7)::float8] WHERE id % 3 = 0;
UPDATE shop.v_items SET emb = '{}' WHERE id % 3 = 1;
SET client_min_messages = warning;
SELECT model, items > 0 AS trained FROM recommender.train('v');
RESET client_min_messages;
SET client_min_messages = warning;
UPDATE shop.v_items SET emb = ARRAY[1, 1e39, 1] WHERE id = 3;
SELECT pg_temp.err($q$SELECT * FROM recommender.train('v')$q$);
UPDATE shop.v_items SET emb = ARRAY[1, NULL, 1] WHERE id = 3;
SELECT pg_temp.err($q$SELECT * FROM recommender.train('v')$q$);
UPDATE shop.v_items SET emb = NULL WHERE id = 3;
RESET client_min_messages;

-- evaluate(): NaN is refused, infinities are thresholds like any other, diversity outside [0, 1]
-- is refused (these used to fail with 42703 column "nan" does not exist)
SELECT pg_temp.err($q$SELECT * FROM recommender.evaluate('v', 'shop.v_events', 'u', 'i', 'w', 'NaN')$q$);
SELECT metric, value FROM recommender.evaluate('v', 'shop.v_events', 'u', 'i', 'w', 'Infinity', k => 5)
 WHERE metric IN ('accuracy_users', 'lists');
SELECT metric, value FROM recommender.evaluate('v', 'shop.v_events', 'u', 'i', 'w', '-Infinity', k => 5)
 WHERE metric = 'accuracy_users';
SELECT pg_temp.err($q$SELECT * FROM recommender.evaluate('v', 'shop.v_events', 'u', 'i', k => 5, diversity => 'NaN')$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.evaluate('v', 'shop.v_events', 'u', 'i', k => 5, diversity => 'Infinity')$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.evaluate('v', 'shop.v_events', 'u', 'i', k => 5, diversity => 1.5)$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.evaluate('v', 0, 'u', 'i')$q$);

-- evaluate() never touches the caller's own objects: a temp table of the name 0.1.0 used
-- survives with its rows (0.1.0 dropped it), and no scratch table is left behind
CREATE TEMP TABLE rec_eval_lists (note text);
INSERT INTO rec_eval_lists VALUES ('mine');
CREATE TEMP TABLE rec_eval_heldout (note text);
SELECT count(*) AS metrics FROM recommender.evaluate('v', 'shop.v_events', 'u', 'i', k => 5);
SELECT note FROM rec_eval_lists;
SELECT count(*) AS heldout_rows FROM rec_eval_heldout;
SELECT count(*) AS scratch_tables_left FROM pg_class
 WHERE relnamespace = pg_my_temp_schema() AND relname LIKE 'rec\_eval\_%' AND relname NOT IN ('rec_eval_lists', 'rec_eval_heldout');

-- evaluate() on an empty interactions table: no division by zero (novelty is undefined: NULL)
TRUNCATE shop.v_events;
INSERT INTO shop.v_events VALUES (1, 1, true, 1, now());
CREATE TABLE shop.v_heldout AS SELECT 1 AS u, 2 AS i;
TRUNCATE shop.v_events;
SELECT metric, value FROM recommender.evaluate('v', 'shop.v_heldout', 'u', 'i', k => 5)
 WHERE metric IN ('lists', 'novelty', 'accuracy_users', 'precision');

SELECT recommender.drop('v') IS NOT NULL AS dropped;
DROP TABLE shop.v_events, shop.v_items, shop.v_heldout;
DROP CAST (shop.label AS text);
DROP FUNCTION shop.label_text(shop.label);
DROP TYPE shop.label;
SELECT pg_backend_pid() = :pid0 AS same_backend;
