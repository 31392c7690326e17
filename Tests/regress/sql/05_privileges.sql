-- Privileges: internal queries run as the calling role; a role that may not read the
-- interactions table gets a permission error, not recommendations, and sees no model data.
SELECT pg_backend_pid() AS pid0 \gset
CREATE ROLE rec_reader;
CREATE ROLE rec_outsider;
GRANT USAGE ON SCHEMA shop TO rec_reader, rec_outsider;
GRANT SELECT ON shop.events, shop.products TO rec_reader;
GRANT SELECT ON shop.products TO rec_outsider;

SET ROLE rec_reader;
SELECT count(*) AS n FROM recommend(1, 5, 0);
SELECT count(*) > 0 AS sees_model_rows FROM recommender.model_item;
SELECT count(*) AS models FROM recommender.list();
RESET ROLE;

SET ROLE rec_outsider;
SELECT * FROM recommend(1, 5, 0);
SELECT * FROM explain(1, 1);
SELECT * FROM recommend(1, 5, 0, 'default');
SELECT count(*) AS model_rows_visible FROM recommender.model_item;
SELECT count(*) AS versions_visible FROM recommender.model_version;
SELECT count(*) AS models_visible FROM recommender.list();
SELECT * FROM recommender.train('default');
RESET ROLE;

-- a role that may read the table but not write the catalog cannot train or register
\set VERBOSITY terse
SET ROLE rec_reader;
SELECT * FROM recommender.train('default');
SELECT recommender.register('mine', 'shop.events', 'customer_id', 'product_id');
RESET ROLE;
\set VERBOSITY default

-- search_path tricks: a table of the same name and a hijacked "=" operator earlier in the
-- search_path change nothing
SELECT array_agg(item_id ORDER BY rank) AS reference FROM recommend(7, 5, 0) \gset
CREATE SCHEMA evil;
CREATE TABLE evil.events (customer_id int, product_id int, event_type text, occurred_at timestamptz);
CREATE FUNCTION evil.eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN RAISE NOTICE 'hijacked'; RETURN true; END $$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.eq);
CREATE FUNCTION evil.eq(integer, bigint) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN RAISE NOTICE 'hijacked'; RETURN true; END $$;
CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = bigint, FUNCTION = evil.eq);
SET search_path = evil, pg_catalog, public;
SELECT array_agg(item_id ORDER BY rank) = :'reference'::bigint[] AS unchanged FROM recommend(7, 5, 0);
SELECT count(*) > 0 AS explains FROM explain(7, 1);
RESET search_path;
DROP SCHEMA evil CASCADE;

-- names that would inject SQL if pasted into a query are just names
CREATE SCHEMA "we""ird; DROP TABLE shop.products; --";
CREATE TABLE "we""ird; DROP TABLE shop.products; --"."ev""ents" ("us er" int, "it'em" bigint);
INSERT INTO "we""ird; DROP TABLE shop.products; --"."ev""ents" VALUES (1, 10), (1, 11), (2, 10), (2, 12), (3, 11), (3, 12);
SELECT recommender.register('weird', '"we""ird; DROP TABLE shop.products; --"."ev""ents"', 'us er', 'it''em');
SET client_min_messages = warning;
SELECT model, users, items FROM recommender.train('weird');
RESET client_min_messages;
SELECT count(*) AS n FROM recommend(1, 5, 0, 'weird');
SELECT count(*) > 0 AS products_still_there FROM shop.products;
SELECT recommender.drop('weird');
DROP SCHEMA "we""ird; DROP TABLE shop.products; --" CASCADE;

REVOKE ALL ON shop.events, shop.products FROM rec_reader, rec_outsider;
REVOKE USAGE ON SCHEMA shop FROM rec_reader, rec_outsider;
DROP ROLE rec_reader;
DROP ROLE rec_outsider;
SELECT pg_backend_pid() = :pid0 AS same_backend;
