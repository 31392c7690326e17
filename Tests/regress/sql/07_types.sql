-- Id, weight, time and category columns of other types; no items table (model-derived similarity).
CREATE SCHEMA t;
CREATE TABLE t.ev (u smallint, i bigint, w numeric, ts bigint);
INSERT INTO t.ev
SELECT u, 1000000000000 + (u * 7 + j * 13) % 40, 1 + (u + j) % 3, 1750000000 + u * 100 + j
  FROM generate_series(1, 300) u, generate_series(1, 12) j;
CREATE TABLE t.items (id bigint PRIMARY KEY, tags text[], name varchar(40));
INSERT INTO t.items SELECT 1000000000000 + i, ARRAY['tag' || (i % 4), 'tag' || (i % 7)], 'Item #' || i FROM generate_series(0, 39) i;
SELECT recommender.register('typed', 't.ev', 'u', 'i', weight_column => 'w', time_column => 'ts',
         items => 't.items', item_id_column => 'id', category_column => 'tags', title_column => 'name');
SET client_min_messages = warning;
SELECT model, users, items, interactions FROM recommender.train('typed');
RESET client_min_messages;
SELECT count(*) AS n, min(item_id) >= 1000000000000 AS big_ids FROM recommend(5, 5, 0, 'typed');
SELECT count(*) AS n FROM recommend(5, 5, 0.8, 'typed');
SELECT params->'categories' AS categories FROM recommender.model_version WHERE model = 'typed';
SELECT role, title FROM explain(5, (SELECT item_id FROM recommend(5, 1, 0, 'typed')), 'typed') WHERE role = 'score';
-- no items table: diversity uses model-derived item vectors
SELECT recommender.register('untyped', 't.ev', 'u', 'i');
SET client_min_messages = warning;
SELECT model, items FROM recommender.train('untyped');
RESET client_min_messages;
SELECT (params->>'similarity_dims')::int > 0 AS has_vectors FROM recommender.model_version WHERE model = 'untyped';
SELECT count(*) AS n, count(*) FILTER (WHERE for_variety) > 0 AS some_for_variety FROM recommend(5, 8, 0.9, 'untyped');
SELECT role, title IS NULL AS no_title FROM explain(5, (SELECT item_id FROM recommend(5, 1, 0, 'untyped')), 'untyped') WHERE role = 'score';
-- k larger than the catalog returns what there is
SELECT count(*) <= 40 AS capped FROM recommend(5, 500, 0, 'untyped');
SELECT recommender.drop('typed');
SELECT recommender.drop('untyped');
DROP SCHEMA t CASCADE;
