-- The shop's own ids (issue 7, part 3): text SKUs and uuid customers, text customers and uuid
-- products, straight from the shop's tables. Each keyed model is the integer model of the same
-- events mapped through a fixed mapping, so its lists, scores, explanations, rules, cold start,
-- update(), evaluate() and tune() must be those of its integer twin mapped the same way.
SELECT pg_backend_pid() AS pid0 \gset
SET client_min_messages = warning;
CREATE SCHEMA ids;
-- the integer twin, and two keyed copies in the same row order (training meets the items in the
-- same order, so the models are the same matrix)
CREATE TABLE ids.int_events AS SELECT customer_id, product_id, event_type, occurred_at FROM shop.events;
CREATE TABLE ids.int_products AS SELECT product_id, category, title, price, in_stock FROM shop.products;
-- a product without any interaction (cold start by content), in every copy
INSERT INTO ids.int_products VALUES (900001, 'Books', 'Marble Area Rug Guide by Casa Mira', 12, true);
-- model "skus": uuid customers, text SKUs
CREATE TABLE ids.events AS
  SELECT md5(customer_id::text)::uuid AS customer, 'SKU-' || product_id AS sku, event_type, occurred_at FROM ids.int_events;
CREATE TABLE ids.products AS
  SELECT 'SKU-' || product_id AS sku, category, title, price, in_stock FROM ids.int_products;
-- model "uuids": varchar customers, uuid products
CREATE TABLE ids.u_events AS
  SELECT ('C' || customer_id)::varchar(20) AS customer, md5('p' || product_id)::uuid AS product, event_type, occurred_at
    FROM ids.int_events;
CREATE TABLE ids.u_products AS
  SELECT md5('p' || product_id)::uuid AS product, category, title, price, in_stock FROM ids.int_products;
CREATE INDEX ON ids.int_events (customer_id);
CREATE INDEX ON ids.events (customer);
CREATE INDEX ON ids.u_events (customer);
CREATE FUNCTION pg_temp.u(bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT md5($1::text)::uuid $$;
CREATE FUNCTION pg_temp.p(bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT md5('p' || $1)::uuid $$;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- registration accepts text, varchar and uuid id columns (and still refuses other types)
SELECT recommender.register('ids_int', 'ids.int_events', 'customer_id', 'product_id',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'ids.int_products', item_id_column => 'product_id',
         category_column => 'category', title_column => 'title');
SELECT recommender.register('skus', 'ids.events', 'customer', 'sku',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'ids.products', item_id_column => 'sku',
         category_column => 'category', title_column => 'title');
SELECT recommender.register('uuids', 'ids.u_events', 'customer', 'product',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'ids.u_products', item_id_column => 'product',
         category_column => 'category', title_column => 'title');
SELECT * FROM recommender._id_types('ids_int'), recommender._id_types('skus') s, recommender._id_types('uuids') u;
SELECT pg_temp.err($q$SELECT recommender.register('bad', 'ids.events', 'occurred_at', 'sku')$q$);
SELECT count(*) AS configured FROM (SELECT recommender.configure(m, keep_gram => true) FROM unnest(ARRAY['ids_int', 'skus', 'uuids']) m) x;
SELECT model, users, items, interactions FROM recommender.train('ids_int');
SELECT model, users, items, interactions FROM recommender.train('skus');
SELECT model, users, items, interactions FROM recommender.train('uuids');
-- the keys are stored with the items (a surrogate in item_id); integer models store none
SELECT model, count(*) AS items, count(item_key) AS keys, count(DISTINCT item_key) AS distinct_keys
  FROM recommender.model_item WHERE model IN ('ids_int', 'skus', 'uuids') GROUP BY 1 ORDER BY 1;
SELECT model, trained, users, items_in_model FROM recommender.list() WHERE model IN ('ids_int', 'skus', 'uuids') ORDER BY 1;
SELECT key, value FROM recommender.status('skus') WHERE key IN ('registration', 'items_in_model', 'ids');
SELECT value AS ids FROM recommender.status('ids_int') WHERE key = 'ids';
SELECT params->>'item_keys' AS item_keys FROM recommender.model_version WHERE model IN ('ids_int', 'skus', 'uuids') ORDER BY model;

-- 1. the lists are the integer model's, mapped (same items, same scores), for 300 customers at
--    diversity 0 and 0.4
SELECT d AS diversity, count(*) AS users,
       count(*) FILTER (WHERE a = b) AS same_skus, count(*) FILTER (WHERE a2 = c) AS same_uuids
  FROM (SELECT d, c0.customer_id,
          (SELECT array_agg(('SKU-' || item_id) || ' ' || round(score::numeric, 9) || ' ' || source ORDER BY rank)
             FROM recommend(c0.customer_id, 10, d, 'ids_int')) a,
          (SELECT array_agg(item_id || ' ' || round(score::numeric, 9) || ' ' || source ORDER BY rank)
             FROM recommend(pg_temp.u(c0.customer_id), 10, d, 'skus')) b,
          (SELECT array_agg(pg_temp.p(item_id) || ' ' || round(score::numeric, 9) || ' ' || source ORDER BY rank)
             FROM recommend(c0.customer_id, 10, d, 'ids_int')) a2,
          (SELECT array_agg(item_id || ' ' || round(score::numeric, 9) || ' ' || source ORDER BY rank)
             FROM recommend('C' || c0.customer_id, 10, d, 'uuids')) c
          FROM (SELECT DISTINCT customer_id FROM ids.int_events ORDER BY 1 LIMIT 300) c0, (VALUES (0::float8), (0.4)) v(d)) x
 GROUP BY d ORDER BY d;
-- the same customer as uuid, as its text and in another spelling PostgreSQL accepts
SELECT pg_temp.u(42) AS u42 \gset
SELECT (SELECT array_agg(item_id ORDER BY rank) FROM recommend(:'u42'::uuid, 5, 0, 'skus'))
     = (SELECT array_agg(item_id ORDER BY rank) FROM recommend(:'u42', 5, 0, 'skus')) AS uuid_and_text,
       (SELECT array_agg(item_id ORDER BY rank) FROM recommend(:'u42', 5, 0, 'skus'))
     = (SELECT array_agg(item_id ORDER BY rank) FROM recommend('{' || upper(replace(:'u42', '-', '')) || '}', 5, 0, 'skus')) AS other_spelling;
SELECT rank, item_id, round(score::numeric, 6) AS score, source FROM recommend(:'u42'::uuid, 5, 0, 'skus');

-- 2. explain(): the contributions add up to the score, the user's own items by their keys, titles
SELECT e.item_id AS top FROM recommend(:'u42'::uuid, 1, 0, 'skus') e \gset
SELECT count(*) FILTER (WHERE role = 'because') AS parts,
       abs(sum(contribution) FILTER (WHERE role = 'because') - max(contribution) FILTER (WHERE role = 'score')) < 1e-9 AS sums,
       max(contribution) FILTER (WHERE role = 'score') = (SELECT score FROM recommend(:'u42'::uuid, 1, 0, 'skus')) AS score_is_recommends,
       bool_and(item_id IN (SELECT sku FROM ids.events WHERE customer = :'u42')) FILTER (WHERE role = 'because') AS own_items,
       bool_and(title IS NOT NULL) AS titled
  FROM explain(:'u42'::uuid, :'top', 'skus');
SELECT role, item_id, title, round(contribution::numeric, 6) AS contribution, detail
  FROM explain(:'u42'::uuid, :'top', 'skus') ORDER BY role DESC, contribution DESC LIMIT 3;
-- the same explanation as the integer model's, mapped
SELECT (SELECT array_agg(role || ' ' || item_id || ' ' || round(contribution::numeric, 9) ORDER BY role, item_id)
          FROM explain(:'u42'::uuid, :'top', 'skus'))
     = (SELECT array_agg(role || ' SKU-' || item_id || ' ' || round(contribution::numeric, 9) ORDER BY role, 'SKU-' || item_id)
          FROM explain(42, substr(:'top', 5)::bigint, 'ids_int')) AS same_explanation,
       (SELECT array_agg(role || ' ' || item_id || ' ' || round(contribution::numeric, 9) ORDER BY role, item_id)
          FROM explain('C42', pg_temp.p(substr(:'top', 5)::bigint), 'uuids'))
     = (SELECT array_agg(role || ' ' || pg_temp.p(item_id) || ' ' || round(contribution::numeric, 9) ORDER BY role, pg_temp.p(item_id)::text)
          FROM explain(42, substr(:'top', 5)::bigint, 'ids_int')) AS same_explanation_uuid;
-- an item of the user's history: not recommendable, said by its key
SELECT sku AS seen FROM ids.events WHERE customer = :'u42' ORDER BY occurred_at LIMIT 1 \gset
SELECT role, item_id, detail FROM explain(:'u42'::uuid, :'seen', 'skus') WHERE role = 'score';

-- 3. similar_items()
SELECT count(*) AS items, count(*) FILTER (WHERE a = b) AS same_similar
  FROM (SELECT p.product_id,
          (SELECT array_agg(('SKU-' || item_id) || ' ' || round(score::numeric, 9) ORDER BY rank) FROM similar_items(p.product_id, 5, 0.3, 'ids_int')) a,
          (SELECT array_agg(item_id || ' ' || round(score::numeric, 9) ORDER BY rank) FROM similar_items('SKU-' || p.product_id, 5, 0.3, 'skus')) b
          FROM (SELECT DISTINCT product_id FROM ids.int_events ORDER BY 1 LIMIT 50) p) x;
SELECT rank, item_id FROM similar_items(pg_temp.p(17), 3, 0, 'uuids');

-- 4. the shop's rules: a named filter, a boolean column, a category, a cap per category
SELECT recommender.add_filter('ids_int', 'cheap', 'in_stock AND price < 30');
SELECT recommender.add_filter('skus', 'cheap', 'in_stock AND price < 30');
SELECT recommender.add_filter('uuids', 'cheap', 'in_stock AND price < 30');
SELECT rule, count(*) AS users, count(*) FILTER (WHERE a = b) AS same_skus, count(*) FILTER (WHERE a2 = c) AS same_uuids,
       bool_and(cardinality(b) = 8) AS full_lists
  FROM (SELECT r.rule, c0.customer_id,
          (SELECT array_agg(('SKU-' || item_id) || ' ' || round(score::numeric, 9) ORDER BY rank)
             FROM recommend(c0.customer_id, 8, 0.3, 'ids_int', filter => r.f, category => r.cat, max_per_category => r.cap)) a,
          (SELECT array_agg(item_id || ' ' || round(score::numeric, 9) ORDER BY rank)
             FROM recommend(pg_temp.u(c0.customer_id), 8, 0.3, 'skus', filter => r.f, category => r.cat, max_per_category => r.cap)) b,
          (SELECT array_agg(pg_temp.p(item_id) || ' ' || round(score::numeric, 9) ORDER BY rank)
             FROM recommend(c0.customer_id, 8, 0.3, 'ids_int', filter => r.f, category => r.cat, max_per_category => r.cap)) a2,
          (SELECT array_agg(item_id || ' ' || round(score::numeric, 9) ORDER BY rank)
             FROM recommend('C' || c0.customer_id, 8, 0.3, 'uuids', filter => r.f, category => r.cat, max_per_category => r.cap)) c
          FROM (SELECT DISTINCT customer_id FROM ids.int_events ORDER BY 1 LIMIT 100) c0,
               (VALUES ('named filter', 'cheap', NULL, NULL::int), ('boolean column', 'in_stock', NULL, NULL),
                       ('category', NULL, 'Books', NULL), ('cap per category', NULL, NULL, 2)) r(rule, f, cat, cap)) x
 GROUP BY rule ORDER BY rule;
SELECT bool_and(p.in_stock AND p.price < 30) AS filter_holds
  FROM recommend(:'u42'::uuid, 10, 0, 'skus', filter => 'cheap') r JOIN ids.products p ON p.sku = r.item_id;
SELECT bool_and(p.category = 'Books') AS category_holds
  FROM recommend('C42', 10, 0, 'uuids', category => 'Books') r JOIN ids.u_products p ON p.product = r.item_id::uuid;
-- exclude_seen => false keeps the user's own items
SELECT count(*) FILTER (WHERE item_id IN (SELECT sku FROM ids.events WHERE customer = :'u42')) > 0 AS keeps_seen
  FROM recommend(:'u42'::uuid, 50, 0, 'skus', exclude_seen => false);

-- 5. cold start: a customer without history, an empty key, a very long key, a product without
--    interactions (scored by content, as in the integer model)
SELECT (SELECT array_agg(item_id || ' ' || source ORDER BY rank) FROM recommend(md5('nobody')::uuid, 5, 0, 'skus'))
     = (SELECT array_agg('SKU-' || item_id || ' ' || source ORDER BY rank) FROM recommend(-1, 5, 0, 'ids_int')) AS cold_user_popular,
       (SELECT array_agg(item_id ORDER BY rank) FROM recommend('', 5, 0, 'uuids'))
     = (SELECT array_agg(pg_temp.p(item_id)::text ORDER BY rank) FROM recommend(-1, 5, 0, 'ids_int')) AS empty_key_popular,
       (SELECT count(*) FROM recommend(repeat('x', 100000), 5, 0, 'uuids')) AS long_key_rows;
SELECT detail FROM explain(md5('nobody')::uuid, 'SKU-17', 'skus') WHERE role = 'score';
SELECT (SELECT round(contribution::numeric, 9) FROM explain(:'u42'::uuid, 'SKU-900001', 'skus') WHERE role = 'score')
     = (SELECT round(contribution::numeric, 9) FROM explain(42, 900001, 'ids_int') WHERE role = 'score') AS same_content_score,
       (SELECT detail LIKE '%content similarity%' FROM explain(:'u42'::uuid, 'SKU-900001', 'skus') WHERE role = 'score') AS by_content,
       (SELECT count(*) FROM similar_items('SKU-900001', 3, 0, 'skus')) AS similar_to_new;

-- 6. the text overloads serve integer models too (ids as text); overload resolution
SELECT (SELECT array_agg(item_id ORDER BY rank) FROM recommend('42', 5, 0, 'ids_int'))
     = (SELECT array_agg(item_id::text ORDER BY rank) FROM recommend(42, 5, 0, 'ids_int')) AS text_on_integer_model,
       (SELECT count(*) FROM explain('42', '17', 'ids_int')) > 0 AS explain_text,
       (SELECT array_agg(item_id ORDER BY rank) FROM similar_items(' 17 ', 3, 0, 'ids_int'))
     = (SELECT array_agg(item_id::text ORDER BY rank) FROM similar_items(17, 3, 0, 'ids_int')) AS similar_text;
SELECT pg_typeof(item_id) AS int_literal FROM recommend(42, 1, 0, 'ids_int');
SELECT pg_typeof(item_id) AS text_literal FROM recommend('42', 1, 0, 'ids_int');
SELECT pg_typeof(item_id) AS uuid_value FROM recommend(:'u42'::uuid, 1, 0, 'skus');
SELECT pg_typeof(item_id) AS named_args FROM recommend(user_id => 'C42', k => 1, model => 'uuids');
SELECT pg_typeof(item_id) AS explain_mixed FROM explain(:'u42'::uuid, 'SKU-17', 'skus') LIMIT 1;
SELECT pg_typeof(item_id) AS explain_text_uuid FROM explain('C42', pg_temp.p(17), 'uuids') LIMIT 1;
SELECT pg_typeof(item_id) AS similar_uuid FROM similar_items(pg_temp.p(17), 1, 0, 'uuids');

-- 7. bad inputs: clear errors, the session stays
SELECT pg_temp.err($q$SELECT * FROM recommend('not-a-uuid', 5, 0, 'skus')$q$) AS invalid_uuid;
SELECT pg_temp.err($q$SELECT * FROM recommend('', 5, 0, 'skus')$q$) AS empty_uuid;
SELECT pg_temp.err($q$SELECT * FROM explain('C42', 'SKU-17', 'uuids')$q$) AS invalid_item_uuid;
SELECT pg_temp.err($q$SELECT * FROM similar_items('{0123}', 5, 0, 'uuids')$q$) AS invalid_item_uuid2;
SELECT pg_temp.err($q$SELECT * FROM recommend(42, 5, 0, 'skus')$q$) AS bigint_on_keys;
SELECT pg_temp.err($q$SELECT * FROM explain(42, 17, 'skus')$q$) AS bigint_explain;
SELECT pg_temp.err($q$SELECT * FROM similar_items(17, 5, 0, 'uuids')$q$) AS bigint_similar;
SELECT pg_temp.err($q$SELECT * FROM recommend(1, 5, 0, 'uuids')$q$) AS bigint_on_text_users;
SELECT pg_temp.err($q$SELECT * FROM recommend('abc', 5, 0, 'ids_int')$q$) AS text_on_integer_users;
SELECT pg_temp.err($q$SELECT * FROM similar_items('99999999999999999999', 5, 0, 'ids_int')$q$) AS integer_overflow;
SELECT pg_temp.err($q$SELECT * FROM recommend(md5('x')::uuid, 5, 0, 'ids_int')$q$) AS uuid_on_integer_model;
SELECT pg_temp.err($q$SELECT * FROM recommend(NULL, 5, 0, 'skus')$q$) AS null_user;
SELECT pg_temp.err($q$SELECT * FROM recommend(NULL::uuid, 5, 0, 'skus')$q$) AS null_uuid;
SELECT pg_temp.err($q$SELECT * FROM explain('C42', NULL::text, 'uuids')$q$) AS null_item;
SELECT pg_temp.err($q$SELECT * FROM similar_items('SKU-nope', 5, 0, 'skus')$q$) AS unknown_item;
SELECT pg_temp.err($q$SELECT * FROM similar_items(repeat('é', 5000), 5, 0, 'skus')$q$) ~ '^22023: item ".{77}\.\.\." is not in model "skus"$' AS long_unknown_item;
SELECT role, item_id, regexp_replace(detail, 'version \d+', 'version n') AS detail FROM explain(:'u42'::uuid, 'SKU-nope', 'skus');
SELECT pg_temp.err($q$SELECT * FROM recommend('x', 0, 0, 'skus')$q$) AS bad_k;
SELECT pg_temp.err($q$SELECT * FROM recommend(md5('42')::uuid, 5, 0, 'skus', max_per_category => 0)$q$) AS bad_cap;

-- 8. keys with quotes, backslashes, unicode; a key longer than training accepts
INSERT INTO ids.events VALUES (:'u42', 'SKU "quoted", \back\slash, ünïcödé {}', 'purchase', '2026-10-30'),
                              (pg_temp.u(43), 'SKU "quoted", \back\slash, ünïcödé {}', 'purchase', '2026-10-30'),
                              (pg_temp.u(43), 'SKU-17', 'purchase', '2026-10-30');
INSERT INTO ids.products VALUES ('SKU "quoted", \back\slash, ünïcödé {}', 'Books', 'Quoted Title', 5, true);
SELECT model, items FROM recommender.train('skus');
SELECT role, item_id, title FROM explain(:'u42'::uuid, 'SKU "quoted", \back\slash, ünïcödé {}', 'skus') WHERE role = 'score';
SELECT count(*) AS listed FROM similar_items('SKU-17', 1000, 0, 'skus') WHERE item_id = 'SKU "quoted", \back\slash, ünïcödé {}';
INSERT INTO ids.events VALUES (:'u42', repeat('k', 2000), 'view', '2026-10-30');
SELECT pg_temp.err($q$SELECT * FROM recommender.train('skus')$q$) AS long_key;
DELETE FROM ids.events WHERE length(sku) > 1000;
-- a history item the model does not know: skipped, and listed by its key with contribution 0
INSERT INTO ids.events VALUES (:'u42', 'SKU-brand-new', 'view', '2026-10-31');
SELECT role, item_id, contribution, detail FROM explain(:'u42'::uuid, 'SKU-17', 'skus') WHERE item_id = 'SKU-brand-new';
SELECT count(*) AS rows FROM recommend(:'u42'::uuid, 5, 0, 'skus');
DELETE FROM ids.events WHERE sku LIKE 'SKU "quoted"%' OR sku = 'SKU-brand-new' OR (customer = pg_temp.u(43) AND occurred_at = '2026-10-30');
DELETE FROM ids.products WHERE sku LIKE 'SKU "quoted"%';
SELECT model, items FROM recommender.train('skus');

-- 9. update(): new events, the same in every copy, folded in; the lists stay the twin's
INSERT INTO ids.int_events VALUES (42, 17, 'purchase', '2026-11-01'), (42, 18, 'view', '2026-11-01'), (43, 17, 'cart', '2026-11-01');
INSERT INTO ids.events SELECT pg_temp.u(customer_id), 'SKU-' || product_id, event_type, occurred_at FROM ids.int_events WHERE occurred_at = '2026-11-01';
INSERT INTO ids.u_events SELECT 'C' || customer_id, pg_temp.p(product_id), event_type, occurred_at FROM ids.int_events WHERE occurred_at = '2026-11-01';
SELECT model, users, new_interactions FROM recommender.update('ids_int');
SELECT model, users, new_interactions FROM recommender.update('skus');
SELECT model, users, new_interactions FROM recommender.update('uuids');
SELECT count(*) AS users, count(*) FILTER (WHERE a = b) AS same_skus, count(*) FILTER (WHERE a2 = c) AS same_uuids
  FROM (SELECT c0.customer_id,
          (SELECT array_agg(('SKU-' || item_id) || ' ' || round(score::numeric, 9) ORDER BY rank) FROM recommend(c0.customer_id, 10, 0, 'ids_int')) a,
          (SELECT array_agg(item_id || ' ' || round(score::numeric, 9) ORDER BY rank) FROM recommend(pg_temp.u(c0.customer_id), 10, 0, 'skus')) b,
          (SELECT array_agg(pg_temp.p(item_id) || ' ' || round(score::numeric, 9) ORDER BY rank) FROM recommend(c0.customer_id, 10, 0, 'ids_int')) a2,
          (SELECT array_agg(item_id || ' ' || round(score::numeric, 9) ORDER BY rank) FROM recommend('C' || c0.customer_id, 10, 0, 'uuids')) c
          FROM (VALUES (42), (43), (44), (100), (2000)) c0(customer_id)) x;

-- 10. evaluate() and tune() with keyed held-out tables and the self-made validation split
CREATE TABLE ids.int_heldout AS SELECT DISTINCT customer_id, product_id FROM ids.int_events WHERE event_type = 'purchase' AND customer_id % 7 = 0;
DELETE FROM ids.int_events e USING ids.int_heldout h WHERE e.customer_id = h.customer_id AND e.product_id = h.product_id;
DELETE FROM ids.events e USING ids.int_heldout h WHERE e.customer = pg_temp.u(h.customer_id) AND e.sku = 'SKU-' || h.product_id;
CREATE TABLE ids.heldout AS SELECT pg_temp.u(customer_id) AS customer, 'SKU-' || product_id AS sku FROM ids.int_heldout;
SELECT model, items FROM recommender.train('ids_int');
SELECT model, items FROM recommender.train('skus');
SELECT a.metric, round(a.value::numeric, 9) AS value, round(a.value::numeric, 9) = round(b.value::numeric, 9) AS same
  FROM recommender.evaluate('ids_int', 'ids.int_heldout', 'customer_id', 'product_id') a
  JOIN recommender.evaluate('skus', 'ids.heldout', 'customer', 'sku') b USING (metric)
 WHERE a.metric IN ('precision', 'recall', 'ndcg', 'hit_rate', 'catalog_coverage', 'ild', 'popular_share', 'novelty')
 ORDER BY 1;
SELECT a.trial, round(a.ndcg_k::numeric, 9) = round(b.ndcg_k::numeric, 9) AS same_ndcg, a.ndcg_k > 0 AS scored
  FROM recommender.tune('ids_int', 'ids.int_heldout', 'customer_id', 'product_id', max_trials => 2) a
  JOIN recommender.tune('skus', 'ids.heldout', 'customer', 'sku', max_trials => 2) b USING (trial) ORDER BY 1;
SELECT a.trial, round(a.ndcg_k::numeric, 9) = round(b.ndcg_k::numeric, 9) AS same_ndcg, a.ndcg_k > 0 AS scored
  FROM recommender.tune('ids_int', max_trials => 2) a JOIN recommender.tune('skus', max_trials => 2) b USING (trial) ORDER BY 1;
SELECT count(*) AS tune_leftovers FROM recommender.model WHERE name LIKE '\_tune\_%';
-- held-out ids that cannot be the model's: refused up front (integer ids for uuid users, keys
-- for integer items), or named (a text key that is not a uuid)
SELECT pg_temp.err($q$SELECT * FROM recommender.evaluate('skus', 'ids.int_heldout', 'customer_id', 'product_id')$q$) AS integer_heldout;
SELECT pg_temp.err($q$SELECT * FROM recommender.evaluate('ids_int', 'ids.heldout', 'customer', 'sku')$q$) AS keyed_heldout;
SELECT pg_temp.err($q$SELECT * FROM recommender.tune('ids_int', 'ids.heldout', 'customer', 'sku', max_trials => 1)$q$) AS keyed_heldout_tune;
CREATE TABLE ids.text_heldout AS SELECT customer::text AS customer, sku FROM ids.heldout;
SELECT (SELECT array_agg(round(value::numeric, 9) ORDER BY metric) FROM recommender.evaluate('skus', 'ids.text_heldout', 'customer', 'sku'))
     = (SELECT array_agg(round(value::numeric, 9) ORDER BY metric) FROM recommender.evaluate('skus', 'ids.heldout', 'customer', 'sku')) AS text_heldout_same;
INSERT INTO ids.text_heldout VALUES ('not-a-uuid', 'SKU-1');
SELECT pg_temp.err($q$SELECT * FROM recommender.evaluate('skus', 'ids.text_heldout', 'customer', 'sku')$q$) AS not_a_uuid;

-- 11. a model registered again with other id types serves only once it is trained again
SELECT recommender.register('flip', 'ids.int_events', 'customer_id', 'product_id');
SELECT model, items > 0 AS trained FROM recommender.train('flip');
SELECT recommender.register('flip', 'ids.events', 'customer', 'sku');
SELECT pg_temp.err($q$SELECT * FROM recommend(md5('42')::uuid, 5, 0, 'flip')$q$) AS stale_version;
SELECT model, items > 0 AS trained FROM recommender.train('flip');
SELECT count(*) AS served FROM recommend(:'u42'::uuid, 5, 0, 'flip');
SELECT recommender.drop('flip');
-- the same when the column's type changes under a trained model (the queries are built again)
CREATE TABLE ids.flip2 AS SELECT customer_id, product_id FROM ids.int_events WHERE customer_id < 300;
SELECT recommender.register('flip2', 'ids.flip2', 'customer_id', 'product_id') IS NOT NULL AS registered;
SELECT model, items > 0 AS trained FROM recommender.train('flip2');
SELECT count(*) AS served FROM recommend(42, 5, 0, 'flip2');
ALTER TABLE ids.flip2 ALTER COLUMN product_id TYPE text USING 'SKU-' || product_id;
SELECT pg_temp.err($q$SELECT * FROM recommend(42, 5, 0, 'flip2')$q$) AS bigint_after_type_change;
SELECT pg_temp.err($q$SELECT * FROM recommend('42', 5, 0, 'flip2')$q$) AS text_before_training;
SELECT model, items > 0 AS trained FROM recommender.train('flip2');
SELECT count(*) AS served, bool_and(item_id LIKE 'SKU-%') AS skus FROM recommend('42', 5, 0, 'flip2');
SELECT recommender.drop('flip2');

-- the new functions are set up like the bigint ones: SECURITY INVOKER, STABLE, fixed search_path
SELECT p.oid::regprocedure AS function, p.prosecdef, p.provolatile, p.proconfig, pg_get_function_result(p.oid) AS returns
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.proname IN ('recommend', 'explain', 'similar_items') ORDER BY p.proname, p.oid::regprocedure::text;

SELECT pg_backend_pid() = :pid0 AS same_backend;
SELECT recommender.drop(m) FROM unnest(ARRAY['ids_int', 'skus', 'uuids']) m;
DROP SCHEMA ids CASCADE;
