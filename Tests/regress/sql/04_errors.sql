-- Bad input gets a clear error with the right SQLSTATE, and the backend survives every one.
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

-- arguments
SELECT pg_temp.err('SELECT * FROM recommend(NULL, 10, 0)');
SELECT pg_temp.err('SELECT * FROM recommend(1, NULL, 0)');
SELECT pg_temp.err('SELECT * FROM recommend(1, 10, NULL)');
SELECT pg_temp.err('SELECT * FROM recommend(1, 0, 0)');
SELECT pg_temp.err('SELECT * FROM recommend(1, -5, 0)');
SELECT pg_temp.err('SELECT * FROM recommend(1, 2000000000, 0)');
SELECT pg_temp.err('SELECT * FROM recommend(1, 10, ''NaN'')');
SELECT pg_temp.err('SELECT * FROM recommend(1, 10, -0.1)');
SELECT pg_temp.err('SELECT * FROM recommend(1, 10, 1.5)');
SELECT pg_temp.err('SELECT * FROM recommend(1, 10, ''infinity'')');
SELECT pg_temp.err('SELECT * FROM explain(NULL, 1)');
SELECT pg_temp.err('SELECT * FROM explain(1, NULL)');
SELECT pg_temp.err('SELECT * FROM similar_items(NULL, 5)');
SELECT pg_temp.err('SELECT * FROM similar_items(987654321, 5)');
SELECT pg_temp.err('SELECT * FROM recommender.train(NULL)');
-- the same errors at top level (not inside a subtransaction)
SELECT * FROM recommend(1, 0, 0);
SELECT * FROM recommend(1, 10, 'NaN');
SELECT * FROM explain(NULL, 1);
-- models
SELECT pg_temp.err('SELECT * FROM recommend(1, 10, 0, ''nosuchmodel'')');
SELECT pg_temp.err('SELECT * FROM explain(1, 1, ''nosuchmodel'')');
SELECT pg_temp.err('SELECT * FROM recommender.train(''nosuchmodel'')');
SELECT pg_temp.err('SELECT recommender.drop(''nosuchmodel'')');
SELECT pg_temp.err('SELECT * FROM recommender.status(''nosuchmodel'')');
SELECT pg_temp.err($q$SELECT recommender.register('bad name', 'shop.events', 'customer_id', 'product_id')$q$);
SELECT pg_temp.err($q$SELECT recommender.register('m', 'no_such_table', 'customer_id', 'product_id')$q$);
SELECT pg_temp.err($q$SELECT recommender.register('m', 'shop.events', 'nope', 'product_id')$q$);
-- (text, varchar and uuid ids are the shop's own keys since 0.3.0, see 22_ids: a time is not an id)
SELECT pg_temp.err($q$SELECT recommender.register('m', 'shop.events', 'occurred_at', 'product_id')$q$);
SELECT pg_temp.err($q$SELECT recommender.register('m', 'shop.events', 'customer_id', 'product_id', weight_column => 'event_type')$q$);
SELECT pg_temp.err($q$SELECT recommender.register('m', 'shop.events', 'customer_id', 'product_id', time_column => 'event_type')$q$);
SELECT pg_temp.err($q$SELECT recommender.register('m', 'shop.events', 'customer_id', 'product_id', event_column => 'event_type')$q$);
SELECT pg_temp.err($q$SELECT recommender.register('m', 'shop.events', 'customer_id', 'product_id', event_column => 'event_type', event_weights => '{"view": -1}')$q$);
SELECT pg_temp.err($q$SELECT recommender.register('m', 'shop.events', 'customer_id', 'product_id', items => 'shop.products')$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.configure('default', lambda => -1)$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.configure('default', lambda => 'NaN')$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.configure('default', weighting => 'cubic')$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.configure('default', max_items => 0)$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.configure('default', dropout => 1)$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.configure('default', weight_power => 0)$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.configure('default', row_norm => 'NaN')$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.configure('default', reranker => 'random')$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.configure('nosuchmodel', lambda => 10)$q$);
-- a catalog larger than the dense model's limit
SELECT max_items FROM recommender.configure('default', max_items => 100);
SELECT pg_temp.err('SELECT * FROM recommender.train(''default'')');
SELECT max_items FROM recommender.configure('default', max_items => 10000);

-- a model that was never trained
CREATE TABLE ev (u int, i int, w float8);
SELECT recommender.register('untrained', 'ev', 'u', 'i', weight_column => 'w');
SELECT pg_temp.err('SELECT * FROM recommend(1, 10, 0, ''untrained'')');
SELECT pg_temp.err('SELECT * FROM explain(1, 2, ''untrained'')');
-- an empty table cannot be trained
SELECT pg_temp.err('SELECT * FROM recommender.train(''untrained'')');

-- bad data: NULL ids, negative and NaN weights
INSERT INTO ev VALUES (1, 1, 1), (1, 2, 1), (2, 1, 1), (2, 3, 1), (3, 2, 1), (3, 3, 1);
SET client_min_messages = warning;
SELECT model, items FROM recommender.train('untrained');
RESET client_min_messages;
INSERT INTO ev VALUES (NULL, 2, 1);
SELECT pg_temp.err('SELECT * FROM recommender.train(''untrained'')');
DELETE FROM ev WHERE u IS NULL;
INSERT INTO ev VALUES (4, NULL, 1);
SELECT pg_temp.err('SELECT * FROM recommender.train(''untrained'')');
SELECT pg_temp.err('SELECT * FROM recommend(4, 10, 0, ''untrained'')');
DELETE FROM ev WHERE i IS NULL;
INSERT INTO ev VALUES (5, 1, -2);
SELECT pg_temp.err('SELECT * FROM recommender.train(''untrained'')');
SELECT pg_temp.err('SELECT * FROM recommend(5, 10, 0, ''untrained'')');
DELETE FROM ev WHERE w < 0;
INSERT INTO ev VALUES (6, 1, 'NaN');
SELECT pg_temp.err('SELECT * FROM recommender.train(''untrained'')');
SELECT pg_temp.err('SELECT * FROM explain(6, 2, ''untrained'')');
DELETE FROM ev WHERE w = 'NaN';

-- the registered table changes under the model
ALTER TABLE ev RENAME COLUMN i TO item;
SELECT pg_temp.err('SELECT * FROM recommend(1, 10, 0, ''untrained'')');
SELECT pg_temp.err('SELECT * FROM recommender.train(''untrained'')');
SELECT value LIKE 'column "i" of "public.ev" (model "untrained") does not exist' AS status_says FROM recommender.status('untrained') WHERE key = 'registration';
ALTER TABLE ev RENAME COLUMN item TO i;
ALTER TABLE ev ALTER COLUMN i TYPE float8;
SELECT pg_temp.err('SELECT * FROM recommender.train(''untrained'')');
DROP TABLE ev;
SELECT pg_temp.err('SELECT * FROM recommend(1, 10, 0, ''untrained'')');
SELECT pg_temp.err('SELECT * FROM explain(1, 1, ''untrained'')');
SELECT pg_temp.err('SELECT * FROM recommender.train(''untrained'')');
SELECT recommender.drop('untrained');

-- the same backend answered every call, and it still works
SELECT pg_backend_pid() = :pid0 AS same_backend;
SELECT count(*) AS still_answers FROM recommend(1, 3, 0);
-- a savepoint after an error inside a transaction works
BEGIN;
SAVEPOINT a;
SELECT * FROM recommend(1, -1, 0);
ROLLBACK TO SAVEPOINT a;
SELECT count(*) AS after_savepoint FROM recommend(1, 3, 0);
COMMIT;
SELECT pg_backend_pid() = :pid0 AS same_backend;
