/*
 * shim.c: every PostgreSQL call the Swift code needs, each one guarded so that no PostgreSQL error
 * (a longjmp) ever crosses a Swift frame. See rec_shim.h for the contract.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "rec_shim.h"
#include "rec_internal.h"

/* The error saved by the last failing wrapper, in rec_error_cxt; NULL when none. */
static ErrorData *saved_error = NULL;
static MemoryContext rec_error_cxt = NULL;
static bool poisoned = false;

/* An error reported by Swift (malloc'd strings: no PostgreSQL memory involved). */
static char swift_sqlstate[6];
static char *swift_message = NULL;
static char *swift_hint = NULL;
static bool swift_error = false;

/* A hint added to "undefined table/column" errors raised by queries on the shop's own tables. */
static char *pg_error_hint = NULL;

struct RecCursor {
    Portal portal;
    SPITupleTable *tuptable;
    uint64 ntuples;
};

struct RecPlan {
    SPIPlanPtr plan;
    int nargs;
    Oid *types;
};

static void
catch_error(MemoryContext oldcxt)
{
    MemoryContextSwitchTo(rec_error_cxt ? rec_error_cxt : oldcxt);
    saved_error = CopyErrorData();
    FlushErrorState();
    if (saved_error->hint == NULL && pg_error_hint != NULL &&
        (saved_error->sqlerrcode == ERRCODE_UNDEFINED_TABLE ||
         saved_error->sqlerrcode == ERRCODE_UNDEFINED_COLUMN ||
         saved_error->sqlerrcode == ERRCODE_DATATYPE_MISMATCH ||
         saved_error->sqlerrcode == ERRCODE_UNDEFINED_FUNCTION))
        saved_error->hint = pstrdup(pg_error_hint);
    MemoryContextSwitchTo(oldcxt);
    poisoned = true;
}

#define GUARDED_BEGIN                                   \
    MemoryContext oldcxt = CurrentMemoryContext;        \
    volatile int rc = REC_OK;                           \
    if (poisoned)                                       \
        return REC_PG_ERROR;                            \
    PG_TRY();                                           \
    {

#define GUARDED_END                                     \
    }                                                   \
    PG_CATCH();                                         \
    {                                                   \
        catch_error(oldcxt);                            \
        rc = REC_PG_ERROR;                              \
    }                                                   \
    PG_END_TRY();                                       \
    return rc;

void
rec_begin_call(void)
{
    saved_error = NULL;
    poisoned = false;
    swift_error = false;
    rec_error_cxt = CurrentMemoryContext;
    rec_set_pg_error_hint(NULL);
    rec_register_inval_callbacks();
    rec_forget_stale_plans();
}

/*
 * A Swift call that may run inside another one: the aggregate recommender.partial_gram's final
 * function runs Swift, and train() runs that aggregate over a local partition from Swift (through
 * a cursor). The outer call is then inside PostgreSQL code, so it is neither poisoned nor holding
 * an error; what the inner call must not clobber is where errors are copied to and the outer
 * hint. The inner call uses no cursors or plans, so it leaves the plan cache alone.
 */
void
rec_begin_inner_call(RecCallState *state)
{
    state->error_cxt = rec_error_cxt;
    state->hint = pg_error_hint;
    pg_error_hint = NULL;
    rec_error_cxt = CurrentMemoryContext;
}

void
rec_finish_inner_call(int rc, RecCallState *state)
{
    rec_error_cxt = state->error_cxt;
    free(pg_error_hint);
    pg_error_hint = state->hint;
    rec_finish_call(rc);        /* raises the inner call's error, if any */
}

void
rec_finish_call(int rc)
{
    if (rc == REC_OK && !poisoned && !swift_error)
        return;
    if (saved_error != NULL)
    {
        ErrorData *e = saved_error;

        saved_error = NULL;
        poisoned = false;
        ReThrowError(e);
    }
    if (swift_error)
    {
        char *msg = pstrdup(swift_message ? swift_message : "recommender: unknown error");
        char *hint = swift_hint ? pstrdup(swift_hint) : NULL;
        int code = MAKE_SQLSTATE(swift_sqlstate[0], swift_sqlstate[1], swift_sqlstate[2],
                                 swift_sqlstate[3], swift_sqlstate[4]);

        free(swift_message);
        free(swift_hint);
        swift_message = swift_hint = NULL;
        swift_error = false;
        if (hint)
            ereport(ERROR, (errcode(code), errmsg("%s", msg), errhint("%s", hint)));
        ereport(ERROR, (errcode(code), errmsg("%s", msg)));
    }
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("recommender: the Swift core failed without saying why (code %d)", rc)));
}

void
rec_set_pg_error_hint(const char *hint)
{
    free(pg_error_hint);
    pg_error_hint = hint ? strdup(hint) : NULL;
}

void
rec_set_error(const char *sqlstate, const char *message, const char *hint)
{
    int i;

    for (i = 0; i < 5; i++)
    {
        char c = (sqlstate && sqlstate[i]) ? sqlstate[i] : '0';

        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')))
            c = '0';
        swift_sqlstate[i] = c;
        if (!(sqlstate && sqlstate[i]))
            break;
    }
    for (; i < 5; i++)
        swift_sqlstate[i] = '0';
    if (strncmp(swift_sqlstate, "00000", 5) == 0)
        memcpy(swift_sqlstate, "XX000", 5);
    swift_sqlstate[5] = '\0';
    free(swift_message);
    free(swift_hint);
    swift_message = message ? strdup(message) : NULL;
    swift_hint = hint ? strdup(hint) : NULL;
    swift_error = true;
}

int
rec_check_interrupts(void)
{
    if (poisoned)
        return REC_PG_ERROR;
    if (!INTERRUPTS_PENDING_CONDITION())
        return REC_OK;
    {
        GUARDED_BEGIN
        CHECK_FOR_INTERRUPTS();
        GUARDED_END
    }
}

int
rec_notice(const char *message, bool debug)
{
    GUARDED_BEGIN
    ereport(debug ? DEBUG1 : NOTICE, (errmsg("%s", message)));
    GUARDED_END
}

static Oid
kind_type(int kind)
{
    switch (kind)
    {
        case REC_INT8: return INT8OID;
        case REC_INT4: return INT4OID;
        case REC_FLOAT8: return FLOAT8OID;
        case REC_TEXT: return TEXTOID;
        case REC_BYTEA: return BYTEAOID;
        case REC_BOOL: return BOOLOID;
        default: return InvalidOid;
    }
}

/* Build a Datum from a RecValue (may palloc: call inside PG_TRY). */
static Datum
value_datum(const RecValue *v)
{
    switch (v->kind)
    {
        case REC_INT8: return Int64GetDatum(v->i);
        case REC_INT4: return Int32GetDatum((int32) v->i);
        case REC_FLOAT8: return Float8GetDatum(v->f);
        case REC_BOOL: return BoolGetDatum(v->i != 0);
        case REC_TEXT: return PointerGetDatum(cstring_to_text_with_len(v->ptr ? v->ptr : "", (int) v->len));
        case REC_BYTEA:
            {
                bytea *b;

                if (v->len > MaxAllocSize - VARHDRSZ)
                    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                                    errmsg("recommender: value of %zu bytes is too large", v->len)));
                b = (bytea *) palloc(v->len + VARHDRSZ);
                SET_VARSIZE(b, v->len + VARHDRSZ);
                if (v->len > 0)
                    memcpy(VARDATA(b), v->ptr, v->len);
                return PointerGetDatum(b);
            }
        default:
            elog(ERROR, "recommender: unknown value kind %d", v->kind);
    }
    return (Datum) 0;
}

static void
build_args(int nargs, const RecValue *args, Oid **types, Datum **values, char **nulls)
{
    int i;

    *types = palloc0(sizeof(Oid) * Max(nargs, 1));
    *values = palloc0(sizeof(Datum) * Max(nargs, 1));
    *nulls = palloc0(Max(nargs, 1) + 1);
    for (i = 0; i < nargs; i++)
    {
        (*types)[i] = kind_type(args[i].kind);
        if ((*types)[i] == InvalidOid)
            elog(ERROR, "recommender: unknown argument kind %d", args[i].kind);
        (*nulls)[i] = args[i].isnull ? 'n' : ' ';
        (*values)[i] = args[i].isnull ? (Datum) 0 : value_datum(&args[i]);
    }
}

/*
 * Saved plans of the read-only queries, keyed by their text and argument types: recommend()
 * runs the same few queries on every call, so parsing and planning them once per backend saves
 * most of their cost. PostgreSQL's plan cache replans them after DDL, a search_path change or a
 * change of role that matters for row security, and permissions are checked at every execution.
 */
#define REC_PLAN_CACHE_SIZE 64
#define REC_PLAN_MAX_ARGS 8
typedef struct SavedPlan {
    char *sql;
    int nargs;
    Oid types[REC_PLAN_MAX_ARGS];
    SPIPlanPtr plan;
    uint64 last_used;
} SavedPlan;
static SavedPlan saved_plans[REC_PLAN_CACHE_SIZE];
static uint64 plan_clock = 0;
/* The catalog generation (inval.c) the saved plans were made in: when a registered relation
 * changed, the plans made from the old queries are freed at the start of the next call. */
static uint64 plans_generation = 0;

static SPIPlanPtr
saved_plan(const char *sql, int nargs, const Oid *types)
{
    int i, free_slot = -1, oldest = 0;
    SPIPlanPtr plan;

    if (nargs > REC_PLAN_MAX_ARGS)
        return NULL;
    for (i = 0; i < REC_PLAN_CACHE_SIZE; i++)
    {
        SavedPlan *p = &saved_plans[i];

        if (p->sql == NULL)
        {
            if (free_slot < 0)
                free_slot = i;
            continue;
        }
        if (p->nargs == nargs && memcmp(p->types, types, sizeof(Oid) * nargs) == 0 && strcmp(p->sql, sql) == 0)
        {
            p->last_used = ++plan_clock;
            return p->plan;
        }
        if (p->last_used < saved_plans[oldest].last_used)
            oldest = i;
    }
    plan = SPI_prepare(sql, nargs, (Oid *) types);
    if (plan == NULL)
        elog(ERROR, "recommender: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    if (SPI_keepplan(plan) != 0)
        elog(ERROR, "recommender: SPI_keepplan failed");
    if (free_slot < 0)
    {
        free_slot = oldest;
        SPI_freeplan(saved_plans[free_slot].plan);
        pfree(saved_plans[free_slot].sql);
        saved_plans[free_slot].sql = NULL;
    }
    saved_plans[free_slot].sql = MemoryContextStrdup(TopMemoryContext, sql);
    saved_plans[free_slot].nargs = nargs;
    memset(saved_plans[free_slot].types, 0, sizeof(saved_plans[free_slot].types));
    memcpy(saved_plans[free_slot].types, types, sizeof(Oid) * nargs);
    saved_plans[free_slot].plan = plan;
    saved_plans[free_slot].last_used = ++plan_clock;
    return plan;
}

void
rec_forget_plans(void)
{
    int i;

    for (i = 0; i < REC_PLAN_CACHE_SIZE; i++)
    {
        if (saved_plans[i].sql != NULL)
        {
            SPI_freeplan(saved_plans[i].plan);
            pfree(saved_plans[i].sql);
            saved_plans[i].sql = NULL;
        }
    }
}

/* Frees the saved plans when a registered relation changed since they were made (inval.c). */
void
rec_forget_stale_plans(void)
{
    if (plans_generation == rec_catalog_generation())
        return;
    rec_forget_plans();
    plans_generation = rec_catalog_generation();
}

int
rec_cursor_open(const char *sql, int nargs, const RecValue *args, RecCursor **out)
{
    GUARDED_BEGIN
    Oid *types;
    Datum *values;
    char *nulls;
    RecCursor *cur;
    SPIPlanPtr plan;

    *out = NULL;
    build_args(nargs, args, &types, &values, &nulls);
    cur = palloc0(sizeof(RecCursor));
    plan = saved_plan(sql, nargs, types);
    if (plan != NULL)
        cur->portal = SPI_cursor_open(NULL, plan, values, nulls, true);
    else
        cur->portal = SPI_cursor_open_with_args(NULL, sql, nargs, types, values, nulls, true, 0);
    *out = cur;
    GUARDED_END
}

int
rec_cursor_fetch(RecCursor *cur, int64_t maxrows, int64_t *got)
{
    GUARDED_BEGIN
    *got = 0;
    if (cur == NULL || cur->portal == NULL)
        elog(ERROR, "recommender: fetch from a closed cursor");
    if (cur->tuptable)
    {
        SPI_freetuptable(cur->tuptable);
        cur->tuptable = NULL;
        cur->ntuples = 0;
    }
    SPI_cursor_fetch(cur->portal, true, maxrows > 0 ? maxrows : 1000);
    cur->tuptable = SPI_tuptable;
    cur->ntuples = SPI_processed;
    *got = (int64_t) SPI_processed;
    GUARDED_END
}

int
rec_cursor_ncols(RecCursor *cur)
{
    if (cur == NULL || cur->tuptable == NULL)
        return 0;
    return cur->tuptable->tupdesc->natts;
}

int
rec_cursor_value(RecCursor *cur, int64_t row, int col, int kind, RecValue *out, void *buf, size_t cap)
{
    GUARDED_BEGIN
    TupleDesc desc;
    Oid type;
    bool isnull;
    Datum d;

    if (cur == NULL || cur->tuptable == NULL || row < 0 || (uint64) row >= cur->ntuples)
        elog(ERROR, "recommender: row %lld out of range", (long long) row);
    desc = cur->tuptable->tupdesc;
    if (col < 0 || col >= desc->natts)
        elog(ERROR, "recommender: column %d out of range", col);
    type = TupleDescAttr(desc, col)->atttypid;
    if (type != kind_type(kind))
        elog(ERROR, "recommender: column %d has type %u, expected %u", col, type, kind_type(kind));
    d = SPI_getbinval(cur->tuptable->vals[row], desc, col + 1, &isnull);
    out->kind = kind;
    out->isnull = isnull;
    out->i = 0;
    out->f = 0;
    out->ptr = NULL;
    out->len = 0;
    if (!isnull)
    {
        switch (kind)
        {
            case REC_INT8: out->i = DatumGetInt64(d); break;
            case REC_INT4: out->i = DatumGetInt32(d); break;
            case REC_BOOL: out->i = DatumGetBool(d) ? 1 : 0; break;
            case REC_FLOAT8: out->f = DatumGetFloat8(d); break;
            case REC_TEXT:
            case REC_BYTEA:
                {
                    struct varlena *orig = (struct varlena *) DatumGetPointer(d);
                    struct varlena *v = pg_detoast_datum_packed(orig);
                    size_t len = VARSIZE_ANY_EXHDR(v);

                    out->len = len;
                    if (buf != NULL && cap > 0)
                        memcpy(buf, VARDATA_ANY(v), Min(len, cap));
                    out->ptr = buf;
                    if (v != orig)
                        pfree(v);
                    break;
                }
            default:
                elog(ERROR, "recommender: unknown value kind %d", kind);
        }
    }
    GUARDED_END
}

int
rec_cursor_close(RecCursor *cur)
{
    GUARDED_BEGIN
    if (cur != NULL)
    {
        if (cur->tuptable)
            SPI_freetuptable(cur->tuptable);
        cur->tuptable = NULL;
        if (cur->portal)
            SPI_cursor_close(cur->portal);
        cur->portal = NULL;
        pfree(cur);
    }
    GUARDED_END
}

int
rec_exec(const char *sql, int nargs, const RecValue *args, int64_t *processed)
{
    GUARDED_BEGIN
    Oid *types;
    Datum *values;
    char *nulls;
    int ret;

    *processed = 0;
    build_args(nargs, args, &types, &values, &nulls);
    ret = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
    if (ret < 0)
        elog(ERROR, "recommender: SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
    *processed = (int64_t) SPI_processed;
    if (SPI_tuptable)
        SPI_freetuptable(SPI_tuptable);
    GUARDED_END
}

int
rec_prepare(const char *sql, int nargs, const int *kinds, RecPlan **out)
{
    GUARDED_BEGIN
    RecPlan *p = palloc0(sizeof(RecPlan));
    int i;

    *out = NULL;
    p->nargs = nargs;
    p->types = palloc0(sizeof(Oid) * Max(nargs, 1));
    for (i = 0; i < nargs; i++)
        p->types[i] = kind_type(kinds[i]);
    p->plan = SPI_prepare(sql, nargs, p->types);
    if (p->plan == NULL)
        elog(ERROR, "recommender: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    *out = p;
    GUARDED_END
}

int
rec_plan_exec(RecPlan *plan, const RecValue *args, int64_t *processed)
{
    GUARDED_BEGIN
    Datum *values;
    char *nulls;
    int i, ret;
    MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "recommender plan args", ALLOCSET_DEFAULT_SIZES);
    MemoryContext prev = MemoryContextSwitchTo(tmp);

    *processed = 0;
    values = palloc0(sizeof(Datum) * Max(plan->nargs, 1));
    nulls = palloc0(Max(plan->nargs, 1) + 1);
    for (i = 0; i < plan->nargs; i++)
    {
        if (kind_type(args[i].kind) != plan->types[i])
            elog(ERROR, "recommender: argument %d has the wrong kind", i + 1);
        nulls[i] = args[i].isnull ? 'n' : ' ';
        values[i] = args[i].isnull ? (Datum) 0 : value_datum(&args[i]);
    }
    MemoryContextSwitchTo(prev);
    ret = SPI_execute_plan(plan->plan, values, nulls, false, 0);
    if (ret < 0)
        elog(ERROR, "recommender: SPI_execute_plan failed: %s", SPI_result_code_string(ret));
    *processed = (int64_t) SPI_processed;
    if (SPI_tuptable)
        SPI_freetuptable(SPI_tuptable);
    MemoryContextDelete(tmp);
    GUARDED_END
}

int
rec_plan_free(RecPlan *plan)
{
    GUARDED_BEGIN
    if (plan != NULL)
    {
        if (plan->plan)
            SPI_freeplan(plan->plan);
        pfree(plan->types);
        pfree(plan);
    }
    GUARDED_END
}

int
rec_sink_row(RecSink *sink, int ncols, const RecValue *values)
{
    GUARDED_BEGIN
    RecSinkData *s = (RecSinkData *) sink;
    Datum *d;
    bool *n;
    int i;
    MemoryContext prev;

    if (s == NULL || ncols != s->desc->natts)
        elog(ERROR, "recommender: result row has %d columns, expected %d", ncols, s ? s->desc->natts : -1);
    prev = MemoryContextSwitchTo(s->cxt);
    d = palloc0(sizeof(Datum) * ncols);
    n = palloc0(sizeof(bool) * ncols);
    for (i = 0; i < ncols; i++)
    {
        Oid want = TupleDescAttr(s->desc, i)->atttypid;

        n[i] = values[i].isnull;
        if (values[i].isnull)
            continue;
        if (kind_type(values[i].kind) != want)
            elog(ERROR, "recommender: result column %d has type %u, got kind %d", i + 1, want, values[i].kind);
        d[i] = value_datum(&values[i]);
    }
    tuplestore_putvalues(s->store, s->desc, d, n);
    MemoryContextSwitchTo(prev);
    GUARDED_END
}
