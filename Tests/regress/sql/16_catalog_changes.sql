-- The queries a session caches for a model follow changes of the registered tables (issue 8,
-- item 8): a column type changed under the model, a registered table renamed and another created
-- under its old name, a schema renamed. Every call reads the registered relation, as it is now.
CREATE SCHEMA cat;
CREATE TABLE cat.ev (u int, i int, t timestamptz);
INSERT INTO cat.ev
SELECT u, (u * 7 + j * 13) % 30, timestamptz '2026-01-01 00:00:00+00' + (u * 40 + j) * interval '1 minute'
  FROM generate_series(1, 200) u, generate_series(1, 8) j;
CREATE INDEX ON cat.ev (u);
SELECT recommender.register('cat_t', 'cat.ev', 'u', 'i', time_column => 't');
SET client_min_messages = warning;
SELECT model, users, items FROM recommender.train('cat_t');
RESET client_min_messages;
-- this session has now run (and cached) the model's queries
SELECT count(*) AS n, min(source) AS source FROM recommend(5, 5, 0, 'cat_t');
CREATE TEMP TABLE before_alter AS SELECT rank, item_id, score FROM recommend(5, 5, 0, 'cat_t');
-- 1. the time column becomes seconds since 1970 (a supported time type)
ALTER TABLE cat.ev ALTER t TYPE float8 USING pg_catalog.date_part('epoch', t);
SELECT count(*) AS n, min(source) AS source FROM recommend(5, 5, 0, 'cat_t');
-- the same model, the same scores: only the column's type changed
SELECT count(*) AS same_rows FROM recommend(5, 5, 0, 'cat_t') r JOIN before_alter b USING (rank, item_id)
 WHERE abs(r.score - b.score) < 1e-9;
SELECT count(*) AS because_rows FROM explain(5, (SELECT item_id FROM before_alter WHERE rank = 1), 'cat_t')
 WHERE role = 'because';
SET client_min_messages = warning;
SELECT model, users, items FROM recommender.train('cat_t');
RESET client_min_messages;
SELECT count(*) AS n FROM recommend(5, 5, 0, 'cat_t');
-- 2. the registered table is renamed and another table is created under its old name: the model
--    keeps reading the registered (renamed) table, where user 5 has a history
ALTER TABLE cat.ev RENAME TO ev_old;
CREATE TABLE cat.ev (u int, i int, t float8);
INSERT INTO cat.ev VALUES (999, 1, 0);
SELECT count(*) AS n, min(source) AS source FROM recommend(5, 5, 0, 'cat_t');
SELECT count(*) AS because_rows FROM explain(5, (SELECT item_id FROM before_alter WHERE rank = 1), 'cat_t')
 WHERE role = 'because';
-- 3. the schema is renamed, and another schema (with a table of the same name) takes its name
ALTER SCHEMA cat RENAME TO cat_renamed;
CREATE SCHEMA cat;
CREATE TABLE cat.ev_old (u int, i int, t float8);
SELECT count(*) AS n, min(source) AS source FROM recommend(5, 5, 0, 'cat_t');
-- 4. a column renamed: the registration names the old column, so the error says so
\set VERBOSITY terse
ALTER TABLE cat_renamed.ev_old RENAME COLUMN i TO item;
SELECT count(*) FROM recommend(5, 5, 0, 'cat_t');
ALTER TABLE cat_renamed.ev_old RENAME COLUMN item TO i;
SELECT count(*) AS n FROM recommend(5, 5, 0, 'cat_t');
-- 5. the registered table dropped: a clear error, also from the cached queries
DROP TABLE cat_renamed.ev_old;
SELECT count(*) FROM recommend(5, 5, 0, 'cat_t');
\set VERBOSITY default
SELECT recommender.drop('cat_t');
DROP SCHEMA cat CASCADE;
DROP SCHEMA cat_renamed CASCADE;
