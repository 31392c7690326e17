-- Memory bounds and models that train but cannot serve (issue 8, items 1, 2, 4, 5, 6).
\set SHOW_CONTEXT never
SELECT recommender.reset_cache();     -- loads the library, which defines the settings
SELECT name, setting, unit, context, boot_val FROM pg_settings WHERE name LIKE 'recommender.%' ORDER BY 1;
SET client_min_messages = warning;
CREATE TABLE shop.mem_events AS SELECT customer_id, product_id, occurred_at, 1.0::float8 AS w FROM shop.events;
CREATE INDEX ON shop.mem_events (customer_id);
SELECT count(*) FROM (
  SELECT recommender.register(name, 'shop.mem_events', 'customer_id', 'product_id', weight_column => 'w', time_column => 'occurred_at')
    FROM unnest(ARRAY['mem', 'mem2']) name) x;
SELECT keep_gram FROM recommender.configure('mem', keep_gram => true);
SELECT model, items FROM recommender.train('mem');
SELECT model, items FROM recommender.train('mem2');
SELECT version AS v1 FROM recommender.model WHERE name = 'mem' \gset

-- 1. recommender.max_training_memory: training and update() fail before the Gram matrix is
--    allocated (no "computing the Gram matrix" notice), naming the limit and the figure; the
--    version in use keeps serving
SET recommender.max_training_memory = '4MB';
SET client_min_messages = notice;
SELECT * FROM recommender.train('mem');
SELECT * FROM recommender.update('mem');
SET client_min_messages = warning;
SELECT version = :v1 AS same_version FROM recommender.model WHERE name = 'mem';
SELECT count(*) FROM recommend(42, 10, 0, 'mem');
RESET recommender.max_training_memory;
-- only a superuser may change the limits
CREATE ROLE mem_user;
SET ROLE mem_user;
SET recommender.max_training_memory = '100GB';
SET recommender.max_cache_memory = '100GB';
SET recommender.shared_models = off;
SET recommender.max_shared_model_size = '1GB';
SET recommender.verify_shared_models = on;
RESET ROLE;
DROP ROLE mem_user;
-- a model that would not fit the cache is refused at training (a model that trains also serves)
SET recommender.max_cache_memory = '2MB';
SELECT * FROM recommender.train('mem');
RESET recommender.max_cache_memory;
SELECT version = :v1 AS same_version FROM recommender.model WHERE name = 'mem';

-- 2. the per-backend cache of private copies (models not served from a shared image): their
--    bytes (with recommend()'s scratch, made at the first call), least recently used models
--    evicted under the bound
SET recommender.shared_models = off;
SELECT recommender.reset_cache();
SELECT count(*) FROM recommend(42, 10, 0, 'mem');
SELECT count(*) FROM recommend(42, 10, 0, 'mem2');
SELECT model, items, bytes FROM recommender.cache_status();
SET recommender.max_cache_memory = '6MB';       -- room for one model
SELECT count(*) FROM recommend(42, 10, 0, 'mem');
SELECT model FROM recommender.cache_status();
SELECT count(*) FROM recommend(42, 10, 0, 'mem2');
SELECT model FROM recommender.cache_status();
-- a model larger than the bound is refused, with the figure
SET recommender.max_cache_memory = '2MB';
SELECT count(*) FROM recommend(42, 10, 0, 'mem');
SELECT count(*) AS cached FROM recommender.cache_status();
RESET recommender.max_cache_memory;
-- a model replaced by a newer version, and a dropped one, leave the cache at the next call
SELECT count(*) FROM recommend(42, 10, 0, 'mem');
SELECT count(*) FROM recommend(42, 10, 0, 'mem2');
SELECT model FROM recommender.cache_status();
SELECT model FROM recommender.train('mem');
SELECT pg_sleep(1.1);                           -- the check against the catalog runs at most once a second
SELECT count(*) FROM recommend(42, 10, 0, 'mem2');
SELECT model FROM recommender.cache_status();
SELECT recommender.drop('mem2');
SELECT pg_sleep(1.1);
SELECT count(*) FROM recommend(42, 10, 0, 'mem');
SELECT model, version = (SELECT version FROM recommender.model WHERE name = 'mem') AS current FROM recommender.cache_status();
SELECT version AS v2 FROM recommender.model WHERE name = 'mem' \gset
-- 3. served from the shared image (the default): no private copy (its bytes are recommend()'s
--    reused scratch only, 4 bytes an item of a dense model), so recommender.max_cache_memory
--    does not refuse it; the same lists as the private copy
SELECT string_agg(item_id::text, ',' ORDER BY rank) AS private_list FROM recommend(42, 10, 0.3, 'mem') \gset
RESET recommender.shared_models;
SELECT recommender.reset_cache();
SET recommender.max_cache_memory = '2MB';
SELECT string_agg(item_id::text, ',' ORDER BY rank) = :'private_list' AS same_list FROM recommend(42, 10, 0.3, 'mem');
SELECT model, bytes FROM recommender.cache_status();
RESET recommender.max_cache_memory;
-- a model image larger than recommender.max_shared_model_size: a private copy, with a NOTICE once
SELECT recommender.reset_cache();
SET recommender.max_shared_model_size = '64kB';
SET client_min_messages = notice;
SELECT string_agg(item_id::text, ',' ORDER BY rank) = :'private_list' AS same_list FROM recommend(42, 10, 0.3, 'mem');
SELECT count(*) FROM recommend(43, 10, 0.3, 'mem');
SET client_min_messages = warning;
SELECT model, bytes > 0 AS private FROM recommender.cache_status();
RESET recommender.max_shared_model_size;
SELECT recommender.reset_cache();

-- 4. a training that would store a model that cannot serve fails, and the previous version serves
UPDATE shop.mem_events SET w = 1e300 WHERE customer_id = 42;
SELECT weighting FROM recommender.configure('mem', weighting => 'sum');
SELECT * FROM recommender.train('mem');
SELECT version = :v2 AS same_version FROM recommender.model WHERE name = 'mem';
SELECT count(*) FROM recommend(43, 10, 0, 'mem');
-- embeddings wider than loading accepts are refused at training
CREATE TABLE shop.mem_items AS SELECT product_id, NULL::real[] AS emb FROM shop.products;
UPDATE shop.mem_items SET emb = (SELECT array_agg(((g * product_id) % 7)::real) FROM generate_series(1, 9000) g)
 WHERE product_id IN (SELECT product_id FROM shop.products ORDER BY product_id LIMIT 3);
SELECT recommender.register('mem_emb', 'shop.mem_events', 'customer_id', 'product_id',
         items => 'shop.mem_items', item_id_column => 'product_id', embedding_column => 'emb') IS NOT NULL AS registered;
SELECT * FROM recommender.train('mem_emb');
SELECT version IS NULL AS not_trained FROM recommender.model WHERE name = 'mem_emb';
SELECT recommender.drop('mem_emb');

-- 5. 'power' with two weights of 1e308 on one pair: the sum overflows; named, not stored as inf
UPDATE shop.mem_events SET w = 1e308 WHERE customer_id = 42;
INSERT INTO shop.mem_events SELECT * FROM shop.mem_events WHERE customer_id = 42;
SELECT weighting FROM recommender.configure('mem', weighting => 'power');
SELECT * FROM recommender.train('mem');
SELECT version = :v2 AS same_version FROM recommender.model WHERE name = 'mem';
DELETE FROM shop.mem_events WHERE customer_id = 42;
INSERT INTO shop.mem_events SELECT customer_id, product_id, occurred_at, 1 FROM shop.events WHERE customer_id = 42;
SELECT weighting FROM recommender.configure('mem', weighting => 'log');
SELECT model FROM recommender.train('mem');
-- an 'infinity' time: training and update() name the column; update() works again once fixed
INSERT INTO shop.mem_events VALUES (43, (SELECT min(product_id) FROM shop.mem_events), 'infinity', 1);
SELECT * FROM recommender.update('mem');
SELECT * FROM recommender.update('mem');
SELECT * FROM recommender.train('mem');
DELETE FROM shop.mem_events WHERE occurred_at = 'infinity';
INSERT INTO shop.mem_events SELECT 43, product_id, (SELECT max(occurred_at) FROM shop.mem_events) + interval '1 hour', 1
  FROM shop.products ORDER BY product_id LIMIT 2;
SELECT model, new_interactions FROM recommender.update('mem');
SELECT (params->>'watermark')::float8 = extract(epoch FROM (SELECT max(occurred_at) FROM shop.mem_events)) AS watermark_finite
  FROM recommender.model_version WHERE model = 'mem';

-- 6. subnormal weights: k rows, from the popularity fallback (every score is zero)
CREATE TABLE shop.mem_sub AS SELECT customer_id, product_id, 4.9e-324::float8 AS w FROM shop.events;
SELECT recommender.register('mem_sub', 'shop.mem_sub', 'customer_id', 'product_id', weight_column => 'w') IS NOT NULL AS registered;
SELECT model, items FROM recommender.train('mem_sub');
SELECT count(*), count(DISTINCT item_id), min(source), max(source) FROM recommend(42, 10, 0, 'mem_sub');
SELECT count(*) FROM recommend(42, 10, 0.5, 'mem_sub');
SELECT count(*) FROM similar_items((SELECT min(product_id) FROM shop.mem_sub), 10, 0, 'mem_sub');
SELECT role, detail LIKE 'user 42 has no history the model knows%' AS fallback FROM explain(42, 1, 'mem_sub') WHERE role = 'score';

SELECT recommender.drop(name) FROM unnest(ARRAY['mem', 'mem_sub']) name;
DROP TABLE shop.mem_events, shop.mem_items, shop.mem_sub;
RESET client_min_messages;
