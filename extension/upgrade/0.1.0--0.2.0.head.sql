-- recommender 0.1.0 -> 0.2.0: upgrade script (ALTER EXTENSION recommender UPDATE TO '0.2.0').
-- Every change to the install script between the two versions is repeated here, so that an
-- upgraded database has the same objects as a fresh install of 0.2.0 (Tests check both).

\echo Use "ALTER EXTENSION recommender UPDATE TO '0.2.0'" to load this file. \quit

-- Registered relations are stored as regclass, which pg_dump writes as names (a model survives
-- pg_dump / pg_restore); 0.1.0 stored bare oids. The same values: regclass is an oid. The policy
-- on recommender.model reads the column, so it is dropped for the change and made again as the
-- install script makes it.
DROP POLICY readable ON recommender.model;
ALTER TABLE recommender.model
  ALTER COLUMN interactions TYPE regclass USING interactions::pg_catalog.regclass,
  ALTER COLUMN items TYPE regclass USING items::pg_catalog.regclass;
-- Sequence-aware scoring (recommender.configure): new parameters, at the end of the row as in the
-- install script.
ALTER TABLE recommender.model
  ADD COLUMN recency_half_life float8  NOT NULL DEFAULT 0
                      CHECK (recency_half_life = 0 OR (recency_half_life >= 0.1 AND recency_half_life <= 1000000)),
  ADD COLUMN sequence_weight   float8  NOT NULL DEFAULT 0 CHECK (sequence_weight >= 0 AND sequence_weight <= 1);
-- A role that row-level security keeps from some rows of the interactions table sees no model of it.
CREATE POLICY readable ON recommender.model FOR ALL
  USING (COALESCE(CASE WHEN pg_catalog.has_table_privilege(interactions, 'SELECT')
                       THEN NOT pg_catalog.row_security_active(interactions::pg_catalog.regclass) END,
                  registered_by OPERATOR(pg_catalog.=) CURRENT_USER));

-- pg_dump keeps the version sequence's value, so versions trained after a restore are newer than
-- the restored ones (the backends' model caches key on them).
SELECT pg_catalog.pg_extension_config_dump('recommender.version_seq', '');

-- Functions gone in 0.2.0: _hidden_model (SECURITY DEFINER, it told any role which models exist
-- and which tables they read) and _drop_eval_tables (it dropped the caller's own temp tables);
-- configure() and tune() have new parameters, so the old signatures go and the new ones follow.
DROP FUNCTION recommender._hidden_model(text);
DROP FUNCTION recommender._drop_eval_tables();
DROP FUNCTION recommender.configure(text, float8, text, integer, interval, text, integer, float8, float8, float8, float8, text, float8, boolean);
DROP FUNCTION recommender.tune(text, regclass, text, text, text, float8, float8[], integer, text);
