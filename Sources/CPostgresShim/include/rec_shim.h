/*
 * rec_shim.h: the only interface between Swift and PostgreSQL.
 *
 * Plain C types and opaque handles; nothing of PostgreSQL's headers leaks into Swift. Every
 * function that touches PostgreSQL runs its work inside PG_TRY. When PostgreSQL raises an error,
 * the wrapper copies the error, flushes the error state, marks the call "poisoned" and returns
 * REC_PG_ERROR; from then on every wrapper returns REC_PG_ERROR at once without touching
 * PostgreSQL, Swift unwinds normally, and the C entry point re-throws the saved error after every
 * Swift frame has returned. Swift-side failures are reported with rec_set_error and raised by the
 * entry point with ereport. See DESIGN.md ("The safe pattern").
 */
#ifndef REC_SHIM_H
#define REC_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REC_OK 0
#define REC_PG_ERROR 1      /* a PostgreSQL error was caught and saved; unwind */
#define REC_SWIFT_ERROR 2   /* Swift set an error with rec_set_error; unwind */

/* Argument and column value kinds. */
#define REC_INT8 1
#define REC_FLOAT8 2
#define REC_TEXT 3
#define REC_BYTEA 4
#define REC_BOOL 5
#define REC_INT4 6

typedef struct RecValue {
    int kind;
    bool isnull;
    int64_t i;          /* REC_INT8, REC_INT4, REC_BOOL (0/1) */
    double f;           /* REC_FLOAT8 */
    const void *ptr;    /* REC_TEXT (not NUL-terminated), REC_BYTEA */
    size_t len;         /* bytes at ptr */
} RecValue;

typedef struct RecCursor RecCursor;
typedef struct RecPlan RecPlan;
typedef struct RecSink RecSink;

/* --- errors and interrupts --- */
/* Store an error for the entry point to raise (no PostgreSQL call; strings are copied). */
void rec_set_error(const char *sqlstate, const char *message, const char *hint);
/* A hint to attach to "undefined table / column" errors of the queries that follow (NULL: none). */
void rec_set_pg_error_hint(const char *hint);
/* REC_OK, or REC_PG_ERROR when a cancel/timeout/terminate is pending (the error is saved). */
int rec_check_interrupts(void);
/* Emit a NOTICE (or a DEBUG1 message when debug is true). */
int rec_notice(const char *message, bool debug);

/* --- catalog changes (inval.c) --- */
/* A counter that moves whenever a watched relation, or any schema, changed in the catalogs
 * (relcache / syscache invalidation): cached queries made at an older generation are stale. */
uint64_t rec_catalog_generation(void);
/* Watch a relation (by pg_class oid): its changes move the generation from now on. */
void rec_watch_relation(uint32_t relid);
/* The current user's oid (GetUserId(); no PostgreSQL error possible). */
uint32_t rec_current_user(void);

/* --- queries (inside the entry point's SPI connection) --- */
/* Open a read-only cursor over a query with $1..$n arguments. */
int rec_cursor_open(const char *sql, int nargs, const RecValue *args, RecCursor **out);
/* Fetch the next batch of at most maxrows rows; *got = 0 at the end. Replaces the previous batch. */
int rec_cursor_fetch(RecCursor *cur, int64_t maxrows, int64_t *got);
/* Number of columns of the cursor's result. */
int rec_cursor_ncols(RecCursor *cur);
/* Read a value of the current batch. Columns are 0-based. The expected kind must match the
 * column's type exactly (the queries cast: ::int8, ::float8, ::text, ::bytea, ::bool, ::int4).
 * For REC_TEXT and REC_BYTEA, the bytes are copied into buf (cap bytes); *len is the full length,
 * so a caller whose buffer was too small can call again with a larger one. */
int rec_cursor_value(RecCursor *cur, int64_t row, int col, int kind, RecValue *out, void *buf, size_t cap);
int rec_cursor_close(RecCursor *cur);

/* Run a statement once; *processed receives SPI_processed. */
int rec_exec(const char *sql, int nargs, const RecValue *args, int64_t *processed);
/* Prepare a statement with the given argument kinds, for repeated execution. */
int rec_prepare(const char *sql, int nargs, const int *kinds, RecPlan **out);
int rec_plan_exec(RecPlan *plan, const RecValue *args, int64_t *processed);
int rec_plan_free(RecPlan *plan);

/* --- results of a set-returning entry point --- */
/* Append one row; values must match the result columns in number and kind. */
int rec_sink_row(RecSink *sink, int ncols, const RecValue *values);

/* --- settings and memory (guc.c; no PostgreSQL call) --- */
/* recommender.max_training_memory and recommender.max_cache_memory, in bytes. */
int64_t rec_max_training_memory(void);
int64_t rec_max_cache_memory(void);
/* MemAvailable of /proc/meminfo and this process's VmHWM, in bytes; -1 when unknown. */
int64_t rec_memory_available(void);
int64_t rec_memory_peak(void);
/* recommender.shared_models, recommender.max_shared_model_size (bytes, -1: no limit) and
 * recommender.verify_shared_models; the data directory and MyDatabaseId (no PostgreSQL call). */
bool rec_shared_models(void);
int64_t rec_max_shared_model_size(void);
bool rec_verify_shared_models(void);
const char *rec_data_directory(void);
/* recommender.partial_training (true: auto) and recommender.max_partial_size (bytes). */
bool rec_partial_training(void);
int64_t rec_max_partial_size(void);
int rec_training_threads(void);
uint32_t rec_database_id(void);

/* --- the Swift side (implemented with @_cdecl in RecommenderGlue) --- */
/* The shop's rules for one recommend() call. */
typedef struct RecRules {
    bool exclude_seen;
    const char *filter;          /* a named filter or a boolean column of the items table; NULL: none */
    const char *category;        /* only items of this category; NULL: any */
    int32_t max_per_category;    /* 0: no cap */
} RecRules;
int rec_swift_recommend(int64_t user_id, int32_t k, double diversity, const char *model, const RecRules *rules, RecSink *sink);
int rec_swift_explain(int64_t user_id, int64_t item_id, const char *model, RecSink *sink);
int rec_swift_train(const char *model, RecSink *sink);
int rec_swift_update(const char *model, RecSink *sink);
int rec_swift_similar(int64_t item_id, int32_t k, double diversity, const char *model, RecSink *sink);
/* The text and uuid overloads (the shop's own ids, 0.3.0): ids as C strings (a uuid in its
 * canonical text form), *_uuid true when the SQL argument was a uuid. */
int rec_swift_recommend_key(const char *user_id, bool user_uuid, int32_t k, double diversity, const char *model,
                            const RecRules *rules, RecSink *sink);
int rec_swift_explain_key(const char *user_id, bool user_uuid, const char *item_id, bool item_uuid, const char *model,
                          RecSink *sink);
int rec_swift_similar_key(const char *item_id, bool item_uuid, int32_t k, double diversity, const char *model, RecSink *sink);
/* Training from partial results (partial.c, Sources/RecommenderGlue/PartialTraining.swift): one
 * row the aggregate recommender.partial_gram() collected on a shard. */
typedef struct RecPartialRow {
    int64_t user;
    int64_t item;
    double weight;      /* NULL weights are 0 */
    double time;        /* epoch seconds; meaningless when has_time is false */
    bool has_time;
} RecPartialRow;
/* A shard's partial result over its rows: *out receives malloc'd bytes (the caller frees them).
 * sequence_half_life > 0 (positions) adds the sequential component's pairs; 0: without. */
int rec_swift_partial_gram(const RecPartialRow *rows, int64_t count, int32_t weighting, double power,
                           double row_norm, double half_life, double sequence_half_life, void **out, int64_t *out_len);
/* A partial result described as JSON text (malloc'd into *out), after the same checks train() makes. */
int rec_swift_partial_gram_info(const void *bytes, int64_t len, char **out);
/* Drop every cached model of this backend (after DROP EXTENSION, for tests). */
void rec_swift_reset_cache(void);
/* The models this backend has cached: model, version, items, bytes (most recently used first). */
int rec_swift_cache_status(RecSink *sink);

#endif
