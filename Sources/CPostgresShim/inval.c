/*
 * inval.c: a catalog generation counter for the queries a backend caches (issue 8, item 8).
 *
 * The Swift glue caches the SQL that recommender._model_sql() builds for a model (with the
 * relation's current schema and name, and expressions that depend on its column types), and the
 * shim keeps saved SPI plans of it. Both must be rebuilt when a registered relation changes: its
 * columns (ALTER TABLE ... TYPE, RENAME COLUMN), its name (RENAME, SET SCHEMA), its schema's name,
 * or when it is dropped. PostgreSQL announces every such change to every backend as a relcache
 * invalidation of the relation (or a syscache invalidation of pg_namespace); the callbacks below
 * turn those into a counter that Swift compares on every call (no query needed).
 *
 * The relcache callback counts only the relations Swift registered with rec_watch_relation (the
 * registered interactions and items relations of the models this backend uses), so DDL on other
 * tables, temporary tables of other sessions and VACUUM elsewhere do not make the backend rebuild
 * its queries. A reset of the whole relcache (InvalidOid, e.g. after a sinval queue overflow)
 * counts as a change of everything. The callbacks are registered on the first call of any entry
 * point (no _PG_init needed), before this backend has cached anything.
 */
#include "postgres.h"

#include "miscadmin.h"

#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "rec_shim.h"
#include "rec_internal.h"

#define REC_WATCH_MAX 64

static uint64 generation = 1;
static bool callbacks_registered = false;
static Oid watched[REC_WATCH_MAX];
static int nwatched = 0;
static bool watch_all = false;   /* more relations than REC_WATCH_MAX: count every change */

static void
relcache_changed(Datum arg, Oid relid)
{
    int i;

    if (!OidIsValid(relid) || watch_all)
    {
        generation++;
        return;
    }
    for (i = 0; i < nwatched; i++)
    {
        if (watched[i] == relid)
        {
            generation++;
            return;
        }
    }
}

/* A schema was renamed, created or dropped: the cached queries name schemas. Rare; count it. */
static void
namespace_changed(Datum arg, int cacheid, uint32 hashvalue)
{
    generation++;
}

/*
 * A role's membership or attributes (superuser) changed: the trust a backend cached for a
 * registration (Catalog.isTrusted in the glue) may no longer hold. Rare; count it.
 */
static void
roles_changed(Datum arg, int cacheid, uint32 hashvalue)
{
    generation++;
}

void
rec_register_inval_callbacks(void)
{
    if (callbacks_registered)
        return;
    CacheRegisterRelcacheCallback(relcache_changed, (Datum) 0);
    CacheRegisterSyscacheCallback(NAMESPACEOID, namespace_changed, (Datum) 0);
    CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, roles_changed, (Datum) 0);
    CacheRegisterSyscacheCallback(AUTHOID, roles_changed, (Datum) 0);
    callbacks_registered = true;
}

uint32_t
rec_current_user(void)
{
    return (uint32_t) GetUserId();
}

uint64_t
rec_catalog_generation(void)
{
    return generation;
}

void
rec_watch_relation(uint32_t relid)
{
    int i;

    if (relid == InvalidOid || watch_all)
        return;
    for (i = 0; i < nwatched; i++)
        if (watched[i] == (Oid) relid)
            return;
    if (nwatched >= REC_WATCH_MAX)
    {
        watch_all = true;
        return;
    }
    watched[nwatched++] = (Oid) relid;
}
