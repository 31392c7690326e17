-- recommender 0.4.0: install script.
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
    interactions      regclass NOT NULL,      -- the interactions table or view (an oid that pg_dump writes as its name)
    interactions_name text NOT NULL,          -- its qualified name at registration (for messages)
    user_column       text NOT NULL,
    item_column       text NOT NULL,
    weight_column     text,
    time_column       text,
    event_column      text,
    event_weights     jsonb,                  -- {"view": 1, "cart": 3, "purchase": 5}
    items             regclass,               -- the items table or view (an oid that pg_dump writes as its name)
    items_name        text,
    item_id_column    text,
    category_column   text,
    title_column      text,
    text_column       text,                   -- item description, for content vectors (TF-IDF)
    embedding_column  text,                   -- item embedding (real[] / float8[]), for content vectors
    -- parameters (recommender.configure)
    lambda            float8  NOT NULL DEFAULT 200 CHECK (lambda > 0 AND lambda < 'infinity'),
    weighting         text    NOT NULL DEFAULT 'log' CHECK (weighting IN ('binary', 'sum', 'log', 'power')),
    weight_power      float8  NOT NULL DEFAULT 2 CHECK (weight_power > 0 AND weight_power <= 10),
    dropout           float8  NOT NULL DEFAULT 0 CHECK (dropout >= 0 AND dropout < 1),
    row_norm          float8  NOT NULL DEFAULT 0 CHECK (row_norm >= 0 AND row_norm <= 1),
    max_items         integer NOT NULL DEFAULT 1000000 CHECK (max_items BETWEEN 1 AND 10000000),
    popularity_half_life interval NOT NULL DEFAULT '14 days' CHECK (popularity_half_life > '0'),
    trend_weight      float8  NOT NULL DEFAULT 0.5 CHECK (trend_weight >= 0 AND trend_weight <= 4),
    reranker          text    NOT NULL DEFAULT 'coverage' CHECK (reranker IN ('coverage', 'mmr', 'dpp')),
    candidate_pool    integer NOT NULL DEFAULT 100 CHECK (candidate_pool BETWEEN 1 AND 10000),
    content           text    NOT NULL DEFAULT 'auto' CHECK (content IN ('auto', 'off')),
    content_prior     float8  NOT NULL DEFAULT 0 CHECK (content_prior >= 0 AND content_prior < 'infinity'),
    keep_gram         boolean NOT NULL DEFAULT false,
    -- state
    config_stamp      bigint  NOT NULL DEFAULT nextval('recommender.version_seq'),
    version           bigint,                 -- the trained version in use; NULL: never trained
    registered_at     timestamptz NOT NULL DEFAULT now(),
    registered_by     name NOT NULL DEFAULT current_user,
    -- sequence-aware scoring (0.2.0; recommender.configure)
    recency_half_life float8  NOT NULL DEFAULT 0
                      CHECK (recency_half_life = 0 OR (recency_half_life >= 0.1 AND recency_half_life <= 1000000)),
    sequence_weight   float8  NOT NULL DEFAULT 0 CHECK (sequence_weight >= 0 AND sequence_weight <= 1),
    -- the sparse kind (0.3.0; recommender.configure): dense EASE, sparse (SANSA), or auto by size
    kind              text    NOT NULL DEFAULT 'auto' CHECK (kind IN ('auto', 'dense', 'sparse')),
    density           float8  NOT NULL DEFAULT 0.0001 CHECK (density > 0 AND density <= 1),
    -- the sequential component's position decay (0.4.0; recommender.configure), in positions
    sequence_half_life float8 NOT NULL DEFAULT 2 CHECK (sequence_half_life >= 0.5 AND sequence_half_life <= 8),
    -- the share of its value an old history item keeps under recency weighting (0.4.0)
    recency_floor     float8  NOT NULL DEFAULT 0 CHECK (recency_floor >= 0 AND recency_floor <= 1),
    CONSTRAINT model_dense_max_items_check CHECK (kind OPERATOR(pg_catalog.<>) 'dense' OR max_items <= 30000)
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
    popularity float8 NOT NULL,      -- the cold-start ranking: decayed popularity x trend^trend_weight
    trend      float8 NOT NULL DEFAULT 1, -- recent share / long-term share of the decayed popularity
    categories integer[],            -- category ids (model_version.params->categories names them)
    similarity bytea,                -- float4 vector for diversity when there are no categories
    content    bytea,                -- float4 content vector (NULL: the item has none)
    weights    bytea NOT NULL,       -- float4 row of the EASE matrix B: this item's contribution to each target
                                     -- (empty for catalog items without interactions at training)
    item_key   text,                 -- 0.3.0: the shop's own id (text, or uuid as text) when the model's item
                                     -- ids are keys; item_id is then a surrogate (NULL for integer ids)
    PRIMARY KEY (model, version, idx),
    FOREIGN KEY (model, version) REFERENCES recommender.model_version ON DELETE CASCADE
);
ALTER TABLE recommender.model_item ALTER COLUMN weights SET STORAGE EXTERNAL;
ALTER TABLE recommender.model_item ALTER COLUMN similarity SET STORAGE EXTERNAL;
ALTER TABLE recommender.model_item ALTER COLUMN content SET STORAGE EXTERNAL;
COMMENT ON TABLE recommender.model_item IS
  'the trained item-item weights, one row per item and version (EASE, Steck 2019)';

CREATE TABLE recommender.model_gram (
    model   text   NOT NULL,
    version bigint NOT NULL,
    idx     integer NOT NULL,
    gram    bytea  NOT NULL,         -- float8 row of X^T X, kept for recommender.update()
    PRIMARY KEY (model, version, idx),
    FOREIGN KEY (model, version) REFERENCES recommender.model_version ON DELETE CASCADE
);
ALTER TABLE recommender.model_gram ALTER COLUMN gram SET STORAGE EXTERNAL;
COMMENT ON TABLE recommender.model_gram IS
  'the item Gram matrix of a trained version (configure keep_gram => true), so that update() can fold in new interactions';

-- 0.4.0: what followed each item in users' histories, for explain() ("often followed by ..."),
-- stored with a version trained with the sequential component
CREATE TABLE recommender.model_follower (
    model       text    NOT NULL,
    version     bigint  NOT NULL,
    item_id     bigint  NOT NULL,    -- the model's item id (model_item.item_id)
    follower_id bigint  NOT NULL,    -- an item that came within the sequential window after it
    rank        integer NOT NULL,    -- 1 = followed it in the most users' histories
    users       integer NOT NULL,    -- in how many users' histories
    PRIMARY KEY (model, version, item_id, rank),
    FOREIGN KEY (model, version) REFERENCES recommender.model_version ON DELETE CASCADE
);
COMMENT ON TABLE recommender.model_follower IS
  'per item of a version trained with the sequential component, the items that most often came next in users'' histories (explain() cites them)';

-- Models are data: pg_dump keeps them. The registered relations are regclass values, which
-- pg_dump writes as qualified names and pg_restore reads back as the restored tables' new oids
-- (table definitions are restored before any table data); the sequence keeps its value, so versions
-- trained after a restore are newer than the restored ones.
SELECT pg_catalog.pg_extension_config_dump('recommender.version_seq', '');
SELECT pg_catalog.pg_extension_config_dump('recommender.model', '');
SELECT pg_catalog.pg_extension_config_dump('recommender.model_version', '');
SELECT pg_catalog.pg_extension_config_dump('recommender.model_item', '');
SELECT pg_catalog.pg_extension_config_dump('recommender.model_gram', '');
SELECT pg_catalog.pg_extension_config_dump('recommender.model_follower', '');

-- Row security: a role sees a model (its registration, versions and weights) only if it may read
-- the model's interactions table (or, once that table is gone, if it registered the model).
-- Table owners and superusers bypass row security as usual.
ALTER TABLE recommender.model ENABLE ROW LEVEL SECURITY;
ALTER TABLE recommender.model_version ENABLE ROW LEVEL SECURITY;
ALTER TABLE recommender.model_item ENABLE ROW LEVEL SECURITY;
ALTER TABLE recommender.model_gram ENABLE ROW LEVEL SECURITY;
ALTER TABLE recommender.model_follower ENABLE ROW LEVEL SECURITY;
-- A model is an aggregate of every row of its interactions table: a role that row-level security
-- keeps from some of those rows (row_security_active: RLS enabled on the table and the role is
-- not its owner, a superuser or BYPASSRLS) sees no model of it at all, neither the counts
-- (model_version, model_item.users, popularity) nor the weights that recommend(), explain() and
-- similar_items() compute from all rows.
CREATE POLICY readable ON recommender.model FOR ALL
  USING (COALESCE(CASE WHEN pg_catalog.has_table_privilege(interactions, 'SELECT')
                       THEN NOT pg_catalog.row_security_active(interactions::pg_catalog.regclass) END,
                  registered_by OPERATOR(pg_catalog.=) CURRENT_USER));
CREATE POLICY readable ON recommender.model_version FOR ALL
  USING (EXISTS (SELECT 1 FROM recommender.model m WHERE m.name OPERATOR(pg_catalog.=) model_version.model));
CREATE POLICY readable ON recommender.model_item FOR ALL
  USING (EXISTS (SELECT 1 FROM recommender.model m WHERE m.name OPERATOR(pg_catalog.=) model_item.model));
CREATE POLICY readable ON recommender.model_gram FOR ALL
  USING (EXISTS (SELECT 1 FROM recommender.model m WHERE m.name OPERATOR(pg_catalog.=) model_gram.model));
CREATE POLICY readable ON recommender.model_follower FOR ALL
  USING (EXISTS (SELECT 1 FROM recommender.model m WHERE m.name OPERATOR(pg_catalog.=) model_follower.model));

-- A model hidden by row security is reported exactly like a model that does not exist (42704):
-- no function looks past row security to say why (0.1.0's SECURITY DEFINER _hidden_model did,
-- and told any role which model names exist and which tables they read).

-- Trust. A model's registration makes the calling role run code it did not write: the view it
-- reads (a view's functions run as the role that queries it) and, in PostgreSQL's rule, the
-- policies of the tables it reads. So a registration is used only by roles that trust its
-- author, as PostgreSQL's rule for views and triggers asks of whoever queries them: role C
-- trusts role A when A is C, a superuser, or a role that already has C's privileges (a member
-- of C: GRANT c TO a). The author of a registration is the role that last wrote it
-- (registered_by, stamped by a trigger: a catalog writer cannot claim another role); a view it
-- reads must be owned by a trusted role too.
CREATE FUNCTION recommender._trusted(author name) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  -- pg_has_role(a, c, 'USAGE'): a is c, a superuser, or a member of c that inherits its privileges
  SELECT COALESCE(pg_catalog.pg_has_role(pg_catalog.to_regrole(pg_catalog.quote_ident(author)), CURRENT_USER, 'USAGE'), false)
$$;
COMMENT ON FUNCTION recommender._trusted(name) IS
  'internal: whether the current role trusts code written by a role (it is the role, a superuser, or a member of the current role)';

CREATE FUNCTION recommender._stamp_registration() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' OR (NEW.interactions, NEW.items, NEW.user_column, NEW.item_column, NEW.weight_column,
        NEW.time_column, NEW.event_column, NEW.event_weights, NEW.item_id_column, NEW.category_column,
        NEW.title_column, NEW.text_column, NEW.embedding_column, NEW.registered_by)
      IS DISTINCT FROM (OLD.interactions, OLD.items, OLD.user_column, OLD.item_column, OLD.weight_column,
        OLD.time_column, OLD.event_column, OLD.event_weights, OLD.item_id_column, OLD.category_column,
        OLD.title_column, OLD.text_column, OLD.embedding_column, OLD.registered_by) THEN
    NEW.registered_by := CURRENT_USER;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER stamp_registration BEFORE INSERT OR UPDATE ON recommender.model
  FOR EACH ROW EXECUTE FUNCTION recommender._stamp_registration();

REVOKE ALL ON ALL TABLES IN SCHEMA recommender FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION recommender._stamp_registration() FROM PUBLIC;
GRANT USAGE ON SCHEMA recommender TO PUBLIC;
GRANT SELECT ON recommender.model, recommender.model_version, recommender.model_item, recommender.model_gram, recommender.model_follower TO PUBLIC;

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
  IF NOT FOUND AND (rel IS NULL OR rel OPERATOR(pg_catalog.=) 0 OR registered_as IS NULL OR registered_as OPERATOR(pg_catalog.=) '-'
                    OR registered_as ~ '^[0-9]+$') THEN
    -- never a relation: regclass 0 ('-') or the number of a relation that does not exist
    RAISE EXCEPTION 'the % relation with OID % does not exist', what, COALESCE(rel::pg_catalog.text, 'NULL')
      USING ERRCODE = 'undefined_table', HINT = 'Name an existing table or view, e.g. ''shop.events''.';
  END IF;
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

-- Whether reading a column of this type as text runs only PostgreSQL's own code: a built-in type
-- (or a domain over one), or an enum without a user-defined cast to text.
CREATE FUNCTION recommender._text_type_ok(t oid) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT COALESCE((
    SELECT (b.typnamespace OPERATOR(pg_catalog.=) 'pg_catalog'::regnamespace AND b.typtype OPERATOR(pg_catalog.<>) 'd')
        OR (b.typtype OPERATOR(pg_catalog.=) 'e' AND NOT EXISTS (
              SELECT 1 FROM pg_catalog.pg_cast c
               WHERE c.castsource OPERATOR(pg_catalog.=) b.oid AND c.casttarget OPERATOR(pg_catalog.=) 'text'::regtype))
      FROM pg_catalog.pg_type d
      JOIN pg_catalog.pg_type b ON b.oid OPERATOR(pg_catalog.=) CASE WHEN d.typtype OPERATOR(pg_catalog.=) 'd' THEN d.typbasetype ELSE d.oid END
     WHERE d.oid OPERATOR(pg_catalog.=) t), false)
$$;

-- Refuses a registration whose author, or the owner of a view it reads, the current role does
-- not trust (see recommender._trusted).
CREATE FUNCTION recommender._check_trust(m recommender.model) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
BEGIN
  IF NOT recommender._trusted(m.registered_by) THEN
    RAISE EXCEPTION 'model "%" was registered by role "%", which role "%" does not trust', m.name, m.registered_by, CURRENT_USER
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'A model runs its registrant''s choices (views, their functions) as the calling role, so it is used only by roles that trust the registrant: the registrant must be the calling role, a superuser, or a member of the calling role. Register the model again as a trusted role, or GRANT the calling role to the registrant.';
  END IF;
  FOR r IN SELECT c.relname, pg_catalog.pg_get_userbyid(c.relowner) AS owner
             FROM pg_catalog.pg_class c
            WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY[m.interactions, m.items]) AND c.relkind OPERATOR(pg_catalog.=) 'v' LOOP
    IF NOT recommender._trusted(r.owner) THEN
      RAISE EXCEPTION 'model "%" reads view "%" owned by role "%", which role "%" does not trust', m.name, r.relname, r.owner, CURRENT_USER
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'A view''s functions run as the role that queries it: a model reads views only of owners the calling role trusts (the calling role, a superuser, or a member of the calling role).';
    END IF;
  END LOOP;
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
          -- integers, or the shop's own keys: text, varchar and uuid (0.3.0; see _id_type)
          WHEN kind = 'id' THEN t IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype,
                                      'text'::regtype, 'varchar'::regtype, 'uuid'::regtype)
          WHEN kind = 'number' THEN t IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'float4'::regtype,
                                   'float8'::regtype, 'numeric'::regtype)
          WHEN kind = 'time' THEN t IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype,
                                 'int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'float4'::regtype,
                                 'float8'::regtype, 'numeric'::regtype)
          -- cast to text when read: only types whose cast to text is PostgreSQL's own (a cast on a
          -- user-defined type may call its owner's function as the reading role)
          WHEN kind IN ('text', 'category') THEN recommender._text_type_ok(
                 CASE WHEN kind = 'category' AND EXISTS (SELECT 1 FROM pg_catalog.pg_type x WHERE x.oid = t AND x.typcategory = 'A')
                      THEN (SELECT x.typelem FROM pg_catalog.pg_type x WHERE x.oid = t) ELSE t END)
          WHEN kind = 'embedding' THEN t IN ('real[]'::regtype, 'double precision[]'::regtype, 'numeric[]'::regtype)
          ELSE false END;
  IF NOT ok THEN
    RAISE EXCEPTION 'column "%" of "%" (model "%") has type %, which cannot be used as %', col, relname, model_name, tname,
      CASE kind WHEN 'id' THEN 'an id' WHEN 'number' THEN 'a weight' WHEN 'embedding' THEN 'an embedding'
                WHEN 'text' THEN 'text' WHEN 'category' THEN 'a category' ELSE 'a time' END
      USING ERRCODE = 'datatype_mismatch',
            HINT = CASE kind
                     WHEN 'id' THEN 'User and item ids must be smallint, integer, bigint, text, varchar or uuid; register a view that casts other ids to one of them.'
                     WHEN 'number' THEN 'Weights must be numeric (integer, real, double precision, numeric); register a view that maps other types (e.g. boolean) to numbers.'
                     WHEN 'text' THEN 'Text columns must have a built-in type (or a domain over one, or an enum without user-defined casts); register a view that casts the column to text.'
                     WHEN 'category' THEN 'Categories must have a built-in type (or a domain over one, or an enum without user-defined casts), or be a 1-d array of one; register a view that casts the column to text.'
                     WHEN 'embedding' THEN 'Embeddings must be real[], double precision[] or numeric[].'
                     ELSE 'Times must be timestamp with or without time zone, date, or seconds since 1970 as a number.' END;
  END IF;
  RETURN format('%I', col);
END
$$;

-- How an id column is read (0.3.0): 'int8' for smallint, integer and bigint (as before), else the
-- type its values are compared as: 'text' (text, varchar, or a domain over one) or 'uuid'. NULL
-- when the column does not exist. Keys are read as text and passed back as $n::<type>.
CREATE FUNCTION recommender._id_type(rel oid, col text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN b IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN 'int8'
              WHEN b OPERATOR(pg_catalog.=) 'uuid'::regtype THEN 'uuid'
              ELSE 'text' END
    FROM (SELECT CASE WHEN t.typtype OPERATOR(pg_catalog.=) 'd' THEN t.typbasetype ELSE t.oid END AS b
            FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid
           WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attname OPERATOR(pg_catalog.=) col
             AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) x
$$;
COMMENT ON FUNCTION recommender._id_type(oid, text) IS
  'internal: int8 for integer id columns, else text or uuid (the shop''s own keys)';

-- How a model's user and item ids are read (0.3.0): 'int8', 'text' or 'uuid' each. The items are
-- keys when the interactions' item column or the items table's id column is not an integer (both
-- are then read as text and matched by their text); keys of an items table of uuid ids are uuid.
CREATE FUNCTION recommender._id_types(model_name text, OUT user_type text, OUT item_type text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT recommender._id_type(m.interactions, m.user_column),
         CASE WHEN recommender._id_type(m.interactions, m.item_column) OPERATOR(pg_catalog.=) 'int8'
                   AND (m.items IS NULL OR recommender._id_type(m.items, m.item_id_column) OPERATOR(pg_catalog.=) 'int8') THEN 'int8'
              WHEN m.items IS NULL OR recommender._id_type(m.items, m.item_id_column) OPERATOR(pg_catalog.<>) 'int8'
                   THEN recommender._id_type(COALESCE(m.items, m.interactions), COALESCE(m.item_id_column, m.item_column))
              ELSE recommender._id_type(m.interactions, m.item_column) END
    FROM recommender.model m WHERE m.name OPERATOR(pg_catalog.=) model_name
$$;
COMMENT ON FUNCTION recommender._id_types(text) IS
  'internal: how a model''s user and item ids are read: int8, text or uuid';

-- The SQL the Swift core runs for a model, validated against the current catalogs.
-- Ids are int8 for integer id columns; for the shop's own keys (text, varchar, uuid: 0.3.0, see
-- _id_types) they are text, and key parameters are cast to the column's type.
--   train_sql:    user int8, item int8, weight float8, time float8 (epoch seconds or NULL)
--   history_sql:  item int8, weight float8, time float8 for one user ($1 int8)
--   category_sql: item int8, category text (one row per category; NULL when no categories)
--   title_sql:    item int8, title text for the items in $1 (a text literal of an int8 array)
--   catalog_sql:  item int8, every item of the items table (NULL without an items table)
--   content_sql:  item int8, text (title and description), embedding as text 'x,y,...' or NULL
--   since_sql:    user int8, the users with an interaction after $1 (float8 epoch seconds); NULL
--                 without a time column. Compares the raw time column, so an index on it is used.
--   users_sql:    user int8, item int8, weight float8, time float8 for the users in $1 (a text
--                 literal of an int8 array); an index on the user column is used.
CREATE FUNCTION recommender._model_sql(model_name text,
    OUT train_sql text, OUT history_sql text, OUT category_sql text, OUT title_sql text,
    OUT catalog_sql text, OUT content_sql text, OUT since_sql text, OUT users_sql text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  m recommender.model;
  rel text; u text; i text; w text; t text; e text; ev text; since text;
  irel text; iid text; cat text; ttl text;
  cat_is_array boolean;
  tkind oid;
  k text; v jsonb;
  -- ids (0.3.0): integer ids are read as int8, keys (text, varchar, uuid) as text; ut and it are
  -- the ids' output casts, up and ip the types a user or item key parameter is cast to
  ut text := '::pg_catalog.int8'; it text := '::pg_catalog.int8';
  up text := 'pg_catalog.int8'; ip text := 'pg_catalog.int8';
BEGIN
  SELECT * INTO m FROM recommender.model WHERE name = model_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist', model_name USING ERRCODE = 'undefined_object',
      HINT = 'recommender.list() shows the registered models; recommender.register() adds one.';
  END IF;
  rel := recommender._relation(m.name, m.interactions, m.interactions_name, 'interactions');
  PERFORM recommender._check_trust(m);
  u := recommender._column(m.name, m.interactions, m.interactions_name, m.user_column, 'id');
  i := recommender._column(m.name, m.interactions, m.interactions_name, m.item_column, 'id');
  up := 'pg_catalog.' || recommender._id_type(m.interactions, m.user_column);
  IF up OPERATOR(pg_catalog.<>) 'pg_catalog.int8' THEN ut := '::pg_catalog.text'; END IF;
  IF (SELECT x.item_type FROM recommender._id_types(m.name) x) OPERATOR(pg_catalog.<>) 'int8' THEN
    it := '::pg_catalog.text';
  END IF;
  w := '1::pg_catalog.float8';
  IF m.weight_column IS NOT NULL THEN
    w := recommender._column(m.name, m.interactions, m.interactions_name, m.weight_column, 'number') || '::pg_catalog.float8';
  END IF;
  IF m.event_column IS NOT NULL THEN
    e := recommender._column(m.name, m.interactions, m.interactions_name, m.event_column, 'text');
    -- searched CASE with a qualified "=": a simple CASE x WHEN 'view' would look "=" up in the
    -- caller's search_path when the query is planned
    ev := 'CASE';
    FOR k, v IN SELECT key, value FROM jsonb_each(m.event_weights) LOOP
      ev := ev || format(' WHEN %s::pg_catalog.text OPERATOR(pg_catalog.=) %L::pg_catalog.text THEN %s::pg_catalog.float8',
                         e, k, (v #>> '{}')::float8);
    END LOOP;
    ev := ev || ' ELSE 0::pg_catalog.float8 END';
    w := '(' || w || ' OPERATOR(pg_catalog.*) ' || ev || ')';
  END IF;
  t := 'NULL::pg_catalog.float8';
  IF m.time_column IS NOT NULL THEN
    t := recommender._column(m.name, m.interactions, m.interactions_name, m.time_column, 'time');
    SELECT a.atttypid INTO tkind FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = m.interactions AND a.attname = m.time_column AND NOT a.attisdropped;
    -- since: the raw column against the watermark converted to the column's type (date_part's
    -- epoch of a timestamp or date is its UTC wall clock), so that an index on it applies
    IF tkind = 'timestamptz'::regtype THEN
      since := format('%s OPERATOR(pg_catalog.>) pg_catalog.to_timestamp($1::pg_catalog.float8)', t);
    ELSIF tkind IN ('timestamp'::regtype, 'date'::regtype) THEN
      since := format('%s OPERATOR(pg_catalog.>) pg_catalog.timezone(%L::pg_catalog.text, pg_catalog.to_timestamp($1::pg_catalog.float8))', t, 'UTC');
    END IF;
    IF tkind IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
      t := format('pg_catalog.date_part(%L, %s)::pg_catalog.float8', 'epoch', t);
    ELSE
      t := t || '::pg_catalog.float8';
      since := format('%s OPERATOR(pg_catalog.>) $1::pg_catalog.float8', t);
    END IF;
    since_sql := format('SELECT DISTINCT %s%s FROM %s WHERE %s AND %s IS NOT NULL', u, ut, rel, since, u);
  END IF;
  train_sql := format('SELECT %s%s, %s%s, %s, %s FROM %s', u, ut, i, it, w, t, rel);
  history_sql := format('SELECT %s%s, %s, %s FROM %s WHERE %s OPERATOR(pg_catalog.=) $1::%s',
                        i, it, w, t, rel, u, up);
  -- ARRAY(SELECT ...) is an init plan: the text-to-array cast runs once
  users_sql := format('SELECT %s%s, %s%s, %s, %s FROM %s WHERE %s OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.unnest($1::%s[])))',
                      u, ut, i, it, w, t, rel, u, up);
  IF m.items IS NOT NULL THEN
    irel := recommender._relation(m.name, m.items, m.items_name, 'items');
    iid := recommender._column(m.name, m.items, m.items_name, m.item_id_column, 'id');
    ip := 'pg_catalog.' || recommender._id_type(m.items, m.item_id_column);
    IF m.category_column IS NOT NULL THEN
      cat := recommender._column(m.name, m.items, m.items_name, m.category_column, 'category');
      SELECT t2.typcategory = 'A' INTO cat_is_array
        FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t2 ON t2.oid = a.atttypid
       WHERE a.attrelid = m.items AND a.attname = m.category_column AND NOT a.attisdropped;
      IF cat_is_array THEN
        category_sql := format('SELECT x.id, x.c::pg_catalog.text FROM (SELECT %s%s AS id, pg_catalog.unnest(%s) AS c FROM %s) x WHERE x.c IS NOT NULL',
                               iid, it, cat, irel);
      ELSE
        category_sql := format('SELECT %s%s, %s::pg_catalog.text FROM %s WHERE %s IS NOT NULL', iid, it, cat, irel, cat);
      END IF;
    END IF;
    catalog_sql := format('SELECT DISTINCT %s%s FROM %s WHERE %s IS NOT NULL', iid, it, irel, iid);
    IF m.content = 'auto' AND (m.title_column IS NOT NULL OR m.text_column IS NOT NULL OR m.embedding_column IS NOT NULL
                               OR m.category_column IS NOT NULL) THEN
      content_sql := format('SELECT %s%s, pg_catalog.concat_ws(%L, %s, %s)::pg_catalog.text, %s FROM %s WHERE %s IS NOT NULL',
        iid, it, ' ',
        CASE WHEN m.title_column IS NULL THEN 'NULL' ELSE recommender._column(m.name, m.items, m.items_name, m.title_column, 'text') || '::pg_catalog.text' END,
        CASE WHEN m.text_column IS NULL THEN 'NULL' ELSE recommender._column(m.name, m.items, m.items_name, m.text_column, 'text') || '::pg_catalog.text' END,
        CASE WHEN m.embedding_column IS NULL THEN 'NULL::pg_catalog.text'
             ELSE 'pg_catalog.array_to_string(' || recommender._column(m.name, m.items, m.items_name, m.embedding_column, 'embedding') || ', '','', ''NULL'')' END,
        irel, iid);
    END IF;
    IF m.title_column IS NOT NULL THEN
      ttl := recommender._column(m.name, m.items, m.items_name, m.title_column, 'text');
      -- ARRAY(SELECT ...) is an init plan: the text-to-array cast runs once, not once per row
      title_sql := format('SELECT %s%s, %s::pg_catalog.text FROM %s WHERE %s%s OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT pg_catalog.unnest($1::%s[])))',
                          iid, it, ttl, irel, iid,
                          -- compared in the items column's own type (its index applies) when the
                          -- interactions' item column has that type too, else as text
                          CASE WHEN ip OPERATOR(pg_catalog.=) 'pg_catalog.int8' THEN it
                               WHEN ip OPERATOR(pg_catalog.=) ('pg_catalog.' || recommender._id_type(m.interactions, m.item_column)) THEN ''
                               ELSE '::pg_catalog.text' END,
                          CASE WHEN ip OPERATOR(pg_catalog.=) 'pg_catalog.int8' THEN pg_catalog.ltrim(it, ':')
                               WHEN ip OPERATOR(pg_catalog.=) ('pg_catalog.' || recommender._id_type(m.interactions, m.item_column)) THEN ip
                               ELSE 'pg_catalog.text' END);
    END IF;
  END IF;
END
$$;
COMMENT ON FUNCTION recommender._model_sql(text) IS
  'internal: validates a registration against the catalogs and returns the queries the core runs';

-- Training from partial results (issue 10). train() asks _partial_plan how to read a partitioned
-- interactions table. No rows: it is not partitioned. One row with a reason: it is, but partial
-- results cannot be used (train() reads the rows and says why in a NOTICE). Otherwise one row per
-- leaf partition: its qualified name, whether it is a foreign table (and its server), and the
-- first four arguments of recommender.partial_gram over its columns (user and item as int8, the
-- weight as train_sql computes it, the raw time column: its conversion to epoch seconds happens
-- in the aggregate, because date_part of a timestamptz is STABLE and postgres_fdw would not ship
-- it). Users must not span leaves: every partitioned table of the tree must be partitioned by the
-- user column alone.
CREATE FUNCTION recommender._partial_plan(model_name text,
    OUT reason text, OUT leaf text, OUT remote boolean, OUT server text, OUT args text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  m recommender.model;
  rel text; u text; i text; w text; t text; e text; ev text;
  k text; v jsonb;
  tkind oid;
  r record;
BEGIN
  SELECT * INTO m FROM recommender.model WHERE name = model_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist', model_name USING ERRCODE = 'undefined_object',
      HINT = 'recommender.list() shows the registered models; recommender.register() adds one.';
  END IF;
  IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = m.interactions) IS DISTINCT FROM 'p' THEN
    RETURN;
  END IF;
  rel := recommender._relation(m.name, m.interactions, m.interactions_name, 'interactions');
  PERFORM recommender._check_trust(m);
  u := recommender._column(m.name, m.interactions, m.interactions_name, m.user_column, 'id');
  i := recommender._column(m.name, m.interactions, m.interactions_name, m.item_column, 'id');
  FOR r IN SELECT pt.partrelid, pt.partnatts, pt.partattrs[0] AS att
             FROM pg_catalog.pg_partition_tree(m.interactions) x
             JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = x.relid LOOP
    IF r.partnatts <> 1 OR r.att = 0 OR (SELECT a.attname FROM pg_catalog.pg_attribute a
                                          WHERE a.attrelid = r.partrelid AND a.attnum = r.att) IS DISTINCT FROM m.user_column THEN
      reason := format('%s is not partitioned by the user column %I alone, so a user''s rows may span partitions',
                       r.partrelid::regclass, m.user_column);
      RETURN NEXT; RETURN;
    END IF;
  END LOOP;
  IF (SELECT c.relrowsecurity FROM pg_catalog.pg_class c WHERE c.oid = m.interactions) THEN
    reason := 'the interactions table has row-level security, which reading its partitions directly would bypass';
    RETURN NEXT; RETURN;
  END IF;
  FOR r IN SELECT x.relid, c.relkind, c.relrowsecurity, s.srvname, f.fdwname, s.srvoptions
             FROM pg_catalog.pg_partition_tree(m.interactions) x
             JOIN pg_catalog.pg_class c ON c.oid = x.relid
             LEFT JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = x.relid
             LEFT JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
             LEFT JOIN pg_catalog.pg_foreign_data_wrapper f ON f.oid = s.srvfdw
            WHERE x.isleaf LOOP
    IF r.relkind NOT IN ('r', 'f') THEN
      reason := format('partition %s is neither a table nor a foreign table', r.relid::regclass);
    ELSIF r.relrowsecurity THEN
      reason := format('partition %s has row-level security', r.relid::regclass);
    ELSIF NOT pg_catalog.has_table_privilege(r.relid, 'SELECT') THEN
      reason := format('the current role may not read partition %s directly', r.relid::regclass);
    ELSIF r.relkind = 'f' AND r.fdwname IS DISTINCT FROM 'postgres_fdw' THEN
      reason := format('partition %s is a foreign table of %s, not postgres_fdw', r.relid::regclass, coalesce(r.fdwname, '?'));
    ELSIF r.relkind = 'f' AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.unnest(r.srvoptions) o
         WHERE o LIKE 'extensions=%'
           AND 'recommender' = ANY (SELECT pg_catalog.btrim(x) FROM pg_catalog.unnest(pg_catalog.string_to_array(pg_catalog.substr(o, 12), ',')) x)) THEN
      reason := format('the server %I of partition %s lacks the option extensions ''recommender'' (ALTER SERVER %I OPTIONS (ADD extensions ''recommender''))',
                       r.srvname, r.relid::regclass, r.srvname);
    END IF;
    IF reason IS NOT NULL THEN RETURN NEXT; RETURN; END IF;
  END LOOP;
  -- the weight as _model_sql computes it
  w := '1::pg_catalog.float8';
  IF m.weight_column IS NOT NULL THEN
    w := recommender._column(m.name, m.interactions, m.interactions_name, m.weight_column, 'number') || '::pg_catalog.float8';
  END IF;
  IF m.event_column IS NOT NULL THEN
    e := recommender._column(m.name, m.interactions, m.interactions_name, m.event_column, 'text');
    ev := 'CASE';
    FOR k, v IN SELECT key, value FROM jsonb_each(m.event_weights) LOOP
      ev := ev || format(' WHEN %s::pg_catalog.text OPERATOR(pg_catalog.=) %L::pg_catalog.text THEN %s::pg_catalog.float8',
                         e, k, (v #>> '{}')::float8);
    END LOOP;
    ev := ev || ' ELSE 0::pg_catalog.float8 END';
    w := '(' || w || ' OPERATOR(pg_catalog.*) ' || ev || ')';
  END IF;
  t := 'NULL::pg_catalog.float8';
  IF m.time_column IS NOT NULL THEN
    t := recommender._column(m.name, m.interactions, m.interactions_name, m.time_column, 'time');
    SELECT a.atttypid INTO tkind FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = m.interactions AND a.attname = m.time_column AND NOT a.attisdropped;
    IF tkind NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
      t := t || '::pg_catalog.float8';
    END IF;
  END IF;
  args := format('%s::pg_catalog.int8, %s::pg_catalog.int8, %s, %s', u, i, w, t);
  FOR r IN SELECT x.relid, c.relkind, s.srvname
             FROM pg_catalog.pg_partition_tree(m.interactions) x
             JOIN pg_catalog.pg_class c ON c.oid = x.relid
             LEFT JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = x.relid
             LEFT JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
            WHERE x.isleaf ORDER BY x.relid::regclass::text LOOP
    leaf := r.relid::regclass::text;
    remote := r.relkind = 'f';
    server := r.srvname;
    RETURN NEXT;
  END LOOP;
END
$$;

-- Whether postgres_fdw ships a partition's recommender.partial_gram query whole to its server (the
-- plan's top node is the Foreign Scan whose remote SQL calls the aggregate); train() says so in
-- its NOTICE. VOLATILE because EXPLAIN cannot run in a read-only (non-volatile) context; it only
-- plans the query, as the calling role.
CREATE FUNCTION recommender._partial_pushed_down(query text, weighting integer, weight_power float8, row_norm float8, half_life float8,
                                                 sequence_half_life float8)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || query INTO plan USING weighting, weight_power, row_norm, half_life, sequence_half_life;
  RETURN (plan -> 0 -> 'Plan' ->> 'Node Type') = 'Foreign Scan'
     AND pg_catalog.strpos(plan -> 0 -> 'Plan' ->> 'Remote SQL', 'recommender.partial_gram(') > 0;
END
$$;

-- The aggregate a shard runs over its rows (Sources/CPostgresShim/partial.c): its users' part of
-- what training needs, as a versioned binary partial result (Sources/RecommenderCore/PartialGram.swift).
-- Its transition and final functions run no queries (no search_path to fix: a SET clause would
-- cost on every row).
CREATE FUNCTION recommender._partial_gram_step(internal, bigint, bigint, float8, anyelement, integer, float8, float8, float8, float8)
RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'rec_partial_gram_step';

CREATE FUNCTION recommender._partial_gram_final(internal)
RETURNS bytea
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'rec_partial_gram_final';

-- What a partial result holds, after the checks train() makes (22P03 for anything else).
CREATE FUNCTION recommender.partial_gram_info(partial bytea)
RETURNS jsonb
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_partial_gram_info';
COMMENT ON FUNCTION recommender.partial_gram_info(bytea) IS
  'checks a partial training result of recommender.partial_gram and describes it: format, parameters, events, users, items, pairs';

-- A partial result as base64 text: what train() asks a shard for. postgres_fdw fetches results in
-- the text protocol, where a bytea is hex (twice its size; base64 is 4/3), and does not ship
-- pg_catalog.encode(..., 'base64') (its text argument gives the call an input collation).
CREATE FUNCTION recommender.partial_gram_base64(partial bytea)
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_partial_gram_base64';
COMMENT ON FUNCTION recommender.partial_gram_base64(bytea) IS
  'a partial training result of recommender.partial_gram as base64 text (no line breaks), as train() fetches it from a shard through postgres_fdw';

CREATE AGGREGATE recommender.partial_gram(user_id bigint, item_id bigint, weight float8, event_time anyelement,
                                          weighting integer, weight_power float8, row_norm float8, half_life_seconds float8,
                                          sequence_half_life float8) (
  SFUNC = recommender._partial_gram_step,
  STYPE = internal,
  FINALFUNC = recommender._partial_gram_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE recommender.partial_gram(bigint, bigint, float8, anyelement, integer, float8, float8, float8, float8) IS
  'training from partial results: the users'' part (weighting: 0 binary, 1 sum, 2 log, 3 power) of X^T X, of the counts and popularity sums and, with sequence_half_life > 0 (positions; 0 or NULL: none), of the sequential component''s S^T S and S^T T over the aggregated rows, as a versioned binary partial result; train() runs it on each partition of a partitioned interactions table (pushed down to the shard by postgres_fdw with the server option extensions ''recommender'')';

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
    title_column   text  DEFAULT NULL,
    text_column    text  DEFAULT NULL,
    embedding_column text DEFAULT NULL)
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
  IF items IS NULL AND (item_id_column IS NOT NULL OR category_column IS NOT NULL OR title_column IS NOT NULL
                       OR text_column IS NOT NULL OR embedding_column IS NOT NULL) THEN
    RAISE EXCEPTION 'item columns given without an items table' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF items IS NOT NULL AND item_id_column IS NULL THEN
    RAISE EXCEPTION 'an items table needs item_id_column' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT EXISTS (SELECT 1 FROM recommender.model m WHERE m.name = register.model) INTO existed;
  INSERT INTO recommender.model AS m (name, interactions, interactions_name, user_column, item_column,
        weight_column, time_column, event_column, event_weights, items, items_name, item_id_column,
        category_column, title_column, text_column, embedding_column)
  VALUES (model, interactions, interactions::text, user_column, item_column, weight_column, time_column,
          event_column, event_weights, items, items::text, item_id_column, category_column, title_column,
          text_column, embedding_column)
  ON CONFLICT (name) DO UPDATE SET
        interactions = EXCLUDED.interactions, interactions_name = EXCLUDED.interactions_name,
        user_column = EXCLUDED.user_column, item_column = EXCLUDED.item_column,
        weight_column = EXCLUDED.weight_column, time_column = EXCLUDED.time_column,
        event_column = EXCLUDED.event_column, event_weights = EXCLUDED.event_weights,
        items = EXCLUDED.items, items_name = EXCLUDED.items_name, item_id_column = EXCLUDED.item_id_column,
        category_column = EXCLUDED.category_column, title_column = EXCLUDED.title_column,
        text_column = EXCLUDED.text_column, embedding_column = EXCLUDED.embedding_column,
        config_stamp = nextval('recommender.version_seq'), registered_at = now(), registered_by = current_user;
  -- validate now, so that mistakes show at registration (the transaction rolls back on error)
  PERFORM recommender._model_sql(model);
  RETURN format('model "%s" %s: interactions %s (user %s, item %s%s%s%s)%s', model,
                CASE WHEN existed THEN 're-registered' ELSE 'registered' END,
                interactions::text, user_column, item_column,
                COALESCE(', weight ' || weight_column, ''), COALESCE(', time ' || time_column, ''),
                COALESCE(', event ' || event_column, ''),
                CASE WHEN items IS NULL THEN '' ELSE
                  format('; items %s (id %s%s%s)', items::text, item_id_column,
                         COALESCE(', category ' || category_column, ''), COALESCE(', title ' || title_column, '')) END);
END
$$;
COMMENT ON FUNCTION recommender.register(text, regclass, text, text, text, text, text, jsonb, regclass, text, text, text, text, text) IS
  'register (or re-register) a model: the interactions table with its user, item and optional weight, time and event-type columns (event_weights gives a weight per type), and optionally the items table with its id, category (text or text[]), title, description text and embedding (real[]) columns; titles, text and categories (or the embedding) give content vectors for items without interactions';

CREATE FUNCTION recommender.configure(
    model text,
    lambda float8 DEFAULT NULL,
    weighting text DEFAULT NULL,
    max_items integer DEFAULT NULL,
    popularity_half_life interval DEFAULT NULL,
    reranker text DEFAULT NULL,
    candidate_pool integer DEFAULT NULL,
    dropout float8 DEFAULT NULL,
    weight_power float8 DEFAULT NULL,
    row_norm float8 DEFAULT NULL,
    trend_weight float8 DEFAULT NULL,
    content text DEFAULT NULL,
    content_prior float8 DEFAULT NULL,
    keep_gram boolean DEFAULT NULL,
    recency_half_life float8 DEFAULT NULL,
    sequence_weight float8 DEFAULT NULL,
    kind text DEFAULT NULL,
    density float8 DEFAULT NULL,
    sequence_half_life float8 DEFAULT NULL,
    recency_floor float8 DEFAULT NULL)
RETURNS SETOF recommender.model
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  new_max_items integer;
BEGIN
  IF lambda IS NOT NULL AND (lambda = 'NaN'::float8 OR lambda <= 0 OR lambda = 'infinity'::float8) THEN
    RAISE EXCEPTION 'lambda must be a finite number > 0 (got %)', lambda USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Typical values are 10 to 1000; larger means stronger regularisation.';
  END IF;
  IF weighting IS NOT NULL AND weighting NOT IN ('binary', 'sum', 'log', 'power') THEN
    RAISE EXCEPTION 'weighting must be binary, sum, log or power (got "%")', weighting USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF reranker IS NOT NULL AND reranker NOT IN ('coverage', 'mmr', 'dpp') THEN
    RAISE EXCEPTION 'reranker must be coverage, mmr or dpp (got "%")', reranker USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF dropout IS NOT NULL AND NOT (dropout >= 0 AND dropout < 1) THEN
    RAISE EXCEPTION 'dropout must be in [0, 1) (got %)', dropout USING ERRCODE = 'invalid_parameter_value',
      HINT = 'EDLAE''s dropout: 0 is plain EASE; 0.5 to 0.8 are typical.';
  END IF;
  IF weight_power IS NOT NULL AND NOT (weight_power > 0 AND weight_power <= 10) THEN
    RAISE EXCEPTION 'weight_power must be in (0, 10] (got %)', weight_power USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF content IS NOT NULL AND content NOT IN ('auto', 'off') THEN
    RAISE EXCEPTION 'content must be auto or off (got "%")', content USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF content_prior IS NOT NULL AND NOT (content_prior >= 0 AND content_prior < 'infinity'::float8) THEN
    RAISE EXCEPTION 'content_prior must be a finite number >= 0 (got %)', content_prior USING ERRCODE = 'invalid_parameter_value',
      HINT = '0 scores items the model knows collaboratively only; 5 lets an item with 5 users lean half on its content.';
  END IF;
  IF trend_weight IS NOT NULL AND NOT (trend_weight >= 0 AND trend_weight <= 4) THEN
    RAISE EXCEPTION 'trend_weight must be in [0, 4] (got %)', trend_weight USING ERRCODE = 'invalid_parameter_value',
      HINT = '0 ranks new users'' items by decayed popularity alone; 0.5 favours items on the rise.';
  END IF;
  IF row_norm IS NOT NULL AND NOT (row_norm >= 0 AND row_norm <= 1) THEN
    RAISE EXCEPTION 'row_norm must be in [0, 1] (got %)', row_norm USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF max_items IS NOT NULL AND (max_items < 1 OR max_items > 10000000) THEN
    RAISE EXCEPTION 'max_items must be between 1 and 10000000 (got %)', max_items USING ERRCODE = 'invalid_parameter_value',
      HINT = 'The dense model needs 4 * max_items^2 bytes per backend that uses it and is limited to 30000; the sparse kind goes to 10000000.';
  END IF;
  IF kind IS NOT NULL AND kind NOT IN ('auto', 'dense', 'sparse') THEN
    RAISE EXCEPTION 'kind must be auto, dense or sparse (got "%")', kind USING ERRCODE = 'invalid_parameter_value',
      HINT = 'auto trains the dense model up to 20000 items and the sparse one above.';
  END IF;
  IF density IS NOT NULL AND NOT (density > 0 AND density <= 1) THEN
    RAISE EXCEPTION 'density must be in (0, 1] (got %)', density USING ERRCODE = 'invalid_parameter_value',
      HINT = 'The share of the items x items weights the sparse model keeps: each item keeps density x items of them, at least 256; 1 is dense EASE.';
  END IF;
  -- switching to the dense kind without a max_items lowers a larger one to the dense limit (0.4.0:
  -- the default, 1,000,000, is the sparse kind's and 'auto''s)
  SELECT COALESCE(configure.max_items, CASE WHEN configure.kind IS NOT NULL THEN LEAST(m.max_items, 30000) ELSE m.max_items END)
    INTO new_max_items FROM recommender.model m
   WHERE m.name OPERATOR(pg_catalog.=) configure.model AND COALESCE(configure.kind, m.kind) OPERATOR(pg_catalog.=) 'dense';
  IF new_max_items OPERATOR(pg_catalog.>) 30000 THEN
    RAISE EXCEPTION 'the dense kind is limited to 30000 items (max_items %)', new_max_items
      USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Use kind => ''sparse'' (or ''auto'') for a larger catalog, or lower max_items.';
  END IF;
  IF candidate_pool IS NOT NULL AND (candidate_pool < 1 OR candidate_pool > 10000) THEN
    RAISE EXCEPTION 'candidate_pool must be between 1 and 10000 (got %)', candidate_pool USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF popularity_half_life IS NOT NULL AND popularity_half_life <= '0'::interval THEN
    RAISE EXCEPTION 'popularity_half_life must be positive' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF recency_half_life IS NOT NULL AND NOT (recency_half_life = 0 OR (recency_half_life >= 0.1 AND recency_half_life <= 1000000)) THEN
    RAISE EXCEPTION 'recency_half_life must be 0 (off) or between 0.1 and 1000000 (got %)', recency_half_life
      USING ERRCODE = 'invalid_parameter_value',
      HINT = 'It is counted in history items: with 5, the user''s 5th most recent item counts half as much as the most recent one.';
  END IF;
  IF sequence_weight IS NOT NULL AND NOT (sequence_weight >= 0 AND sequence_weight <= 1) THEN
    RAISE EXCEPTION 'sequence_weight must be in [0, 1] (got %)', sequence_weight USING ERRCODE = 'invalid_parameter_value',
      HINT = '0 is co-occurrence alone (EASE/EDLAE); 1 is the sequential component alone; tune() chooses it on validation data.';
  END IF;
  IF sequence_half_life IS NOT NULL AND NOT (sequence_half_life >= 0.5 AND sequence_half_life <= 8) THEN
    RAISE EXCEPTION 'sequence_half_life must be between 0.5 and 8 (got %)', sequence_half_life USING ERRCODE = 'invalid_parameter_value',
      HINT = 'The sequential component''s position decay, in positions: 2 lets the 3rd item before a step count half as much as the 1st; each side of a step spans 4 half-lives.';
  END IF;
  IF recency_floor IS NOT NULL AND NOT (recency_floor >= 0 AND recency_floor <= 1) THEN
    RAISE EXCEPTION 'recency_floor must be in [0, 1] (got %)', recency_floor USING ERRCODE = 'invalid_parameter_value',
      HINT = 'The share of its value an old history item keeps under recency_half_life: 0 lets old items fade out, 0.1 keeps a tenth; tune() chooses it on validation data.';
  END IF;
  RETURN QUERY
  UPDATE recommender.model m SET
    lambda = COALESCE(configure.lambda, m.lambda),
    weighting = COALESCE(configure.weighting, m.weighting),
    max_items = COALESCE(configure.max_items,
                         CASE WHEN configure.kind OPERATOR(pg_catalog.=) 'dense' THEN LEAST(m.max_items, 30000) ELSE m.max_items END),
    popularity_half_life = COALESCE(configure.popularity_half_life, m.popularity_half_life),
    reranker = COALESCE(configure.reranker, m.reranker),
    candidate_pool = COALESCE(configure.candidate_pool, m.candidate_pool),
    dropout = COALESCE(configure.dropout, m.dropout),
    weight_power = COALESCE(configure.weight_power, m.weight_power),
    row_norm = COALESCE(configure.row_norm, m.row_norm),
    trend_weight = COALESCE(configure.trend_weight, m.trend_weight),
    content = COALESCE(configure.content, m.content),
    content_prior = COALESCE(configure.content_prior, m.content_prior),
    keep_gram = COALESCE(configure.keep_gram, m.keep_gram),
    recency_half_life = COALESCE(configure.recency_half_life, m.recency_half_life),
    sequence_weight = COALESCE(configure.sequence_weight, m.sequence_weight),
    kind = COALESCE(configure.kind, m.kind),
    density = COALESCE(configure.density, m.density),
    sequence_half_life = COALESCE(configure.sequence_half_life, m.sequence_half_life),
    recency_floor = COALESCE(configure.recency_floor, m.recency_floor),
    config_stamp = nextval('recommender.version_seq')
  WHERE m.name = configure.model
  RETURNING m.*;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object',
      HINT = 'recommender.list() shows the registered models.';
  END IF;
END
$$;
COMMENT ON FUNCTION recommender.configure(text, float8, text, integer, interval, text, integer, float8, float8, float8, float8, text, float8, boolean, float8, float8, text, float8, float8, float8) IS
  'set model parameters: lambda (L2 regularisation), weighting (binary|sum|log|power of summed event weights), max_items, popularity_half_life, reranker (coverage|mmr|dpp), candidate_pool, dropout (EDLAE), weight_power (for weighting power), row_norm (training rows scaled by history length^-row_norm), trend_weight (how much a recent rise lifts an item for new users), content (auto|off: content vectors for items without interactions), content_prior (how long items lean on content as they gather users), keep_gram (keep the Gram matrix so that update() can fold in new interactions), recency_half_life (history items weighted 0.5^(age rank / half-life) at scoring; 0 off), sequence_weight (share of the sequential item-item component, SLIT of Choi et al. 2021, in the trained weights), kind (auto|dense|sparse: dense EASE or the sparse SANSA-style model; auto picks by the number of items), density (the share of the items x items weights the sparse kind keeps), sequence_half_life (the sequential component''s position decay, in positions; each side of a step spans 4 half-lives), recency_floor (the share of its value an old history item keeps under recency weighting: floor + (1 - floor) x 0.5^(age rank / half-life)); training-time parameters apply at the next train()';

CREATE FUNCTION recommender.train(model text DEFAULT 'default')
RETURNS TABLE (model text, version bigint, users integer, items integer, interactions bigint, seconds float8)
LANGUAGE c VOLATILE
-- every query it runs (internal, registered relations, filter predicates) resolves names in
-- pg_catalog only, whatever the caller's search_path
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_train';
COMMENT ON FUNCTION recommender.train(text) IS
  'train the model inside the database (EASE, Steck 2019) from its interactions table; the new version replaces the old one when the transaction commits';

CREATE FUNCTION recommender.update(model text DEFAULT 'default')
RETURNS TABLE (model text, version bigint, users integer, new_interactions bigint, seconds float8)
LANGUAGE c VOLATILE
-- every query it runs (internal, registered relations, filter predicates) resolves names in
-- pg_catalog only, whatever the caller's search_path
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_update';
COMMENT ON FUNCTION recommender.update(text) IS
  'fold the interactions newer than the last training (by the time column) into the kept Gram matrix and solve again, without reading the whole table; needs keep_gram and a time column. Items new since training stay content-only, and popularity is not refreshed: retrain from time to time';

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
    ('items', CASE WHEN m.items IS NULL THEN 'none' ELSE format('%s (id %s%s%s%s%s)', m.items_name, m.item_id_column,
                              COALESCE(', category ' || m.category_column, ''), COALESCE(', title ' || m.title_column, ''),
                              COALESCE(', text ' || m.text_column, ''), COALESCE(', embedding ' || m.embedding_column, '')) END),
    ('parameters', format('lambda=%s dropout=%s weighting=%s weight_power=%s row_norm=%s max_items=%s popularity_half_life=%s trend_weight=%s reranker=%s candidate_pool=%s content=%s content_prior=%s',
                          m.lambda, m.dropout, m.weighting, m.weight_power, m.row_norm, m.max_items, m.popularity_half_life, m.trend_weight, m.reranker, m.candidate_pool, m.content, m.content_prior)),
    ('sequence', format('recency_half_life=%s recency_floor=%s sequence_weight=%s', m.recency_half_life, m.recency_floor, m.sequence_weight)),
    -- 0.3.0: how ids are read (int8, or the shop's own keys: text or uuid; see recommend(text))
    ('ids', (SELECT format('user %s, item %s', COALESCE(x.user_type, '?'), COALESCE(x.item_type, '?'))
               FROM recommender._id_types(m.name) x)),
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

-- The models this backend keeps loaded, and their memory (bounded by recommender.max_cache_memory).
CREATE FUNCTION recommender.cache_status()
RETURNS TABLE (model text, version bigint, items integer, bytes bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'rec_cache_status';
COMMENT ON FUNCTION recommender.cache_status() IS
  'the models cached in this session (most recently used first) and the bytes each holds; their sum stays under recommender.max_cache_memory';

-- ---------------------------------------------------------------------------------------------
-- The shop's rules: named filters over the items table
-- ---------------------------------------------------------------------------------------------
CREATE TABLE recommender.filter (
    model     text NOT NULL REFERENCES recommender.model (name) ON DELETE CASCADE,
    name      text NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$'),
    predicate text NOT NULL,
    PRIMARY KEY (model, name)
);
COMMENT ON TABLE recommender.filter IS
  'named filters: a predicate over the items table that recommend(..., filter => name) applies';
SELECT pg_catalog.pg_extension_config_dump('recommender.filter', '');
ALTER TABLE recommender.filter ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON recommender.filter FOR ALL
  USING (EXISTS (SELECT 1 FROM recommender.model m WHERE m.name OPERATOR(pg_catalog.=) filter.model));
REVOKE ALL ON recommender.filter FROM PUBLIC;
GRANT SELECT ON recommender.filter TO PUBLIC;

-- The query that lists the items passing a filter: a named filter of the model, or else a
-- boolean column of the items table with that name.
-- Refuses a filter predicate that is not a side-effect-free expression over the items table's
-- columns with PostgreSQL's own non-volatile functions and operators (see filter_check.c).
CREATE FUNCTION recommender._check_filter(items oid, predicate text) RETURNS void
LANGUAGE c STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_check_filter';
COMMENT ON FUNCTION recommender._check_filter(oid, text) IS
  'internal: raises unless a filter predicate is an expression over the items table''s columns with built-in, non-volatile functions and operators only';

CREATE FUNCTION recommender._filter_sql(model_name text, filter_name text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  m recommender.model;
  irel text; iid text; pred text; col text;
BEGIN
  SELECT * INTO m FROM recommender.model x WHERE x.name = model_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist', model_name USING ERRCODE = 'undefined_object';
  END IF;
  IF m.items IS NULL THEN
    RAISE EXCEPTION 'filter "%" needs an items table, and model "%" has none', filter_name, model_name
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Register the model with items => ... and item_id_column => ....';
  END IF;
  irel := recommender._relation(m.name, m.items, m.items_name, 'items');
  PERFORM recommender._check_trust(m);
  iid := recommender._column(m.name, m.items, m.items_name, m.item_id_column, 'id');
  -- the ids as the model reads them: int8, or text for the shop's own keys (0.3.0)
  iid := iid || CASE WHEN (SELECT x.item_type FROM recommender._id_types(m.name) x) OPERATOR(pg_catalog.=) 'int8'
                     THEN '::pg_catalog.int8' ELSE '::pg_catalog.text' END;
  SELECT f.predicate INTO pred FROM recommender.filter f WHERE f.model = model_name AND f.name = filter_name;
  SELECT format('%I', a.attname) INTO col
    FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = m.items AND a.attname = filter_name AND a.attnum > 0 AND NOT a.attisdropped
     AND a.atttypid = 'bool'::regtype;
  IF pred IS NOT NULL THEN
    -- a named filter never shadows a boolean column silently (add_filter refuses column names;
    -- a column added later makes the name ambiguous)
    IF col IS NOT NULL THEN
      RAISE EXCEPTION 'filter "%" of model "%" is ambiguous: the items table has a boolean column of that name too', filter_name, model_name
        USING ERRCODE = 'ambiguous_column',
              HINT = 'Drop the named filter (recommender.drop_filter) or rename the column.';
    END IF;
    -- checked at every use: the filter table may have been written directly
    PERFORM recommender._check_filter(m.items, pred);
    RETURN format('SELECT %s FROM %s WHERE (%s)', iid, irel, pred);
  END IF;
  IF col IS NULL THEN
    RAISE EXCEPTION 'model "%" has no filter named "%", and its items table has no boolean column of that name', model_name, filter_name
      USING ERRCODE = 'undefined_object',
            HINT = 'Define one with recommender.add_filter(model, name, predicate), or name a boolean column of the items table.';
  END IF;
  RETURN format('SELECT %s FROM %s WHERE %s IS TRUE', iid, irel, col);
END
$$;

CREATE FUNCTION recommender.add_filter(model text, name text, predicate text) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  m recommender.model;
  n bigint;
BEGIN
  IF model IS NULL OR name IS NULL OR predicate IS NULL THEN
    RAISE EXCEPTION 'model, name and predicate must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT * INTO m FROM recommender.model x WHERE x.name = add_filter.model;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
  END IF;
  IF name !~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'invalid filter name "%"', name USING ERRCODE = 'invalid_parameter_value',
      HINT = 'A filter name is a letter or underscore followed by up to 62 letters, digits or underscores.';
  END IF;
  IF m.items IS NOT NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                                      WHERE a.attrelid = m.items AND a.attname = add_filter.name
                                        AND a.attnum > 0 AND NOT a.attisdropped) THEN
    RAISE EXCEPTION 'the items table of model "%" has a column named "%": a filter may not take a column''s name', model, name
      USING ERRCODE = 'duplicate_column',
            HINT = 'recommend(..., filter => name) with a boolean column''s name applies that column; give the named filter another name.';
  END IF;
  INSERT INTO recommender.filter AS f (model, name, predicate) VALUES (model, name, predicate)
  ON CONFLICT ON CONSTRAINT filter_pkey DO UPDATE SET predicate = EXCLUDED.predicate;
  -- check it now: the predicate must be a valid boolean expression over the items table
  EXECUTE format('SELECT count(*) FROM (%s) x', recommender._filter_sql(model, name)) INTO n;
  RETURN format('filter "%s" of model "%s": %s items pass', name, model, n);
END
$$;
COMMENT ON FUNCTION recommender.add_filter(text, text, text) IS
  'define (or replace) a named filter: a boolean SQL expression over the items table''s columns, e.g. ''in_stock AND price < 50''; callers apply it with recommend(..., filter => name). Only roles that may write the catalog can define filters; the predicate runs as the role calling recommend()';

CREATE FUNCTION recommender.drop_filter(model text, name text) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM recommender.filter f WHERE f.model = drop_filter.model AND f.name = drop_filter.name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" has no filter named "%"', model, name USING ERRCODE = 'undefined_object';
  END IF;
  RETURN format('filter "%s" of model "%s" dropped', name, model);
END
$$;
COMMENT ON FUNCTION recommender.drop_filter(text, text) IS 'drop a named filter';

-- ---------------------------------------------------------------------------------------------
-- Evaluation and tuning, for analysts
-- ---------------------------------------------------------------------------------------------

-- Scores a model's recommend() lists against held-out interactions, with the definitions of the
-- project's shared scorer (evaluate.py): accuracy over the users with at least one relevant
-- held-out item; beyond-accuracy over every held-out user with a list.
CREATE FUNCTION recommender.evaluate(
    model text,
    heldout regclass,
    user_column text,
    item_column text,
    relevance_column text DEFAULT NULL,
    min_relevance float8 DEFAULT NULL,
    k integer DEFAULT 10,
    diversity float8 DEFAULT 0)
RETURNS TABLE (metric text, value float8)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  hrel text; hu text; hi text; hr text; c text;
  q record;
  relevant_expr text;
  n_train_users float8;
  n_catalog bigint;
  n_pop bigint;
  -- the ids as recommend() takes and returns them: int8, or text when the model's ids are keys
  idt text;
  -- scratch tables of this call only, under names no other object has (never the caller's own
  -- pg_temp.rec_eval_* tables); they go with the transaction if the call fails
  sfx text := pg_catalog.substr(pg_catalog.md5(pg_catalog.clock_timestamp()::pg_catalog.text OPERATOR(pg_catalog.||) pg_catalog.random()::pg_catalog.text), 1, 12);
  t_h text := 'rec_eval_' OPERATOR(pg_catalog.||) sfx OPERATOR(pg_catalog.||) '_heldout';
  t_l text := 'rec_eval_' OPERATOR(pg_catalog.||) sfx OPERATOR(pg_catalog.||) '_lists';
  t_p text := 'rec_eval_' OPERATOR(pg_catalog.||) sfx OPERATOR(pg_catalog.||) '_pop';
  t_c text := 'rec_eval_' OPERATOR(pg_catalog.||) sfx OPERATOR(pg_catalog.||) '_cat';
BEGIN
  IF model IS NULL OR heldout IS NULL OR user_column IS NULL OR item_column IS NULL OR k IS NULL OR diversity IS NULL THEN
    RAISE EXCEPTION 'model, heldout, user_column, item_column, k and diversity must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF k <= 0 OR k > 10000 THEN
    RAISE EXCEPTION 'k must be between 1 and 10000 (got %)', k USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT (diversity >= 0 AND diversity <= 1) THEN
    RAISE EXCEPTION 'diversity must be between 0 and 1 (got %)', diversity USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF min_relevance = 'NaN'::float8 THEN
    RAISE EXCEPTION 'min_relevance must be a number, not NaN' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Held-out rows with relevance_column >= min_relevance count as relevant; leave it NULL to count every row.';
  END IF;
  hrel := recommender._relation(model, heldout, heldout::text, 'held-out');
  -- a missing column here is the caller's argument, not the model's registration
  FOR c IN SELECT x FROM unnest(ARRAY[user_column, item_column, relevance_column]) x WHERE x IS NOT NULL LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = heldout AND a.attname = c AND a.attnum > 0 AND NOT a.attisdropped) THEN
      RAISE EXCEPTION 'column "%" of the held-out relation % does not exist', c, heldout
        USING ERRCODE = 'undefined_column',
              HINT = 'user_column, item_column and relevance_column name columns of the held-out relation.';
    END IF;
  END LOOP;
  hu := recommender._column(model, heldout, heldout::text, user_column, 'id');
  hi := recommender._column(model, heldout, heldout::text, item_column, 'id');
  relevant_expr := 'true';
  IF relevance_column IS NOT NULL THEN
    hr := recommender._column(model, heldout, heldout::text, relevance_column, 'number');
    IF min_relevance IS NOT NULL THEN
      relevant_expr := format('(%s::pg_catalog.float8 OPERATOR(pg_catalog.>=) %L::pg_catalog.float8)', hr, min_relevance);
    END IF;
  END IF;
  SELECT * INTO q FROM recommender._model_sql(model);
  PERFORM recommender._check_heldout(model, heldout, user_column, item_column);
  SELECT CASE WHEN x.user_type OPERATOR(pg_catalog.=) 'int8' AND x.item_type OPERATOR(pg_catalog.=) 'int8'
              THEN 'pg_catalog.int8' ELSE 'pg_catalog.text' END INTO idt
    FROM recommender._id_types(model) x;

  EXECUTE format('CREATE TEMP TABLE %I AS SELECT %s::%s AS u, %s::%s AS i, COALESCE(%s, false) AS rel FROM %s WHERE %s IS NOT NULL AND %s IS NOT NULL',
                 t_h, hu, idt, hi, idt, relevant_expr, hrel, hu, hi);
  EXECUTE format('CREATE TEMP TABLE %I AS
                    SELECT h.u, x.rank, x.item_id
                      FROM (SELECT DISTINCT u FROM pg_temp.%I) h
                     CROSS JOIN LATERAL @extschema@.recommend(h.u, %s, %L::pg_catalog.float8, %L) x',
                 t_l, t_h, k, diversity, model);
  -- popularity in the model's interactions (rows per item, like the scorer's train counts)
  EXECUTE format('CREATE TEMP TABLE %I AS SELECT t.i::%s AS i, pg_catalog.count(*)::pg_catalog.float8 AS cnt FROM (%s) AS t(u, i, w, ts) GROUP BY 1', t_p, idt, q.train_sql);
  EXECUTE format('SELECT pg_catalog.count(DISTINCT t.u)::pg_catalog.float8 FROM (%s) AS t(u, i, w, ts)', q.train_sql) INTO n_train_users;
  IF q.catalog_sql IS NOT NULL THEN
    EXECUTE format('INSERT INTO pg_temp.%I SELECT c.i::%s, 0 FROM (%s) AS c(i) WHERE NOT EXISTS (SELECT 1 FROM pg_temp.%I p WHERE p.i OPERATOR(pg_catalog.=) c.i::%s)', t_p, idt, q.catalog_sql, t_p, idt);
    EXECUTE format('SELECT pg_catalog.count(*) FROM (%s) AS c(i)', q.catalog_sql) INTO n_catalog;
  ELSE
    SELECT pg_catalog.count(*) FROM recommender.model_item mi JOIN recommender.model m
        ON m.name = mi.model AND m.version = mi.version WHERE m.name = evaluate.model INTO n_catalog;
  END IF;
  n_pop := ceil(0.1 * n_catalog);
  EXECUTE format('ALTER TABLE pg_temp.%I ADD COLUMN popular boolean', t_p);
  EXECUTE format('UPDATE pg_temp.%I p SET popular = o.rn <= $1
    FROM (SELECT i, row_number() OVER (ORDER BY cnt DESC, i) AS rn FROM pg_temp.%I) o WHERE o.i = p.i', t_p, t_p) USING n_pop;
  IF q.category_sql IS NOT NULL THEN
    EXECUTE format('CREATE TEMP TABLE %I AS SELECT DISTINCT c.i::%s AS i, c.cat FROM (%s) AS c(i, cat)', t_c, idt, q.category_sql);
  ELSE
    EXECUTE format('CREATE TEMP TABLE %I (i %s, cat pg_catalog.text)', t_c, idt);
  END IF;

  -- $1 k, $2 the number of users in the interactions (NULL when there are none: novelty is then
  -- undefined), $3 the catalog size
  RETURN QUERY EXECUTE pg_catalog.format($q$
  WITH relv AS (SELECT DISTINCT u, i FROM pg_temp.%1$I WHERE rel),
  nrel AS (SELECT u, count(*)::float8 AS n FROM relv GROUP BY u),
  hits AS (
    SELECT l.u, l.rank, (r.i IS NOT NULL) AS hit,
           count(*) FILTER (WHERE r.i IS NOT NULL) OVER (PARTITION BY l.u ORDER BY l.rank) AS hits_so_far
      FROM pg_temp.%2$I l LEFT JOIN relv r ON r.u = l.u AND r.i = l.item_id
     WHERE l.rank <= $1),
  per_user AS (
    SELECT n.u, n.n,
           COALESCE(sum(h.hit::int), 0)::float8 AS nh,
           COALESCE(sum(CASE WHEN h.hit THEN ln(2::float8) / ln((h.rank + 1)::float8) END), 0)::float8 AS dcg,
           COALESCE(sum(CASE WHEN h.hit THEN h.hits_so_far::float8 / h.rank END), 0)::float8 AS ap_sum,
           (SELECT sum(ln(2::float8) / ln((p + 1)::float8)) FROM generate_series(1, least($1, n.n::int)) p)::float8 AS idcg
      FROM nrel n LEFT JOIN hits h ON h.u = n.u GROUP BY n.u, n.n),
  acc AS (
    SELECT avg(nh / $1) AS p, avg(nh / n) AS r, avg(dcg / idcg) AS ndcg,
           avg(ap_sum / least($1, n)) AS map, avg((nh > 0)::int::float8) AS hr, count(*)::float8 AS users
      FROM per_user),
  lists AS (SELECT l.* FROM pg_temp.%2$I l WHERE l.rank <= $1),
  catarr AS (SELECT i, array_agg(cat) AS a FROM pg_temp.%4$I GROUP BY i),
  pairs AS (
    SELECT a.u, ca.a AS x, cb.a AS y
      FROM lists a JOIN lists b ON b.u = a.u AND b.rank > a.rank
      LEFT JOIN catarr ca ON ca.i = a.item_id LEFT JOIN catarr cb ON cb.i = b.item_id),
  pair_dist AS (
    SELECT u, CASE WHEN uni = 0 THEN 0 ELSE 1 - inter / uni END AS dist
      FROM (SELECT u, inter, COALESCE(cardinality(x), 0) + COALESCE(cardinality(y), 0) - inter AS uni
              FROM (SELECT u, x, y, (SELECT count(*) FROM unnest(x) e WHERE e = ANY (y))::float8 AS inter FROM pairs) p0) p1),
  ild AS (SELECT avg(d) AS ild FROM (SELECT u, avg(dist) AS d FROM pair_dist GROUP BY u) x),
  per_list AS (
    SELECT l.u,
           (SELECT count(DISTINCT c.cat) FROM lists l2 JOIN pg_temp.%4$I c ON c.i = l2.item_id WHERE l2.u = l.u)::float8 AS cats,
           avg(-ln(greatest(COALESCE(p.cnt, 0), 1) / $2) / ln(2::float8))::float8 AS novelty,
           bool_and(COALESCE(p.popular, false)) AS pop_only,
           avg(COALESCE(p.popular, false)::int)::float8 AS pop_share
      FROM lists l LEFT JOIN pg_temp.%3$I p ON p.i = l.item_id GROUP BY l.u),
  beyond AS (
    SELECT (SELECT count(DISTINCT item_id) FROM lists)::float8 / nullif($3, 0) AS coverage,
           avg(cats) AS cats, avg(novelty) AS novelty, avg(pop_only::int)::float8 AS pop_only,
           avg(pop_share) AS pop_share, count(*)::float8 AS lists
      FROM per_list)
  SELECT x.metric, x.value FROM acc, ild, beyond,
    LATERAL (VALUES
      ('precision', acc.p), ('recall', acc.r),
      ('f1', CASE WHEN acc.p + acc.r > 0 THEN 2 * acc.p * acc.r / (acc.p + acc.r) ELSE 0 END),
      ('ndcg', acc.ndcg), ('map', acc.map), ('hit_rate', acc.hr), ('accuracy_users', acc.users),
      ('catalog_coverage', beyond.coverage), ('ild', ild.ild), ('categories_per_list', beyond.cats),
      ('novelty', beyond.novelty), ('popular_only_lists', beyond.pop_only),
      ('popular_share', beyond.pop_share), ('lists', beyond.lists)) AS x(metric, value)
  $q$, t_h, t_l, t_p, t_c) USING k, NULLIF(n_train_users, 0), n_catalog;
  EXECUTE format('DROP TABLE pg_temp.%I, pg_temp.%I, pg_temp.%I, pg_temp.%I', t_h, t_l, t_p, t_c);
END
$$;
COMMENT ON FUNCTION recommender.evaluate(text, regclass, text, text, text, float8, integer, float8) IS
  'precision, recall, F1 (of the mean precision and recall), NDCG, MAP and hit rate at k of recommend() against held-out interactions (relevant: relevance_column >= min_relevance, or every held-out item), plus catalog coverage, intra-list diversity by category, categories per list, novelty and popularity shares; definitions as the shared scorer evaluate.py';

-- One trial of recommender.tune(): configure the model with cfg (lambda, weighting, dropout,
-- row_norm, recency_half_life, sequence_weight), train it unless only serving-time parameters
-- changed, evaluate it on the held-out relation; returns {"v": metric, "p", "r", "n", "s": seconds}.
-- A held-out relation's id columns must be able to hold the model's ids (0.3.0): integer ids
-- need integer columns (a text column could hold anything), uuid ids need a key column. Keys given
-- as text for uuid ids are checked one by one (22P02 names a value that is not a uuid).
CREATE FUNCTION recommender._check_heldout(model_name text, heldout oid, user_column text, item_column text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t record;
  h text;
BEGIN
  SELECT * INTO t FROM recommender._id_types(model_name);
  h := recommender._id_type(heldout, user_column);
  IF (t.user_type OPERATOR(pg_catalog.=) 'int8' AND h OPERATOR(pg_catalog.<>) 'int8')
     OR (t.user_type OPERATOR(pg_catalog.=) 'uuid' AND h OPERATOR(pg_catalog.=) 'int8') THEN
    RAISE EXCEPTION 'the held-out user column "%" holds % ids, and model "%" has % user ids', user_column, h, model_name, t.user_type
      USING ERRCODE = 'datatype_mismatch',
            HINT = 'Give a held-out relation whose user and item columns have the types of the model''s registered columns.';
  END IF;
  h := recommender._id_type(heldout, item_column);
  IF (t.item_type OPERATOR(pg_catalog.=) 'int8' AND h OPERATOR(pg_catalog.<>) 'int8')
     OR (t.item_type OPERATOR(pg_catalog.=) 'uuid' AND h OPERATOR(pg_catalog.=) 'int8') THEN
    RAISE EXCEPTION 'the held-out item column "%" holds % ids, and model "%" has % item ids', item_column, h, model_name, t.item_type
      USING ERRCODE = 'datatype_mismatch',
            HINT = 'Give a held-out relation whose user and item columns have the types of the model''s registered columns.';
  END IF;
END
$$;
COMMENT ON FUNCTION recommender._check_heldout(text, oid, text, text) IS
  'internal: raises unless a held-out relation''s id columns can hold the model''s ids';

-- tune()'s seeded hash of an id column (an SQL expression): hashint8extended of an integer id,
-- hashtextextended of a key's text (0.3.0).
CREATE FUNCTION recommender._tune_hash(rel oid, col text, expr text, seed bigint) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN recommender._id_type(rel, col) OPERATOR(pg_catalog.=) 'int8'
              THEN pg_catalog.format('pg_catalog.hashint8extended(%s::pg_catalog.int8, %s)', expr, seed)
              ELSE pg_catalog.format('pg_catalog.hashtextextended(%s::pg_catalog.text, %s)', expr, seed) END
$$;
COMMENT ON FUNCTION recommender._tune_hash(oid, text, text, bigint) IS
  'internal: tune()''s seeded hash of an id column, for its validation split';

CREATE FUNCTION recommender._tune_trial(target text, cfg jsonb, retrain boolean, heldout regclass,
    user_column text, item_column text, relevance_column text, min_relevance float8, k integer, metric text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t0 timestamptz := pg_catalog.clock_timestamp();
  res record;
  old_level text := pg_catalog.current_setting('client_min_messages');
  ts float8 := 0;          -- the training's seconds (0: a serving-time trial)
BEGIN
  PERFORM recommender.configure(target, lambda => (cfg->>'lambda')::float8, weighting => cfg->>'weighting',
                                dropout => (cfg->>'dropout')::float8, row_norm => (cfg->>'row_norm')::float8,
                                recency_half_life => (cfg->>'recency_half_life')::float8,
                                recency_floor => (cfg->>'recency_floor')::float8,
                                sequence_weight => (cfg->>'sequence_weight')::float8,
                                sequence_half_life => (cfg->>'sequence_half_life')::float8);
  IF retrain THEN
    -- the trials' training progress would flood the caller with NOTICEs
    PERFORM pg_catalog.set_config('client_min_messages', 'warning', true);
    PERFORM recommender.train(target);
    PERFORM pg_catalog.set_config('client_min_messages', old_level, true);
    ts := pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) t0);
  END IF;
  IF metric IN ('ndcg', 'precision', 'recall', 'hit_rate') THEN
    -- the accuracy metrics alone (evaluate() computes every beyond-accuracy one too: 4x slower)
    SELECT (x->>metric)::float8 AS v, (x->>'precision')::float8 AS p, (x->>'recall')::float8 AS r, (x->>'ndcg')::float8 AS n
      INTO res
      FROM recommender._tune_score(target, heldout, user_column, item_column, relevance_column, min_relevance, k) x;
  ELSE
    SELECT max(e.value) FILTER (WHERE e.metric = _tune_trial.metric) AS v,
           max(e.value) FILTER (WHERE e.metric = 'precision') AS p,
           max(e.value) FILTER (WHERE e.metric = 'recall') AS r,
           max(e.value) FILTER (WHERE e.metric = 'ndcg') AS n
      INTO res
      FROM recommender.evaluate(target, heldout, user_column, item_column, relevance_column, min_relevance, k, 0) e;
  END IF;
  RETURN pg_catalog.jsonb_build_object('v', COALESCE(res.v, 0), 'p', res.p, 'r', res.r, 'n', res.n,
    's', pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) t0), 'ts', ts);
END
$$;

-- One trial of recommender.tune() that may fail without ending the search (every trial but the
-- first): a configuration that needs more memory than the settings allow (54000, 53200) or that
-- the data's kind cannot train (22023: the sparse kind has no sequential component) is rolled
-- back and reported as {"error": message, "state": SQLSTATE, "s": seconds}; a cancel or any other
-- error still ends the call.
CREATE FUNCTION recommender._tune_try(may_fail boolean, target text, cfg jsonb, retrain boolean, heldout regclass,
    user_column text, item_column text, relevance_column text, min_relevance float8, k integer, metric text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t0 timestamptz := pg_catalog.clock_timestamp();
BEGIN
  IF NOT may_fail THEN
    RETURN recommender._tune_trial(target, cfg, retrain, heldout, user_column, item_column, relevance_column, min_relevance, k, metric);
  END IF;
  BEGIN
    RETURN recommender._tune_trial(target, cfg, retrain, heldout, user_column, item_column, relevance_column, min_relevance, k, metric);
  EXCEPTION WHEN program_limit_exceeded OR out_of_memory OR invalid_parameter_value THEN
    RETURN pg_catalog.jsonb_build_object('v', NULL, 'error', SQLERRM, 'state', SQLSTATE,
      's', pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) t0));
  END;
END
$$;

-- Precision, recall, NDCG and hit rate at k of recommend() (diversity 0) against a held-out
-- relation, over the users with at least one relevant held-out item: the definitions of
-- recommender.evaluate() (and of the shared scorer), without its beyond-accuracy metrics.
CREATE FUNCTION recommender._tune_score(target text, heldout regclass, user_column text, item_column text,
    relevance_column text, min_relevance float8, k integer)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  hrel text; hu text; hi text; relevant_expr text := 'true';
  out jsonb;
  idt text;   -- int8, or text when the model's ids are keys (as in evaluate())
BEGIN
  SELECT CASE WHEN x.user_type OPERATOR(pg_catalog.=) 'int8' AND x.item_type OPERATOR(pg_catalog.=) 'int8'
              THEN 'pg_catalog.int8' ELSE 'pg_catalog.text' END INTO idt
    FROM recommender._id_types(target) x;
  hrel := recommender._relation(target, heldout, heldout::text, 'held-out');
  hu := recommender._column(target, heldout, heldout::text, user_column, 'id');
  hi := recommender._column(target, heldout, heldout::text, item_column, 'id');
  PERFORM recommender._check_heldout(target, heldout, user_column, item_column);
  IF relevance_column IS NOT NULL AND min_relevance IS NOT NULL THEN
    relevant_expr := format('(%s::pg_catalog.float8 OPERATOR(pg_catalog.>=) %s::pg_catalog.float8)',
                            recommender._column(target, heldout, heldout::text, relevance_column, 'number'), min_relevance);
  END IF;
  EXECUTE format($q$
    WITH relv AS (SELECT DISTINCT %s::%s AS u, %s::%s AS i FROM %s
                   WHERE %s IS NOT NULL AND %s IS NOT NULL AND COALESCE(%s, false)),
    nrel AS (SELECT u, pg_catalog.count(*)::pg_catalog.float8 AS n FROM relv GROUP BY u),
    lists AS (SELECT r.u, x.rank, x.item_id FROM nrel r CROSS JOIN LATERAL @extschema@.recommend(r.u, %s, 0::pg_catalog.float8, %L) x),
    per_user AS (
      SELECT r.u, r.n,
             pg_catalog.count(v.i)::pg_catalog.float8 AS hits,
             COALESCE(pg_catalog.sum(pg_catalog.ln(2::pg_catalog.float8) OPERATOR(pg_catalog./) pg_catalog.ln((l.rank OPERATOR(pg_catalog.+) 1)::pg_catalog.float8))
                      FILTER (WHERE v.i IS NOT NULL), 0) AS dcg,
             (SELECT pg_catalog.sum(pg_catalog.ln(2::pg_catalog.float8) OPERATOR(pg_catalog./) pg_catalog.ln((g OPERATOR(pg_catalog.+) 1)::pg_catalog.float8))
                FROM pg_catalog.generate_series(1, LEAST(%s, r.n::pg_catalog.int4)) g) AS idcg
        FROM nrel r LEFT JOIN lists l ON l.u OPERATOR(pg_catalog.=) r.u
        LEFT JOIN relv v ON v.u OPERATOR(pg_catalog.=) l.u AND v.i OPERATOR(pg_catalog.=) l.item_id
       GROUP BY r.u, r.n)
    SELECT pg_catalog.jsonb_build_object(
             'precision', COALESCE(pg_catalog.avg(hits OPERATOR(pg_catalog./) %s), 0),
             'recall', COALESCE(pg_catalog.avg(hits OPERATOR(pg_catalog./) n), 0),
             'ndcg', COALESCE(pg_catalog.avg(dcg OPERATOR(pg_catalog./) idcg), 0),
             'hit_rate', COALESCE(pg_catalog.avg(CASE WHEN hits OPERATOR(pg_catalog.>) 0 THEN 1.0 ELSE 0.0 END), 0))
      FROM per_user$q$,
    hu, idt, hi, idt, hrel, hu, hi, relevant_expr, k, target, k, k) INTO out;
  RETURN out;
END
$$;

-- Candidate configurations of one stage of recommender.tune()'s search, derived from the best
-- configuration so far. Lambda's scale depends on the weighting, dropout and row_norm, so the
-- candidates of those stages come with rescaled lambdas (a lambda line search follows each).
CREATE FUNCTION recommender._tune_candidates(stage text, best jsonb, has_weights boolean)
RETURNS SETOF jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  l float8 := (best->>'lambda')::float8;
  x float8;
  w text;
BEGIN
  CASE stage
  WHEN 'recency' THEN
    -- recency weighting (serving time, no training): half-lives from a short visit to a long
    -- history, each with the decay alone and with a floor of 0.1 (old items keep a tenth: the
    -- floor moves the best half-life, so both are tried together); then x 0.6 and x 1.6
    IF (best->>'recency_half_life')::float8 > 0 THEN
      FOREACH x IN ARRAY ARRAY[0, (best->>'recency_half_life')::float8 * 0.6, (best->>'recency_half_life')::float8 * 1.6] LOOP
        RETURN NEXT best || pg_catalog.jsonb_build_object('recency_half_life', round(x::numeric, 2)::float8);
      END LOOP;
    ELSE
      FOREACH x IN ARRAY ARRAY[2, 5, 10, 25, 60]::float8[] LOOP
        RETURN NEXT best || pg_catalog.jsonb_build_object('recency_half_life', x, 'recency_floor', 0);
        RETURN NEXT best || pg_catalog.jsonb_build_object('recency_half_life', x, 'recency_floor', 0.1);
      END LOOP;
    END IF;
  WHEN 'recency_floor' THEN
    -- the share an old item keeps, halved and doubled (0 and 0.05 / 0.2 from the decay alone)
    IF (best->>'recency_half_life')::float8 > 0 THEN
      FOREACH x IN ARRAY CASE WHEN (best->>'recency_floor')::float8 > 0
                              THEN ARRAY[(best->>'recency_floor')::float8 / 2, (best->>'recency_floor')::float8 * 2]
                              ELSE ARRAY[0.05, 0.2]::float8[] END LOOP
        IF x <= 0.8 THEN
          RETURN NEXT best || pg_catalog.jsonb_build_object('recency_floor', round(x::numeric, 4)::float8);
        END IF;
      END LOOP;
    END IF;
  WHEN 'sequence' THEN
    FOREACH x IN ARRAY CASE WHEN (best->>'sequence_weight')::float8 > 0
                            THEN ARRAY[(best->>'sequence_weight')::float8 - 0.1, (best->>'sequence_weight')::float8 + 0.1]
                            ELSE ARRAY[0.25, 0.5, 0.75]::float8[] END LOOP
      IF x >= 0 AND x <= 1 THEN
        RETURN NEXT best || pg_catalog.jsonb_build_object('sequence_weight', round(x::numeric, 2)::float8);
      END IF;
    END LOOP;
  WHEN 'sequence_order' THEN
    -- SLIT's position decay (how far before and after a step the sequential component looks),
    -- halved and doubled; only when the sequential component is on (Choi et al., WWW 2021)
    IF (best->>'sequence_weight')::float8 > 0 THEN
      FOREACH x IN ARRAY ARRAY[(best->>'sequence_half_life')::float8 * 2, (best->>'sequence_half_life')::float8 / 2] LOOP
        IF x >= 0.5 AND x <= 8 THEN
          RETURN NEXT best || pg_catalog.jsonb_build_object('sequence_half_life', x);
        END IF;
      END LOOP;
    END IF;
  WHEN 'weighting' THEN
    IF has_weights THEN
      FOREACH w IN ARRAY ARRAY['log', 'binary', 'power'] LOOP
        CONTINUE WHEN w = best->>'weighting';
        IF w = 'power' THEN
          RETURN NEXT best || pg_catalog.jsonb_build_object('weighting', w, 'lambda', l / 2);
          RETURN NEXT best || pg_catalog.jsonb_build_object('weighting', w, 'lambda', l / 8);
        ELSE
          RETURN NEXT best || pg_catalog.jsonb_build_object('weighting', w);
        END IF;
      END LOOP;
    END IF;
  WHEN 'dropout' THEN
    FOREACH x IN ARRAY ARRAY[0.5, 0.75, 0.25]::float8[] LOOP
      CONTINUE WHEN x = (best->>'dropout')::float8;
      RETURN NEXT best || pg_catalog.jsonb_build_object('dropout', x, 'lambda', l / 8);
      RETURN NEXT best || pg_catalog.jsonb_build_object('dropout', x, 'lambda', l / 64);
    END LOOP;
  WHEN 'row_norm' THEN
    FOREACH x IN ARRAY ARRAY[0.25, 0.5]::float8[] LOOP
      CONTINUE WHEN x = (best->>'row_norm')::float8;
      RETURN NEXT best || pg_catalog.jsonb_build_object('row_norm', x, 'lambda', l / (4 ^ (x * 4)));
      RETURN NEXT best || pg_catalog.jsonb_build_object('row_norm', x, 'lambda', l / (4 ^ (x * 4 + 1)));
    END LOOP;
  ELSE
    RAISE EXCEPTION 'unknown tuning stage %', stage USING ERRCODE = 'invalid_parameter_value';
  END CASE;
END
$$;

-- Chooses the model's configuration on a validation split, unattended: weighting, EDLAE dropout,
-- row_norm, recency_half_life, recency_floor, sequence_weight and lambda, by coordinate search (a lambda line
-- search, then each parameter's candidates from the best configuration so far, a lambda line
-- search after each change of scale, and a finer second pass), within a time budget. Without a
-- held-out relation it makes its own split of the registered interactions in temporary objects
-- it creates under unique names and drops: each user's last items by time (a seeded random share
-- without a time column) are held out, the rest is trained on by a temporary model. With
-- `lambdas` it tries only those lambdas, with the rest of the configuration as it is. Keeps the
-- best configuration configured and trained on the model, and returns one row per trial.
CREATE FUNCTION recommender.tune(
    model text DEFAULT 'default',
    heldout regclass DEFAULT NULL,
    user_column text DEFAULT NULL,
    item_column text DEFAULT NULL,
    relevance_column text DEFAULT NULL,
    min_relevance float8 DEFAULT NULL,
    lambdas float8[] DEFAULT NULL,
    k integer DEFAULT 10,
    metric text DEFAULT 'ndcg',
    budget interval DEFAULT '2 minutes',
    max_trials integer DEFAULT NULL,
    seed integer DEFAULT 42,
    split text DEFAULT NULL)
RETURNS TABLE (trial integer, lambda float8, weighting text, dropout float8, row_norm float8,
               recency_half_life float8, recency_floor float8, sequence_weight float8, sequence_half_life float8, metric_value float8,
               precision_k float8, recall_k float8, ndcg_k float8, seconds float8, chosen boolean)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t_start timestamptz := clock_timestamp();
  m recommender.model;
  target text;
  hrel regclass;
  hu text; hi text;
  tag text; train_name text; held_name text; pairs_name text;
  rel text; ucol text; icol text; tcol text; order_key text;
  uid text; iid text;
  stages text[];
  stage text;
  best jsonb; best_v float8 := NULL; best_trial integer := NULL;
  cand jsonb; res jsonb;
  trained_cfg jsonb := NULL;
  tried jsonb := '{}';
  trials jsonb := '[]';
  n_trials integer := 0;
  train_est float8 := 0;   -- the longest training of a trial so far, in seconds
  eval_est float8 := 0;    -- the longest evaluation of a trial so far
  needs_train boolean;
  f float8; dir float8; steps integer;
  stop boolean := false;
  improved boolean;
  has_weights boolean;
  -- serving-time parameters: a trial that changes only these is not trained again
  serving_only constant text[] := ARRAY['recency_half_life', 'recency_floor'];
BEGIN
  IF model IS NULL THEN
    RAISE EXCEPTION 'model must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF metric IS NULL THEN
    RAISE EXCEPTION 'metric must not be NULL' USING ERRCODE = 'null_value_not_allowed',
      HINT = 'Choose precision, recall, f1, ndcg, map or hit_rate (default ndcg).';
  END IF;
  IF metric NOT IN ('precision', 'recall', 'f1', 'ndcg', 'map', 'hit_rate') THEN
    RAISE EXCEPTION 'metric must be precision, recall, f1, ndcg, map or hit_rate (got "%")', metric
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF lambdas IS NOT NULL THEN
    IF cardinality(lambdas) = 0 THEN
      RAISE EXCEPTION 'lambdas must list at least one candidate' USING ERRCODE = 'invalid_parameter_value',
        HINT = 'Leave lambdas out (NULL) to let tune() search the whole configuration.';
    END IF;
    IF array_position(lambdas, NULL) IS NOT NULL THEN
      RAISE EXCEPTION 'lambdas must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(lambdas) c(l) WHERE NOT (c.l > 0 AND c.l < 'infinity'::float8)) THEN
      RAISE EXCEPTION 'every lambda must be a finite number > 0 (got %)', lambdas USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END IF;
  IF budget IS NULL THEN
    RAISE EXCEPTION 'budget must not be NULL' USING ERRCODE = 'null_value_not_allowed',
      HINT = 'A time budget such as interval ''2 minutes''.';
  END IF;
  IF budget <= '0'::interval THEN
    RAISE EXCEPTION 'budget must be positive (got % seconds)', extract(epoch FROM budget)::float8 USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF max_trials IS NOT NULL AND max_trials < 1 THEN
    RAISE EXCEPTION 'max_trials must be at least 1 (got %)', max_trials USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF k IS NULL OR seed IS NULL THEN
    RAISE EXCEPTION 'k and seed must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF split IS NOT NULL AND split NOT IN ('time', 'random') THEN
    RAISE EXCEPTION 'split must be time or random (got "%")', split USING ERRCODE = 'invalid_parameter_value',
      HINT = 'time holds out each user''s last items (the task of predicting what a customer does next; the default with a time column), random a seeded random share of them.';
  END IF;
  IF split IS NOT NULL AND heldout IS NOT NULL THEN
    RAISE EXCEPTION 'split chooses how tune() makes its own validation split, and a held-out relation was given'
      USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Leave split out (NULL) with heldout, or heldout out with split.';
  END IF;
  IF k <= 0 OR k > 10000 THEN
    RAISE EXCEPTION 'k must be between 1 and 10000 (got %)', k USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT * INTO m FROM recommender.model mm WHERE mm.name = tune.model;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object',
      HINT = 'recommender.list() shows the registered models; recommender.register() adds one.';
  END IF;
  PERFORM recommender._model_sql(m.name);     -- a clear error now if the registration is broken
  IF split = 'time' AND m.time_column IS NULL THEN
    RAISE EXCEPTION 'split time needs a time column, and model "%" has none', m.name USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Register the model with time_column => ..., or use split => ''random''.';
  END IF;
  has_weights := m.weight_column IS NOT NULL OR m.event_column IS NOT NULL;

  IF heldout IS NOT NULL THEN
    target := m.name; hrel := heldout;
    hu := COALESCE(user_column, m.user_column); hi := COALESCE(item_column, m.item_column);
  ELSE
    IF user_column IS NOT NULL OR item_column IS NOT NULL THEN
      RAISE EXCEPTION 'user_column and item_column name columns of a held-out relation, and none was given'
        USING ERRCODE = 'invalid_parameter_value',
        HINT = 'Without heldout, tune() splits the registered interactions itself; leave the columns out.';
    END IF;
    -- unique names for this call's own temporary objects
    LOOP
      tag := format('%s_%s', pg_backend_pid(), nextval('recommender.version_seq'));
      target := '_tune_' || tag;
      train_name := 'rec_tune_' || tag || '_train';
      held_name := 'rec_tune_' || tag || '_heldout';
      pairs_name := 'rec_tune_' || tag || '_pairs';
      EXIT WHEN to_regclass('pg_temp.' || quote_ident(train_name)) IS NULL
            AND to_regclass('pg_temp.' || quote_ident(held_name)) IS NULL
            AND to_regclass('pg_temp.' || quote_ident(pairs_name)) IS NULL
            AND NOT EXISTS (SELECT 1 FROM recommender.model mm WHERE mm.name = target);
    END LOOP;
    rel := recommender._relation(m.name, m.interactions, m.interactions_name, 'interactions');
    ucol := recommender._column(m.name, m.interactions, m.interactions_name, m.user_column, 'id');
    icol := recommender._column(m.name, m.interactions, m.interactions_name, m.item_column, 'id');
    -- the ids as int8, or keys as text (0.3.0)
    uid := ucol || CASE WHEN recommender._id_type(m.interactions, m.user_column) OPERATOR(pg_catalog.=) 'int8'
                        THEN '::pg_catalog.int8' ELSE '::pg_catalog.text' END;
    iid := icol || CASE WHEN recommender._id_type(m.interactions, m.item_column) OPERATOR(pg_catalog.=) 'int8'
                        THEN '::pg_catalog.int8' ELSE '::pg_catalog.text' END;
    IF m.time_column IS NOT NULL AND COALESCE(split, 'time') = 'time' THEN
      tcol := recommender._column(m.name, m.interactions, m.interactions_name, m.time_column, 'time');
      order_key := format('pg_catalog.min(%s)', tcol);
    ELSE
      order_key := format('%s OPERATOR(pg_catalog.#) %s', recommender._tune_hash(m.interactions, m.user_column, ucol, seed),
                          recommender._tune_hash(m.interactions, m.item_column, icol, seed + 1));
    END IF;
    -- held out: per user with at least 3 items, the last 20% of the items (1 to 10) by first
    -- interaction time, or a random 20% without times; at most 3000 users (a seeded sample)
    EXECUTE format($q$
      CREATE TEMP TABLE %I AS
      SELECT y.u, y.i FROM (
        SELECT x.u, x.i, pg_catalog.row_number() OVER (PARTITION BY x.u ORDER BY x.key DESC, x.i DESC) AS rn,
               pg_catalog.count(*) OVER (PARTITION BY x.u) AS n
          FROM (SELECT %s AS u, %s AS i, %s AS key FROM %s
                 WHERE %s IS NOT NULL AND %s IS NOT NULL GROUP BY 1, 2) x) y
       WHERE y.n OPERATOR(pg_catalog.>=) 3
         AND y.rn OPERATOR(pg_catalog.<=) LEAST(10, GREATEST(1, (y.n OPERATOR(pg_catalog./) 5)))
         AND y.u IN (SELECT z.u FROM (SELECT DISTINCT %s AS u FROM %s WHERE %s IS NOT NULL) z
                      ORDER BY %s, z.u LIMIT 3000)$q$,
      pairs_name, uid, iid, order_key, rel, ucol, icol, uid, rel, ucol,
      recommender._tune_hash(m.interactions, m.user_column, 'z.u', seed));
    EXECUTE format('CREATE TEMP TABLE %I AS SELECT s.* FROM %s s WHERE NOT EXISTS (SELECT 1 FROM pg_temp.%I p WHERE p.u OPERATOR(pg_catalog.=) s.%s AND p.i OPERATOR(pg_catalog.=) s.%s)',
                   train_name, rel, pairs_name, uid, iid);
    EXECUTE format('CREATE TEMP TABLE %I AS SELECT s.* FROM %s s WHERE EXISTS (SELECT 1 FROM pg_temp.%I p WHERE p.u OPERATOR(pg_catalog.=) s.%s AND p.i OPERATOR(pg_catalog.=) s.%s)',
                   held_name, rel, pairs_name, uid, iid);
    EXECUTE format('CREATE INDEX ON pg_temp.%I (%s)', train_name, ucol);
    EXECUTE format('ANALYZE pg_temp.%I', train_name);
    EXECUTE format('ANALYZE pg_temp.%I', held_name);
    hrel := ('pg_temp.' || quote_ident(held_name))::regclass;
    hu := m.user_column; hi := m.item_column;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = hrel AND c.reltuples > 0) THEN
      RAISE EXCEPTION 'model "%" has too little data to tune: no user has 3 or more items to hold some out', m.name
        USING ERRCODE = 'object_not_in_prerequisite_state',
        HINT = 'Pass a validation split yourself (heldout => ...), or configure the model by hand.';
    END IF;
    PERFORM recommender.register(target, ('pg_temp.' || quote_ident(train_name))::regclass, m.user_column, m.item_column,
                                 m.weight_column, m.time_column, m.event_column, m.event_weights,
                                 m.items::regclass, m.item_id_column, m.category_column, m.title_column,
                                 m.text_column, m.embedding_column);
    PERFORM recommender.configure(target, max_items => m.max_items, popularity_half_life => m.popularity_half_life,
                                  reranker => m.reranker, candidate_pool => m.candidate_pool, weight_power => m.weight_power,
                                  trend_weight => m.trend_weight, content => m.content, content_prior => m.content_prior,
                                  keep_gram => false, kind => m.kind, density => m.density);
  END IF;

  best := jsonb_build_object('lambda', m.lambda, 'weighting', m.weighting, 'dropout', m.dropout, 'row_norm', m.row_norm,
                             'recency_half_life', m.recency_half_life, 'recency_floor', m.recency_floor, 'sequence_weight', m.sequence_weight,
                             'sequence_half_life', m.sequence_half_life);
  IF lambdas IS NOT NULL THEN
    stages := ARRAY['lambdas'];
  ELSE
    stages := ARRAY['start', 'lambda', 'recency', 'recency_floor', 'sequence', 'weighting', 'lambda', 'dropout', 'lambda',
                    'row_norm', 'lambda', 'recency', 'recency_floor', 'sequence', 'sequence_order', 'lambda_fine'];
  END IF;

  <<search>>
  FOREACH stage IN ARRAY stages LOOP
    EXIT search WHEN stop;
    -- without a time column there is no order: recency and the sequential component do nothing
    CONTINUE WHEN stage IN ('recency', 'recency_floor', 'sequence', 'sequence_order') AND m.time_column IS NULL;
    -- the sparse kind (configured, or 'auto' above 20,000 items: the kind the trials train) has
    -- no sequential component
    CONTINUE WHEN stage IN ('sequence', 'sequence_order')
              AND EXISTS (SELECT 1 FROM recommender.model mm JOIN recommender.model_version v
                                 ON v.model OPERATOR(pg_catalog.=) mm.name AND v.version OPERATOR(pg_catalog.=) mm.version
                           WHERE mm.name OPERATOR(pg_catalog.=) target
                             AND (v.params OPERATOR(pg_catalog.->>) 'kind') OPERATOR(pg_catalog.=) 'sparse');
    -- the candidates of this stage: a fixed list, or a line search over lambda
    f := CASE stage WHEN 'lambda' THEN 4 WHEN 'lambda_fine' THEN 1.5 ELSE 0 END;
    dir := 0; steps := 0;
    LOOP
      IF stage = 'start' THEN
        cand := best;
      ELSIF stage = 'lambdas' THEN
        EXIT WHEN steps >= cardinality(lambdas);
        cand := best || jsonb_build_object('lambda', lambdas[steps + 1]);
      ELSIF f > 0 THEN
        -- line search: try both directions first, then keep going the way that improved
        EXIT WHEN steps >= 6;
        IF dir = 0 THEN
          cand := best || jsonb_build_object('lambda', round(((best->>'lambda')::float8 * f)::numeric, 6)::float8);
          IF tried ? cand::text THEN
            cand := best || jsonb_build_object('lambda', round(((best->>'lambda')::float8 / f)::numeric, 6)::float8);
            dir := -1;
          END IF;
        ELSE
          cand := best || jsonb_build_object('lambda', round(((best->>'lambda')::float8 * (f ^ dir))::numeric, 6)::float8);
        END IF;
        EXIT WHEN tried ? cand::text OR (cand->>'lambda')::float8 <= 0;
      END IF;
      -- fixed-list stages go through their candidates below
      IF stage IN ('recency', 'recency_floor', 'sequence', 'sequence_order', 'weighting', 'dropout', 'row_norm') THEN
        FOR cand IN SELECT c FROM recommender._tune_candidates(stage, best, has_weights) c LOOP
          CONTINUE WHEN tried ? cand::text;
          IF max_trials IS NOT NULL AND n_trials >= max_trials THEN
            stop := true; EXIT search;
          END IF;
          -- the budget: this trial (a training only when a training-time parameter changes) and
          -- the final training must fit in what is left; a trial that does not is skipped, and a
          -- cheaper one (recency, at serving time) may still be tried
          needs_train := trained_cfg IS NULL OR (trained_cfg - serving_only) <> (cand - serving_only);
          CONTINUE WHEN n_trials > 0 AND extract(epoch FROM clock_timestamp() - t_start)
                        + CASE WHEN needs_train THEN train_est ELSE 0 END + eval_est + train_est > extract(epoch FROM budget);
          res := recommender._tune_try(n_trials > 0, target, cand, needs_train,
                                       hrel, hu, hi, relevance_column, min_relevance, k, tune.metric);
          IF res ? 'error' THEN
            -- rolled back: the model keeps the configuration and version of the last trial
            n_trials := n_trials + 1;
            tried := tried || jsonb_build_object(cand::text, res);
            trials := trials || jsonb_build_array(cand || res || jsonb_build_object('trial', n_trials, 'stage', stage));
            RAISE NOTICE 'recommender.tune: trial % (%) failed and is skipped: % (%)', n_trials, stage, res->>'error', res->>'state';
            CONTINUE;
          END IF;
          train_est := greatest(train_est, (res->>'ts')::float8);
          eval_est := greatest(eval_est, (res->>'s')::float8 - (res->>'ts')::float8);
          trained_cfg := cand;
          n_trials := n_trials + 1;
          tried := tried || jsonb_build_object(cand::text, res);
          trials := trials || jsonb_build_array(cand || res || jsonb_build_object('trial', n_trials, 'stage', stage));
          RAISE NOTICE 'recommender.tune: trial % (%): lambda % weighting % dropout % row_norm % recency_half_life % recency_floor % sequence_weight % sequence_half_life % -> % %',
            n_trials, stage, cand->>'lambda', cand->>'weighting', cand->>'dropout', cand->>'row_norm',
            cand->>'recency_half_life', cand->>'recency_floor', cand->>'sequence_weight', cand->>'sequence_half_life', metric, round((res->>'v')::numeric, 4);
          -- switching the sequential component on (twice the training memory and time) or recency
          -- weighting on must buy at least 1% (relative) on validation, about one paired standard
          -- error of NDCG@10 on a few thousand validation users: a smaller gain is noise and may be
          -- a loss on new data (on MovieLens' random split, half-life 60 with floor 0.3 gained
          -- 0.0002 on validation and lost 0.005 on the test split)
          IF best_v IS NULL OR (res->>'v')::float8 > best_v * (CASE WHEN ((cand->>'sequence_weight')::float8 > 0
                                                                       AND (best->>'sequence_weight')::float8 = 0)
                                                                      OR ((cand->>'recency_half_life')::float8 > 0
                                                                       AND (best->>'recency_half_life')::float8 = 0)
                                                                    THEN 1.01 ELSE 1 END) THEN
            best := cand; best_v := (res->>'v')::float8; best_trial := n_trials;
          END IF;
        END LOOP;
        EXIT;
      END IF;
      IF NOT (tried ? cand::text) THEN
        IF max_trials IS NOT NULL AND n_trials >= max_trials THEN
          stop := true; EXIT search;
        END IF;
        needs_train := trained_cfg IS NULL OR (trained_cfg - serving_only) <> (cand - serving_only);
        -- out of budget: this stage ends here, a later one may still have a trial that fits
        EXIT WHEN n_trials > 0 AND extract(epoch FROM clock_timestamp() - t_start)
                  + CASE WHEN needs_train THEN train_est ELSE 0 END + eval_est + train_est > extract(epoch FROM budget);
        res := recommender._tune_try(n_trials > 0, target, cand, needs_train,
                                     hrel, hu, hi, relevance_column, min_relevance, k, tune.metric);
      END IF;
      IF NOT (tried ? cand::text) AND res ? 'error' THEN
        n_trials := n_trials + 1;
        tried := tried || jsonb_build_object(cand::text, res);
        trials := trials || jsonb_build_array(cand || res || jsonb_build_object('trial', n_trials, 'stage', stage));
        RAISE NOTICE 'recommender.tune: trial % (%) failed and is skipped: % (%)', n_trials, stage, res->>'error', res->>'state';
        improved := false;
      ELSIF NOT (tried ? cand::text) THEN
        train_est := greatest(train_est, (res->>'ts')::float8);
        eval_est := greatest(eval_est, (res->>'s')::float8 - (res->>'ts')::float8);
        trained_cfg := cand;
        n_trials := n_trials + 1;
        tried := tried || jsonb_build_object(cand::text, res);
        trials := trials || jsonb_build_array(cand || res || jsonb_build_object('trial', n_trials, 'stage', stage));
        RAISE NOTICE 'recommender.tune: trial % (%): lambda % weighting % dropout % row_norm % recency_half_life % recency_floor % sequence_weight % sequence_half_life % -> % %',
          n_trials, stage, cand->>'lambda', cand->>'weighting', cand->>'dropout', cand->>'row_norm',
          cand->>'recency_half_life', cand->>'recency_floor', cand->>'sequence_weight', cand->>'sequence_half_life', metric, round((res->>'v')::numeric, 4);
        improved := best_v IS NULL OR (res->>'v')::float8 > best_v;
        IF improved THEN
          best := cand; best_v := (res->>'v')::float8; best_trial := n_trials;
        END IF;
      ELSE
        improved := false;
      END IF;
      steps := steps + 1;
      EXIT WHEN stage = 'start';
      IF f > 0 THEN
        IF dir = 0 THEN
          -- first probe went up (x f): if it did not help, probe down next
          IF improved THEN dir := 1; ELSE dir := -1; END IF;
        ELSIF NOT improved THEN
          EXIT;
        END IF;
      END IF;
    END LOOP;
  END LOOP;

  -- the chosen configuration, on the model itself, trained
  PERFORM recommender.configure(m.name, lambda => (best->>'lambda')::float8, weighting => best->>'weighting',
                                dropout => (best->>'dropout')::float8, row_norm => (best->>'row_norm')::float8,
                                recency_half_life => (best->>'recency_half_life')::float8,
                                recency_floor => (best->>'recency_floor')::float8,
                                sequence_weight => (best->>'sequence_weight')::float8,
                                sequence_half_life => (best->>'sequence_half_life')::float8);
  BEGIN
    PERFORM recommender.train(m.name);
  EXCEPTION WHEN invalid_parameter_value OR program_limit_exceeded OR out_of_memory THEN
    -- the whole data is larger than the validation split: with kind 'auto' near 20,000 items it
    -- trains the sparse kind, which has no sequential component (22023), or the sequential
    -- component's matrices no longer fit the memory settings (54000, 53200); keep the rest of
    -- the choice without it
    IF (best->>'sequence_weight')::float8 > 0
       AND (SQLSTATE OPERATOR(pg_catalog.<>) '22023' OR SQLERRM LIKE 'the sparse kind has no sequential component%') THEN
      RAISE NOTICE 'recommender.tune: model "%" cannot train the chosen sequential component on all its data (%): sequence_weight 0', m.name, SQLERRM;
      best := best || jsonb_build_object('sequence_weight', 0);
      PERFORM recommender.configure(m.name, sequence_weight => 0);
      PERFORM recommender.train(m.name);
    ELSE
      RAISE;
    END IF;
  END;
  IF heldout IS NULL THEN
    PERFORM recommender.drop(target);
    EXECUTE format('DROP TABLE pg_temp.%I, pg_temp.%I, pg_temp.%I', train_name, held_name, pairs_name);
  END IF;
  RAISE NOTICE 'recommender.tune: % trials in % s; chosen trial %: % %', n_trials,
    round(extract(epoch FROM clock_timestamp() - t_start)::numeric, 1), best_trial, metric, round(best_v::numeric, 4);
  RETURN QUERY
    SELECT (t->>'trial')::integer, (t->>'lambda')::float8, t->>'weighting', (t->>'dropout')::float8, (t->>'row_norm')::float8,
           (t->>'recency_half_life')::float8, (t->>'recency_floor')::float8, (t->>'sequence_weight')::float8, (t->>'sequence_half_life')::float8, (t->>'v')::float8,
           (t->>'p')::float8, (t->>'r')::float8, (t->>'n')::float8, (t->>'s')::float8,
           (t->>'trial')::integer = best_trial
      FROM jsonb_array_elements(trials) t
     ORDER BY 1;
END
$$;
COMMENT ON FUNCTION recommender.tune(text, regclass, text, text, text, float8, float8[], integer, text, interval, integer, integer, text) IS
  'choose the model''s configuration on a validation split (weighting, dropout, row_norm, recency_half_life, recency_floor, sequence_weight, sequence_half_life, lambda) within a time budget; without heldout it holds out each user''s last items itself (split time, the default with a time column) or a random share (split random) in temporary objects it drops; with lambdas it tries only those lambdas; keeps the best configured and trained and returns one row per trial';

-- ---------------------------------------------------------------------------------------------
-- What applications call
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.recommend(
    user_id bigint,
    k integer DEFAULT 10,
    diversity float8 DEFAULT 0,
    model text DEFAULT NULL,
    exclude_seen boolean DEFAULT true,
    filter text DEFAULT NULL,
    category text DEFAULT NULL,
    max_per_category integer DEFAULT NULL)
RETURNS TABLE (rank integer, item_id bigint, score float8, relevance_rank integer,
               for_variety boolean, source text)
LANGUAGE c STABLE
-- every query it runs (internal, registered relations, filter predicates) resolves names in
-- pg_catalog only, whatever the caller's search_path
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_recommend';
COMMENT ON FUNCTION @extschema@.recommend(bigint, integer, float8, text, boolean, text, text, integer) IS
  'the k best items for a user, best first, read from the user''s live history; diversity in [0,1] re-ranks for variety (for_variety marks items placed for it); users without history get popular items (source = popular). Rules: exclude_seen (default true), filter (a named filter or a boolean column of the items table), category (stay within it), max_per_category';

CREATE FUNCTION @extschema@.explain(
    user_id bigint,
    item_id bigint,
    model text DEFAULT NULL)
RETURNS TABLE (role text, item_id bigint, title text, contribution float8, share float8, detail text)
LANGUAGE c STABLE
-- every query it runs (internal, registered relations, filter predicates) resolves names in
-- pg_catalog only, whatever the caller's search_path
SET search_path = pg_catalog, pg_temp
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
-- every query it runs (internal, registered relations, filter predicates) resolves names in
-- pg_catalog only, whatever the caller's search_path
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_similar_items';
COMMENT ON FUNCTION @extschema@.similar_items(bigint, integer, float8, text) IS
  'items that go with an item (the model''s weights for a one-item history), for product pages';

-- The shop's own ids (0.3.0): the same three functions for user and item ids given as text or
-- uuid. They serve every model: one whose ids are text, varchar or uuid columns, and one with
-- integer ids too (passed as text: '42'). Item ids come back as text (cast them: item_id::uuid).
CREATE FUNCTION @extschema@.recommend(
    user_id text,
    k integer DEFAULT 10,
    diversity float8 DEFAULT 0,
    model text DEFAULT NULL,
    exclude_seen boolean DEFAULT true,
    filter text DEFAULT NULL,
    category text DEFAULT NULL,
    max_per_category integer DEFAULT NULL)
RETURNS TABLE (rank integer, item_id text, score float8, relevance_rank integer,
               for_variety boolean, source text)
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_recommend_key';
COMMENT ON FUNCTION @extschema@.recommend(text, integer, float8, text, boolean, text, text, integer) IS
  'recommend() for a user id given as text (the shop''s own keys, or an integer id as text); item ids come back as text';

CREATE FUNCTION @extschema@.recommend(
    user_id uuid,
    k integer DEFAULT 10,
    diversity float8 DEFAULT 0,
    model text DEFAULT NULL,
    exclude_seen boolean DEFAULT true,
    filter text DEFAULT NULL,
    category text DEFAULT NULL,
    max_per_category integer DEFAULT NULL)
RETURNS TABLE (rank integer, item_id text, score float8, relevance_rank integer,
               for_variety boolean, source text)
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_recommend_key';
COMMENT ON FUNCTION @extschema@.recommend(uuid, integer, float8, text, boolean, text, text, integer) IS
  'recommend() for a uuid user id; item ids come back as text';

CREATE FUNCTION @extschema@.explain(
    user_id text,
    item_id text,
    model text DEFAULT NULL)
RETURNS TABLE (role text, item_id text, title text, contribution float8, share float8, detail text)
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_explain_key';
COMMENT ON FUNCTION @extschema@.explain(text, text, text) IS
  'explain() for user and item ids given as text and text; item ids come back as text';

CREATE FUNCTION @extschema@.explain(
    user_id uuid,
    item_id text,
    model text DEFAULT NULL)
RETURNS TABLE (role text, item_id text, title text, contribution float8, share float8, detail text)
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_explain_key';
COMMENT ON FUNCTION @extschema@.explain(uuid, text, text) IS
  'explain() for user and item ids given as uuid and text; item ids come back as text';

CREATE FUNCTION @extschema@.explain(
    user_id text,
    item_id uuid,
    model text DEFAULT NULL)
RETURNS TABLE (role text, item_id text, title text, contribution float8, share float8, detail text)
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_explain_key';
COMMENT ON FUNCTION @extschema@.explain(text, uuid, text) IS
  'explain() for user and item ids given as text and uuid; item ids come back as text';

CREATE FUNCTION @extschema@.explain(
    user_id uuid,
    item_id uuid,
    model text DEFAULT NULL)
RETURNS TABLE (role text, item_id text, title text, contribution float8, share float8, detail text)
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_explain_key';
COMMENT ON FUNCTION @extschema@.explain(uuid, uuid, text) IS
  'explain() for user and item ids given as uuid and uuid; item ids come back as text';

CREATE FUNCTION @extschema@.similar_items(
    item_id text,
    k integer DEFAULT 10,
    diversity float8 DEFAULT 0,
    model text DEFAULT NULL)
RETURNS TABLE (rank integer, item_id text, score float8, relevance_rank integer, for_variety boolean)
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_similar_items_key';
COMMENT ON FUNCTION @extschema@.similar_items(text, integer, float8, text) IS
  'similar_items() for an item id given as text; item ids come back as text';

CREATE FUNCTION @extschema@.similar_items(
    item_id uuid,
    k integer DEFAULT 10,
    diversity float8 DEFAULT 0,
    model text DEFAULT NULL)
RETURNS TABLE (rank integer, item_id text, score float8, relevance_rank integer, for_variety boolean)
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'rec_similar_items_key';
COMMENT ON FUNCTION @extschema@.similar_items(uuid, integer, float8, text) IS
  'similar_items() for an item id given as uuid; item ids come back as text';

-- BEGIN sql/sample_shop.sql (copied by scripts/embed-sample-shop.py)
-- recommender.create_sample_shop(): a deterministic synthetic web shop.
--
-- Creates the tables <target_schema>.products, .customers and .events and fills them with a
-- made-up e-commerce data set that has real, learnable structure, for demos, tutorials and
-- regression tests of the recommender extension:
--   * 20 categories (Kitchen, Coffee & Tea, Books, ...) holding the products unevenly; readable
--     titles ("Ceramic Pour-Over Kettle by Kettlebrook"), brands shared within a category,
--     plausible prices, ~92% in stock, a few dozen "new arrivals" added in the last two weeks;
--   * customers with 1-3 favourite categories (~80% of their events fall there), Zipf-like
--     product popularity within a category, brand loyalty, skewed activity (most customers have
--     5-40 events, a few 100-300) and ~3% cold-start customers without any event;
--   * sessions of views, some leading to a cart and fewer to a purchase (~70/18/12%); every
--     purchase has an earlier cart and an earlier view of the same product by the same customer;
--     no event happens before the product's added_at or the customer's joined_at;
--   * events from 2026-05-01 to 2026-10-31 UTC, with a handful of "trending" products that get
--     far more activity in the last 14 days than before.
--
-- The output is fully deterministic: every pseudo-random choice is derived from
-- hashint8extended(key, seed) (never random()/setseed()), only IEEE-exact float operations are
-- used (+ - * / sqrt, no exp/ln/pow), timestamps are built from integer epoch seconds, and every
-- ordering has a unique tie-breaker. The same arguments therefore give byte-identical tables on
-- any run and any machine, whatever the session's TimeZone or other settings.
--
-- Usage:  SELECT recommender.create_sample_shop();                 -- schema "shop", defaults
--         SELECT recommender.create_sample_shop('demo', 50, 40, 7);
-- Remove: DROP SCHEMA shop CASCADE;

CREATE FUNCTION recommender.create_sample_shop(
    target_schema name DEFAULT 'shop',
    customers integer DEFAULT 3000,
    products integer DEFAULT 1000,
    seed integer DEFAULT 42)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off   -- JIT-compiling the big generation queries would take minutes
AS $function$
DECLARE
    -- Copies of the arguments: "customers" and "products" would clash with table names in SQL.
    v_schema  name    := target_schema;
    n_cust    integer := customers;
    n_prod    integer := products;
    -- Hash seed base. A uniform draw in [0,1) for key K on stream N is
    --   (hashint8extended(K, s0 + N) & 2147483647)::float8 / 2147483648::float8
    -- Streams are numbered per use below; keys are packed ids (customer*1024 + view number, ...).
    s0        bigint;

    -- Time frame, as Unix epoch seconds (UTC).
    t_prod0   constant bigint := extract(epoch FROM timestamptz '2025-11-01 00:00:00+00')::bigint;
    t_prod1   constant bigint := extract(epoch FROM timestamptz '2026-10-31 12:00:00+00')::bigint;
    t_join0   constant bigint := extract(epoch FROM timestamptz '2023-01-01 00:00:00+00')::bigint;
    t_win0    constant bigint := extract(epoch FROM timestamptz '2026-05-01 00:00:00+00')::bigint;
    t_win1    constant bigint := extract(epoch FROM timestamptz '2026-11-01 00:00:00+00')::bigint;
    t_trend   constant bigint := t_win1 - 14 * 86400;   -- start of the "last 14 days"

    first_names constant text[] := ARRAY[
        'Emma','Liam','Olivia','Noah','Ava','Lucas','Mia','Elias','Sofia','Leon',
        'Isabella','Mateo','Amelia','Hugo','Freya','Oskar','Chloe','Arjun','Hannah','Kenji',
        'Zoe','Omar','Lea','Ivan','Nora','Diego','Aisha','Felix','Maja','Samuel',
        'Ines','Tomas','Yuki','Ben','Clara','Rafael','Lina','David','Priya','Jonas',
        'Sara','Mohammed','Julia','Erik','Anna','Kai','Fatima','Luca','Ingrid','Theo'];
    last_names constant text[] := ARRAY[
        'Jensen','Smith','Garcia','Mueller','Rossi','Kowalski','Nguyen','Johansson','Silva','Tanaka',
        'Novak','Dubois','Schmidt','Larsen','Okafor','Patel','Kim','Costa','Fischer','Hansen',
        'Lopez','Berg','Moreau','Weber','Nielsen','Haddad','Ivanov','Santos','Becker','Lindqvist',
        'Murphy','Kaur','Yilmaz','Petrov','Andersen','Bianchi','Wagner','Sato','Horvat','Martin',
        'Brown','Fernandes','Virtanen','Cohen','Mendes','Schulz','Eriksson','Popescu','Walsh','Reyes'];

    n_cat     integer;      -- categories that received at least one product
    max_b     integer;      -- largest number of brands in a category
    cat_n     integer[];    -- per category: number of products
    cat_m     integer[];    --               number of "established" top products (added before the window)
    cat_off   integer[];    --               offset of the category in p_cr
    cat_nb    integer[];    --               number of brands
    pop_pick  integer[];    -- category ids repeated by popularity weight (weighted draws)
    n_pop     integer;
    p_cr      integer[];    -- product_id by (cat_off[c] + popularity rank)
    p_cat     integer[];    -- by product_id: category id
    p_brand   integer[];    --                brand number within the category
    p_added   bigint[];     --                added_at (epoch)
    b_cnt     integer[];    -- by (c-1)*max_b + brand: number of products of that brand
    b_off     integer[];    --                         offset in b_pid
    b_pid     integer[];    -- product ids ordered by category, brand, popularity rank
    tr        integer[];    -- trending product ids
    n_tr      integer;
    n_cold    integer;
    n_heavy   integer;
    n_mid     integer;
    n_events  bigint;
    tbl       text;
BEGIN
    ------------------------------------------------------------------------------------------
    -- Arguments
    ------------------------------------------------------------------------------------------
    IF target_schema IS NULL OR customers IS NULL OR products IS NULL OR seed IS NULL THEN
        RAISE EXCEPTION 'create_sample_shop arguments must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Leave an argument out to use its default.';
    END IF;
    IF target_schema = '' THEN
        RAISE EXCEPTION 'target_schema must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Name the schema for the sample shop''s tables (default shop).';
    END IF;
    IF products < 10 THEN
        RAISE EXCEPTION 'products must be at least 10 (got %)', products
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The sample shop spreads its products over 20 categories; pass products => 10 or more (default 1000).';
    END IF;
    IF customers < 1 THEN
        RAISE EXCEPTION 'customers must be at least 1 (got %)', customers
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass customers => 1 or more (default 3000).';
    END IF;
    -- a sample shop, not a load generator: bounded so that a typo cannot run for hours
    IF customers > 1000000 OR products > 100000 THEN
        RAISE EXCEPTION 'the sample shop has at most 1,000,000 customers and 100,000 products (got % and %)', customers, products
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The defaults (3000 customers, 1000 products) make about 110,000 events.';
    END IF;
    FOREACH tbl IN ARRAY ARRAY['products', 'customers', 'events'] LOOP
        IF to_regclass(format('%I.%I', v_schema, tbl)) IS NOT NULL THEN
            RAISE EXCEPTION 'relation %.% already exists', quote_ident(v_schema), quote_ident(tbl)
                USING ERRCODE = 'duplicate_table',
                      HINT = format('Drop the old sample shop first (DROP SCHEMA %I CASCADE) or pass another target_schema.', v_schema);
        END IF;
    END LOOP;
    -- the scratch tables below are this function's own: a table of the same name in the caller's
    -- session is the caller's, and is left alone (the function drops its own before returning)
    FOREACH tbl IN ARRAY ARRAY['_shop_cat', '_shop_prod', '_shop_cust', '_shop_ev'] LOOP
        IF to_regclass('pg_temp.' || tbl) IS NOT NULL THEN
            RAISE EXCEPTION 'create_sample_shop needs the temporary table name pg_temp.%, which this session already uses', tbl
                USING ERRCODE = 'duplicate_table',
                      HINT = 'Drop or rename that temporary table, or call create_sample_shop from another session.';
        END IF;
    END LOOP;

    s0 := seed::bigint << 20;

    ------------------------------------------------------------------------------------------
    -- Categories: name, share of products, popularity among customers, price range, and
    -- 12 nouns (cheapest first: the price grows with the noun's position), 10 adjectives and
    -- 6 brands each. (Titles walk the adjective x noun grid with stride 49, so the grid size
    -- must not be a multiple of 7.)
    ------------------------------------------------------------------------------------------
    CREATE TEMP TABLE _shop_cat ON COMMIT DROP AS
    SELECT v.*, 0 AS n, 0 AS m, 0 AS off
    FROM (VALUES
      (1, 'Kitchen', 90, 80, 6.0, 320.0,
       ARRAY['Utensil Set','Colander','Cutting Board','Mixing Bowl Set','Salad Spinner','Baking Sheet',
             'Saucepan','Frying Pan','Chef''s Knife','Knife Block','Dutch Oven','Stand Mixer'],
       ARRAY['Stainless','Cast-Iron','Non-Stick','Bamboo','Ceramic','Professional','Compact','Enamelled','Classic','Copper'],
       ARRAY['Nordvik','Casalume','Ironleaf','Pantrio','Kochwerk','Maple & Tin']),
      (2, 'Coffee & Tea', 35, 55, 4.0, 260.0,
       ARRAY['Tea Infuser','Loose-Leaf Green Tea','Espresso Beans (1 kg)','Travel Mug','Matcha Whisk','Milk Frother',
             'French Press','Moka Pot','Pour-Over Kettle','Cold Brew Maker','Burr Grinder','Drip Coffee Maker'],
       ARRAY['Ceramic','Single-Origin','Organic','Gooseneck','Insulated','Glass','Dark Roast','Barista','Hand-Crafted','Electric'],
       ARRAY['Kettlebrook','Roastwell','Bean & Leaf','Kaffeholm','Sencha House','Brewmaster']),
      (3, 'Books', 110, 90, 6.0, 48.0,
       ARRAY['Poetry Collection','Children''s Picture Book','Mystery Novel','Science Fiction Novel','Graphic Novel','Self-Help Guide',
             'Travel Guide','Biography','History of Europe','Cookbook','Programming Handbook','Fantasy Trilogy Box Set'],
       ARRAY['Bestselling','Illustrated','Hardcover','Paperback','Annotated','Award-Winning','Pocket','Collector''s','Signed','Revised'],
       ARRAY['Harbor Press','Quillstone','Penrose Books','Lanternfield','Inkwell House','Northgate Publishing']),
      (4, 'Toys', 70, 60, 5.0, 130.0,
       ARRAY['Kite','Action Figure','Plush Bear','Puzzle (1000 pcs)','Board Game','Science Kit',
             'Marble Run','Building Blocks Set','Wooden Train Set','Remote Control Car','Play Kitchen','Doll House'],
       ARRAY['Classic','Deluxe','Wooden','Glow-in-the-Dark','Educational','Mini','Giant','Magnetic','Rainbow','Junior'],
       ARRAY['Brickly','Toyvana','Wunderkid','Playmosa','Tiny Titan','Hopscotch']),
      (5, 'Garden', 55, 45, 4.0, 300.0,
       ARRAY['Garden Gloves','Seed Starter Tray','Watering Can','Pruning Shears','Bird Feeder','Planter Pot',
             'Garden Hose (25 m)','Lawn Sprinkler','Solar Path Lights','Compost Bin','Hedge Trimmer','Raised Bed Kit'],
       ARRAY['Heavy-Duty','Galvanised','Ergonomic','Recycled','Terracotta','Expandable','Cordless','Weatherproof','Cedar','Self-Watering'],
       ARRAY['Greenhaven','Rootwell','Fieldstone','Bloomcraft','Moss & Oak','Terrapin']),
      (6, 'Running', 40, 50, 8.0, 420.0,
       ARRAY['Running Socks (Pack of 3)','Running Cap','Race Belt','Energy Gel Pack (12x)','Compression Sleeves','Handheld Water Bottle',
             'Headlamp','Running Tights','Reflective Jacket','Hydration Vest','Running Shoes','GPS Running Watch'],
       ARRAY['Lightweight','Breathable','Trail','Cushioned','Windproof','Seamless','Ultra','Reflective','Merino','Carbon'],
       ARRAY['Stridex','Altavia','Pacehawk','Kinetra','Runwild','Fjellfoot']),
      (7, 'Camping', 40, 35, 6.0, 450.0,
       ARRAY['Dry Bag (20 L)','Lantern','Cookware Set','Trekking Poles','Water Filter','Camp Chair',
             'Hammock','Camping Stove','Inflatable Sleeping Pad','Sleeping Bag','Backpack (45 L)','Two-Person Tent'],
       ARRAY['Ultralight','Four-Season','Waterproof','Compact','Folding','Insulated','Rugged','Expedition','Packable','Solar'],
       ARRAY['Summitra','Wildcamp','Northpeak','Bivouac Co.','Trailforge','Kestrel']),
      (8, 'Audio', 40, 55, 15.0, 600.0,
       ARRAY['Sleep Headphones','Portable Radio','Wireless Earbuds','Bluetooth Speaker','Smart Speaker','Studio Microphone',
             'Over-Ear Headphones','Bookshelf Speakers','DAC Amplifier','Subwoofer','Turntable','Soundbar'],
       ARRAY['Noise-Cancelling','Hi-Fi','Waterproof','Compact','Studio','Wireless','Retro','Premium','Bass-Boosted','Open-Back'],
       ARRAY['Sonarix','Auralis','Bassline','Echoform','Vellum Audio','Klangwerk']),
      (9, 'Phones', 30, 65, 7.0, 999.0,
       ARRAY['USB-C Cable','Screen Protector (2x)','Phone Case','Stylus','Car Mount','Wall Charger',
             'Phone Tripod','Wireless Charger','Power Bank','Camera Lens Kit','Smartwatch','Smartphone'],
       ARRAY['Slim','Rugged','Fast-Charging','Magnetic','Ultra','Compact','Matte','Transparent','Pro','Eco'],
       ARRAY['Voltara','Pixelon','Nuvio','Ampere Labs','Cellora','Zentek']),
      (10, 'Baby', 35, 35, 5.0, 400.0,
       ARRAY['Pacifier (2x)','Bibs (Pack of 5)','Teething Toy','Baby Bottle Set','Swaddle Blanket','Bath Tub',
             'Baby Monitor','High Chair','Baby Carrier','Travel Cot','Car Seat','Stroller'],
       ARRAY['Organic','Soft','BPA-Free','Foldable','Convertible','Hypoallergenic','Lightweight','Cosy','Ergonomic','Muslin'],
       ARRAY['Little Sprout','Lullabee','Nestling','Bambino Co.','Cradlewood','Peekaboo']),
      (11, 'Pets', 50, 50, 3.0, 180.0,
       ARRAY['Chew Toy','Cat Treats','Poop Bags (240x)','Pet Bowl','Dog Leash','Cat Scratcher',
             'Grooming Brush','Dog Food (12 kg)','Pet Bed','Cat Litter Box','Pet Carrier','Aquarium Kit'],
       ARRAY['Durable','Grain-Free','Orthopedic','Reflective','Stainless','Self-Cleaning','Plush','Interactive','Natural','Adjustable'],
       ARRAY['Pawsome','Whiskerly','Barkley & Co.','Furrow','Tailwise','Kibblehaus']),
      (12, 'Beauty', 65, 60, 3.0, 140.0,
       ARRAY['Lip Balm','Sheet Mask (5x)','Hand Cream','Shampoo','Face Cleanser','Body Lotion',
             'Eye Cream','Vitamin C Serum','Eau de Parfum','Hair Dryer','Hair Straightener','Electric Toothbrush'],
       ARRAY['Hydrating','Vegan','Fragrance-Free','Nourishing','Brightening','Travel-Size','Gentle','Overnight','Botanical','Ionic'],
       ARRAY['Lumiere','Dewdrop','Skinfolk','Velvette','Aurelia','Purely']),
      (13, 'Home Decor', 70, 45, 5.0, 350.0,
       ARRAY['Scented Candle','Photo Frame','Throw Pillow','Vase','Wall Clock','Table Lamp',
             'Throw Blanket','Wall Art Print','Mirror','Area Rug','Floor Lamp','Bookshelf'],
       ARRAY['Minimalist','Boho','Linen','Velvet','Scandinavian','Rattan','Marble','Vintage','Handwoven','Brass'],
       ARRAY['Hygge Home','Casa Mira','Oak & Ember','Linnea','Driftwood','Atelier Nord']),
      (14, 'Fitness', 45, 50, 6.0, 900.0,
       ARRAY['Resistance Bands','Jump Rope','Yoga Mat','Foam Roller','Ab Wheel','Kettlebell (12 kg)',
             'Pull-Up Bar','Adjustable Dumbbells','Weight Bench','Rowing Machine','Exercise Bike','Treadmill'],
       ARRAY['Non-Slip','Adjustable','Foldable','Heavy-Duty','Eco','Smart','Compact','Pro','Padded','Magnetic'],
       ARRAY['Ironcore','Flexa','Repforge','Zenmotion','Pulsefit','Gravitas']),
      (15, 'Cycling', 30, 30, 6.0, 1500.0,
       ARRAY['Bike Bell','Inner Tube','Bottle Cage','Cycling Gloves','Mini Pump','Bike Lights Set',
             'Saddle','Bike Lock','Cycling Jersey','Cycling Helmet','Bike Computer','Road Bike'],
       ARRAY['Aero','Carbon','Lightweight','Reflective','Gravel','Commuter','Padded','Tubeless','Aluminium','Racing'],
       ARRAY['Velocita','Spokehaus','Cadenza','Rideon','Chainline','Gearwright']),
      (16, 'Office', 50, 35, 2.0, 450.0,
       ARRAY['Gel Pens (10x)','Sticky Notes','Notebook','Desk Organizer','Stapler','Desk Lamp',
             'Laptop Stand','Monitor Arm','Footrest','Filing Cabinet','Standing Desk Converter','Office Chair'],
       ARRAY['Dotted','Ergonomic','Recycled','Minimalist','Adjustable','Bamboo','Leather','Compact','Executive','Refillable'],
       ARRAY['Paperlane','Deskwise','Inkbloom','Officio','Ledger & Co.','Quillmark']),
      (17, 'Video Games', 35, 45, 10.0, 550.0,
       ARRAY['Game Gift Card','Controller Grip','Indie Adventure Game','Racing Game','Strategy Game','Open-World RPG',
             'Gaming Headset','Wireless Controller','Gaming Mouse','Mechanical Keyboard','VR Headset','Game Console'],
       ARRAY['Deluxe','Limited Edition','Wireless','RGB','Retro','Collector''s','Ultimate','Pro','Co-op','Next-Gen'],
       ARRAY['Pixelforge','Lootbox Games','Questline','Arcadia Labs','Bitcrush','Nova Interactive']),
      (18, 'Computers', 45, 55, 8.0, 2200.0,
       ARRAY['USB Hub','Webcam','Wireless Mouse','Keyboard','External SSD (1 TB)','Docking Station',
             'Wi-Fi Router','27-inch Monitor','Mini PC','Tablet','Laptop','Gaming Laptop'],
       ARRAY['Ultra-Slim','Portable','4K','Ergonomic','Silent','High-Speed','Refurbished','Business','Creator','Mesh'],
       ARRAY['Kernix','Byteworks','Lumacore','Quantra','Nexbit','Siliconia']),
      (19, 'Fashion', 95, 75, 5.0, 260.0,
       ARRAY['Socks (3 Pairs)','Beanie','T-Shirt','Scarf','Belt','Sunglasses',
             'Jeans','Sweater','Sneakers','Backpack','Leather Boots','Winter Coat'],
       ARRAY['Organic Cotton','Slim-Fit','Oversized','Wool','Linen','Vintage','Recycled','Classic','Waterproof','Cashmere'],
       ARRAY['Threadly','Marlow & Vine','Urbanist','Kite & Kin','Loomstead','Ashby']),
      (20, 'Pantry', 45, 50, 2.0, 70.0,
       ARRAY['Sea Salt Crackers','Granola Bars (12x)','Dark Chocolate Bar','Pasta (500 g)','Peanut Butter','Honey',
             'Mixed Nuts (1 kg)','Olive Oil (1 L)','Hot Sauce Set','Protein Powder','Spice Collection','Gourmet Gift Basket'],
       ARRAY['Organic','Gluten-Free','Artisan','Smoked','Raw','Premium','Vegan','Spicy','Wildflower','Family-Size'],
       ARRAY['Harvest Lane','Pantryful','Good Grain','Salt & Sprout','Olivella','Mielbrook'])
    ) AS v(c, name, w_prod, w_pop, lo, hi, nouns, adjs, brands);

    -- Products per category: one each (when there are enough), the rest proportional to
    -- w_prod by the largest-remainder method (integer arithmetic only).
    WITH w AS (
        SELECT sum(w_prod)::bigint AS wt, count(*) AS cnt,
               CASE WHEN n_prod >= count(*) THEN 1 ELSE 0 END AS base
        FROM pg_temp._shop_cat
    ), x AS (
        SELECT k.c, w.base, n_prod - w.base * w.cnt AS rem,
               ((n_prod - w.base * w.cnt) * k.w_prod) / w.wt AS fl,
               mod((n_prod - w.base * w.cnt) * k.w_prod, w.wt) AS fr
        FROM pg_temp._shop_cat k, w
    ), y AS (
        SELECT x.*, row_number() OVER (ORDER BY fr DESC, c) AS ord, sum(fl) OVER () AS sum_fl
        FROM x
    )
    UPDATE pg_temp._shop_cat k
       SET n = (y.base + y.fl + CASE WHEN y.ord <= y.rem - y.sum_fl THEN 1 ELSE 0 END)::int
      FROM y
     WHERE y.c = k.c;

    UPDATE pg_temp._shop_cat k
       SET m = CASE WHEN k.n > 0 THEN greatest(1, ceil(k.n * 0.1))::int ELSE 0 END,
           off = coalesce((SELECT sum(k2.n) FROM pg_temp._shop_cat k2 WHERE k2.c < k.c), 0)::int;

    SELECT array_agg(n ORDER BY c), array_agg(m ORDER BY c), array_agg(off ORDER BY c),
           array_agg(cardinality(brands) ORDER BY c), max(cardinality(brands)),
           count(*) FILTER (WHERE n > 0)
      INTO cat_n, cat_m, cat_off, cat_nb, max_b, n_cat
      FROM pg_temp._shop_cat;

    SELECT array_agg(k.c ORDER BY k.c, i)
      INTO pop_pick
      FROM pg_temp._shop_cat k, generate_series(1, k.w_pop) AS i
     WHERE k.n > 0;
    n_pop := cardinality(pop_pick);

    ------------------------------------------------------------------------------------------
    -- Products. r = popularity rank within the category (1 = bestseller); product ids are a
    -- hash-shuffle of all products, titles a hash-shuffled walk over the adjective x noun grid
    -- (distinct within a category; a model suffix is added once the grid is used up).
    ------------------------------------------------------------------------------------------
    CREATE TEMP TABLE _shop_prod ON COMMIT DROP AS
    WITH b AS (
        SELECT k.c, r, k.m, k.name AS category, k.nouns, k.adjs, k.brands,
               k.lo::float8 AS lo, k.hi::float8 AS hi,
               cardinality(k.nouns) AS nn,
               cardinality(k.nouns) * cardinality(k.adjs) AS combos,
               k.c::bigint * 16777216 + r AS pkey
        FROM pg_temp._shop_cat k, generate_series(1, k.n) AS r
    ), h AS (
        SELECT b.*,
               (hashint8extended(pkey, s0 + 101) & 2147483647)::float8 / 2147483648::float8 AS u_id,
               (hashint8extended(pkey, s0 + 102) & 2147483647)::float8 / 2147483648::float8 AS u_slot,
               (hashint8extended(pkey, s0 + 103) & 2147483647)::float8 / 2147483648::float8 AS u_brand,
               (hashint8extended(pkey, s0 + 104) & 2147483647)::float8 / 2147483648::float8 AS u_price,
               (hashint8extended(pkey, s0 + 105) & 2147483647)::float8 / 2147483648::float8 AS u_stock,
               (hashint8extended(pkey, s0 + 106) & 2147483647)::float8 / 2147483648::float8 AS u_added,
               (hashint8extended(c,    s0 + 107) & 2147483647)::float8 / 2147483648::float8 AS u_off
        FROM b
    ), s AS (
        SELECT h.*,
               row_number() OVER (ORDER BY u_id, c, r) AS pid,
               row_number() OVER (PARTITION BY c ORDER BY u_slot, r) - 1 AS slot
        FROM h
    ), i AS (
        SELECT s.*,
               mod(slot * 49 + floor(u_off * combos)::bigint, combos)::int AS idx,
               (slot / combos)::int AS cycle,
               1 + floor(cardinality(brands) * (0.5 * u_brand + 0.5 * u_brand * u_brand))::int AS bi
        FROM s
    ), j AS (
        SELECT i.*,
               1 + mod(idx, nn) AS ni,
               1 + idx / nn AS ai
        FROM i
    ), p AS (
        SELECT j.*,
               lo + (hi - lo) * (((ni - 1) + 0.15 + 0.7 * u_price) / nn) * (((ni - 1) + 0.15 + 0.7 * u_price) / nn) AS raw_price
        FROM j
    )
    SELECT pid::int AS product_id, c, r, bi AS brand_i,
           adjs[ai] || ' ' || nouns[ni]
             || CASE WHEN cycle = 0 THEN ''
                     WHEN cycle <= 7 THEN (ARRAY[' II', ' III', ' Plus', ' Pro', ' Max', ' Mini', ' XL'])[cycle]
                     ELSE ' Series ' || (cycle + 1) END
             || ' by ' || brands[bi] AS title,
           category,
           brands[bi] AS brand,
           (CASE WHEN raw_price < 100 THEN floor(raw_price)::numeric + 0.99
                 ELSE ceil(raw_price / 5)::numeric * 5 - 0.01 END)::numeric(10,2) AS price,
           u_stock >= 0.08 AS in_stock,
           CASE WHEN r <= m   -- the top sellers are established: added before the event window
                THEN t_prod0 + floor(u_added * (t_win0 - 86400 - t_prod0))::bigint
                ELSE t_prod0 + floor(u_added * (t_prod1 - t_prod0))::bigint END AS added
    FROM p;

    -- Trending products: established, in stock, not the category's #1.
    n_tr := greatest(2, least(8, n_prod / 125));
    SELECT array_agg(product_id ORDER BY o)
      INTO tr
      FROM (SELECT product_id,
                   row_number() OVER (ORDER BY (added < t_win0 AND in_stock AND r > 1) DESC,
                                               hashint8extended(product_id, s0 + 108), product_id) AS o
              FROM pg_temp._shop_prod) z
     WHERE o <= n_tr;

    SELECT array_agg(product_id ORDER BY c, r) INTO p_cr FROM pg_temp._shop_prod;
    SELECT array_agg(c ORDER BY product_id), array_agg(brand_i ORDER BY product_id),
           array_agg(added ORDER BY product_id)
      INTO p_cat, p_brand, p_added
      FROM pg_temp._shop_prod;
    SELECT array_agg(product_id ORDER BY c, brand_i, r) INTO b_pid FROM pg_temp._shop_prod;
    WITH g AS (
        SELECT k.c, b, (k.c - 1) * max_b + b AS bk
        FROM pg_temp._shop_cat k, generate_series(1, max_b) AS b
    ), cnt AS (
        SELECT g.bk, count(p.product_id)::int AS cnt
        FROM g LEFT JOIN pg_temp._shop_prod p ON p.c = g.c AND p.brand_i = g.b
        GROUP BY g.bk
    )
    SELECT array_agg(cnt ORDER BY bk), array_agg(off ORDER BY bk)
      INTO b_cnt, b_off
      FROM (SELECT bk, cnt, (sum(cnt) OVER (ORDER BY bk) - cnt)::int AS off FROM cnt) z;

    ------------------------------------------------------------------------------------------
    -- Customers: activity tier by hash rank (exactly ~3% cold, ~3% heavy, ~9% medium), 1-3
    -- favourite categories drawn by popularity, joined_at mostly before the event window.
    -- nv = number of product views; carts and purchases come on top (~1.43 events per view).
    ------------------------------------------------------------------------------------------
    n_cold  := CASE WHEN n_cust >= 10 THEN greatest(1, round(n_cust * 0.03)::int) ELSE 0 END;
    n_heavy := round(n_cust * 0.03)::int;
    n_mid   := round(n_cust * 0.09)::int;

    CREATE TEMP TABLE _shop_cust ON COMMIT DROP AS
    WITH b AS (
        SELECT i AS customer_id,
               (hashint8extended(i, s0 + 201) & 2147483647)::float8 / 2147483648::float8 AS u_tier,
               (hashint8extended(i, s0 + 202) & 2147483647)::float8 / 2147483648::float8 AS u_n,
               (hashint8extended(i, s0 + 203) & 2147483647)::float8 / 2147483648::float8 AS u_nf,
               (hashint8extended(i, s0 + 204) & 2147483647)::float8 / 2147483648::float8 AS u_f1,
               (hashint8extended(i, s0 + 205) & 2147483647)::float8 / 2147483648::float8 AS u_f2,
               (hashint8extended(i, s0 + 206) & 2147483647)::float8 / 2147483648::float8 AS u_f3,
               (hashint8extended(i, s0 + 207) & 2147483647)::float8 / 2147483648::float8 AS u_j1,
               (hashint8extended(i, s0 + 208) & 2147483647)::float8 / 2147483648::float8 AS u_j2,
               (hashint8extended(i, s0 + 209) & 2147483647)::float8 / 2147483648::float8 AS u_fn,
               (hashint8extended(i, s0 + 210) & 2147483647)::float8 / 2147483648::float8 AS u_ln
        FROM generate_series(1, n_cust) AS i
    ), r AS (
        SELECT b.*,
               row_number() OVER (ORDER BY u_tier, customer_id) AS rn,
               CASE WHEN u_nf < 0.35 THEN 1 WHEN u_nf < 0.75 THEN 2 ELSE 3 END AS nf
        FROM b
    )
    SELECT customer_id,
           first_names[1 + floor(u_fn * cardinality(first_names))::int] || ' ' ||
           last_names[1 + floor(u_ln * cardinality(last_names))::int] AS name,
           CASE WHEN u_j1 < 0.82 THEN t_join0 + floor(u_j2 * (t_win0 - t_join0))::bigint
                ELSE t_win0 + floor(u_j2 * (t_win1 - 7 * 86400 - t_win0))::bigint END AS joined,
           CASE WHEN rn <= n_cold                   THEN 0
                WHEN rn <= n_cold + n_heavy         THEN round(0.7 * (100 + floor(201 * u_n)))::int
                WHEN rn <= n_cold + n_heavy + n_mid THEN round(0.7 * (40 + floor(61 * u_n)))::int
                ELSE round(0.7 * (5 + floor(36 * sqrt(u_n))))::int END AS nv,
           ARRAY(SELECT f
                   FROM unnest((ARRAY[pop_pick[1 + floor(u_f1 * n_pop)::int],
                                      pop_pick[1 + floor(u_f2 * n_pop)::int],
                                      pop_pick[1 + floor(u_f3 * n_pop)::int]])[1:nf]) WITH ORDINALITY AS z(f, o)
                  GROUP BY f ORDER BY min(o)) AS favs
    FROM r;

    ------------------------------------------------------------------------------------------
    -- Events. Each customer has nv views, cut into sessions (a new one starts with probability
    -- 0.3, and at least every 20 views). A session has a category (a favourite with p=0.78,
    -- else any category by popularity) and a start time; views in it are ~2 minutes apart.
    -- A view shows: a trending product (last 14 days, p=0.08), a product of the customer's
    -- preferred brand in that category (p=0.5; Zipf-like by rank within the brand), or a
    -- product of the category (Zipf-like: rank ~ n*u^3). A product not yet added at that time
    -- is replaced by one of the category's established top sellers. Views lead to a cart
    -- (p=0.165, 0.35 for the preferred brand) and carts to a purchase (p=0.56, 0.73).
    -- (The MATERIALIZED steps matter: inlined, each derived column's expression would be
    -- copied into every later use, and evaluation time would explode.)
    ------------------------------------------------------------------------------------------
    CREATE TEMP TABLE _shop_ev ON COMMIT DROP AS
    WITH v AS (
        SELECT cu.customer_id AS cid, cu.favs, cardinality(cu.favs) AS nf,
               greatest(cu.joined, t_win0) AS lo, k,
               cu.customer_id::bigint * 1024 + k AS vkey,
               (k = 1 OR mod(k, 20) = 1
                OR (hashint8extended(cu.customer_id::bigint * 1024 + k, s0 + 301) & 2147483647)::float8 / 2147483648::float8 < 0.3) AS flag
        FROM pg_temp._shop_cust cu, generate_series(1, cu.nv) AS k
        WHERE cu.nv > 0
    ), s AS (
        SELECT v.*,
               cid::bigint * 1024 + sum(flag::int) OVER w AS skey,
               k - max(CASE WHEN flag THEN k END) OVER w AS pos
        FROM v
        WINDOW w AS (PARTITION BY cid ORDER BY k)
    ), a AS MATERIALIZED (
        SELECT s.*,
               CASE WHEN (hashint8extended(skey, s0 + 302) & 2147483647)::float8 / 2147483648::float8 < 0.78
                    THEN favs[CASE WHEN nf = 1 OR (hashint8extended(skey, s0 + 303) & 2147483647)::float8 / 2147483648::float8 < 0.5 THEN 1
                                   WHEN nf = 2 OR (hashint8extended(skey, s0 + 303) & 2147483647)::float8 / 2147483648::float8 < 0.8 THEN 2
                                   ELSE 3 END]
                    ELSE pop_pick[1 + floor((hashint8extended(skey, s0 + 304) & 2147483647)::float8 / 2147483648::float8 * n_pop)::int]
               END AS cc,
               lo + floor((hashint8extended(skey, s0 + 305) & 2147483647)::float8 / 2147483648::float8 * (t_win1 - 7200 - lo))::bigint
                  + pos * 120
                  + floor((hashint8extended(vkey, s0 + 306) & 2147483647)::float8 / 2147483648::float8 * 100)::bigint AS tv,
               (hashint8extended(vkey, s0 + 310) & 2147483647)::float8 / 2147483648::float8 AS u_tr,
               (hashint8extended(vkey, s0 + 311) & 2147483647)::float8 / 2147483648::float8 AS u_trp,
               (hashint8extended(vkey, s0 + 312) & 2147483647)::float8 / 2147483648::float8 AS u_loyal,
               (hashint8extended(vkey, s0 + 313) & 2147483647)::float8 / 2147483648::float8 AS u_bp,
               (hashint8extended(vkey, s0 + 314) & 2147483647)::float8 / 2147483648::float8 AS u_cp,
               (hashint8extended(vkey, s0 + 315) & 2147483647)::float8 / 2147483648::float8 AS u_fb,
               (hashint8extended(vkey, s0 + 320) & 2147483647)::float8 / 2147483648::float8 AS u_cart,
               (hashint8extended(vkey, s0 + 321) & 2147483647)::float8 / 2147483648::float8 AS u_buy,
               (hashint8extended(vkey, s0 + 322) & 2147483647)::float8 / 2147483648::float8 AS u_dc,
               (hashint8extended(vkey, s0 + 323) & 2147483647)::float8 / 2147483648::float8 AS u_dp
        FROM s
    ), c AS MATERIALIZED (
        -- the customer's preferred brand in this category (same for all their sessions in it)
        SELECT a.*, (cc - 1) * max_b + pb AS bk
        FROM (SELECT a.*,
                     1 + floor(cat_nb[cc] * ub)::int AS pb
                FROM (SELECT a.*,
                             (hashint8extended(cid::bigint * 64 + cc, s0 + 307) & 2147483647)::float8 / 2147483648::float8 AS ub
                        FROM a) a) a
    ), d AS MATERIALIZED (
        SELECT c.*,
               CASE WHEN tv >= t_trend AND u_tr < 0.08
                    THEN tr[1 + floor(u_trp * n_tr)::int]
                    WHEN b_cnt[bk] > 0 AND u_loyal < 0.5
                    THEN b_pid[b_off[bk] + 1 + floor(b_cnt[bk] * u_bp * u_bp)::int]
                    ELSE p_cr[cat_off[cc] + 1 + floor(cat_n[cc] * u_cp * u_cp * u_cp)::int]
               END AS pid0
        FROM c
    ), e AS MATERIALIZED (
        SELECT d.*,
               CASE WHEN p_added[pid0] <= tv THEN pid0
                    ELSE p_cr[cat_off[p_cat[pid0]] + 1 + floor(cat_m[p_cat[pid0]] * u_fb * u_fb * u_fb)::int]
               END AS pid
        FROM d
    ), f AS (
        SELECT e.*,
               u_cart < CASE WHEN bm THEN 0.35 ELSE 0.165 END AS is_cart,
               u_cart < CASE WHEN bm THEN 0.35 ELSE 0.165 END
                 AND u_buy < CASE WHEN bm THEN 0.73 ELSE 0.56 END AS is_buy,
               tv + 20 + floor(u_dc * 90)::bigint AS tc
        FROM (SELECT e.*, (p_cat[pid] = cc AND p_brand[pid] = pb) AS bm FROM e) e
    )
    SELECT cid AS customer_id, pid AS product_id, 'view'::text AS event_type, tv AS t, k, 1 AS o FROM f
    UNION ALL
    SELECT cid, pid, 'cart', tc, k, 2 FROM f WHERE is_cart
    UNION ALL
    SELECT cid, pid, 'purchase', tc + 30 + floor(u_dp * 900)::bigint, k, 3 FROM f WHERE is_buy;

    SELECT count(*) INTO n_events FROM pg_temp._shop_ev;

    ------------------------------------------------------------------------------------------
    -- Target tables (foreign keys and secondary indexes are added after loading: much faster).
    ------------------------------------------------------------------------------------------
    IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = v_schema) THEN
        EXECUTE format('CREATE SCHEMA %I', v_schema);
    END IF;

    EXECUTE format($q$
        CREATE TABLE %1$I.products (
            product_id integer PRIMARY KEY,
            title      text NOT NULL,
            category   text NOT NULL,
            brand      text NOT NULL,
            price      numeric(10,2) NOT NULL,
            in_stock   boolean NOT NULL,
            added_at   timestamptz NOT NULL)$q$, v_schema);
    EXECUTE format($q$
        CREATE TABLE %1$I.customers (
            customer_id integer PRIMARY KEY,
            name        text NOT NULL,
            joined_at   timestamptz NOT NULL)$q$, v_schema);
    EXECUTE format($q$
        CREATE TABLE %1$I.events (
            event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer_id integer NOT NULL,
            product_id  integer NOT NULL,
            event_type  text NOT NULL CHECK (event_type IN ('view', 'cart', 'purchase')),
            occurred_at timestamptz NOT NULL)$q$, v_schema);

    EXECUTE format($q$
        INSERT INTO %1$I.products (product_id, title, category, brand, price, in_stock, added_at)
        SELECT product_id, title, category, brand, price, in_stock, to_timestamp(added)
        FROM pg_temp._shop_prod ORDER BY product_id$q$, v_schema);
    EXECUTE format($q$
        INSERT INTO %1$I.customers (customer_id, name, joined_at)
        SELECT customer_id, name, to_timestamp(joined)
        FROM pg_temp._shop_cust ORDER BY customer_id$q$, v_schema);
    -- event_id follows time order (ties broken by customer, view number, view < cart < purchase)
    EXECUTE format($q$
        INSERT INTO %1$I.events (customer_id, product_id, event_type, occurred_at)
        SELECT customer_id, product_id, event_type, to_timestamp(t)
        FROM pg_temp._shop_ev ORDER BY t, customer_id, k, o$q$, v_schema);

    EXECUTE format($q$
        ALTER TABLE %1$I.events
            ADD FOREIGN KEY (customer_id) REFERENCES %1$I.customers,
            ADD FOREIGN KEY (product_id) REFERENCES %1$I.products$q$, v_schema);
    EXECUTE format('CREATE INDEX ON %I.events (customer_id)', v_schema);
    EXECUTE format('CREATE INDEX ON %I.events (product_id)', v_schema);

    EXECUTE format('COMMENT ON TABLE %I.products IS %L', v_schema,
        format('sample shop catalog (recommender.create_sample_shop, seed %s)', seed));
    EXECUTE format('COMMENT ON TABLE %I.customers IS %L', v_schema,
        format('sample shop customers, about 3%% without events (recommender.create_sample_shop, seed %s)', seed));
    EXECUTE format('COMMENT ON TABLE %I.events IS %L', v_schema,
        format('sample shop interactions: view, cart, purchase (recommender.create_sample_shop, seed %s)', seed));

    DROP TABLE pg_temp._shop_ev, pg_temp._shop_cust, pg_temp._shop_prod, pg_temp._shop_cat;

    EXECUTE format('ANALYZE %1$I.products, %1$I.customers, %1$I.events', v_schema);

    RETURN format('%s: %s customers, %s products, %s categories, %s events',
                  v_schema, n_cust, n_prod, n_cat, n_events);
END
$function$;

COMMENT ON FUNCTION recommender.create_sample_shop(name, integer, integer, integer) IS
'Creates <target_schema>.products, .customers and .events (schema "shop" by default) and fills them with a deterministic synthetic web shop: 20 categories, Zipf-like popularity, favourite categories, brand loyalty, view/cart/purchase sessions from 2026-05-01 to 2026-10-31 UTC, ~3% cold-start customers, a few trending products and new arrivals. Same arguments give identical data. Fails if those tables already exist. Returns a one-line summary.';
-- END sql/sample_shop.sql
