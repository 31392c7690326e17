/*
 * partial.c: training from partial results (issue 10), the shard's side.
 *
 *   recommender.partial_gram(user_id bigint, item_id bigint, weight float8, event_time anyelement,
 *                            weighting integer, weight_power float8, row_norm float8,
 *                            half_life_seconds float8, sequence_half_life float8) -> bytea
 *
 * (weighting: 0 binary, 1 sum, 2 log, 3 power: an integer, because a text argument would give the
 * aggregate an input collation that postgres_fdw does not ship; sequence_half_life, in positions,
 * asks for the sequential component's SᵀS and SᵀT as well: 0 or NULL for none)
 *
 * an aggregate over a shard's rows whose result is its users' part of what training needs (the
 * format: Sources/RecommenderCore/PartialGram.swift). The transition function only collects the
 * rows (40 bytes each, in the aggregate's memory context, bounded by
 * recommender.max_training_memory); the final function hands them to Swift once, which builds
 * the shard's user-item matrix, its sparse Gram pairs and popularity sums, and encodes them.
 * event_time is a timestamptz, timestamp, date or float8 (NULL::float8 without a time column):
 * converted here as date_part('epoch', ...) does, because date_part of a timestamptz is STABLE
 * and would keep postgres_fdw from shipping the aggregate to the shard.
 *
 *   recommender.partial_gram_info(bytea) -> jsonb   (checks a partial result and describes it)
 *   recommender.partial_gram_base64(bytea) -> text  (a partial result as base64, what train() asks
 *       a shard for: postgres_fdw fetches results as text, where a bytea is hex, twice its size;
 *       pg_catalog.encode(..., 'base64') is not shipped: its text argument gives it an input
 *       collation)
 */
#include "postgres.h"

#include <math.h>
#include <stdlib.h>

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "rec_shim.h"
#include "rec_internal.h"

PG_FUNCTION_INFO_V1(rec_partial_gram_step);
PG_FUNCTION_INFO_V1(rec_partial_gram_final);
PG_FUNCTION_INFO_V1(rec_partial_gram_info);
PG_FUNCTION_INFO_V1(rec_partial_gram_base64);

typedef struct PartialState
{
    RecPartialRow *rows;
    int64 count;
    int64 cap;
    int32 weighting;
    double power;
    double row_norm;
    double half_life;
    double sequence_half_life;
} PartialState;

static double
epoch_of_timestamp(Timestamp ts)
{
    Timestamp epoch = SetEpochTimestamp();

    if (TIMESTAMP_IS_NOBEGIN(ts))
        return -INFINITY;
    if (TIMESTAMP_IS_NOEND(ts))
        return INFINITY;
    /* as date_part('epoch', ...): avoid precision loss in the subtraction */
    if (ts < (PG_INT64_MAX + epoch))
        return (ts - epoch) / 1000000.0;
    return ((float8) ts - epoch) / 1000000.0;
}

static void
require_param(FunctionCallInfo fcinfo, int n, const char *name)
{
    if (PG_ARGISNULL(n))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("recommender.partial_gram: %s must not be NULL", name)));
}

Datum
rec_partial_gram_step(PG_FUNCTION_ARGS)
{
    MemoryContext aggcxt;
    PartialState *st;
    RecPartialRow *r;

    if (!AggCheckCallContext(fcinfo, &aggcxt))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("recommender._partial_gram_step can only be called by the aggregate recommender.partial_gram")));
    st = PG_ARGISNULL(0) ? NULL : (PartialState *) PG_GETARG_POINTER(0);
    if (st == NULL)
    {
        require_param(fcinfo, 5, "weighting");
        require_param(fcinfo, 6, "weight_power");
        require_param(fcinfo, 7, "row_norm");
        require_param(fcinfo, 8, "half_life_seconds");
        st = (PartialState *) MemoryContextAllocZero(aggcxt, sizeof(PartialState));
        st->cap = 1024;
        st->rows = (RecPartialRow *) MemoryContextAllocHuge(aggcxt, st->cap * sizeof(RecPartialRow));
        st->weighting = PG_GETARG_INT32(5);
        st->power = PG_GETARG_FLOAT8(6);
        st->row_norm = PG_GETARG_FLOAT8(7);
        st->half_life = PG_GETARG_FLOAT8(8);
        st->sequence_half_life = PG_ARGISNULL(9) ? 0 : PG_GETARG_FLOAT8(9);
    }
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("the interactions have a NULL %s id (recommender.partial_gram on this server)",
                               PG_ARGISNULL(1) ? "user" : "item"),
                        errhint("Remove or fix the rows with NULL ids, or register a view that filters them.")));
    if (st->count == st->cap)
    {
        int64 cap = st->cap * 2;

        if ((double) cap * sizeof(RecPartialRow) > (double) rec_max_training_memory())
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("recommender.partial_gram: more than %lld rows need more memory than recommender.max_training_memory",
                                   (long long) st->count),
                            errhint("Raise recommender.max_training_memory on this server, or SET recommender.partial_training = off on the coordinator.")));
        st->rows = (RecPartialRow *) repalloc_huge(st->rows, cap * sizeof(RecPartialRow));
        st->cap = cap;
    }
    r = &st->rows[st->count];
    r->user = PG_GETARG_INT64(1);
    r->item = PG_GETARG_INT64(2);
    r->weight = PG_ARGISNULL(3) ? 0 : PG_GETARG_FLOAT8(3);
    r->has_time = !PG_ARGISNULL(4);
    r->time = 0;
    if (r->has_time)
    {
        Oid t = get_fn_expr_argtype(fcinfo->flinfo, 4);

        if (t == TIMESTAMPTZOID || t == TIMESTAMPOID)
            r->time = epoch_of_timestamp(PG_GETARG_TIMESTAMP(4));
        else if (t == DATEOID)
        {
            DateADT d = PG_GETARG_DATEADT(4);

            if (DATE_IS_NOBEGIN(d))
                r->time = -INFINITY;
            else if (DATE_IS_NOEND(d))
                r->time = INFINITY;
            else
                r->time = ((double) d + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)) * 86400.0;
        }
        else if (t == FLOAT8OID)
            r->time = PG_GETARG_FLOAT8(4);
        else
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                            errmsg("recommender.partial_gram: event_time must be timestamptz, timestamp, date or float8, not %s",
                                   format_type_be(t))));
    }
    st->count++;
    PG_RETURN_POINTER(st);
}

Datum
rec_partial_gram_final(PG_FUNCTION_ARGS)
{
    PartialState *st;
    void *out = NULL;
    int64_t len = 0;
    int rc;
    bytea *result;
    RecCallState call;

    if (!AggCheckCallContext(fcinfo, NULL))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("recommender._partial_gram_final can only be called by the aggregate recommender.partial_gram")));
    st = PG_ARGISNULL(0) ? NULL : (PartialState *) PG_GETARG_POINTER(0);
    if (st == NULL)
        PG_RETURN_NULL();       /* no rows: the coordinator counts it as an empty part */
    /* train() may be running this over a local partition: an inner call (shim.c) */
    rec_begin_inner_call(&call);
    rc = rec_swift_partial_gram(st->rows, st->count, st->weighting, st->power, st->row_norm, st->half_life,
                                st->sequence_half_life, &out, &len);
    rec_finish_inner_call(rc, &call);   /* raises Swift's error, if any */
    if (out == NULL || len < 0 || (Size) len + VARHDRSZ > MaxAllocSize)
    {
        free(out);
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("recommender.partial_gram: the partial result (%lld bytes) is too large for a bytea", (long long) len)));
    }
    result = (bytea *) palloc_extended(len + VARHDRSZ, MCXT_ALLOC_NO_OOM);
    if (result == NULL)
    {
        free(out);
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY),
                        errmsg("recommender.partial_gram: out of memory for a partial result of %lld bytes", (long long) len)));
    }
    SET_VARSIZE(result, len + VARHDRSZ);
    memcpy(VARDATA(result), out, len);
    free(out);
    PG_RETURN_BYTEA_P(result);
}

Datum
rec_partial_gram_info(PG_FUNCTION_ARGS)
{
    bytea *b;
    char *out = NULL;
    char *json;
    int rc;
    RecCallState call;

    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    b = PG_GETARG_BYTEA_PP(0);
    rec_begin_inner_call(&call);
    rc = rec_swift_partial_gram_info(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), &out);
    rec_finish_inner_call(rc, &call);
    if (out == NULL)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("recommender.partial_gram_info: no result")));
    json = pstrdup(out);
    free(out);
    PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

Datum
rec_partial_gram_base64(PG_FUNCTION_ARGS)
{
    bytea *b = PG_GETARG_BYTEA_PP(0);
    int64 len = VARSIZE_ANY_EXHDR(b);
    int64 enc = (len + 2) / 3 * 4;
    text *out;
    int n;

    if (enc + VARHDRSZ > (int64) MaxAllocSize)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("recommender.partial_gram_base64: a partial result of %lld bytes is too large to send as base64 text (%lld bytes, at most 1GB)",
                               (long long) len, (long long) enc),
                        errhint("Lower recommender.max_partial_size on the shard to fail earlier, or SET recommender.partial_training = off on the coordinator.")));
    out = (text *) palloc(enc + VARHDRSZ);
    n = pg_b64_encode(VARDATA_ANY(b), (int) len, VARDATA(out), (int) enc);
    if (n < 0 || n > enc)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("recommender.partial_gram_base64: encoding failed")));
    SET_VARSIZE(out, n + VARHDRSZ);
    PG_RETURN_TEXT_P(out);
}
