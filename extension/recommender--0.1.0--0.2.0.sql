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
CREATE POLICY readable ON recommender.model FOR ALL
  USING (COALESCE(pg_catalog.has_table_privilege(interactions, 'SELECT'), registered_by OPERATOR(pg_catalog.=) CURRENT_USER));

-- pg_dump keeps the version sequence's value, so versions trained after a restore are newer than
-- the restored ones (the backends' model caches key on them).
SELECT pg_catalog.pg_extension_config_dump('recommender.version_seq', '');

-- The per-backend model cache is bounded (recommender.max_cache_memory) and can be inspected.
CREATE FUNCTION recommender.cache_status()
RETURNS TABLE (model text, version bigint, items integer, bytes bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'rec_cache_status';
COMMENT ON FUNCTION recommender.cache_status() IS
  'the models cached in this session (most recently used first) and the bytes each holds; their sum stays under recommender.max_cache_memory';
