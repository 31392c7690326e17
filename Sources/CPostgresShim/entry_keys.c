/*
 * entry_keys.c: the SQL entry points of the text and uuid overloads of recommend(), explain()
 * and similar_items() (the shop's own ids, 0.3.0). They decode the id arguments to C strings (a
 * uuid through uuid_out, so Swift sees its canonical text form) and hand the work to Swift like
 * entry.c's functions, whose argument rules they repeat (NULL ids, k and diversity are errors).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "rec_shim.h"
#include "rec_internal.h"

PG_FUNCTION_INFO_V1(rec_recommend_key);
PG_FUNCTION_INFO_V1(rec_explain_key);
PG_FUNCTION_INFO_V1(rec_similar_items_key);

static void
key_require_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
    if (PG_ARGISNULL(n))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("%s must not be NULL", name)));
}

static char *
key_text_arg(FunctionCallInfo fcinfo, int n)
{
    if (PG_NARGS() <= n || PG_ARGISNULL(n))
        return NULL;
    return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* The id argument n as a C string; *is_uuid tells whether it was declared uuid. The declared
 * type comes from the function's own pg_proc row (fn_oid is always set; the call expression,
 * which get_fn_expr_argtype reads, is not when the function is called from C). */
static char *
key_id_arg(FunctionCallInfo fcinfo, int n, bool *is_uuid)
{
    Oid *argtypes = NULL;
    int nargs = 0;

    get_func_signature(fcinfo->flinfo->fn_oid, &argtypes, &nargs);
    if (n >= nargs)
        elog(ERROR, "recommender: function %u has %d arguments, not %d", fcinfo->flinfo->fn_oid, nargs, n + 1);
    *is_uuid = (argtypes[n] == UUIDOID);
    if (!*is_uuid && argtypes[n] != TEXTOID)
        elog(ERROR, "recommender: argument %d of function %u is neither text nor uuid", n + 1, fcinfo->flinfo->fn_oid);
    if (*is_uuid)
        return DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(n)));
    return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static void
key_start_sink(FunctionCallInfo fcinfo, RecSinkData *sink)
{
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

    InitMaterializedSRF(fcinfo, 0);
    sink->store = rsinfo->setResult;
    sink->desc = rsinfo->setDesc;
    sink->cxt = rsinfo->econtext->ecxt_per_query_memory;
}

#define RUN_SWIFT_KEY(call)                     \
    do {                                        \
        int rc_;                                \
        rec_begin_call();                       \
        if (SPI_connect() != SPI_OK_CONNECT)    \
            elog(ERROR, "recommender: SPI_connect failed"); \
        rc_ = (call);                           \
        rec_finish_call(rc_);                   \
        SPI_finish();                           \
    } while (0)

Datum
rec_recommend_key(PG_FUNCTION_ARGS)
{
    RecSinkData sink;
    RecRules rules;
    char *user_id;
    bool user_uuid;
    int32 k;
    float8 diversity;
    char *model;

    key_require_arg(fcinfo, 0, "user_id");
    key_require_arg(fcinfo, 1, "k");
    key_require_arg(fcinfo, 2, "diversity");
    user_id = key_id_arg(fcinfo, 0, &user_uuid);
    k = PG_GETARG_INT32(1);
    diversity = PG_GETARG_FLOAT8(2);
    model = key_text_arg(fcinfo, 3);
    rules.exclude_seen = (PG_NARGS() <= 4 || PG_ARGISNULL(4)) ? true : PG_GETARG_BOOL(4);
    rules.filter = key_text_arg(fcinfo, 5);
    rules.category = key_text_arg(fcinfo, 6);
    rules.max_per_category = 0;
    if (PG_NARGS() > 7 && !PG_ARGISNULL(7))
    {
        rules.max_per_category = PG_GETARG_INT32(7);
        if (rules.max_per_category <= 0)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("max_per_category must be positive (got %d)", rules.max_per_category),
                            errhint("Leave it NULL for no cap.")));
    }
    key_start_sink(fcinfo, &sink);
    RUN_SWIFT_KEY(rec_swift_recommend_key(user_id, user_uuid, k, diversity, model, &rules, (RecSink *) &sink));
    return (Datum) 0;
}

Datum
rec_explain_key(PG_FUNCTION_ARGS)
{
    RecSinkData sink;
    char *user_id;
    char *item_id;
    bool user_uuid;
    bool item_uuid;
    char *model;

    key_require_arg(fcinfo, 0, "user_id");
    key_require_arg(fcinfo, 1, "item_id");
    user_id = key_id_arg(fcinfo, 0, &user_uuid);
    item_id = key_id_arg(fcinfo, 1, &item_uuid);
    model = key_text_arg(fcinfo, 2);
    key_start_sink(fcinfo, &sink);
    RUN_SWIFT_KEY(rec_swift_explain_key(user_id, user_uuid, item_id, item_uuid, model, (RecSink *) &sink));
    return (Datum) 0;
}

Datum
rec_similar_items_key(PG_FUNCTION_ARGS)
{
    RecSinkData sink;
    char *item_id;
    bool item_uuid;
    int32 k;
    float8 diversity;
    char *model;

    key_require_arg(fcinfo, 0, "item_id");
    key_require_arg(fcinfo, 1, "k");
    key_require_arg(fcinfo, 2, "diversity");
    item_id = key_id_arg(fcinfo, 0, &item_uuid);
    k = PG_GETARG_INT32(1);
    diversity = PG_GETARG_FLOAT8(2);
    model = key_text_arg(fcinfo, 3);
    key_start_sink(fcinfo, &sink);
    RUN_SWIFT_KEY(rec_swift_similar_key(item_id, item_uuid, k, diversity, model, (RecSink *) &sink));
    return (Datum) 0;
}
