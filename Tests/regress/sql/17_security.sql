-- Security (issue 8, items 10-13): search_path hijacks at every entry point, filter predicates
-- restricted to side-effect-free expressions over the items table, registrations used only by
-- roles that trust their author, no internal function that looks past row security, and no
-- aggregates for roles that row-level security keeps from some interactions.
SELECT pg_backend_pid() AS pid0 \gset
SET client_min_messages = warning;

-- ---------------------------------------------------------------------------------------------
-- 1. search_path: an "evil" schema first in search_path with operators and functions of the
--    names and argument types the extension uses; each one logs that it ran.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA evil;
CREATE TABLE evil.log (what text, at timestamptz DEFAULT clock_timestamp());
GRANT USAGE ON SCHEMA evil TO PUBLIC;
GRANT INSERT, SELECT ON evil.log TO PUBLIC;
CREATE FUNCTION evil.note(what text) RETURNS void LANGUAGE sql SET search_path = pg_catalog AS
  $$ INSERT INTO evil.log (what) VALUES (what) $$;
CREATE FUNCTION evil.jget(j jsonb, k text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('->> jsonb'); RETURN j OPERATOR(pg_catalog.->>) k; END $$;
CREATE OPERATOR evil.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.jget);
CREATE FUNCTION evil.jobj(j jsonb, k text) RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('-> jsonb'); RETURN j OPERATOR(pg_catalog.->) k; END $$;
CREATE OPERATOR evil.-> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.jobj);
CREATE FUNCTION evil.jcat(a jsonb, b jsonb) RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('|| jsonb'); RETURN a OPERATOR(pg_catalog.||) b; END $$;
CREATE OPERATOR evil.|| (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = evil.jcat);
CREATE FUNCTION evil.tcat(a text, b text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('|| text'); RETURN a OPERATOR(pg_catalog.||) b; END $$;
CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.tcat);
CREATE FUNCTION evil.teq(a text, b text) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('= text'); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.teq);
CREATE FUNCTION evil.i8eq(a bigint, b bigint) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('= int8'); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.i8eq);
CREATE FUNCTION evil.i48eq(a integer, b bigint) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('= int4 int8'); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = bigint, FUNCTION = evil.i48eq);
CREATE FUNCTION evil.i8ne(a bigint, b bigint) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('<> int8'); RETURN a OPERATOR(pg_catalog.<>) b; END $$;
CREATE OPERATOR evil.<> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.i8ne);
CREATE FUNCTION evil.i4lt(a integer, b integer) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('< int4'); RETURN a OPERATOR(pg_catalog.<) b; END $$;
CREATE OPERATOR evil.< (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.i4lt);
CREATE FUNCTION evil.f8gt(a float8, b float8) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('> float8'); RETURN a OPERATOR(pg_catalog.>) b; END $$;
CREATE OPERATOR evil.> (LEFTARG = float8, RIGHTARG = float8, FUNCTION = evil.f8gt);
CREATE FUNCTION evil.tsgt(a timestamptz, b timestamptz) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('> timestamptz'); RETURN a OPERATOR(pg_catalog.>) b; END $$;
CREATE OPERATOR evil.> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.tsgt);
CREATE FUNCTION evil.f8mul(a float8, b float8) RETURNS float8 LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('* float8'); RETURN a OPERATOR(pg_catalog.*) b; END $$;
CREATE OPERATOR evil.* (LEFTARG = float8, RIGHTARG = float8, FUNCTION = evil.f8mul);
CREATE FUNCTION evil.i8pl(a bigint, b bigint) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('+ int8'); RETURN a OPERATOR(pg_catalog.+) b; END $$;
CREATE OPERATOR evil.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.i8pl);
CREATE FUNCTION evil.date_part(f text, t timestamptz) RETURNS float8 LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('date_part'); RETURN pg_catalog.date_part(f, t); END $$;
CREATE FUNCTION evil.unnest(a bigint[]) RETURNS SETOF bigint LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('unnest'); RETURN QUERY SELECT pg_catalog.unnest(a); END $$;
CREATE FUNCTION evil.nextval(s regclass) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('nextval'); RETURN pg_catalog.nextval(s); END $$;
CREATE FUNCTION evil.to_timestamp(x float8) RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('to_timestamp'); RETURN pg_catalog.to_timestamp(x); END $$;
CREATE FUNCTION evil.format(f text, VARIADIC a text[]) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('format'); RETURN f; END $$;
CREATE FUNCTION evil.array_to_string(a anyarray, d text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('array_to_string'); RETURN pg_catalog.array_to_string(a, d); END $$;
CREATE FUNCTION evil.uuideq(a uuid, b uuid) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('= uuid'); RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.uuideq);
CREATE FUNCTION evil.unnest(a text[]) RETURNS SETOF text LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('unnest text'); RETURN QUERY SELECT pg_catalog.unnest(a); END $$;
CREATE FUNCTION evil.unnest(a uuid[]) RETURNS SETOF uuid LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('unnest uuid'); RETURN QUERY SELECT pg_catalog.unnest(a); END $$;
CREATE FUNCTION evil.md5(a text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN PERFORM evil.note('md5'); RETURN pg_catalog.md5(a); END $$;
CREATE TABLE evil.events (customer_id int, product_id int, event_type text, occurred_at timestamptz);
CREATE TABLE evil.model (name text);

-- a copy of the shop's events for a model of its own (time column, event weights, items with
-- categories and titles, keep_gram for update())
CREATE TABLE shop.sec_events AS SELECT customer_id, product_id, event_type, occurred_at FROM shop.events;
CREATE INDEX ON shop.sec_events (customer_id);
SELECT max(occurred_at) AS last_event FROM shop.sec_events \gset
SELECT customer_id AS sec_user FROM shop.sec_events GROUP BY 1 HAVING count(*) BETWEEN 10 AND 20 ORDER BY 1 LIMIT 1 \gset
SELECT array_agg(item_id ORDER BY rank) AS reference FROM recommend(:sec_user, 5, 0, 'default') \gset
-- and with the shop's own ids (the text and uuid overloads): uuid customers, text SKUs
CREATE TABLE shop.sec_key_events AS
  SELECT md5(customer_id::text)::uuid AS customer, 'SKU-' || product_id AS sku, event_type, occurred_at FROM shop.sec_events;
CREATE INDEX ON shop.sec_key_events (customer);
CREATE TABLE shop.sec_key_products AS SELECT 'SKU-' || product_id AS sku, category, title, price, in_stock FROM shop.products;
SELECT md5(:sec_user::text)::uuid AS sec_key_user \gset

SET search_path = evil, pg_catalog, public;
SELECT recommender.register('sec', 'shop.sec_events', 'customer_id', 'product_id',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'shop.products', item_id_column => 'product_id',
         category_column => 'category', title_column => 'title') IS NOT NULL AS registered;
SELECT count(*) AS configured FROM recommender.configure('sec', keep_gram => true);
SELECT recommender.add_filter('sec', 'cheap', 'in_stock AND price < 30') IS NOT NULL AS filter_added;
SELECT model, users > 0 AS trained FROM recommender.train('sec');
INSERT INTO shop.sec_events VALUES (:sec_user, 1, 'purchase', :'last_event'::timestamptz + interval '1 hour');
SELECT model, new_interactions FROM recommender.update('sec');
SELECT recommender.reset_cache();
SELECT count(*) AS recommended FROM recommend(:sec_user, 5, 0.3, 'sec');
SELECT count(*) AS filtered FROM recommend(:sec_user, 5, 0, 'sec', filter => 'cheap');
SELECT count(*) AS by_column FROM recommend(:sec_user, 5, 0, 'sec', filter => 'in_stock');
SELECT count(*) AS in_category FROM recommend(:sec_user, 5, 0, 'sec', category => 'Books', max_per_category => 3);
SELECT count(*) AS explained FROM explain(:sec_user, 1, 'sec');
SELECT count(*) AS similar FROM similar_items(1, 5, 0.5, 'sec');
SELECT count(*) AS metrics FROM recommender.evaluate('sec', 'shop.sec_events', 'customer_id', 'product_id', k => 5);
SELECT count(*) AS status_rows FROM recommender.status('sec');
SELECT count(*) AS listed FROM recommender.list();
SELECT array_agg(item_id ORDER BY rank) AS hijacked_list FROM recommend(:sec_user, 5, 0, 'default') \gset
SELECT recommender.drop_filter('sec', 'cheap') IS NOT NULL AS filter_dropped;
SELECT recommender.drop('sec') IS NOT NULL AS dropped;
SELECT recommender.register('sec_keys', 'shop.sec_key_events', 'customer', 'sku',
         time_column => 'occurred_at', event_column => 'event_type',
         event_weights => '{"view": 1, "cart": 3, "purchase": 5}',
         items => 'shop.sec_key_products', item_id_column => 'sku',
         category_column => 'category', title_column => 'title') IS NOT NULL AS registered;
SELECT count(*) AS configured FROM recommender.configure('sec_keys', keep_gram => true);
SELECT recommender.add_filter('sec_keys', 'cheap', 'in_stock AND price < 30') IS NOT NULL AS filter_added;
SELECT model, users > 0 AS trained FROM recommender.train('sec_keys');
INSERT INTO shop.sec_key_events VALUES (:'sec_key_user', 'SKU-1', 'purchase', :'last_event'::timestamptz + interval '1 hour');
SELECT model, new_interactions FROM recommender.update('sec_keys');
SELECT recommender.reset_cache();
SELECT count(*) AS key_recommended FROM recommend(:'sec_key_user'::uuid, 5, 0.3, 'sec_keys');
SELECT count(*) AS key_as_text FROM recommend(:'sec_key_user', 5, 0, 'sec_keys', filter => 'cheap');
SELECT count(*) AS key_rules FROM recommend(:'sec_key_user'::uuid, 5, 0, 'sec_keys', filter => 'in_stock', category => 'Books', max_per_category => 3);
SELECT count(*) AS key_explained FROM explain(:'sec_key_user'::uuid, 'SKU-1', 'sec_keys');
SELECT count(*) AS key_explained_text FROM explain(:'sec_key_user', 'SKU-2', 'sec_keys');
SELECT count(*) AS key_similar FROM similar_items('SKU-1', 5, 0.5, 'sec_keys');
SELECT count(*) AS key_metrics FROM recommender.evaluate('sec_keys', 'shop.sec_key_events', 'customer', 'sku', k => 5);
SELECT count(*) AS int_as_text FROM recommend(:'sec_user', 5, 0, 'default');
SELECT recommender.drop_filter('sec_keys', 'cheap') IS NOT NULL AS filter_dropped;
SELECT recommender.drop('sec_keys') IS NOT NULL AS dropped;
RESET search_path;
-- nothing of the evil schema ran, and the lists are those without it
SELECT count(*) AS evil_calls, string_agg(DISTINCT what, ', ') AS what FROM evil.log;
SELECT :'hijacked_list' = :'reference' AS same_list;
DROP TABLE shop.sec_events, shop.sec_key_events, shop.sec_key_products;

-- ---------------------------------------------------------------------------------------------
-- 2. Filter predicates: only side-effect-free expressions over the items table's columns with
--    PostgreSQL's own non-volatile functions and operators, checked at add_filter and at use.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION public.rec_leak() RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.note('leak ran as ' || current_user); RETURN true; END $$;
CREATE OR REPLACE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'public.rec_leak()')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'rec_leak()')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'in_stock OPERATOR(evil.=) in_stock')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'price::text OPERATOR(evil.=) ''1''')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'set_config(''search_path'', ''evil'', false) IS NOT NULL')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'pg_catalog.nextval(''recommender.version_seq'') > 0')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'query_to_xml(''select public.rec_leak()'', true, true, '''') IS NOT NULL')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'product_id IN (SELECT 1)')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'EXISTS (SELECT FROM evil.log)')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'true) x; DROP TABLE shop.products; --')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'true FROM pg_catalog.pg_authid')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'count(*) > 0')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'products.in_stock')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', '$1')$q$);
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'f', 'generate_series(1, 2) > 1')$q$);
-- what a shop writes still works: columns, built-in operators and functions, now()
SELECT recommender.add_filter('default', 'fresh_cheap',
         'in_stock AND price BETWEEN 1 AND 30 AND lower(category) <> ''books'' AND added_at > now() - interval ''10 years'' AND title ~* ''a''') AS added;
SELECT count(*) AS fresh_cheap FROM recommend(7, 5, 0, 'default', filter => 'fresh_cheap');
-- a predicate written into the catalog directly (a delegated catalog writer can) is checked
-- again at use: refused, and the function never runs
INSERT INTO recommender.filter VALUES ('default', 'sneaky', 'public.rec_leak() AND in_stock');
SELECT pg_temp.err($q$SELECT * FROM recommend(7, 5, 0, 'default', filter => 'sneaky')$q$);
UPDATE recommender.filter SET predicate = 'set_config(''search_path'', ''evil'', false) IS NOT NULL' WHERE name = 'sneaky';
SELECT pg_temp.err($q$SELECT * FROM recommend(7, 5, 0, 'default', filter => 'sneaky')$q$);
SELECT current_setting('search_path') AS search_path_unchanged;
DELETE FROM recommender.filter WHERE name = 'sneaky';
SELECT count(*) AS leaks FROM evil.log;
-- a named filter never shadows a boolean column: add_filter refuses a column's name, and a
-- column added later makes the name ambiguous instead of silently losing to the filter
SELECT pg_temp.err($q$SELECT recommender.add_filter('default', 'in_stock', 'price < 10')$q$);
SELECT recommender.add_filter('default', 'promo', 'price < 10') IS NOT NULL AS added;
ALTER TABLE shop.products ADD COLUMN promo boolean DEFAULT false;
SELECT pg_temp.err($q$SELECT * FROM recommend(7, 5, 0, 'default', filter => 'promo')$q$);
ALTER TABLE shop.products DROP COLUMN promo;
SELECT count(*) AS promo_again FROM recommend(7, 5, 0, 'default', filter => 'promo');
SELECT recommender.drop_filter('default', 'promo') IS NOT NULL AS dropped,
       recommender.drop_filter('default', 'fresh_cheap') IS NOT NULL AS dropped2;

-- ---------------------------------------------------------------------------------------------
-- 3. Trust: a delegated catalog writer cannot make another role run its code. A registration
--    (and a view it reads) is used only by roles that trust its author: the role itself, a
--    superuser, or a member of the calling role.
-- ---------------------------------------------------------------------------------------------
CREATE ROLE rec_writer;
CREATE ROLE rec_app;
CREATE SCHEMA writer AUTHORIZATION rec_writer;
GRANT USAGE ON SCHEMA shop TO rec_writer, rec_app;
GRANT SELECT ON shop.events, shop.products TO rec_writer, rec_app;
GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA recommender TO rec_writer;
GRANT USAGE ON SEQUENCE recommender.version_seq TO rec_writer;
SET ROLE rec_writer;
CREATE FUNCTION writer.spy(c int) RETURNS int LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.note('spy ran as ' || current_user); RETURN c; END $$;
CREATE VIEW writer.events AS SELECT writer.spy(customer_id) AS customer_id, product_id FROM shop.events WHERE customer_id <= 200;
GRANT USAGE ON SCHEMA writer TO rec_app;
GRANT SELECT ON writer.events TO rec_app;
SELECT recommender.register('trojan', 'writer.events', 'customer_id', 'product_id') IS NOT NULL AS registered;
SELECT model, users > 0 AS trained FROM recommender.train('trojan');
-- claiming another author does not help: the trigger stamps the role that wrote the row
UPDATE recommender.model SET registered_by = 'postgres' WHERE name = 'trojan';
SELECT registered_by FROM recommender.model WHERE name = 'trojan';
RESET ROLE;
TRUNCATE evil.log;
CREATE TABLE shop.sec_heldout AS SELECT customer_id, product_id FROM shop.events WHERE customer_id IN (7, 8, 9);
-- the superuser does not trust rec_writer: refused before the view is read
SELECT pg_temp.err($q$SELECT * FROM recommend(7, 5, 0, 'trojan')$q$);
SELECT pg_temp.err($q$SELECT * FROM explain(7, 1, 'trojan')$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.train('trojan')$q$);
SELECT pg_temp.err($q$SELECT * FROM recommender.evaluate('trojan', 'shop.sec_heldout', 'customer_id', 'product_id')$q$);
SELECT value AS registration FROM recommender.status('trojan') WHERE key = 'registration';
-- neither does rec_app, until rec_writer is a member of it (may act as rec_app anyway)
SET ROLE rec_app;
SELECT pg_temp.err($q$SELECT * FROM recommend(7, 5, 0, 'trojan')$q$);
RESET ROLE;
GRANT rec_app TO rec_writer;
SET ROLE rec_app;
SELECT count(*) AS trusted_now FROM recommend(7, 5, 0, 'trojan');
RESET ROLE;
-- the trust a session caches follows membership changes (a REVOKE is seen at the next call)
REVOKE rec_app FROM rec_writer;
SET ROLE rec_app;
SELECT pg_temp.err($q$SELECT * FROM recommend(7, 5, 0, 'trojan')$q$);
RESET ROLE;
GRANT rec_app TO rec_writer;
SET ROLE rec_app;
SELECT count(*) AS trusted_again FROM recommend(7, 5, 0, 'trojan');
RESET ROLE;
SELECT count(*) FILTER (WHERE what LIKE '%postgres%') AS ran_as_superuser,
       count(*) FILTER (WHERE what LIKE '%rec_app%') > 0 AS ran_as_app FROM evil.log;
-- a superuser's registration of a view owned by an untrusted role is refused too
SELECT pg_temp.err($q$SELECT recommender.register('trojan2', 'writer.events', 'customer_id', 'product_id')$q$);
SELECT count(*) AS trojan2_rows FROM recommender.model WHERE name = 'trojan2';
-- a registration written straight into the catalog by the writer, naming the superuser's table
SET ROLE rec_writer;
SELECT recommender.drop('trojan') IS NOT NULL AS dropped;
INSERT INTO recommender.model (name, interactions, interactions_name, user_column, item_column, registered_by)
VALUES ('trojan3', 'writer.events'::regclass, 'writer.events', 'customer_id', 'product_id', 'postgres');
RESET ROLE;
SELECT name, registered_by FROM recommender.model WHERE name = 'trojan3';
SELECT pg_temp.err($q$SELECT * FROM recommender.train('trojan3')$q$);
SELECT recommender.drop('trojan3') IS NOT NULL AS dropped;
SELECT count(*) FILTER (WHERE what LIKE '%postgres%') AS ran_as_superuser FROM evil.log;

-- ---------------------------------------------------------------------------------------------
-- 4. No internal function looks past row security; a hidden model is reported exactly like a
--    model that does not exist.
-- ---------------------------------------------------------------------------------------------
SELECT count(*) AS security_definer_functions
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'recommender') AND p.prosecdef;
SELECT to_regprocedure('recommender._hidden_model(text)') IS NULL AS no_hidden_model;
SELECT 'shop.products'::regclass::oid AS products_oid \gset
CREATE ROLE rec_nobody;
SET ROLE rec_nobody;
-- the filter checker opens only relations the caller may read
SELECT regexp_replace(pg_temp.err($q$SELECT recommender._check_filter($q$ || :products_oid || $q$, 'true')$q$), 'OID \d+', 'OID n') AS check_filter;
SELECT pg_temp.err($q$SELECT * FROM recommend(1, 5, 0, 'default')$q$) AS hidden;
SELECT pg_temp.err($q$SELECT * FROM recommend(1, 5, 0, 'nonexistent')$q$) AS missing;
SELECT pg_temp.err($q$SELECT * FROM explain(1, 1, 'default')$q$) AS hidden;
SELECT pg_temp.err($q$SELECT * FROM similar_items(1, 5, 0, 'default')$q$) AS hidden;
SELECT pg_temp.err($q$SELECT * FROM recommender.status('default')$q$) AS hidden;
SELECT pg_temp.err($q$SELECT * FROM recommender.status('nonexistent')$q$) AS missing;
RESET ROLE;

-- ---------------------------------------------------------------------------------------------
-- 5. Row-level security: a role kept from some interactions by RLS sees no model of them (no
--    counts, no weights, no similar items); the owner and superusers do.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE shop.rls_events AS SELECT customer_id, product_id FROM shop.events;
ALTER TABLE shop.rls_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON shop.rls_events FOR SELECT USING (customer_id < 100);
CREATE ROLE rec_tenant;
GRANT USAGE ON SCHEMA shop TO rec_tenant;
GRANT SELECT ON shop.rls_events TO rec_tenant;
SELECT recommender.register('rls', 'shop.rls_events', 'customer_id', 'product_id') IS NOT NULL AS registered;
SELECT model, users > 100 AS all_users FROM recommender.train('rls');
SET ROLE rec_tenant;
SELECT count(*) AS rows_seen, count(DISTINCT customer_id) AS customers_seen FROM shop.rls_events;
SELECT count(*) AS models FROM recommender.model WHERE name = 'rls';
SELECT count(*) AS versions FROM recommender.model_version WHERE model = 'rls';
SELECT count(*) AS items FROM recommender.model_item WHERE model = 'rls';
SELECT count(*) AS listed FROM recommender.list() WHERE model = 'rls';
SELECT pg_temp.err($q$SELECT * FROM recommend(1, 5, 0, 'rls')$q$);
SELECT pg_temp.err($q$SELECT * FROM similar_items(1, 5, 0, 'rls')$q$);
RESET ROLE;
-- the table's owner (here a superuser) sees it
SELECT count(*) AS versions FROM recommender.model_version WHERE model = 'rls';
-- with RLS disabled the role sees everything, and the model with it
ALTER TABLE shop.rls_events DISABLE ROW LEVEL SECURITY;
SET ROLE rec_tenant;
SELECT count(*) AS versions FROM recommender.model_version WHERE model = 'rls';
SELECT count(*) AS recommended FROM recommend(1, 5, 0, 'rls');
RESET ROLE;
SELECT recommender.drop('rls') IS NOT NULL AS dropped;
DROP TABLE shop.rls_events;

-- clean up
REVOKE ALL ON shop.events, shop.products FROM rec_writer, rec_app;
REVOKE USAGE ON SCHEMA shop FROM rec_writer, rec_app, rec_tenant;
REVOKE ALL ON ALL TABLES IN SCHEMA recommender FROM rec_writer;
REVOKE ALL ON SEQUENCE recommender.version_seq FROM rec_writer;
DROP SCHEMA writer CASCADE;
DROP TABLE shop.sec_heldout;
DROP FUNCTION public.rec_leak();
DROP SCHEMA evil CASCADE;
DROP ROLE rec_writer;
DROP ROLE rec_app;
DROP ROLE rec_nobody;
DROP ROLE rec_tenant;
RESET client_min_messages;
SELECT pg_backend_pid() = :pid0 AS same_backend;
