-- Every object of the extension "recommender" in this database, as normalised text lines (no
-- oids): one line per property, each line starting with the object it describes, so that a
-- `diff` of two databases' outputs names the object and the property that differ. Used by
-- Tests/scenarios/upgrade.sh to check that ALTER EXTENSION ... UPDATE from 0.1.0 gives the same
-- objects as a fresh CREATE EXTENSION of the current version.
--   psql -X -q -tA -d DB -f Tests/scenarios/extension_objects.sql
-- Covers: the extension row (version, schema, config tables with their dump conditions); every
-- member object (pg_depend 'e'); schemas (ACL, comment); tables, views and sequences (kind, ACL,
-- row security, options, persistence, comment); columns (position, type, NOT NULL, default,
-- storage, collation, identity, statistics target, ACL, comment); constraints; indexes;
-- triggers; policies (command, roles, USING, WITH CHECK); sequence parameters; functions
-- (pg_get_functiondef: arguments, result, language, volatility, security, SET options, body),
-- their ACL, owner and comment; types; initial privileges (pg_init_privs, which pg_dump uses);
-- any other member by pg_describe_object.
WITH ext AS (
    SELECT e.oid, e.extname FROM pg_catalog.pg_extension e WHERE e.extname = 'recommender'
), members AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d, ext
     WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), rels AS (
    SELECT c.oid, c.relkind, c.relacl, c.relrowsecurity, c.relforcerowsecurity, c.reloptions, c.relpersistence,
           pg_catalog.format('%s %I.%I', CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'matview'
                                               WHEN 'S' THEN 'sequence' WHEN 'p' THEN 'table' ELSE 'relation' END,
                             n.nspname, c.relname) AS obj
      FROM members m JOIN pg_catalog.pg_class c ON m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = m.objid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
), funcs AS (
    SELECT p.oid, pg_catalog.format('function %I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) AS obj
      FROM members m JOIN pg_catalog.pg_proc p ON m.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND p.oid = m.objid
      JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
), facts(obj, n, line) AS (
    -- the extension itself
    SELECT 'extension', 0, pg_catalog.format('version %s, schema %s, relocatable %s', e.extversion, e.extnamespace::pg_catalog.regnamespace, e.extrelocatable)
      FROM pg_catalog.pg_extension e, ext WHERE e.oid = ext.oid
    UNION ALL
    SELECT 'extension', 1, 'config ' || c.cfg::pg_catalog.regclass::pg_catalog.text || ' condition ' || pg_catalog.quote_literal(COALESCE(c.cond, ''))
      FROM pg_catalog.pg_extension e, ext,
           LATERAL ROWS FROM (pg_catalog.unnest(e.extconfig), pg_catalog.unnest(e.extcondition)) AS c(cfg, cond) WHERE e.oid = ext.oid
    UNION ALL
    -- the list of members
    SELECT 'member', 0, pg_catalog.pg_describe_object(m.classid, m.objid, 0) FROM members m
    UNION ALL
    -- schemas
    SELECT pg_catalog.format('schema %I', s.nspname), 0,
           pg_catalog.format('acl %s comment %s', COALESCE(s.nspacl::pg_catalog.text, '-'),
                             COALESCE(pg_catalog.quote_literal(pg_catalog.obj_description(s.oid, 'pg_namespace')), '-'))
      FROM members m JOIN pg_catalog.pg_namespace s ON m.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND s.oid = m.objid
    UNION ALL
    -- relations
    SELECT r.obj, 0, pg_catalog.format('acl %s; row security %s%s; options %s; persistence %s',
                                       COALESCE(r.relacl::pg_catalog.text, '-'), r.relrowsecurity,
                                       CASE WHEN r.relforcerowsecurity THEN ' (forced)' ELSE '' END,
                                       COALESCE(r.reloptions::pg_catalog.text, '-'), r.relpersistence)
      FROM rels r
    UNION ALL
    SELECT r.obj, 1, 'comment ' || COALESCE(pg_catalog.quote_literal(pg_catalog.obj_description(r.oid, 'pg_class')), '-') FROM rels r
    UNION ALL
    SELECT r.obj, 2, 'columns in order: ' || pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
      FROM rels r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
     GROUP BY r.obj
    UNION ALL
    SELECT r.obj || ' column ' || pg_catalog.quote_ident(a.attname), 0,
           pg_catalog.format('%s%s%s storage %s collation %s%s%s stattarget %s acl %s comment %s',
                             pg_catalog.format_type(a.atttypid, a.atttypmod),
                             CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                             COALESCE(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), ''),
                             a.attstorage, COALESCE(NULLIF(a.attcollation, 0)::pg_catalog.regcollation::pg_catalog.text, '-'),
                             CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::pg_catalog.text ELSE '' END,
                             CASE WHEN a.attgenerated <> '' THEN ' generated ' || a.attgenerated::pg_catalog.text ELSE '' END,
                             a.attstattarget, COALESCE(a.attacl::pg_catalog.text, '-'),
                             COALESCE(pg_catalog.quote_literal(pg_catalog.col_description(r.oid, a.attnum)), '-'))
      FROM rels r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE r.relkind <> 'S'
    UNION ALL
    SELECT r.obj || ' constraint ' || pg_catalog.quote_ident(co.conname), 0, pg_catalog.pg_get_constraintdef(co.oid)
      FROM rels r JOIN pg_catalog.pg_constraint co ON co.conrelid = r.oid
    UNION ALL
    SELECT r.obj || ' index ' || pg_catalog.quote_ident(ic.relname), 0, pg_catalog.pg_get_indexdef(i.indexrelid)
      FROM rels r JOIN pg_catalog.pg_index i ON i.indrelid = r.oid JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    UNION ALL
    SELECT r.obj || ' trigger ' || pg_catalog.quote_ident(t.tgname), 0, pg_catalog.pg_get_triggerdef(t.oid)
      FROM rels r JOIN pg_catalog.pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT r.obj || ' policy ' || pg_catalog.quote_ident(p.polname), 0,
           pg_catalog.format('%s for %s to %s using (%s) with check (%s)',
                             CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END, p.polcmd,
                             (SELECT pg_catalog.string_agg(CASE WHEN x = 0 THEN 'public' ELSE x::pg_catalog.regrole::pg_catalog.text END, ',' ORDER BY 1)
                                FROM pg_catalog.unnest(p.polroles) x),
                             COALESCE(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '-'),
                             COALESCE(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '-'))
      FROM rels r JOIN pg_catalog.pg_policy p ON p.polrelid = r.oid
    UNION ALL
    SELECT r.obj, 3, pg_catalog.format('sequence %s start %s increment %s min %s max %s cache %s cycle %s',
                                       s.seqtypid::pg_catalog.regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
      FROM rels r JOIN pg_catalog.pg_sequence s ON s.seqrelid = r.oid
    UNION ALL
    SELECT r.obj, 4, 'view ' || pg_catalog.pg_get_viewdef(r.oid) FROM rels r WHERE r.relkind IN ('v', 'm')
    UNION ALL
    -- functions: the whole definition, line by line
    SELECT f.obj, 10 + l.n::integer, l.line
      FROM funcs f JOIN pg_catalog.pg_proc p ON p.oid = f.oid,
           LATERAL pg_catalog.regexp_split_to_table(pg_catalog.pg_get_functiondef(f.oid), E'\n') WITH ORDINALITY AS l(line, n)
     WHERE p.prokind <> 'a'
    UNION ALL
    -- aggregates (pg_get_functiondef does not describe them): their support functions and types
    SELECT f.obj, 10, pg_catalog.format('aggregate kind %s sfunc %s stype %s finalfunc %s combinefunc %s initval %s result %s',
                                        a.aggkind, a.aggtransfn::pg_catalog.regprocedure, a.aggtranstype::pg_catalog.regtype,
                                        NULLIF(a.aggfinalfn, 0)::pg_catalog.regprocedure, NULLIF(a.aggcombinefn, 0)::pg_catalog.regprocedure,
                                        COALESCE(a.agginitval, '-'), p.prorettype::pg_catalog.regtype)
      FROM funcs f JOIN pg_catalog.pg_proc p ON p.oid = f.oid JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
    UNION ALL
    SELECT f.obj, 0, pg_catalog.format('owner %s acl %s comment %s', p.proowner::pg_catalog.regrole,
                                       COALESCE(p.proacl::pg_catalog.text, '-'),
                                       COALESCE(pg_catalog.quote_literal(pg_catalog.obj_description(p.oid, 'pg_proc')), '-'))
      FROM funcs f JOIN pg_catalog.pg_proc p ON p.oid = f.oid
    UNION ALL
    -- types (composite types of tables are covered by their tables)
    SELECT 'type ' || t.oid::pg_catalog.regtype::pg_catalog.text, 0,
           pg_catalog.format('type %s category %s base %s acl %s', t.typtype, t.typcategory,
                             COALESCE(NULLIF(t.typbasetype, 0)::pg_catalog.regtype::pg_catalog.text, '-'), COALESCE(t.typacl::pg_catalog.text, '-'))
      FROM members m JOIN pg_catalog.pg_type t ON m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.oid = m.objid
    UNION ALL
    -- the privileges pg_dump takes as the extension's own (GRANTs and REVOKEs of the scripts)
    SELECT 'initial privileges of ' || pg_catalog.pg_describe_object(ip.classoid, ip.objoid, ip.objsubid), 0,
           pg_catalog.format('%s %s', ip.privtype, ip.initprivs::pg_catalog.text)
      FROM pg_catalog.pg_init_privs ip
     WHERE (ip.classoid, ip.objoid) IN (SELECT classid, objid FROM members)
)
SELECT obj || ' | ' || line FROM facts ORDER BY obj COLLATE "C", n, line COLLATE "C";
