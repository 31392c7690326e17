-- recommender 0.1.0: install script.
--
-- Layout:
--   @extschema@ (public by default): recommend(), explain(), similar_items(): what applications call.
--   schema recommender: the model catalog (tables readable by analysts, subject to row security:
--   a role sees a model only if it may SELECT the model's interactions table) and the admin
--   functions register, configure, train, drop, list, status, create_sample_shop.
--
-- Every function here that builds SQL uses format('%I') / format('%L') on names taken from the
-- system catalogs, and every function runs with a fixed search_path, so registered names cannot
-- inject SQL and search_path tricks cannot redirect the extension's own queries.

\echo Use "CREATE EXTENSION recommender" to load this file. \quit

CREATE SCHEMA recommender;
COMMENT ON SCHEMA recommender IS 'recommender extension: model catalog and admin functions';

CREATE SEQUENCE recommender.version_seq;
COMMENT ON SEQUENCE recommender.version_seq IS
  'model versions and registration stamps; never reused, so a backend''s model cache can key on them';

-- ---------------------------------------------------------------------------------------------
-- Catalog
-- ---------------------------------------------------------------------------------------------
CREATE TABLE recommender.model (
    name              text PRIMARY KEY
                      CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$'),
    interactions      oid  NOT NULL,          -- pg_class oid of the interactions table or view
    interactions_name text NOT NULL,          -- its qualified name at registration (for messages)
    user_column       text NOT NULL,
    item_column       text NOT NULL,
    weight_column     text,
    time_column       text,
    event_column      text,
    event_weights     jsonb,                  -- {"view": 1, "cart": 3, "purchase": 5}
    items             oid,                    -- pg_class oid of the items table or view
    items_name        text,
    item_id_column    text,
    category_column   text,
    title_column      text,
    -- parameters (recommender.configure)
    lambda            float8  NOT NULL DEFAULT 200 CHECK (lambda > 0 AND lambda < 'infinity'),
    weighting         text    NOT NULL DEFAULT 'log' CHECK (weighting IN ('binary', 'sum', 'log')),
    max_items         integer NOT NULL DEFAULT 10000 CHECK (max_items BETWEEN 1 AND 30000),
    popularity_half_life interval NOT NULL DEFAULT '14 days' CHECK (popularity_half_life > '0'),
    reranker          text    NOT NULL DEFAULT 'mmr' CHECK (reranker IN ('mmr', 'dpp')),
    candidate_pool    integer NOT NULL DEFAULT 100 CHECK (candidate_pool BETWEEN 1 AND 10000),
    -- state
    config_stamp      bigint  NOT NULL DEFAULT nextval('recommender.version_seq'),
    version           bigint,                 -- the trained version in use; NULL: never trained
    registered_at     timestamptz NOT NULL DEFAULT now(),
    registered_by     name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE recommender.model IS
  'registered models: which table holds interactions (and items), the parameters, and the version in use';

CREATE TABLE recommender.model_version (
    model         text   NOT NULL REFERENCES recommender.model (name) ON DELETE CASCADE,
    version       bigint NOT NULL,
    trained_at    timestamptz NOT NULL DEFAULT now(),
    trained_by    name NOT NULL DEFAULT current_user,
    train_seconds float8 NOT NULL,
    users         integer NOT NULL,
    items         integer NOT NULL,
    interactions  bigint  NOT NULL,
    nonzeros      bigint  NOT NULL,
    params        jsonb   NOT NULL,
    PRIMARY KEY (model, version)
);
COMMENT ON TABLE recommender.model_version IS
  'one row per trained model version: when, how long, sizes and parameters';

CREATE TABLE recommender.model_item (
    model      text   NOT NULL,
    version    bigint NOT NULL,
    idx        integer NOT NULL,     -- dense index inside the model
    item_id    bigint NOT NULL,
    users      integer NOT NULL,     -- distinct users who interacted with the item
    popularity float8 NOT NULL,      -- time-decayed popularity (cold-start fallback)
    categories integer[],            -- category ids (model_version.params->categories names them)
    similarity bytea,                -- float4 vector for diversity when there are no categories
    weights    bytea NOT NULL,       -- float4 row of the EASE matrix B: this item's contribution to each target
    PRIMARY KEY (model, version, idx),
    FOREIGN KEY (model, version) REFERENCES recommender.model_version ON DELETE CASCADE
);
ALTER TABLE recommender.model_item ALTER COLUMN weights SET STORAGE EXTERNAL;
ALTER TABLE recommender.model_item ALTER COLUMN similarity SET STORAGE EXTERNAL;
COMMENT ON TABLE recommender.model_item IS
  'the trained item-item weights, one row per item and version (EASE, Steck 2019)';

-- Models are data: pg_dump keeps them.
SELECT pg_catalog.pg_extension_config_dump('recommender.model', '');
SELECT pg_catalog.pg_extension_config_dump('recommender.model_version', '');
SELECT pg_catalog.pg_extension_config_dump('recommender.model_item', '');

-- Row security: a role sees a model (its registration, versions and weights) only if it may read
-- the model's interactions table (or, once that table is gone, if it registered the model).
-- Table owners and superusers bypass row security as usual.
ALTER TABLE recommender.model ENABLE ROW LEVEL SECURITY;
ALTER TABLE recommender.model_version ENABLE ROW LEVEL SECURITY;
ALTER TABLE recommender.model_item ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON recommender.model FOR ALL
  USING (COALESCE(pg_catalog.has_table_privilege(interactions, 'SELECT'), registered_by OPERATOR(pg_catalog.=) CURRENT_USER));
CREATE POLICY readable ON recommender.model_version FOR ALL
  USING (EXISTS (SELECT 1 FROM recommender.model m WHERE m.name OPERATOR(pg_catalog.=) model_version.model));
CREATE POLICY readable ON recommender.model_item FOR ALL
  USING (EXISTS (SELECT 1 FROM recommender.model m WHERE m.name OPERATOR(pg_catalog.=) model_item.model));

REVOKE ALL ON ALL TABLES IN SCHEMA recommender FROM PUBLIC;
GRANT USAGE ON SCHEMA recommender TO PUBLIC;
GRANT SELECT ON recommender.model, recommender.model_version, recommender.model_item TO PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Validation and SQL generation (internal)
-- ---------------------------------------------------------------------------------------------

-- The qualified, quoted name of a registered relation, or an error naming what happened to it.
CREATE FUNCTION recommender._relation(model_name text, rel oid, registered_as text, what text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
BEGIN
  SELECT n.nspname, c.relname, c.relkind INTO r
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = rel;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the % table "%" of model "%" no longer exists', what, registered_as, model_name
      USING ERRCODE = 'undefined_table',
            HINT = format('Register the model again with recommender.register(%L, ...).', model_name);
  END IF;
  IF r.relkind NOT IN ('r', 'v', 'm', 'p', 'f') THEN
    RAISE EXCEPTION '"%" is not a table or view', registered_as USING ERRCODE = 'wrong_object_type';
  END IF;
  RETURN format('%I.%I', r.nspname, r.relname);
END
$$;

-- Checks one registered column and returns its quoted name. kind: 'id' (integer types),
-- 'number', 'time', 'text' (anything castable to text), 'category' (a scalar or a 1-d array).
CREATE FUNCTION recommender._column(model_name text, rel oid, relname text, col text, kind text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t oid;
  tname text;
  ok boolean;
BEGIN
  SELECT a.atttypid, format_type(a.atttypid, a.atttypmod) INTO t, tname
    FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = rel AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'column "%" of "%" (model "%") does not exist', col, relname, model_name
      USING ERRCODE = 'undefined_column',
            HINT = format('The column was renamed or dropped; register the model again with recommender.register(%L, ...).', model_name);
  END IF;
  -- domains: check their base type
  SELECT CASE WHEN typ.typtype = 'd' THEN typ.typbasetype ELSE t END INTO t
    FROM pg_catalog.pg_type typ WHERE typ.oid = t;
  ok := CASE
          WHEN kind = 'id' THEN t IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
          WHEN kind = 'number' THEN t IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'float4'::regtype,
                                   'float8'::regtype, 'numeric'::regtype, 'bool'::regtype)
          WHEN kind = 'time' THEN t IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype,
                                 'int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'float4'::regtype,
                                 'float8'::regtype, 'numeric'::regtype)
          WHEN kind IN ('text', 'category') THEN true
          ELSE false END;
  IF NOT ok THEN
    RAISE EXCEPTION 'column "%" of "%" (model "%") has type %, which cannot be used as %', col, relname, model_name, tname,
      CASE kind WHEN 'id' THEN 'an id' WHEN 'number' THEN 'a weight' ELSE 'a time' END
      USING ERRCODE = 'datatype_mismatch',
            HINT = CASE kind
                     WHEN 'id' THEN 'User and item ids must be smallint, integer or bigint; register a view that maps other ids to integers.'
                     WHEN 'number' THEN 'Weights must be numeric (integer, real, double precision, numeric).'
                     ELSE 'Times must be timestamp with or without time zone, date, or seconds since 1970 as a number.' END;
  END IF;
  RETURN format('%I', col);
END
$$;

-- The SQL the Swift core runs for a model, validated against the current catalogs.
--   train_sql:    user int8, item int8, weight float8, time float8 (epoch seconds or NULL)
--   history_sql:  item int8, weight float8, time float8 for one user ($1 int8)
--   category_sql: item int8, category text (one row per category; NULL when no categories)
--   title_sql:    item int8, title text for the items in $1 (a text literal of an int8 array)
CREATE FUNCTION recommender._model_sql(model_name text,
    OUT train_sql text, OUT history_sql text, OUT category_sql text, OUT title_sql text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  m recommender.model;
  rel text; u text; i text; w text; t text; e text; ev text;
  irel text; iid text; cat text; ttl text;
  cat_is_array boolean;
  tkind oid;
  k text; v jsonb;
BEGIN
  SELECT * INTO m FROM recommender.model WHERE name = model_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist', model_name USING ERRCODE = 'undefined_object',
      HINT = 'recommender.list() shows the registered models; recommender.register() adds one.';
  END IF;
  rel := recommender._relation(m.name, m.interactions, m.interactions_name, 'interactions');
  u := recommender._column(m.name, m.interactions, m.interactions_name, m.user_column, 'id');
  i := recommender._column(m.name, m.interactions, m.interactions_name, m.item_column, 'id');
  w := '1::pg_catalog.float8';
  IF m.weight_column IS NOT NULL THEN
    w := recommender._column(m.name, m.interactions, m.interactions_name, m.weight_column, 'number') || '::pg_catalog.float8';
  END IF;
  IF m.event_column IS NOT NULL THEN
    e := recommender._column(m.name, m.interactions, m.interactions_name, m.event_column, 'text');
    ev := 'CASE ' || e || '::pg_catalog.text';
    FOR k, v IN SELECT key, value FROM jsonb_each(m.event_weights) LOOP
      ev := ev || format(' WHEN %L THEN %s::pg_catalog.float8', k, (v #>> '{}')::float8);
    END LOOP;
    ev := ev || ' ELSE 0::pg_catalog.float8 END';
    w := '(' || w || ' OPERATOR(pg_catalog.*) ' || ev || ')';
  END IF;
  t := 'NULL::pg_catalog.float8';
  IF m.time_column IS NOT NULL THEN
    t := recommender._column(m.name, m.interactions, m.interactions_name, m.time_column, 'time');
    SELECT a.atttypid INTO tkind FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = m.interactions AND a.attname = m.time_column AND NOT a.attisdropped;
    IF tkind IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
      t := format('pg_catalog.date_part(%L, %s)::pg_catalog.float8', 'epoch', t);
    ELSE
      t := t || '::pg_catalog.float8';
    END IF;
  END IF;
  train_sql := format('SELECT %s::pg_catalog.int8, %s::pg_catalog.int8, %s, %s FROM %s', u, i, w, t, rel);
  history_sql := format('SELECT %s::pg_catalog.int8, %s, %s FROM %s WHERE %s OPERATOR(pg_catalog.=) $1::pg_catalog.int8',
                        i, w, t, rel, u);
  IF m.items IS NOT NULL THEN
    irel := recommender._relation(m.name, m.items, m.items_name, 'items');
    iid := recommender._column(m.name, m.items, m.items_name, m.item_id_column, 'id');
    IF m.category_column IS NOT NULL THEN
      cat := recommender._column(m.name, m.items, m.items_name, m.category_column, 'category');
      SELECT t2.typcategory = 'A' INTO cat_is_array
        FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t2 ON t2.oid = a.atttypid
       WHERE a.attrelid = m.items AND a.attname = m.category_column AND NOT a.attisdropped;
      IF cat_is_array THEN
        category_sql := format('SELECT x.id, x.c::pg_catalog.text FROM (SELECT %s::pg_catalog.int8 AS id, pg_catalog.unnest(%s) AS c FROM %s) x WHERE x.c IS NOT NULL',
                               iid, cat, irel);
      ELSE
        category_sql := format('SELECT %s::pg_catalog.int8, %s::pg_catalog.text FROM %s WHERE %s IS NOT NULL', iid, cat, irel, cat);
      END IF;
    END IF;
    IF m.title_column IS NOT NULL THEN
      ttl := recommender._column(m.name, m.items, m.items_name, m.title_column, 'text');
      title_sql := format('SELECT %s::pg_catalog.int8, %s::pg_catalog.text FROM %s WHERE %s OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[])',
                          iid, ttl, irel, iid);
    END IF;
  END IF;
END
$$;
COMMENT ON FUNCTION recommender._model_sql(text) IS
  'internal: validates a registration against the catalogs and returns the queries the core runs';

-- ---------------------------------------------------------------------------------------------
-- Admin functions
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION recommender.register(
    model          text,
    interactions   regclass,
    user_column    text,
    item_column    text,
    weight_column  text  DEFAULT NULL,
    time_column    text  DEFAULT NULL,
    event_column   text  DEFAULT NULL,
    event_weights  jsonb DEFAULT NULL,
    items          regclass DEFAULT NULL,
    item_id_column text  DEFAULT NULL,
    category_column text DEFAULT NULL,
    title_column   text  DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  k text; v jsonb;
  existed boolean;
BEGIN
  IF model IS NULL OR interactions IS NULL OR user_column IS NULL OR item_column IS NULL THEN
    RAISE EXCEPTION 'model, interactions, user_column and item_column must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF model !~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'invalid model name "%"', model USING ERRCODE = 'invalid_parameter_value',
      HINT = 'A model name is a letter or underscore followed by up to 62 letters, digits or underscores.';
  END IF;
  IF (event_column IS NULL) <> (event_weights IS NULL) THEN
    RAISE EXCEPTION 'event_column and event_weights go together' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Name the event type column and give a weight per type, e.g. ''{"view": 1, "cart": 3, "purchase": 5}''.';
  END IF;
  IF event_weights IS NOT NULL THEN
    IF jsonb_typeof(event_weights) <> 'object' OR event_weights = '{}'::jsonb THEN
      RAISE EXCEPTION 'event_weights must be a non-empty JSON object of event type -> weight'
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR k, v IN SELECT key, value FROM jsonb_each(event_weights) LOOP
      IF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::float8 < 0 THEN
        RAISE EXCEPTION 'the weight of event type "%" must be a number >= 0 (got %)', k, v
          USING ERRCODE = 'invalid_parameter_value';
      END IF;
    END LOOP;
  END IF;
  IF items IS NULL AND (item_id_column IS NOT NULL OR category_column IS NOT NULL OR title_column IS NOT NULL) THEN
    RAISE EXCEPTION 'item columns given without an items table' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF items IS NOT NULL AND item_id_column IS NULL THEN
    RAISE EXCEPTION 'an items table needs item_id_column' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT EXISTS (SELECT 1 FROM recommender.model m WHERE m.name = register.model) INTO existed;
  INSERT INTO recommender.model AS m (name, interactions, interactions_name, user_column, item_column,
        weight_column, time_column, event_column, event_weights, items, items_name, item_id_column,
        category_column, title_column)
  VALUES (model, interactions, interactions::text, user_column, item_column, weight_column, time_column,
          event_column, event_weights, items, items::text, item_id_column, category_column, title_column)
  ON CONFLICT (name) DO UPDATE SET
        interactions = EXCLUDED.interactions, interactions_name = EXCLUDED.interactions_name,
        user_column = EXCLUDED.user_column, item_column = EXCLUDED.item_column,
        weight_column = EXCLUDED.weight_column, time_column = EXCLUDED.time_column,
        event_column = EXCLUDED.event_column, event_weights = EXCLUDED.event_weights,
        items = EXCLUDED.items, items_name = EXCLUDED.items_name, item_id_column = EXCLUDED.item_id_column,
        category_column = EXCLUDED.category_column, title_column = EXCLUDED.title_column,
        config_stamp = nextval('recommender.version_seq'), registered_at = now(), registered_by = current_user;
  -- validate now, so that mistakes show at registration (the transaction rolls back on error)
  PERFORM recommender._model_sql(model);
  RETURN format('model "%s" %s: interactions %s (user %s, item %s%s%s%s)%s', model,
                CASE WHEN existed THEN 're-registered' ELSE 'registered' END,
                interactions::text, user_column, item_column,
                COALESCE(', weight ' || weight_column, ''), COALESCE(', time ' || time_column, ''),
                COALESCE(', event ' || event_column, ''),
                COALESCE(format('; items %s (id %s%s%s)', items::text, item_id_column,
                                COALESCE(', category ' || category_column, ''), COALESCE(', title ' || title_column, '')), ''));
END
$$;
COMMENT ON FUNCTION recommender.register(text, regclass, text, text, text, text, text, jsonb, regclass, text, text, text) IS
  'register (or re-register) a model: the interactions table with its user, item and optional weight, time and event-type columns (event_weights gives a weight per type), and optionally the items table with its id, category (text or text[]) and title columns';

CREATE FUNCTION recommender.configure(
    model text,
    lambda float8 DEFAULT NULL,
    weighting text DEFAULT NULL,
    max_items integer DEFAULT NULL,
    popularity_half_life interval DEFAULT NULL,
    reranker text DEFAULT NULL,
    candidate_pool integer DEFAULT NULL)
RETURNS SETOF recommender.model
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF lambda IS NOT NULL AND (lambda = 'NaN'::float8 OR lambda <= 0 OR lambda = 'infinity'::float8) THEN
    RAISE EXCEPTION 'lambda must be a finite number > 0 (got %)', lambda USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Typical values are 10 to 1000; larger means stronger regularisation.';
  END IF;
  IF weighting IS NOT NULL AND weighting NOT IN ('binary', 'sum', 'log') THEN
    RAISE EXCEPTION 'weighting must be binary, sum or log (got "%")', weighting USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF reranker IS NOT NULL AND reranker NOT IN ('mmr', 'dpp') THEN
    RAISE EXCEPTION 'reranker must be mmr or dpp (got "%")', reranker USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF max_items IS NOT NULL AND (max_items < 1 OR max_items > 30000) THEN
    RAISE EXCEPTION 'max_items must be between 1 and 30000 (got %)', max_items USING ERRCODE = 'invalid_parameter_value',
      HINT = 'The dense model needs 4 * max_items^2 bytes per backend that uses it.';
  END IF;
  IF candidate_pool IS NOT NULL AND (candidate_pool < 1 OR candidate_pool > 10000) THEN
    RAISE EXCEPTION 'candidate_pool must be between 1 and 10000 (got %)', candidate_pool USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF popularity_half_life IS NOT NULL AND popularity_half_life <= '0'::interval THEN
    RAISE EXCEPTION 'popularity_half_life must be positive' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  UPDATE recommender.model m SET
    lambda = COALESCE(configure.lambda, m.lambda),
    weighting = COALESCE(configure.weighting, m.weighting),
    max_items = COALESCE(configure.max_items, m.max_items),
    popularity_half_life = COALESCE(configure.popularity_half_life, m.popularity_half_life),
    reranker = COALESCE(configure.reranker, m.reranker),
    candidate_pool = COALESCE(configure.candidate_pool, m.candidate_pool),
    config_stamp = nextval('recommender.version_seq')
  WHERE m.name = configure.model
  RETURNING m.*;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object',
      HINT = 'recommender.list() shows the registered models.';
  END IF;
END
$$;
COMMENT ON FUNCTION recommender.configure(text, float8, text, integer, interval, text, integer) IS
  'set model parameters: lambda (EASE L2 regularisation), weighting (binary|sum|log of summed event weights), max_items, popularity_half_life, reranker (mmr|dpp), candidate_pool; training-time parameters apply at the next train()';

CREATE FUNCTION recommender.train(model text DEFAULT 'default')
RETURNS TABLE (model text, version bigint, users integer, items integer, interactions bigint, seconds float8)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'rec_train';
COMMENT ON FUNCTION recommender.train(text) IS
  'train the model inside the database (EASE, Steck 2019) from its interactions table; the new version replaces the old one when the transaction commits';

CREATE FUNCTION recommender.drop(model text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM recommender.model m WHERE m.name = drop.model;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object',
      HINT = 'recommender.list() shows the registered models.';
  END IF;
  RETURN format('model "%s" dropped', model);
END
$$;
COMMENT ON FUNCTION recommender.drop(text) IS 'drop a model with every trained version';

CREATE FUNCTION recommender.list()
RETURNS TABLE (model text, interactions text, items text, trained boolean, version bigint,
               trained_at timestamptz, users integer, items_in_model integer, interactions_used bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT m.name, m.interactions_name, m.items_name, m.version IS NOT NULL, m.version,
         v.trained_at, v.users, v.items, v.interactions
    FROM recommender.model m
    LEFT JOIN recommender.model_version v ON v.model = m.name AND v.version = m.version
   ORDER BY m.name
$$;
COMMENT ON FUNCTION recommender.list() IS 'the registered models the current role may see, with their trained version';

CREATE FUNCTION recommender.status(model text DEFAULT 'default')
RETURNS TABLE (key text, value text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  m recommender.model;
  v recommender.model_version;
  problem text;
BEGIN
  SELECT * INTO m FROM recommender.model x WHERE x.name = status.model;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object',
      HINT = 'recommender.list() shows the registered models.';
  END IF;
  SELECT * INTO v FROM recommender.model_version x WHERE x.model = m.name AND x.version = m.version;
  BEGIN
    PERFORM recommender._model_sql(m.name);
    problem := 'ok';
  EXCEPTION WHEN OTHERS THEN
    problem := SQLERRM;
  END;
  RETURN QUERY VALUES
    ('model', m.name),
    ('registration', problem),
    ('interactions', format('%s (user %s, item %s%s%s%s)', m.interactions_name, m.user_column, m.item_column,
                            COALESCE(', weight ' || m.weight_column, ''), COALESCE(', time ' || m.time_column, ''),
                            COALESCE(', event ' || m.event_column || ' ' || m.event_weights::text, ''))),
    ('items', COALESCE(format('%s (id %s%s%s)', m.items_name, m.item_id_column,
                              COALESCE(', category ' || m.category_column, ''), COALESCE(', title ' || m.title_column, '')), 'none')),
    ('parameters', format('lambda=%s weighting=%s max_items=%s popularity_half_life=%s reranker=%s candidate_pool=%s',
                          m.lambda, m.weighting, m.max_items, m.popularity_half_life, m.reranker, m.candidate_pool)),
    ('trained', CASE WHEN v.version IS NULL THEN 'no' ELSE 'yes' END),
    ('version', v.version::text),
    ('trained_at', v.trained_at::text),
    ('train_seconds', round(v.train_seconds::numeric, 3)::text),
    ('users', v.users::text),
    ('items_in_model', v.items::text),
    ('interactions', v.interactions::text),
    ('trained_with', v.params::text);
END
$$;
COMMENT ON FUNCTION recommender.status(text) IS
  'a model''s registration (checked against the current tables), parameters and trained version';

-- Drops every model this backend has cached (the next call reloads from the catalog).
CREATE FUNCTION recommender.reset_cache() RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'rec_reset_cache';
COMMENT ON FUNCTION recommender.reset_cache() IS 'forget the models cached in this session';

-- ---------------------------------------------------------------------------------------------
-- What applications call
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.recommend(
    user_id bigint,
    k integer DEFAULT 10,
    diversity float8 DEFAULT 0,
    model text DEFAULT NULL)
RETURNS TABLE (rank integer, item_id bigint, score float8, relevance_rank integer,
               for_variety boolean, source text)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'rec_recommend';
COMMENT ON FUNCTION @extschema@.recommend(bigint, integer, float8, text) IS
  'the k best items for a user, best first, read from the user''s live history; diversity in [0,1] re-ranks for variety (for_variety marks items placed for it); users without history get popular items (source = popular)';

CREATE FUNCTION @extschema@.explain(
    user_id bigint,
    item_id bigint,
    model text DEFAULT NULL)
RETURNS TABLE (role text, item_id bigint, title text, contribution float8, share float8, detail text)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'rec_explain';
COMMENT ON FUNCTION @extschema@.explain(bigint, bigint, text) IS
  'why an item is (or is not) recommended to a user: a "score" row with the verdict and rank, then one "because" row per item of the user''s own history with its exact contribution (the contributions add up to the score)';

CREATE FUNCTION @extschema@.similar_items(
    item_id bigint,
    k integer DEFAULT 10,
    diversity float8 DEFAULT 0,
    model text DEFAULT NULL)
RETURNS TABLE (rank integer, item_id bigint, score float8, relevance_rank integer, for_variety boolean)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'rec_similar_items';
COMMENT ON FUNCTION @extschema@.similar_items(bigint, integer, float8, text) IS
  'items that go with an item (the model''s weights for a one-item history), for product pages';
