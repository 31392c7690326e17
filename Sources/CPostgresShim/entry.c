/*
 * entry.c: the module magic and every SQL-callable function of the extension.
 *
 * Each entry point decodes and checks its arguments, connects SPI, hands the work to Swift
 * (rec_swift_*), and only after every Swift frame has returned re-throws a saved PostgreSQL error
 * or raises the error Swift reported. Results go into a tuplestore (materialised SRF).
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "rec_shim.h"
#include "rec_internal.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(rec_recommend);
PG_FUNCTION_INFO_V1(rec_explain);
PG_FUNCTION_INFO_V1(rec_train);
PG_FUNCTION_INFO_V1(rec_update);
PG_FUNCTION_INFO_V1(rec_similar_items);
PG_FUNCTION_INFO_V1(rec_reset_cache);
PG_FUNCTION_INFO_V1(rec_cache_status);

static void
require_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
    if (PG_ARGISNULL(n))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("%s must not be NULL", name)));
}

/* NULL, or a palloc'd C string of a text argument (the optional model name). */
static char *
model_arg(FunctionCallInfo fcinfo, int n)
{
    if (PG_NARGS() <= n || PG_ARGISNULL(n))
        return NULL;
    return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static void
start_sink(FunctionCallInfo fcinfo, RecSinkData *sink)
{
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

    InitMaterializedSRF(fcinfo, 0);
    sink->store = rsinfo->setResult;
    sink->desc = rsinfo->setDesc;
    sink->cxt = rsinfo->econtext->ecxt_per_query_memory;
}

/* Run one Swift call inside an SPI connection; raise its error, if any, once Swift returned. */
#define RUN_SWIFT(call)                         \
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
rec_recommend(PG_FUNCTION_ARGS)
{
    RecSinkData sink;
    RecRules rules;
    int64 user_id;
    int32 k;
    float8 diversity;
    char *model;

    require_arg(fcinfo, 0, "user_id");
    require_arg(fcinfo, 1, "k");
    require_arg(fcinfo, 2, "diversity");
    user_id = PG_GETARG_INT64(0);
    k = PG_GETARG_INT32(1);
    diversity = PG_GETARG_FLOAT8(2);
    model = model_arg(fcinfo, 3);
    rules.exclude_seen = (PG_NARGS() <= 4 || PG_ARGISNULL(4)) ? true : PG_GETARG_BOOL(4);
    rules.filter = model_arg(fcinfo, 5);
    rules.category = model_arg(fcinfo, 6);
    rules.max_per_category = 0;
    if (PG_NARGS() > 7 && !PG_ARGISNULL(7))
    {
        rules.max_per_category = PG_GETARG_INT32(7);
        if (rules.max_per_category <= 0)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("max_per_category must be positive (got %d)", rules.max_per_category),
                            errhint("Leave it NULL for no cap.")));
    }
    start_sink(fcinfo, &sink);
    RUN_SWIFT(rec_swift_recommend(user_id, k, diversity, model, &rules, (RecSink *) &sink));
    return (Datum) 0;
}

Datum
rec_explain(PG_FUNCTION_ARGS)
{
    RecSinkData sink;
    int64 user_id;
    int64 item_id;
    char *model;

    require_arg(fcinfo, 0, "user_id");
    require_arg(fcinfo, 1, "item_id");
    user_id = PG_GETARG_INT64(0);
    item_id = PG_GETARG_INT64(1);
    model = model_arg(fcinfo, 2);
    start_sink(fcinfo, &sink);
    RUN_SWIFT(rec_swift_explain(user_id, item_id, model, (RecSink *) &sink));
    return (Datum) 0;
}

Datum
rec_similar_items(PG_FUNCTION_ARGS)
{
    RecSinkData sink;
    int64 item_id;
    int32 k;
    float8 diversity;
    char *model;

    require_arg(fcinfo, 0, "item_id");
    require_arg(fcinfo, 1, "k");
    require_arg(fcinfo, 2, "diversity");
    item_id = PG_GETARG_INT64(0);
    k = PG_GETARG_INT32(1);
    diversity = PG_GETARG_FLOAT8(2);
    model = model_arg(fcinfo, 3);
    start_sink(fcinfo, &sink);
    RUN_SWIFT(rec_swift_similar(item_id, k, diversity, model, (RecSink *) &sink));
    return (Datum) 0;
}

Datum
rec_train(PG_FUNCTION_ARGS)
{
    RecSinkData sink;
    char *model;

    require_arg(fcinfo, 0, "model");
    model = model_arg(fcinfo, 0);
    start_sink(fcinfo, &sink);
    RUN_SWIFT(rec_swift_train(model, (RecSink *) &sink));
    return (Datum) 0;
}

Datum
rec_update(PG_FUNCTION_ARGS)
{
    RecSinkData sink;
    char *model;

    require_arg(fcinfo, 0, "model");
    model = model_arg(fcinfo, 0);
    start_sink(fcinfo, &sink);
    RUN_SWIFT(rec_swift_update(model, (RecSink *) &sink));
    return (Datum) 0;
}

Datum
rec_reset_cache(PG_FUNCTION_ARGS)
{
    rec_forget_plans();
    rec_swift_reset_cache();
    PG_RETURN_VOID();
}

Datum
rec_cache_status(PG_FUNCTION_ARGS)
{
    RecSinkData sink;

    start_sink(fcinfo, &sink);
    RUN_SWIFT(rec_swift_cache_status((RecSink *) &sink));
    return (Datum) 0;
}
