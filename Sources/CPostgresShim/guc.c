/*
 * guc.c: the extension's settings (GUCs), registered when the library is loaded, and the
 * memory figures Swift checks its allocations against.
 *
 *   recommender.max_training_memory  the peak a train() or update() may use (default 4GB)
 *   recommender.max_cache_memory     the models one backend may keep loaded (default 1GB)
 *
 *   recommender.shared_models        serve models from a read-only image file mapped by every
 *                                    backend (default on; see SharedModels.swift)
 *   recommender.max_shared_model_size  the largest image written (default -1: no limit)
 *   recommender.verify_shared_models whether every backend checks the checksums of a whole image
 *                                    when it maps it (default off)
 *
 *   recommender.partial_training     train() from the shards' partial results when the registered
 *                                    table is partitioned over servers that can compute them (auto,
 *                                    default), or always by reading rows (off). PGC_USERSET: either
 *                                    way the same model is trained.
 *   recommender.max_partial_size     the largest partial result recommender.partial_gram() makes
 *                                    on this server (default 512MB)
 *   recommender.training_threads     threads one train() or update() may use for its solve (the
 *                                    dense kind's blocked inverse, the sparse kind's inverse factor
 *                                    and rows of B); 0 (default): the server's cores, at most 8
 *
 * All others are PGC_SUSET: a limit that any role could raise for itself would protect nothing; a
 * superuser sets them in postgresql.conf, per role or per database (ALTER ROLE ... SET), or per
 * session (SET).
 */
#include "postgres.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "rec_shim.h"

void _PG_init(void);

static int max_training_memory_kb = 4 * 1024 * 1024;   /* 4GB */
static int max_cache_memory_kb = 1024 * 1024;          /* 1GB */
static bool shared_models = true;
static int max_shared_model_size_kb = -1;              /* no limit */
static bool verify_shared_models = false;
static int partial_training = 1;                        /* 0 off, 1 auto */
static int max_partial_size_kb = 512 * 1024;            /* 512MB */
static int training_threads = 0;                        /* 0: the cores, at most 8 */

static const struct config_enum_entry partial_training_options[] = {
    {"auto", 1, false},
    {"off", 0, false},
    {"on", 1, true},
    {"false", 0, true},
    {NULL, 0, false}
};

void
_PG_init(void)
{
    DefineCustomIntVariable("recommender.max_training_memory",
                            "The most memory one recommender.train() or recommender.update() may use.",
                            "Checked before the Gram matrix and the model are allocated; a training that would need more fails with SQLSTATE 54000.",
                            &max_training_memory_kb,
                            4 * 1024 * 1024, 1024, INT_MAX,
                            PGC_SUSET, GUC_UNIT_KB,
                            NULL, NULL, NULL);
    DefineCustomIntVariable("recommender.max_cache_memory",
                            "The most memory the models one backend keeps loaded may use.",
                            "Least recently used models are evicted to stay under it; a single model larger than it is refused with SQLSTATE 54000.",
                            &max_cache_memory_kb,
                            1024 * 1024, 1024, INT_MAX,
                            PGC_SUSET, GUC_UNIT_KB,
                            NULL, NULL, NULL);
    DefineCustomBoolVariable("recommender.shared_models",
                             "Serve each model from one read-only image file that every backend maps.",
                             "The image is built from the catalog tables under the data directory (pg_recommender/) on first use; off, or when it cannot be written, each backend loads a private copy bounded by recommender.max_cache_memory.",
                             &shared_models,
                             true,
                             PGC_SUSET, 0,
                             NULL, NULL, NULL);
    DefineCustomIntVariable("recommender.max_shared_model_size",
                            "The largest model image written under the data directory (-1: no limit).",
                            "A model whose image would be larger is loaded privately by each backend (bounded by recommender.max_cache_memory).",
                            &max_shared_model_size_kb,
                            -1, -1, INT_MAX,
                            PGC_SUSET, GUC_UNIT_KB,
                            NULL, NULL, NULL);
    DefineCustomBoolVariable("recommender.verify_shared_models",
                             "Check the checksums of a whole model image when a backend maps it.",
                             "Off: the header, the section table and every section that grows with the items are checked; on: the weight and vector payloads too, which reads every page of the image.",
                             &verify_shared_models,
                             false,
                             PGC_SUSET, 0,
                             NULL, NULL, NULL);
    DefineCustomEnumVariable("recommender.partial_training",
                             "Train from the shards' partial results when the interactions are partitioned over servers that can compute them.",
                             "auto: partitions that are postgres_fdw foreign tables of servers with the option extensions 'recommender' compute their users' part of X^T X remotely (recommender.partial_gram), local partitions here; off: read every row to this server.",
                             &partial_training,
                             1, partial_training_options,
                             PGC_USERSET, 0,
                             NULL, NULL, NULL);
    DefineCustomIntVariable("recommender.max_partial_size",
                            "The largest partial training result recommender.partial_gram() makes on this server.",
                            "Checked before the item pairs are gathered; a larger one fails with SQLSTATE 54000.",
                            &max_partial_size_kb,
                            512 * 1024, 64, 1024 * 1024 - 1,
                            PGC_SUSET, GUC_UNIT_KB,
                            NULL, NULL, NULL);
    DefineCustomIntVariable("recommender.training_threads",
                            "Threads one train() or update() may use for its solve (0: the server's cores, at most 8).",
                            "The dense model's blocked inverse and the sparse model's inverse factor and rows of B run on this many threads; the rest of training, and every recommend() call, runs on the backend's own thread. Like max_parallel_workers_per_gather, it is CPU a single statement may take from the others.",
                            &training_threads,
                            0, 0, 64,
                            PGC_SUSET, 0,
                            NULL, NULL, NULL);
    MarkGUCPrefixReserved("recommender");
}

int64_t
rec_max_training_memory(void)
{
    return (int64_t) max_training_memory_kb * 1024;
}

int64_t
rec_max_cache_memory(void)
{
    return (int64_t) max_cache_memory_kb * 1024;
}

bool
rec_shared_models(void)
{
    return shared_models;
}

int64_t
rec_max_shared_model_size(void)
{
    return max_shared_model_size_kb < 0 ? -1 : (int64_t) max_shared_model_size_kb * 1024;
}

bool
rec_verify_shared_models(void)
{
    return verify_shared_models;
}

bool
rec_partial_training(void)
{
    return partial_training != 0;
}

int64_t
rec_max_partial_size(void)
{
    return (int64_t) max_partial_size_kb * 1024;
}

/* recommender.training_threads: 1-64, or 0 for the online cores, at most 8. No PostgreSQL call. */
int
rec_training_threads(void)
{
    long cores;

    if (training_threads > 0)
        return training_threads;
    cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : (cores > 8 ? 8 : (int) cores);
}

/* The data directory (absolute) and the current database's oid: where model images live. */
const char *
rec_data_directory(void)
{
    return DataDir;
}

uint32_t
rec_database_id(void)
{
    return (uint32_t) MyDatabaseId;
}

/*
 * MemAvailable from /proc/meminfo in bytes (the kernel's estimate of what can be allocated
 * without swapping), or -1 when it cannot be read. No PostgreSQL call.
 */
int64_t
rec_memory_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    int64_t out = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
    {
        long long kb;

        if (strncmp(line, "MemAvailable:", 13) == 0 && sscanf(line + 13, "%lld", &kb) == 1)
        {
            out = (int64_t) kb * 1024;
            break;
        }
    }
    fclose(f);
    return out;
}

/* VmHWM (the peak resident size) of this process from /proc/self/status, in bytes, or -1. */
int64_t
rec_memory_peak(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int64_t out = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
    {
        long long kb;

        if (strncmp(line, "VmHWM:", 6) == 0 && sscanf(line + 6, "%lld", &kb) == 1)
        {
            out = (int64_t) kb * 1024;
            break;
        }
    }
    fclose(f);
    return out;
}
