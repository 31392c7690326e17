-- recommender 0.2.0 -> 0.3.0: upgrade script (ALTER EXTENSION recommender UPDATE TO '0.3.0').
-- Every change to the install script between the two versions is repeated here, so that an
-- upgraded database has the same objects as a fresh install of 0.3.0 (Tests/scenarios/upgrade.sh
-- checks it, upgrading from 0.1.0 through 0.2.0).

\echo Use "ALTER EXTENSION recommender UPDATE TO '0.3.0'" to load this file. \quit

-- The shop's own ids (text, varchar, uuid): the key of each item of a model whose item ids are keys.
ALTER TABLE recommender.model_item ADD COLUMN item_key text;

-- The sparse kind (issue 7): kind and density at the end of recommender.model, in the install
-- script's order; max_items goes to 10,000,000 while the dense kind keeps its 30,000 limit.
ALTER TABLE recommender.model DROP CONSTRAINT model_max_items_check;
ALTER TABLE recommender.model ADD CONSTRAINT model_max_items_check CHECK (max_items BETWEEN 1 AND 10000000);
ALTER TABLE recommender.model
  ADD COLUMN kind              text    NOT NULL DEFAULT 'auto' CHECK (kind IN ('auto', 'dense', 'sparse')),
  ADD COLUMN density           float8  NOT NULL DEFAULT 0.0001 CHECK (density > 0 AND density <= 1),
  ADD CONSTRAINT model_dense_max_items_check CHECK (kind OPERATOR(pg_catalog.<>) 'dense' OR max_items <= 30000);
-- configure() has new parameters (kind, density): the old signature goes, the new one follows.
DROP FUNCTION recommender.configure(text, float8, text, integer, interval, text, integer, float8, float8, float8, float8, text, float8, boolean, float8, float8);
