-- Data sets for the random-call test (Tests/fuzz/fuzz.py): small tables that are themselves edgy,
-- and the sample shop. Run once in a fresh database; fuzz.py restores the tables it mutates with
-- the statements at the end of this file (fz.restore()).
SET client_min_messages = warning;
CREATE EXTENSION recommender;
SELECT recommender.create_sample_shop('shop', 150, 60, 7);
CREATE INDEX ON shop.events (customer_id);
CREATE SCHEMA fz;

-- clean, trainable data: 40 users x 30 items, a weight, a time, an event type
CREATE TABLE fz.clean (u bigint, i bigint, w float8, t timestamptz, e text);
INSERT INTO fz.clean
SELECT u, 1 + (u * 7 + j * 5) % 30, 1 + (u + j) % 4,
       timestamptz '2026-01-01 00:00+00' + (u * 97 + j * 13) * interval '1 minute',
       (ARRAY['view', 'cart', 'buy'])[1 + (u + j) % 3]
  FROM generate_series(1, 40) u, generate_series(1, 8) j;
CREATE INDEX ON fz.clean (u);
CREATE VIEW fz.v_clean AS SELECT u, i, w, t FROM fz.clean;

-- the table the fuzzer mutates (inserts edge rows, deletes, truncates); restored by fz.restore()
CREATE TABLE fz.mut (LIKE fz.clean);
CREATE INDEX ON fz.mut (u);
CREATE INDEX ON fz.mut (t);

CREATE TABLE fz.empty (u bigint, i bigint, w float8, t timestamptz);
CREATE TABLE fz.one (u bigint, i bigint, w float8, t timestamptz);
INSERT INTO fz.one VALUES (1, 1, 1, '2026-01-01 00:00+00');

-- ids at the edges of their types, duplicated events, items without history
CREATE TABLE fz.small (u smallint, i integer, w numeric, t date);
INSERT INTO fz.small
SELECT CASE WHEN u = 1 THEN -32768 WHEN u = 2 THEN 32767 ELSE u END,
       CASE WHEN j = 1 THEN -2147483648 WHEN j = 2 THEN 2147483647 ELSE j END,
       1, date '2026-01-01' + u
  FROM generate_series(1, 20) u, generate_series(1, 6) j;
INSERT INTO fz.small SELECT u, i, w, t FROM fz.small WHERE u % 3 = 0;   -- duplicates
CREATE TABLE fz.bigid (u bigint, i bigint);
INSERT INTO fz.bigid
SELECT CASE u WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807 ELSE u END,
       CASE j WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807 WHEN 3 THEN 0 ELSE j END
  FROM generate_series(1, 25) u, generate_series(1, 7) j;

-- edgy weights and times: one table per kind, so each trains (or fails) on its own
CREATE TABLE fz.weights (kind text, u bigint, i bigint, w float8, t float8);
INSERT INTO fz.weights SELECT k, u, 1 + (u * 3 + j) % 12, 1, 1700000000 + u * 60 + j
  FROM unnest(ARRAY['neg', 'nan', 'inf', 'huge', 'sub', 'zero', 'nullid', 'nullw', 'inftime', 'nantime', 'bigtime'])
       k, generate_series(1, 15) u, generate_series(1, 5) j;
UPDATE fz.weights SET w = -1 WHERE kind = 'neg' AND u = 3 AND i = 1 + (3 * 3 + 1) % 12;
UPDATE fz.weights SET w = 'NaN' WHERE kind = 'nan' AND u = 4;
UPDATE fz.weights SET w = 'Infinity' WHERE kind = 'inf' AND u = 5;
UPDATE fz.weights SET w = 1e300 WHERE kind = 'huge' AND u < 4;
UPDATE fz.weights SET w = 1e308 WHERE kind = 'huge' AND u = 7;
UPDATE fz.weights SET w = 4.9e-324 WHERE kind = 'sub';
UPDATE fz.weights SET w = 0 WHERE kind = 'zero';
UPDATE fz.weights SET u = NULL WHERE kind = 'nullid' AND u = 2;
UPDATE fz.weights SET w = NULL WHERE kind = 'nullw' AND u % 2 = 0;
UPDATE fz.weights SET t = 'Infinity' WHERE kind = 'inftime' AND u = 6;
UPDATE fz.weights SET t = 'NaN' WHERE kind = 'nantime' AND u = 6;
UPDATE fz.weights SET t = 1e300 WHERE kind = 'bigtime' AND u = 6;
CREATE TABLE fz.itime (u bigint, i bigint, t timestamptz);
INSERT INTO fz.itime SELECT u, 1 + (u + j) % 9, CASE WHEN u = 2 THEN 'infinity' WHEN u = 3 THEN '-infinity' ELSE now() END
  FROM generate_series(1, 12) u, generate_series(1, 4) j;
CREATE TABLE fz.boolw (u bigint, i bigint, w boolean);
INSERT INTO fz.boolw SELECT u, 1 + (u + j) % 9, (u + j) % 2 = 0 FROM generate_series(1, 12) u, generate_series(1, 4) j;

-- items: categories as arrays with NULLs, titles with odd text, embeddings of odd sizes
CREATE TABLE fz.items (id bigint, cats text[], title text, descr text, emb real[], in_stock boolean, price numeric);
INSERT INTO fz.items
SELECT i,
       CASE i % 6 WHEN 0 THEN NULL WHEN 1 THEN '{}' WHEN 2 THEN ARRAY[NULL, 'a'] WHEN 3 THEN ARRAY['a', 'b', 'a']
                  WHEN 4 THEN ARRAY[NULL]::text[] ELSE ARRAY['c' || (i % 3)] END,
       CASE i % 7 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN E'tab\there\nnew line \\ back' WHEN 3 THEN 'ünïcødé 🛒 日本語'
                  WHEN 4 THEN repeat('long ', 2000) WHEN 5 THEN 'quote '' and " and %s %n' ELSE 'Item ' || i END,
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'desc ' || i END,
       (ARRAY[NULL, '{}', '{1,2,3}', '{NaN,1,2}', '{0,0,0}', '{1e-45,1,1}', '{3e38,1,1}', '{1,2}'])[1 + i % 8]::real[],
       i % 3 <> 0, i * 1.5
  FROM generate_series(1, 40) i;
INSERT INTO fz.items (id, title) VALUES (NULL, 'no id'), (5, 'duplicate id');
CREATE TABLE fz.items_scalar (id integer, cat text, title varchar(20));
INSERT INTO fz.items_scalar SELECT i, CASE WHEN i % 4 = 0 THEN NULL ELSE 'k' || (i % 3) END, 'I' || i FROM generate_series(1, 35) i;
CREATE TABLE fz.heldout (u bigint, i bigint, r float8);
INSERT INTO fz.heldout SELECT u, 1 + (u * 11) % 30, u % 5 FROM generate_series(1, 40) u;
INSERT INTO fz.heldout VALUES (NULL, 1, 1), (1, NULL, 1), (999, 1, 'NaN'), (-9223372036854775808, 9223372036854775807, 'Infinity');
CREATE TABLE fz.heldout_empty (u bigint, i bigint, r float8);
CREATE TABLE "fz"."odd ""name""; --" ("u s" bigint, "i""" bigint);
INSERT INTO "fz"."odd ""name""; --" SELECT u, 1 + (u + j) % 7 FROM generate_series(1, 10) u, generate_series(1, 3) j;

-- the shop's own ids (0.3.0): uuid users and text items (odd keys among them), text users and
-- uuid items, derived from fz.clean
CREATE TABLE fz.keyed (u uuid, i text, w float8, t timestamptz);
INSERT INTO fz.keyed
SELECT md5(u::text)::uuid,
       CASE i % 10 WHEN 0 THEN '' WHEN 1 THEN 'K ''quoted'' "and" \ {,}' WHEN 2 THEN 'ünïcødé 🛒 ' || i
                   WHEN 3 THEN repeat('k', 900) || i ELSE 'K' || i END,
       w, t
  FROM fz.clean;
CREATE INDEX ON fz.keyed (u);
CREATE TABLE fz.keyed_items (id text, cat text, title text, in_stock boolean, price numeric);
INSERT INTO fz.keyed_items SELECT DISTINCT i, 'k' || (length(i) % 3), 'Keyed ' || left(i, 20), length(i) % 2 = 0, length(i) FROM fz.keyed;
INSERT INTO fz.keyed_items VALUES (NULL, 'k0', 'no id', true, 1), ('new item', 'k1', 'Keyed new', true, 2);
CREATE TABLE fz.ukeyed (u varchar(30), i uuid, t timestamptz);
INSERT INTO fz.ukeyed SELECT 'C' || u, md5(i::text)::uuid, t FROM fz.clean;
CREATE INDEX ON fz.ukeyed (u);

-- The registrations the fuzzer starts from and returns to (fz.reset(model)).
CREATE TABLE fz.registration (model text PRIMARY KEY, register_sql text, configure_sql text);
INSERT INTO fz.registration VALUES
 ('default', $$SELECT recommender.register('default', 'shop.events', 'customer_id', 'product_id', time_column => 'occurred_at', event_column => 'event_type', event_weights => '{"view": 1, "cart": 3, "purchase": 5}', items => 'shop.products', item_id_column => 'product_id', category_column => 'category', title_column => 'title')$$, NULL),
 ('m_clean', $$SELECT recommender.register('m_clean', 'fz.clean', 'u', 'i', weight_column => 'w', time_column => 't', items => 'fz.items', item_id_column => 'id', category_column => 'cats', title_column => 'title', text_column => 'descr')$$, $$SELECT 1 FROM recommender.configure('m_clean', keep_gram => true)$$),
 ('m_emb', $$SELECT recommender.register('m_emb', 'fz.clean', 'u', 'i', event_column => 'e', event_weights => '{"view": 1, "cart": 0, "buy": 1e10}', items => 'fz.items', item_id_column => 'id', embedding_column => 'emb')$$, NULL),
 ('m_scalar', $$SELECT recommender.register('m_scalar', 'fz.v_clean', 'u', 'i', time_column => 't', items => 'fz.items_scalar', item_id_column => 'id', category_column => 'cat', title_column => 'title')$$, $$SELECT 1 FROM recommender.configure('m_scalar', reranker => 'dpp')$$),
 ('m_mut', $$SELECT recommender.register('m_mut', 'fz.mut', 'u', 'i', weight_column => 'w', time_column => 't', event_column => 'e', event_weights => '{"view": 1, "cart": 2, "buy": 3}', items => 'fz.items', item_id_column => 'id', category_column => 'cats')$$, $$SELECT 1 FROM recommender.configure('m_mut', keep_gram => true, reranker => 'mmr')$$),
 ('m_empty', $$SELECT recommender.register('m_empty', 'fz.empty', 'u', 'i', weight_column => 'w', time_column => 't')$$, NULL),
 ('m_one', $$SELECT recommender.register('m_one', 'fz.one', 'u', 'i', weight_column => 'w', time_column => 't')$$, $$SELECT 1 FROM recommender.configure('m_one', keep_gram => true)$$),
 ('m_small', $$SELECT recommender.register('m_small', 'fz.small', 'u', 'i', weight_column => 'w', time_column => 't')$$, $$SELECT 1 FROM recommender.configure('m_small', keep_gram => true, weighting => 'binary')$$),
 ('m_bigid', $$SELECT recommender.register('m_bigid', 'fz.bigid', 'u', 'i')$$, NULL),
 ('m_odd', $$SELECT recommender.register('m_odd', '"fz"."odd ""name""; --"', 'u s', 'i"')$$, NULL),
 ('m_itime', $$SELECT recommender.register('m_itime', 'fz.itime', 'u', 'i', time_column => 't')$$, $$SELECT 1 FROM recommender.configure('m_itime', keep_gram => true)$$),
 ('m_keyed', $$SELECT recommender.register('m_keyed', 'fz.keyed', 'u', 'i', weight_column => 'w', time_column => 't', items => 'fz.keyed_items', item_id_column => 'id', category_column => 'cat', title_column => 'title')$$, $$SELECT 1 FROM recommender.configure('m_keyed', keep_gram => true)$$),
 ('m_ukeyed', $$SELECT recommender.register('m_ukeyed', 'fz.ukeyed', 'u', 'i', time_column => 't')$$, $$SELECT 1 FROM recommender.configure('m_ukeyed', keep_gram => true)$$);
CREATE VIEW fz.w_neg AS SELECT u, i, w, t FROM fz.weights WHERE kind = 'neg';
CREATE VIEW fz.w_nan AS SELECT u, i, w, t FROM fz.weights WHERE kind = 'nan';
CREATE VIEW fz.w_inf AS SELECT u, i, w, t FROM fz.weights WHERE kind = 'inf';
CREATE VIEW fz.w_huge AS SELECT u, i, w, t FROM fz.weights WHERE kind = 'huge';
CREATE VIEW fz.w_sub AS SELECT u, i, w, t FROM fz.weights WHERE kind = 'sub';
CREATE VIEW fz.w_zero AS SELECT u, i, w, t FROM fz.weights WHERE kind = 'zero';
CREATE VIEW fz.w_nullid AS SELECT u, i, w, t FROM fz.weights WHERE kind = 'nullid';
CREATE VIEW fz.w_nullw AS SELECT u, i, w, t FROM fz.weights WHERE kind = 'nullw';
CREATE VIEW fz.w_inftime AS SELECT u, i, w, t FROM fz.weights WHERE kind = 'inftime';
CREATE VIEW fz.w_nantime AS SELECT u, i, w, t FROM fz.weights WHERE kind = 'nantime';
CREATE VIEW fz.w_bigtime AS SELECT u, i, w, t FROM fz.weights WHERE kind = 'bigtime';
INSERT INTO fz.registration
SELECT 'm_' || k,
       format($$SELECT recommender.register(%L, 'fz.w_%s', 'u', 'i', weight_column => 'w', time_column => 't')$$, 'm_' || k, k),
       format($$SELECT 1 FROM recommender.configure(%L, weighting => %L, keep_gram => true)$$, 'm_' || k,
              CASE WHEN k IN ('huge', 'sub') THEN 'sum' ELSE (ARRAY['binary', 'sum', 'log', 'power'])[1 + ord::int % 4] END)
  FROM unnest(ARRAY['neg', 'nan', 'inf', 'huge', 'sub', 'zero', 'nullid', 'nullw', 'inftime', 'nantime', 'bigtime']) WITH ORDINALITY AS x(k, ord);

-- fz.reset(model): register (and configure) the model again as above; NULL: every model
CREATE FUNCTION fz.reset(model_name text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM fz.registration WHERE model_name IS NULL OR model = model_name ORDER BY model LOOP
    EXECUTE r.register_sql;
    IF r.configure_sql IS NOT NULL THEN EXECUTE r.configure_sql; END IF;
  END LOOP;
END $$;
-- fz.restore(): the mutated table back to its start
CREATE FUNCTION fz.restore() RETURNS void LANGUAGE sql AS $$
  TRUNCATE fz.mut;
  INSERT INTO fz.mut SELECT * FROM fz.clean;
$$;
-- fz.ddl: the table whose columns the fuzzer renames, retypes and drops under model m_ddl;
-- fz.ddl_restore() makes it again and registers m_ddl on it
CREATE FUNCTION fz.ddl_restore() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DROP TABLE IF EXISTS fz.ddl;
  CREATE TABLE fz.ddl AS SELECT u, i, w, t FROM fz.clean;
  PERFORM fz.reset('m_ddl');
END $$;
INSERT INTO fz.registration VALUES
 ('m_ddl', $$SELECT recommender.register('m_ddl', 'fz.ddl', 'u', 'i', weight_column => 'w', time_column => 't')$$, $$SELECT 1 FROM recommender.configure('m_ddl', keep_gram => true)$$);
SELECT fz.restore();
SELECT fz.ddl_restore();
SELECT fz.reset(NULL);
SELECT recommender.add_filter('default', 'cheap', 'in_stock AND price < 30');
SELECT recommender.add_filter('m_clean', 'stocked', 'in_stock');
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fuzz_nobody') THEN CREATE ROLE fuzz_nobody; END IF; END $$;
GRANT USAGE ON SCHEMA fz, shop TO fuzz_nobody;
GRANT SELECT ON fz.clean, fz.items TO fuzz_nobody;
